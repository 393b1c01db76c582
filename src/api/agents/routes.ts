import { createRoute } from "@hono/zod-openapi";
import {
  dataEnvelope,
  DeletedSchema,
  errorResponses,
  IdParams,
  jsonBody,
  jsonResponse,
  listEnvelope,
} from "../../lib/openapi";
import { idempotent } from "../../middleware/idempotency";
import { AgentSchema, CreateAgentBody, ListAgentsQuery, UpdateAgentBody } from "./schemas";

const tags = ["Agents"];

export const listAgents = createRoute({
  method: "get",
  path: "/agents",
  tags,
  summary: "List agents",
  description: "Newest first. Each agent includes its assigned inbound and outbound numbers.",
  request: { query: ListAgentsQuery },
  responses: { 200: jsonResponse(listEnvelope(AgentSchema), "A page of agents"), ...errorResponses },
});

export const getAgent = createRoute({
  method: "get",
  path: "/agents/{id}",
  tags,
  summary: "Get an agent",
  request: { params: IdParams },
  responses: { 200: jsonResponse(dataEnvelope(AgentSchema), "The agent"), ...errorResponses },
});

export const createAgent = createRoute({
  method: "post",
  path: "/agents",
  tags,
  summary: "Create an agent",
  description:
    "Only `name`, `voice_id` and `system_prompt` are required. The voice, tools and knowledge bases must exist in your organization (voices may also come from the platform catalogue). Accepts `Idempotency-Key` / `X-Idempotency-Key`.",
  middleware: [idempotent] as const,
  request: { body: jsonBody(CreateAgentBody) },
  responses: { 201: jsonResponse(dataEnvelope(AgentSchema), "The new agent"), ...errorResponses },
});

const updateRoute = (method: "put" | "patch") =>
  createRoute({
    method,
    path: "/agents/{id}",
    tags,
    summary: method === "put" ? "Update an agent (partial, as Truedy's PUT)" : "Update an agent (partial)",
    description:
      'Only the fields sent change; `null` clears a nullable field. `{"status":"active"}` publishes a draft and `{"status":"draft"}` takes an agent out of service (draft agents cannot place calls).',
    request: { params: IdParams, body: jsonBody(UpdateAgentBody) },
    responses: { 200: jsonResponse(dataEnvelope(AgentSchema), "The updated agent"), ...errorResponses },
  });

export const updateAgent = updateRoute("patch");
export const replaceAgent = updateRoute("put");

export const deleteAgent = createRoute({
  method: "delete",
  path: "/agents/{id}",
  tags,
  summary: "Delete an agent",
  description: "Its phone numbers stay in the organization, unassigned.",
  request: { params: IdParams },
  responses: { 200: jsonResponse(dataEnvelope(DeletedSchema), "Deleted"), ...errorResponses },
});
