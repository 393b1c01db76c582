import { createRoute } from "@hono/zod-openapi";
import { conflictResponse, dataEnvelope, DeletedSchema, errorResponses, IdParams, jsonBody, jsonResponse, listEnvelope } from "../../lib/openapi";
import { idempotent } from "../../middleware/idempotency";
import { CreateToolBody, ListToolsQuery, ToolSchema, UpdateToolBody } from "./schemas";

const tags = ["Tools"];

export const listTools = createRoute({
  method: "get",
  path: "/tools",
  tags,
  summary: "List tools",
  description: "Newest first; `name` filters by a case-insensitive substring.",
  request: { query: ListToolsQuery },
  responses: { 200: jsonResponse(listEnvelope(ToolSchema), "A page of tools"), ...errorResponses },
});

export const getTool = createRoute({
  method: "get",
  path: "/tools/{id}",
  tags,
  summary: "Get a tool",
  request: { params: IdParams },
  responses: { 200: jsonResponse(dataEnvelope(ToolSchema), "The tool"), ...errorResponses },
});

export const createTool = createRoute({
  method: "post",
  path: "/tools",
  tags,
  summary: "Create an HTTP tool",
  description: [
    "An HTTP endpoint the agent's model can call during a conversation; without `definition`, a placeholder to complete later with PATCH.",
    "`definition.modelToolName` is derived from `name` when omitted",
    "(lowercased, other characters replaced by `_`). The URL must be https and public: private, loopback and link-local addresses,",
    "`localhost` and `*.internal`/`*.local` names are refused, as are credentials or secret-looking query parameters in the URL",
    "(declare API keys in `requirements` and set their values in `auth_tokens`: write-only, encrypted at rest, only `auth_token_names` is returned).",
    "At call time the URL's and static parameters' `{{variables}}` are filled from the call's variables and the URL is checked again; the request",
    "follows no redirect it has not re-checked, waits `timeout_seconds` (15 s at most on a call) and reads at most 256 KB.",
    "An invalid definition is 422 with `details.field` naming the member at fault, e.g. `definition.http.url`. Accepts an `Idempotency-Key`.",
  ].join(" "),
  middleware: [idempotent] as const,
  request: { body: jsonBody(CreateToolBody) },
  responses: { 201: jsonResponse(dataEnvelope(ToolSchema), "The new tool"), ...errorResponses },
});

export const updateTool = createRoute({
  method: "patch",
  path: "/tools/{id}",
  tags,
  summary: "Update a tool",
  description:
    "Changes `name` and/or part of `definition`: given definition members replace the stored ones (parameter lists whole), `http` is merged member by member, and the result is validated as a whole. Renaming keeps `modelToolName`, which prompts may refer to. `auth_tokens` replaces every stored key (null removes them); a key whose requirement the new definition no longer has is dropped.",
  request: { params: IdParams, body: jsonBody(UpdateToolBody) },
  responses: { 200: jsonResponse(dataEnvelope(ToolSchema), "The updated tool"), ...errorResponses },
});

export const deleteTool = createRoute({
  method: "delete",
  path: "/tools/{id}",
  tags,
  summary: "Delete a tool",
  description: "A tool an agent uses is 409 `resource_in_use`, with the agents in `details.agent_ids`: remove it from them first.",
  request: { params: IdParams },
  responses: { 200: jsonResponse(dataEnvelope(DeletedSchema), "The tool was deleted"), ...errorResponses, ...conflictResponse },
});
