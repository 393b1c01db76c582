import { createRoute } from "@hono/zod-openapi";
import { conflictResponse, dataEnvelope, errorResponses, IdParams, jsonBody, jsonResponse, listEnvelope } from "../../lib/openapi";
import { idempotent } from "../../middleware/idempotency";
import { BulkDeleteBody, BulkDeleteResult, CallSchema, CreateCallBody, CreateWebCallBody, ListCallsQuery, RecordingSchema, ToolCallsSchema, TranscriptSchema, WebCallSchema } from "./schemas";

const tags = ["Calls"];

export const createCall = createRoute({
  method: "post",
  path: "/calls",
  tags,
  summary: "Place an outbound call",
  description:
    "The agent must be active; `from_number` must be one of the agent's outbound numbers (omitted, one is picked). Errors: 422 `no_phone_number_configured`, `number_not_assigned`, `number_on_dnc_list`. The call starts `queued` and is dialled as soon as the organization has a free concurrent-call slot. Accepts `Idempotency-Key`.",
  middleware: [idempotent] as const,
  request: { body: jsonBody(CreateCallBody) },
  responses: { 201: jsonResponse(dataEnvelope(CallSchema), "The queued call"), ...errorResponses },
});

export const createWebCall = createRoute({
  method: "post",
  path: "/calls/web",
  tags,
  summary: "Start a browser test call",
  description: [
    "Creates a `webrtc` call with the agent (active, like POST /calls; no phone number needed) and returns a single-use `token`, valid 60 s, already set in `websocket_url`. The browser opens that WebSocket (no API key: the token is the authorisation; a missing, wrong or expired token is 401, a used one 403). The call starts `queued`, turns `in_progress` when the browser connects (no ringing) and ends `completed` with `hangup_by_contact` when the browser sends `hangup` or closes the socket, or like any call (`hangup_by_api`, `max_duration`, `inactivity`, `provider_error`). Unconnected when the token expires, it ends `failed` / `no_answer`. It takes one of the organization's concurrent-call slots at once: with none free the answer is 409 `concurrency_limit_reached` and no call is kept. Billed per minute like any call. Accepts `Idempotency-Key`.",
    "",
    "**Socket protocol.** Browser → server: binary messages of PCM16 little-endian mono 16 kHz (any whole number of samples up to 1 s per message, e.g. 20 ms = 640 bytes; an odd length or more than 1 s is answered with an `error` message and dropped); text `{\"type\":\"mark\",\"name\":…}` (echo a server mark once the audio before it has played) and `{\"type\":\"hangup\"}`. Server → browser: `{\"type\":\"ready\",\"call_id\":…,\"sample_rate\":16000}` on connect, binary PCM16 little-endian mono 16 kHz agent audio, `{\"type\":\"mark\",\"name\":…}`, `{\"type\":\"clear\"}` (drop queued audio: the user interrupted), `{\"type\":\"error\",\"code\":…,\"message\":…}` and `{\"type\":\"ended\",\"end_reason\":…}` before the server closes the socket.",
  ].join("\n"),
  middleware: [idempotent] as const,
  request: { body: jsonBody(CreateWebCallBody) },
  responses: {
    201: jsonResponse(dataEnvelope(WebCallSchema), "The queued call, its token and socket URL"),
    ...conflictResponse,
    ...errorResponses,
  },
});

export const listCalls = createRoute({
  method: "get",
  path: "/calls",
  tags,
  summary: "List calls",
  description: "Newest first; filter by status (also `in-progress`, `ended`), direction, agent, campaign and creation time.",
  request: { query: ListCallsQuery },
  responses: { 200: jsonResponse(listEnvelope(CallSchema), "A page of calls"), ...errorResponses },
});

export const getCall = createRoute({
  method: "get",
  path: "/calls/{id}",
  tags,
  summary: "Get a call",
  request: { params: IdParams },
  responses: { 200: jsonResponse(dataEnvelope(CallSchema), "The call"), ...errorResponses },
});

export const hangupCall = createRoute({
  method: "post",
  path: "/calls/{id}/hangup",
  tags,
  summary: "Hang up a live call",
  description:
    "Ends the call through the carrier with `end_reason: hangup_by_api`; the call reaches `completed` when the carrier confirms (with the billed duration). A call not yet connected is cancelled. 409 for a call that already ended.",
  request: { params: IdParams },
  responses: { 200: jsonResponse(dataEnvelope(CallSchema), "The call"), ...conflictResponse, ...errorResponses },
});

export const cancelCall = createRoute({
  method: "post",
  path: "/calls/{id}/cancel",
  tags,
  summary: "Cancel a call before it connects",
  description: "Only for `queued` or `ringing` calls (409 otherwise; use hangup for a connected call). The call ends `cancelled`.",
  request: { params: IdParams },
  responses: { 200: jsonResponse(dataEnvelope(CallSchema), "The call"), ...conflictResponse, ...errorResponses },
});

export const getTranscript = createRoute({
  method: "get",
  path: "/calls/{id}/transcript",
  tags,
  summary: "Get a call's transcript",
  description: "Turns with `start_ms`/`end_ms` from the answer and `timestamp` in seconds. Empty for calls without conversation.",
  request: { params: IdParams },
  responses: { 200: jsonResponse(dataEnvelope(TranscriptSchema), "The transcript"), ...errorResponses },
});

export const getToolCalls = createRoute({
  method: "get",
  path: "/calls/{id}/tool-calls",
  tags,
  summary: "Get a call's tool calls",
  description:
    "Every tool the agent called on the call, oldest first: the agent's HTTP tools (the request without its keys, status, duration, the answer cut to 2 KB, any error) and the built-in call actions (`end_call`, `transfer_call`, `send_dtmf`, `opt_out`). Empty for calls without any.",
  request: { params: IdParams },
  responses: { 200: jsonResponse(dataEnvelope(ToolCallsSchema), "The tool calls"), ...errorResponses },
});

export const getRecording = createRoute({
  method: "get",
  path: "/calls/{id}/recording",
  tags,
  summary: "Get a short-lived link to a call's recording",
  description: "A signed URL valid for 15 minutes (or the carrier's recording URL for carrier-recorded calls). 404 when the call has no recording.",
  request: { params: IdParams },
  responses: { 200: jsonResponse(dataEnvelope(RecordingSchema), "The link"), ...errorResponses },
});

export const bulkDeleteCalls = createRoute({
  method: "post",
  path: "/calls/bulk-delete",
  tags,
  summary: "Delete many calls",
  description: "Deletes ended calls; live calls and unknown ids are reported in `failed_ids`.",
  request: { body: jsonBody(BulkDeleteBody) },
  responses: { 200: jsonResponse(dataEnvelope(BulkDeleteResult), "What was deleted"), ...errorResponses },
});
