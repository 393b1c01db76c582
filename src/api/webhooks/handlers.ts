import { asc, desc, eq, gte, inArray, isNull, lt, ne, or, sql } from "drizzle-orm";
import type { Context } from "hono";
import { events, webhookAttempts, webhookDeliveries, webhookEndpoints } from "../../db/schema";
import type { TenantDb } from "../../db/tenant";
import { checkOutboundUrl, urlPolicyFor } from "../../domain/url-safety";
import { isSubscribed, ROTATION_OVERLAP_MS } from "../../domain/webhooks";
import { ok, okList } from "../../lib/envelope";
import { ApiError, invalidField, notFound } from "../../lib/errors";
import { encryptSecret } from "../../lib/crypto";
import { newId } from "../../lib/ids";
import type { AppEnv, AppRouteHandler } from "../../lib/types";
import { emitEvent } from "../../webhooks/emit";
import type { WebhookMessage } from "../../webhooks/messages";
import { generateWebhookSecret } from "../../webhooks/sign";
import type * as routes from "./routes";

type EndpointRow = typeof webhookEndpoints.$inferSelect;
type DeliveryRow = typeof webhookDeliveries.$inferSelect;

/** Events replayed by one range call; larger ranges are replayed in several calls. */
const REPLAY_BATCH_LIMIT = 1000;

const iso = (ms: number) => new Date(ms).toISOString();

function endpointView(row: EndpointRow, nowMs: number) {
  const rotating = row.previousSecretExpiresAt && Date.parse(row.previousSecretExpiresAt) > nowMs;
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    events: row.events,
    enabled: row.enabled,
    disabled_reason: row.disabledReason,
    failing_since: row.failingSince,
    previous_secret_expires_at: rotating ? row.previousSecretExpiresAt : null,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}

function checkUrl(c: Context<AppEnv>, raw: string): string {
  const check = checkOutboundUrl(raw, urlPolicyFor(c.env));
  if (!check.ok) throw invalidField("url", check.reason);
  return check.url.toString();
}

/** `["*", "call.ended"]` is just `["*"]`; duplicates are dropped. */
function normaliseEvents(list: string[]): string[] {
  return list.includes("*") ? ["*"] : [...new Set(list)];
}

async function deliveryViews(tenant: TenantDb, rows: DeliveryRow[]) {
  const attempts = rows.length
    ? await tenant.findWhere(webhookAttempts, inArray(webhookAttempts.deliveryId, rows.map((r) => r.id)))
    : [];
  return rows.map((row) => ({
    id: row.id,
    event_id: row.eventId,
    event: row.eventType,
    status: row.status,
    next_attempt_at: row.status === "pending" ? row.nextAttemptAt : null,
    attempts: attempts
      .filter((a) => a.deliveryId === row.id)
      .sort((a, b) => a.attempt - b.attempt)
      .map((a) => ({
        attempt: a.attempt,
        at: a.at,
        request_headers: a.requestHeaders,
        response_status: a.responseStatus,
        response_body: a.responseBody,
        duration_ms: a.durationMs,
        error: a.error,
      })),
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  }));
}

function requireEnabled(endpoint: EndpointRow) {
  if (!endpoint.enabled) {
    throw new ApiError("conflict", "The endpoint is disabled; re-enable it with PATCH {\"enabled\": true} before replaying", {
      details: { disabled_reason: endpoint.disabledReason },
    });
  }
}

async function enqueueAttempts(queue: Queue<WebhookMessage>, deliveries: { id: string; attemptCount: number }[]) {
  for (let i = 0; i < deliveries.length; i += 100) {
    await queue.sendBatch(deliveries.slice(i, i + 100).map((d) => ({ body: { kind: "deliver" as const, delivery_id: d.id, attempt: d.attemptCount + 1 } })));
  }
}

export const listWebhooks: AppRouteHandler<typeof routes.listWebhooks> = async (c) => {
  const { limit, offset, enabled } = c.req.valid("query");
  const { rows, total } = await c.get("tenant").list(webhookEndpoints, {
    where: [enabled === undefined ? undefined : eq(webhookEndpoints.enabled, enabled === "true")],
    orderBy: [desc(webhookEndpoints.createdAt), desc(webhookEndpoints.id)],
    limit,
    offset,
  });
  const now = c.get("clock").now();
  return okList(c, rows.map((r) => endpointView(r, now)), { total, limit, offset });
};

export const createWebhook: AppRouteHandler<typeof routes.createWebhook> = async (c) => {
  const body = c.req.valid("json");
  const url = checkUrl(c, body.url);
  const now = c.get("clock").now();
  const secret = generateWebhookSecret();
  const [row] = await c
    .get("tenant")
    .insert(webhookEndpoints, {
      id: newId(now),
      url,
      description: body.description ?? null,
      events: normaliseEvents(body.events),
      enabled: body.enabled ?? true,
      secretEncrypted: await encryptSecret(secret, c.env.ENCRYPTION_KEY),
      previousSecretEncrypted: null,
      previousSecretExpiresAt: null,
      failingSince: null,
      disabledReason: null,
      createdAt: iso(now),
      updatedAt: iso(now),
    })
    .returning();
  return ok(c, { ...endpointView(row, now), secret }, 201);
};

export const getWebhook: AppRouteHandler<typeof routes.getWebhook> = async (c) => {
  const row = await c.get("tenant").get(webhookEndpoints, c.req.valid("param").id, "Webhook endpoint");
  return ok(c, endpointView(row, c.get("clock").now()));
};

export const updateWebhook: AppRouteHandler<typeof routes.updateWebhook> = async (c) => {
  const { id } = c.req.valid("param");
  const body = c.req.valid("json");
  const tenant = c.get("tenant");
  const current = await tenant.get(webhookEndpoints, id, "Webhook endpoint");
  const now = c.get("clock").now();
  const reEnabling = body.enabled === true && !current.enabled;
  const [row] = await tenant
    .update(webhookEndpoints, id, {
      url: body.url === undefined ? undefined : checkUrl(c, body.url),
      events: body.events === undefined ? undefined : normaliseEvents(body.events),
      description: body.description,
      enabled: body.enabled,
      ...(reEnabling ? { disabledReason: null, failingSince: null } : {}),
      ...(body.enabled === false && current.enabled ? { disabledReason: "Disabled through the API" } : {}),
      updatedAt: iso(now),
    })
    .returning();
  return ok(c, endpointView(row, now));
};

export const deleteWebhook: AppRouteHandler<typeof routes.deleteWebhook> = async (c) => {
  const { id } = c.req.valid("param");
  const tenant = c.get("tenant");
  await tenant.get(webhookEndpoints, id, "Webhook endpoint");
  const deliveryIds = tenant.db.select({ id: webhookDeliveries.id }).from(webhookDeliveries).where(tenant.scope(webhookDeliveries, eq(webhookDeliveries.endpointId, id)));
  await tenant.commit([
    tenant.deleteWhere(webhookAttempts, inArray(webhookAttempts.deliveryId, deliveryIds)),
    tenant.deleteWhere(webhookDeliveries, eq(webhookDeliveries.endpointId, id)),
    tenant.delete(webhookEndpoints, id),
  ]);
  return ok(c, { id, deleted: true as const });
};

export const rotateSecret: AppRouteHandler<typeof routes.rotateSecret> = async (c) => {
  const { id } = c.req.valid("param");
  const tenant = c.get("tenant");
  const current = await tenant.get(webhookEndpoints, id, "Webhook endpoint");
  const now = c.get("clock").now();
  const secret = generateWebhookSecret();
  const [row] = await tenant
    .update(webhookEndpoints, id, {
      secretEncrypted: await encryptSecret(secret, c.env.ENCRYPTION_KEY),
      previousSecretEncrypted: current.secretEncrypted,
      previousSecretExpiresAt: iso(now + ROTATION_OVERLAP_MS),
      updatedAt: iso(now),
    })
    .returning();
  return ok(c, { ...endpointView(row, now), secret });
};

export const testWebhook: AppRouteHandler<typeof routes.testWebhook> = async (c) => {
  const { id } = c.req.valid("param");
  const tenant = c.get("tenant");
  const endpoint = await tenant.get(webhookEndpoints, id, "Webhook endpoint");
  const now = c.get("clock").now();
  const eventId = await emitEvent(
    tenant,
    c.env.WEBHOOK_QUEUE,
    now,
    "webhook.test",
    { endpoint_id: endpoint.id, message: "This is a test event from Truedy." },
    { endpointId: endpoint.id },
  );
  return ok(c, { event_id: eventId, delivery_status_url: `/api/public/v1/webhooks/${id}/deliveries?event=webhook.test` }, 202);
};

export const listDeliveries: AppRouteHandler<typeof routes.listDeliveries> = async (c) => {
  const { id } = c.req.valid("param");
  const { limit, offset, status, event, since, until } = c.req.valid("query");
  const tenant = c.get("tenant");
  await tenant.get(webhookEndpoints, id, "Webhook endpoint");
  const { rows, total } = await tenant.list(webhookDeliveries, {
    where: [
      eq(webhookDeliveries.endpointId, id),
      status ? eq(webhookDeliveries.status, status) : undefined,
      event ? eq(webhookDeliveries.eventType, event) : undefined,
      since ? gte(webhookDeliveries.createdAt, new Date(since).toISOString()) : undefined,
      until ? lt(webhookDeliveries.createdAt, new Date(until).toISOString()) : undefined,
    ],
    orderBy: [desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id)],
    limit,
    offset,
  });
  return okList(c, await deliveryViews(tenant, rows), { total, limit, offset });
};

async function getEndpointDelivery(tenant: TenantDb, endpointId: string, deliveryId: string) {
  await tenant.get(webhookEndpoints, endpointId, "Webhook endpoint");
  const [delivery] = await tenant.findWhere(webhookDeliveries, eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.endpointId, endpointId));
  if (!delivery) throw notFound("Delivery", deliveryId);
  return delivery;
}

export const getDelivery: AppRouteHandler<typeof routes.getDelivery> = async (c) => {
  const { id, delivery_id } = c.req.valid("param");
  const tenant = c.get("tenant");
  const [view] = await deliveryViews(tenant, [await getEndpointDelivery(tenant, id, delivery_id)]);
  return ok(c, view);
};

/**
 * A replay reopens settled deliveries with a fresh retry schedule, continuing their attempt
 * numbers. Pending ones are left alone: they are already on their way.
 */
async function reopen(tenant: TenantDb, deliveryIds: string[], nowMs: number) {
  if (deliveryIds.length === 0) return [];
  return tenant
    .updateWhere(
      webhookDeliveries,
      { status: "pending", roundStartAttempt: sql`${webhookDeliveries.attemptCount}`, nextAttemptAt: iso(nowMs), updatedAt: iso(nowMs) },
      inArray(webhookDeliveries.id, deliveryIds),
      ne(webhookDeliveries.status, "pending"),
    )
    .returning({ id: webhookDeliveries.id, attemptCount: webhookDeliveries.attemptCount });
}

export const replayDelivery: AppRouteHandler<typeof routes.replayDelivery> = async (c) => {
  const { id, delivery_id } = c.req.valid("param");
  const tenant = c.get("tenant");
  const delivery = await getEndpointDelivery(tenant, id, delivery_id);
  requireEnabled(await tenant.get(webhookEndpoints, id, "Webhook endpoint"));
  const reopened = await reopen(tenant, [delivery.id], c.get("clock").now());
  if (reopened.length === 0) {
    throw new ApiError("conflict", "The delivery is still pending; it will be attempted on its schedule", { details: { delivery_id } });
  }
  await enqueueAttempts(c.env.WEBHOOK_QUEUE, reopened);
  const [view] = await deliveryViews(tenant, await tenant.findWhere(webhookDeliveries, eq(webhookDeliveries.id, delivery_id)));
  return ok(c, view, 202);
};

export const replayRange: AppRouteHandler<typeof routes.replayRange> = async (c) => {
  const { id } = c.req.valid("param");
  const { since, until, status } = c.req.valid("json");
  const from = new Date(since).toISOString();
  const to = new Date(until).toISOString();
  if (from >= to) throw invalidField("until", "Must be after since");
  const tenant = c.get("tenant");
  const endpoint = await tenant.get(webhookEndpoints, id, "Webhook endpoint");
  requireEnabled(endpoint);
  const now = c.get("clock").now();

  const inRange = await tenant.db
    .select()
    .from(events)
    .where(
      tenant.scope(
        events,
        gte(events.createdAt, from),
        lt(events.createdAt, to),
        or(isNull(events.endpointId), eq(events.endpointId, id)),
      ),
    )
    .orderBy(asc(events.createdAt))
    .limit(REPLAY_BATCH_LIMIT + 1);
  const truncated = inRange.length > REPLAY_BATCH_LIMIT;
  const candidates = inRange.slice(0, REPLAY_BATCH_LIMIT).filter((e) => e.endpointId === id || isSubscribed(endpoint.events, e.type));
  const existing = candidates.length
    ? await tenant.findWhere(webhookDeliveries, eq(webhookDeliveries.endpointId, id), inArray(webhookDeliveries.eventId, candidates.map((e) => e.id)))
    : [];
  const byEvent = new Map(existing.map((d) => [d.eventId, d]));

  const toQueue = await reopen(
    tenant,
    existing.filter((d) => !status || d.status === status).map((d) => d.id),
    now,
  );
  if (!status) {
    const missing = candidates.filter((e) => !byEvent.has(e.id));
    const rows = missing.map((e) => ({
      id: newId(now),
      endpointId: id,
      eventId: e.id,
      eventType: e.type,
      status: "pending" as const,
      attemptCount: 0,
      roundStartAttempt: 0,
      nextAttemptAt: iso(now),
      createdAt: iso(now),
      updatedAt: iso(now),
    }));
    for (let i = 0; i < rows.length; i += 9) {
      const inserted = await tenant.insert(webhookDeliveries, rows.slice(i, i + 9)).onConflictDoNothing().returning({ id: webhookDeliveries.id, attemptCount: webhookDeliveries.attemptCount });
      toQueue.push(...inserted);
    }
  }
  await enqueueAttempts(c.env.WEBHOOK_QUEUE, toQueue);
  return ok(c, { queued: toQueue.length, truncated }, 202);
};
