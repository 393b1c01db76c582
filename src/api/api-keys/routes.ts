import { createRoute, z } from "@hono/zod-openapi";
import { dataEnvelope, errorResponses, IdParams, jsonBody, jsonResponse } from "../../lib/openapi";
import { idempotent } from "../../middleware/idempotency";
import { ApiKeySchema, CreateApiKeyBody, CreatedApiKeySchema } from "./schemas";

const tags = ["API keys"];

export const listApiKeys = createRoute({
  method: "get",
  path: "/api-keys",
  tags,
  summary: "List the organization's API keys",
  description: "Keys are listed by prefix and last four characters; the secret itself is never returned again.",
  responses: { 200: jsonResponse(dataEnvelope(z.array(ApiKeySchema)), "The keys, newest first"), ...errorResponses },
});

export const createApiKey = createRoute({
  method: "post",
  path: "/api-keys",
  tags,
  summary: "Create an API key",
  description: "Returns the full key once. Store it: only its SHA-256 hash is kept.",
  middleware: [idempotent] as const,
  request: { body: jsonBody(CreateApiKeyBody) },
  responses: { 201: jsonResponse(dataEnvelope(CreatedApiKeySchema), "The new key, shown this once"), ...errorResponses },
});

export const revokeApiKey = createRoute({
  method: "delete",
  path: "/api-keys/{id}",
  tags,
  summary: "Revoke an API key",
  description: "Takes effect on the next request. Revoking an already revoked key returns it unchanged.",
  request: { params: IdParams },
  responses: { 200: jsonResponse(dataEnvelope(ApiKeySchema), "The revoked key"), ...errorResponses },
});
