import { createRoute } from "@hono/zod-openapi";
import { conflictResponse, dataEnvelope, DeletedSchema, errorResponses, IdParams, jsonBody, jsonResponse, listEnvelope } from "../../lib/openapi";
import { idempotent } from "../../middleware/idempotency";
import {
  CreateWebhookBody,
  DeliveryParams,
  DeliverySchema,
  ListDeliveriesQuery,
  ListWebhooksQuery,
  ReplayRangeBody,
  ReplayResultSchema,
  TestEventSchema,
  UpdateWebhookBody,
  WebhookSchema,
  WebhookWithSecretSchema,
} from "./schemas";

const tags = ["Webhooks"];

const DELIVERY_CONTRACT =
  "Deliveries are at least once, unordered, POSTed as `{id, event, timestamp, data}` with a 10 s timeout. Each carries `X-Truedy-Timestamp` + `X-Truedy-Signature` (hex HMAC-SHA256 of `{timestamp}.{body}` keyed with the whole `whsec_…` secret) and the Standard Webhooks headers `webhook-id` (the event id, the same on every attempt), `webhook-timestamp` and `webhook-signature`. Any 2xx is success; 410 disables the endpoint; anything else is retried after 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 3 h, 6 h and 12 h (±20 % jitter, longer if `Retry-After` asks), after which the delivery is failed. An endpoint whose deliveries all fail for 3 days is disabled and a `webhook.disabled` event is recorded.";

export const listWebhooks = createRoute({
  method: "get",
  path: "/webhooks",
  tags,
  summary: "List webhook endpoints",
  request: { query: ListWebhooksQuery },
  responses: { 200: jsonResponse(listEnvelope(WebhookSchema), "A page of endpoints"), ...errorResponses },
});

export const createWebhook = createRoute({
  method: "post",
  path: "/webhooks",
  tags,
  summary: "Create a webhook endpoint",
  description: `Returns the signing secret once. ${DELIVERY_CONTRACT}`,
  middleware: [idempotent] as const,
  request: { body: jsonBody(CreateWebhookBody) },
  responses: { 201: jsonResponse(dataEnvelope(WebhookWithSecretSchema), "The endpoint and its secret"), ...errorResponses },
});

export const getWebhook = createRoute({
  method: "get",
  path: "/webhooks/{id}",
  tags,
  summary: "Get a webhook endpoint",
  request: { params: IdParams },
  responses: { 200: jsonResponse(dataEnvelope(WebhookSchema), "The endpoint"), ...errorResponses },
});

export const updateWebhook = createRoute({
  method: "patch",
  path: "/webhooks/{id}",
  tags,
  summary: "Update a webhook endpoint",
  request: { params: IdParams, body: jsonBody(UpdateWebhookBody) },
  responses: { 200: jsonResponse(dataEnvelope(WebhookSchema), "The endpoint"), ...errorResponses },
});

export const deleteWebhook = createRoute({
  method: "delete",
  path: "/webhooks/{id}",
  tags,
  summary: "Delete a webhook endpoint",
  description: "Pending deliveries to it stop; its delivery log is deleted with it.",
  request: { params: IdParams },
  responses: { 200: jsonResponse(dataEnvelope(DeletedSchema), "Deleted"), ...errorResponses },
});

export const rotateSecret = createRoute({
  method: "post",
  path: "/webhooks/{id}/rotate-secret",
  tags,
  summary: "Rotate the signing secret",
  description:
    "Issues a new secret and returns it once. For 24 hours every delivery is signed with both the new and the previous secret (two comma-separated `X-Truedy-Signature` values, newest first, and two `v1,` entries in `webhook-signature`), so receivers can switch without dropping events.",
  request: { params: IdParams },
  responses: { 200: jsonResponse(dataEnvelope(WebhookWithSecretSchema), "The endpoint and its new secret"), ...errorResponses },
});

export const testWebhook = createRoute({
  method: "post",
  path: "/webhooks/{id}/test",
  tags,
  summary: "Send a webhook.test event",
  description: "Queues a `webhook.test` event for this endpoint only (even if disabled, to check it before re-enabling). Watch it in the delivery log.",
  request: { params: IdParams },
  responses: { 202: jsonResponse(dataEnvelope(TestEventSchema), "Queued"), ...errorResponses },
});

export const listDeliveries = createRoute({
  method: "get",
  path: "/webhooks/{id}/deliveries",
  tags,
  summary: "List an endpoint's deliveries with every attempt",
  description: "Newest first. Filter by `status`, `event` type and creation time (`since` inclusive, `until` exclusive).",
  request: { params: IdParams, query: ListDeliveriesQuery },
  responses: { 200: jsonResponse(listEnvelope(DeliverySchema), "A page of deliveries"), ...errorResponses },
});

export const getDelivery = createRoute({
  method: "get",
  path: "/webhooks/{id}/deliveries/{delivery_id}",
  tags,
  summary: "Get one delivery with every attempt",
  request: { params: DeliveryParams },
  responses: { 200: jsonResponse(dataEnvelope(DeliverySchema), "The delivery"), ...errorResponses },
});

export const replayDelivery = createRoute({
  method: "post",
  path: "/webhooks/{id}/deliveries/{delivery_id}/replay",
  tags,
  summary: "Re-send one delivery",
  description: "Starts a fresh retry schedule. 409 while the delivery is still pending or the endpoint is disabled.",
  request: { params: DeliveryParams },
  responses: { 202: jsonResponse(dataEnvelope(DeliverySchema), "Queued"), ...conflictResponse, ...errorResponses },
});

export const replayRange = createRoute({
  method: "post",
  path: "/webhooks/{id}/replay",
  tags,
  summary: "Re-send the events of a time range",
  description:
    "Re-sends events created in `[since, until)` that this endpoint subscribes to, e.g. after an outage. With `status`, only deliveries in that state are re-sent; without it, every event in the range is, including ones that had no delivery yet. Up to 1,000 events per call.",
  request: { params: IdParams, body: jsonBody(ReplayRangeBody) },
  responses: { 202: jsonResponse(dataEnvelope(ReplayResultSchema), "Queued"), ...conflictResponse, ...errorResponses },
});
