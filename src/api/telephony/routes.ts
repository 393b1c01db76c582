import { createRoute } from "@hono/zod-openapi";
import { conflictResponse, dataEnvelope, errorResponses, jsonBody, jsonResponse, listEnvelope } from "../../lib/openapi";
import { idempotent } from "../../middleware/idempotency";
import {
  AgentIdParams,
  AgentNumbersSchema,
  AgentWebhookUrlSchema,
  AssignmentSchema,
  AssignNumberBody,
  ImportNumberBody,
  ListNumbersQuery,
  NumberIdParams,
  PhoneNumberSchema,
  PurchaseNumberBody,
  ReleasedNumberSchema,
  SearchNumbersBody,
  SearchNumbersResponse,
  UnassignmentSchema,
  UnassignNumberBody,
} from "./schemas";

const tags = ["Telephony"];

const carrierErrorResponse = {
  502: {
    description: "The carrier failed or did not answer in time (`provider_error`)",
    content: errorResponses[500].content,
  },
};

export const listNumbers = createRoute({
  method: "get",
  path: "/telephony/numbers",
  tags,
  summary: "List the organization's phone numbers",
  description: "Managed and BYOC numbers, newest first, with their inbound and outbound agents.",
  request: { query: ListNumbersQuery },
  responses: { 200: jsonResponse(listEnvelope(PhoneNumberSchema), "A page of numbers"), ...errorResponses },
});

export const getNumber = createRoute({
  method: "get",
  path: "/telephony/numbers/{id}",
  tags,
  summary: "Get a phone number",
  request: { params: NumberIdParams },
  responses: { 200: jsonResponse(dataEnvelope(PhoneNumberSchema), "The number"), ...errorResponses },
});

export const searchNumbers = createRoute({
  method: "post",
  path: "/telephony/numbers/search",
  tags,
  summary: "Search numbers available to buy",
  description:
    "Asks the carrier for purchasable numbers by country, area code, city, state and type. Pass a result's `phone_number` to purchase. " +
    "Carriers have no search cursor, so deep pages cost a larger carrier query.",
  request: { body: jsonBody(SearchNumbersBody) },
  responses: {
    200: jsonResponse(SearchNumbersResponse, "One page of available numbers"),
    ...errorResponses,
    ...carrierErrorResponse,
  },
});

export const purchaseNumber = createRoute({
  method: "post",
  path: "/telephony/numbers/purchase",
  tags,
  summary: "Buy a Truedy-managed number",
  description:
    "Buys the number on the platform's carrier account (or your Telnyx account with `api_key`) and routes its calls to Truedy. " +
    "422 `number_unavailable` when the carrier cannot sell it, 422 `provider_not_configured` when the carrier rejects the credentials, " +
    "409 when an organization already holds it.",
  middleware: [idempotent] as const,
  request: { body: jsonBody(PurchaseNumberBody) },
  responses: {
    201: jsonResponse(dataEnvelope(PhoneNumberSchema), "The purchased number"),
    ...errorResponses,
    ...conflictResponse,
    ...carrierErrorResponse,
  },
});

export const importNumber = createRoute({
  method: "post",
  path: "/telephony/numbers/import",
  tags,
  summary: "Import a number you own (BYOC)",
  description:
    "Twilio (`account_sid` + `auth_token`) and Telnyx (`api_key`) numbers are verified through the carrier's API and their incoming " +
    "calls are pointed at Truedy at once. `custom_sip` numbers are stored with their SIP credentials. Credentials are encrypted at rest " +
    "and never returned.",
  middleware: [idempotent] as const,
  request: { body: jsonBody(ImportNumberBody) },
  responses: {
    201: jsonResponse(dataEnvelope(PhoneNumberSchema), "The imported number"),
    ...errorResponses,
    ...conflictResponse,
    ...carrierErrorResponse,
  },
});

export const assignNumber = createRoute({
  method: "post",
  path: "/telephony/numbers/assign",
  tags,
  summary: "Assign a number to an agent",
  description:
    "A number has at most one agent per direction; assigning replaces the previous agent. An agent needs an outbound number to place calls.",
  request: { body: jsonBody(AssignNumberBody) },
  responses: { 200: jsonResponse(dataEnvelope(AssignmentSchema), "The number with its new agent"), ...errorResponses },
});

export const unassignNumber = createRoute({
  method: "post",
  path: "/telephony/numbers/unassign",
  tags,
  summary: "Remove a number's agent for one direction",
  description: "Succeeds also when no agent was assigned in that direction.",
  request: { body: jsonBody(UnassignNumberBody) },
  responses: { 200: jsonResponse(dataEnvelope(UnassignmentSchema), "The number without that agent"), ...errorResponses },
});

export const releaseNumber = createRoute({
  method: "delete",
  path: "/telephony/numbers/{id}",
  tags,
  summary: "Release a number",
  description:
    "Managed numbers are released at the carrier; BYOC numbers are only removed from the organization. If the carrier fails, the number " +
    "is kept and the answer is 502, so the release can be retried.",
  request: { params: NumberIdParams },
  responses: {
    200: jsonResponse(dataEnvelope(ReleasedNumberSchema), "The released number"),
    ...errorResponses,
    ...carrierErrorResponse,
  },
});

export const agentNumbers = createRoute({
  method: "get",
  path: "/telephony/agents/{agent_id}/numbers",
  tags,
  summary: "List an agent's numbers",
  request: { params: AgentIdParams },
  responses: { 200: jsonResponse(dataEnvelope(AgentNumbersSchema), "The agent's inbound and outbound numbers"), ...errorResponses },
});

export const agentWebhookUrl = createRoute({
  method: "get",
  path: "/telephony/agents/{agent_id}/webhook-url",
  tags,
  summary: "Get an agent's inbound webhook URL",
  description: "Configure this URL at an external provider to send its calls to the agent. It never changes when the agent is updated.",
  request: { params: AgentIdParams },
  responses: { 200: jsonResponse(dataEnvelope(AgentWebhookUrlSchema), "The webhook URL"), ...errorResponses },
});
