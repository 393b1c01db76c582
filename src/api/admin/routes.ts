import { createRoute, z } from "@hono/zod-openapi";
import { dataEnvelope, errorResponses, jsonBody, jsonResponse } from "../../lib/openapi";
import { ApiKeySchema, CreateApiKeyBody, CreatedApiKeySchema } from "../api-keys/schemas";
import { CreatedOrganizationSchema, CreateOrganizationBody, OrganizationSchema, OrganizationWithSlotsSchema, OrgIdParams, OrgKeyParams, UpdateOrganizationBody } from "./schemas";

const tags = ["Admin"];
const security = [{ adminToken: [] }];

export const createOrganization = createRoute({
  method: "post",
  path: "/organizations",
  tags,
  security,
  summary: "Create an organization (bootstrap)",
  description: "Guarded by `Authorization: Bearer $ADMIN_TOKEN`. Returns the org and its first API key, shown once.",
  request: { body: jsonBody(CreateOrganizationBody) },
  responses: { 201: jsonResponse(dataEnvelope(CreatedOrganizationSchema), "The organization and its first key"), ...errorResponses },
});

export const getOrganization = createRoute({
  method: "get",
  path: "/organizations/{id}",
  tags,
  security,
  summary: "Get an organization, with its live call-slot figures",
  request: { params: OrgIdParams },
  responses: { 200: jsonResponse(dataEnvelope(OrganizationWithSlotsSchema), "The organization"), ...errorResponses },
});

export const updateOrganization = createRoute({
  method: "patch",
  path: "/organizations/{id}",
  tags,
  security,
  summary: "Update an organization's name and limits",
  request: { params: OrgIdParams, body: jsonBody(UpdateOrganizationBody) },
  responses: { 200: jsonResponse(dataEnvelope(OrganizationSchema), "The organization"), ...errorResponses },
});

export const createOrganizationApiKey = createRoute({
  method: "post",
  path: "/organizations/{id}/api-keys",
  tags,
  security,
  summary: "Issue another API key for an organization",
  request: { params: OrgIdParams, body: { ...jsonBody(CreateApiKeyBody), required: false } },
  responses: { 201: jsonResponse(dataEnvelope(CreatedApiKeySchema), "The new key, shown once"), ...errorResponses },
});

export const listOrganizationApiKeys = createRoute({
  method: "get",
  path: "/organizations/{id}/api-keys",
  tags,
  security,
  summary: "List an organization's API keys",
  request: { params: OrgIdParams },
  responses: { 200: jsonResponse(dataEnvelope(z.array(ApiKeySchema)), "The keys"), ...errorResponses },
});

export const revokeOrganizationApiKey = createRoute({
  method: "delete",
  path: "/organizations/{id}/api-keys/{key_id}",
  tags,
  security,
  summary: "Revoke one of an organization's API keys",
  request: { params: OrgKeyParams },
  responses: { 200: jsonResponse(dataEnvelope(ApiKeySchema), "The revoked key"), ...errorResponses },
});
