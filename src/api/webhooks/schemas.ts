import { z } from "@hono/zod-openapi";
import { WEBHOOK_EVENT_TYPES } from "../../domain/webhooks";
import { LimitOffsetQuery } from "../../lib/openapi";

const EventName = z.enum(["*", ...WEBHOOK_EVENT_TYPES]).openapi({ example: "call.ended" });

const WebhookUrl = z.string().min(1).max(2048).openapi({
  description: "HTTPS URL that receives POSTed events (http://127.0.0.1 and localhost only in development)",
  example: "https://example.com/hooks/truedy",
});

export const CreateWebhookBody = z
  .object({
    url: WebhookUrl,
    events: z.array(EventName).min(1).max(WEBHOOK_EVENT_TYPES.length + 1).openapi({ description: '`["*"]` for every event', example: ["call.ended", "batch.completed"] }),
    description: z.string().max(1000).nullable().optional(),
    enabled: z.boolean().optional(),
  })
  .openapi("CreateWebhook");

export const UpdateWebhookBody = z
  .object({
    url: WebhookUrl.optional(),
    events: CreateWebhookBody.shape.events.optional(),
    description: z.string().max(1000).nullable().optional(),
    enabled: z.boolean().optional().openapi({ description: "Re-enabling clears `disabled_reason` and the failure streak" }),
  })
  .openapi("UpdateWebhook");

export const WebhookSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    description: z.string().nullable(),
    events: z.array(z.string()),
    enabled: z.boolean(),
    disabled_reason: z.string().nullable(),
    failing_since: z.string().nullable().openapi({ description: "Start of the current run of failed attempts" }),
    previous_secret_expires_at: z.string().nullable().openapi({ description: "Until then, deliveries are also signed with the previous secret" }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Webhook");

export const WebhookWithSecretSchema = WebhookSchema.extend({
  secret: z.string().openapi({ description: "Signing secret; shown only on create and rotate", example: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }),
}).openapi("WebhookWithSecret");

export const ListWebhooksQuery = LimitOffsetQuery.extend({
  enabled: z.enum(["true", "false"]).optional(),
});

export const DeliveryStatus = z.enum(["pending", "succeeded", "failed"]);

export const AttemptSchema = z
  .object({
    attempt: z.number().int(),
    at: z.string(),
    request_headers: z.record(z.string(), z.string()).openapi({ description: "As sent; no secret appears in them" }),
    response_status: z.number().int().nullable(),
    response_body: z.string().nullable().openapi({ description: "First 4 KB of the receiver's answer" }),
    duration_ms: z.number().int(),
    error: z.string().nullable(),
  })
  .openapi("WebhookAttempt");

export const DeliverySchema = z
  .object({
    id: z.string(),
    event_id: z.string().openapi({ description: "Also the `webhook-id` header of every attempt" }),
    event: z.string(),
    status: DeliveryStatus,
    next_attempt_at: z.string().nullable(),
    attempts: z.array(AttemptSchema),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("WebhookDelivery");

const Instant = z.iso.datetime({ offset: true }).openapi({ example: "2026-11-25T00:00:00Z" });

export const ListDeliveriesQuery = LimitOffsetQuery.extend({
  status: DeliveryStatus.optional(),
  event: z.string().max(100).optional().openapi({ description: "Event type, e.g. call.ended" }),
  since: Instant.optional(),
  until: Instant.optional(),
});

export const ReplayRangeBody = z
  .object({
    since: Instant,
    until: Instant,
    status: DeliveryStatus.optional().openapi({ description: "Only re-send deliveries in this state; without it every event in the range is sent" }),
  })
  .openapi("WebhookReplayRange");

export const ReplayResultSchema = z
  .object({
    queued: z.number().int().openapi({ description: "Deliveries queued for a new attempt" }),
    truncated: z.boolean().openapi({ description: "True when the range held more events than one call replays; call again from the last one" }),
  })
  .openapi("WebhookReplayResult");

export const TestEventSchema = z.object({ event_id: z.string(), delivery_status_url: z.string() }).openapi("WebhookTest");

export const DeliveryParams = z.object({
  id: z.string().min(1).max(100).openapi({ param: { name: "id", in: "path" } }),
  delivery_id: z.string().min(1).max(100).openapi({ param: { name: "delivery_id", in: "path" } }),
});
