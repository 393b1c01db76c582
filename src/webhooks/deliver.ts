import { and, eq, gte, lt } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { runVoiceClone } from "../api/voices/training";
import { runCallAnalysis } from "../calls/analysis";
import { events, webhookAttempts, webhookDeliveries, webhookEndpoints } from "../db/schema";
import { openDatabase, TenantDb, type Database } from "../db/tenant";
import {
  classifyResponse,
  DELIVERY_TIMEOUT_MS,
  excerpt,
  isSubscribed,
  nextRetryDelaySeconds,
  parseRetryAfter,
  RESPONSE_EXCERPT_BYTES,
  shouldDisable,
} from "../domain/webhooks";
import type { Clock } from "../lib/clock";
import { decryptSecret } from "../lib/crypto";
import { newId } from "../lib/ids";
import { publishEvents, recordEvent } from "./emit";
import { WebhookMessage } from "./messages";
import { signatureHeaders } from "./sign";

export const USER_AGENT = "Truedy-Webhooks/1.0 (+https://truedy.ai/docs/webhooks)";

/** How long a claimed attempt may run before the sweep presumes it lost and sends the next one. */
const ATTEMPT_LEASE_MS = 5 * 60 * 1000;
/** D1 allows 100 bound parameters per statement; a delivery row has 11 columns. */
const DELIVERY_ROWS_PER_INSERT = 9;

const iso = (ms: number) => new Date(ms).toISOString();

function log(level: "info" | "warn" | "error", message: string, fields: Record<string, unknown>) {
  console[level === "info" ? "log" : level](JSON.stringify({ level, message, ...fields }));
}

/** The queue consumer: every message is validated, then dispatched or delivered. */
export async function handleWebhookBatch(batch: MessageBatch<unknown>, env: Env, clock: Clock): Promise<void> {
  const db = openDatabase(env.DB);
  await Promise.all(
    batch.messages.map(async (message) => {
      const parsed = WebhookMessage.safeParse(message.body);
      if (!parsed.success) {
        // A malformed message can never succeed; retrying it would only delay the DLQ.
        log("error", "dropping malformed webhook message", { body: message.body, issues: parsed.error.issues });
        message.ack();
        return;
      }
      try {
        if (parsed.data.kind === "dispatch") await dispatchEvent(db, env, clock, parsed.data.event_id);
        else if (parsed.data.kind === "voice_clone") await runVoiceClone(db, env, clock, parsed.data.voice_id, parsed.data.attempt);
        else if (parsed.data.kind === "call_analysis") await runCallAnalysis(db, env, clock, parsed.data.call_id, parsed.data.attempt);
        else await deliverAttempt(db, env, clock, parsed.data.delivery_id, parsed.data.attempt);
        message.ack();
      } catch (error) {
        log("error", "webhook message failed; the queue will retry it", { body: parsed.data, error: String(error) });
        message.retry({ delaySeconds: 5 });
      }
    }),
  );
}

/** Creates one delivery per subscribed endpoint (idempotently) and makes their first attempts. */
export async function dispatchEvent(db: Database, env: Env, clock: Clock, eventId: string): Promise<void> {
  const event = await db.query.events.findFirst({ where: eq(events.id, eventId) });
  if (!event) return;
  const tenant = new TenantDb(db, event.orgId);
  const endpoints = event.endpointId
    ? await tenant.findWhere(webhookEndpoints, eq(webhookEndpoints.id, event.endpointId))
    : (await tenant.findWhere(webhookEndpoints, eq(webhookEndpoints.enabled, true))).filter((e) => isSubscribed(e.events, event.type));

  const now = iso(clock.now());
  const rows = endpoints.map((endpoint) => ({
    id: newId(clock.now()),
    endpointId: endpoint.id,
    eventId: event.id,
    eventType: event.type,
    status: "pending" as const,
    attemptCount: 0,
    roundStartAttempt: 0,
    nextAttemptAt: now,
    createdAt: now,
    updatedAt: now,
  }));
  const inserts = [];
  for (let i = 0; i < rows.length; i += DELIVERY_ROWS_PER_INSERT) {
    inserts.push(tenant.insert(webhookDeliveries, rows.slice(i, i + DELIVERY_ROWS_PER_INSERT)).onConflictDoNothing());
  }
  await tenant.commit([...inserts, tenant.updateWhere(events, { dispatchedAt: now }, eq(events.id, event.id))]);

  // Re-dispatching must not skip deliveries created by an earlier, interrupted dispatch. The first
  // attempts run right here rather than through another queue hop: that halves the latency, and a
  // crash mid-way loses nothing, since the sweep re-sends pending deliveries that are overdue.
  const pending = await tenant.findWhere(
    webhookDeliveries,
    eq(webhookDeliveries.eventId, event.id),
    eq(webhookDeliveries.status, "pending"),
    eq(webhookDeliveries.attemptCount, 0),
  );
  await Promise.all(pending.map((d) => deliverAttempt(db, env, clock, d.id, 1)));
}

async function readExcerpt(response: Response): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size <= RESPONSE_EXCERPT_BYTES) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
  }
  await reader.cancel().catch(() => undefined);
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return excerpt(new TextDecoder().decode(bytes));
}

async function endpointSecrets(endpoint: typeof webhookEndpoints.$inferSelect, env: Env, nowMs: number): Promise<string[]> {
  const secrets = [await decryptSecret(endpoint.secretEncrypted, env.ENCRYPTION_KEY)];
  if (endpoint.previousSecretEncrypted && endpoint.previousSecretExpiresAt && Date.parse(endpoint.previousSecretExpiresAt) > nowMs) {
    secrets.push(await decryptSecret(endpoint.previousSecretEncrypted, env.ENCRYPTION_KEY));
  }
  return secrets;
}

/**
 * Makes attempt `attempt` of a delivery. The attempt number is claimed with a conditional update
 * first, so a duplicate queue message (at-least-once) or a sweep re-send never POSTs twice.
 */
export async function deliverAttempt(
  db: Database,
  env: Env,
  clock: Clock,
  deliveryId: string,
  attempt: number,
  { timeoutMs = DELIVERY_TIMEOUT_MS } = {},
): Promise<void> {
  const delivery = await db.query.webhookDeliveries.findFirst({ where: eq(webhookDeliveries.id, deliveryId) });
  if (!delivery || delivery.status !== "pending") return;
  const tenant = new TenantDb(db, delivery.orgId);
  const startedAt = clock.now();
  const claimed = await tenant
    .updateWhere(
      webhookDeliveries,
      { attemptCount: attempt, nextAttemptAt: iso(startedAt + ATTEMPT_LEASE_MS), updatedAt: iso(startedAt) },
      eq(webhookDeliveries.id, deliveryId),
      eq(webhookDeliveries.status, "pending"),
      eq(webhookDeliveries.attemptCount, attempt - 1),
    )
    .returning({ id: webhookDeliveries.id });
  if (claimed.length === 0) return;

  const [endpoint, event] = await Promise.all([
    tenant.find(webhookEndpoints, delivery.endpointId),
    tenant.find(events, delivery.eventId),
  ]);
  if (!endpoint || !event) return;
  const targeted = event.endpointId === endpoint.id;
  if (!endpoint.enabled && !targeted) {
    await tenant.update(webhookDeliveries, deliveryId, { status: "failed", nextAttemptAt: null, updatedAt: iso(startedAt) });
    return;
  }

  const body = JSON.stringify({ id: event.id, event: event.type, timestamp: event.createdAt, data: event.data });
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    "User-Agent": USER_AGENT,
    ...(await signatureHeaders({ id: event.id, timestamp: Math.floor(startedAt / 1000), body }, await endpointSecrets(endpoint, env, startedAt))),
  };

  let responseStatus: number | null = null;
  let responseBody: string | null = null;
  let error: string | null = null;
  let retryAfter: number | undefined;
  const wallStart = Date.now();
  try {
    // Redirects are not followed: the target was validated, where it redirects to was not.
    const response = await fetch(endpoint.url, { method: "POST", headers, body, redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
    responseStatus = response.status;
    retryAfter = parseRetryAfter(response.headers.get("retry-after"), startedAt);
    responseBody = await readExcerpt(response);
  } catch (cause) {
    const name = cause instanceof Error ? cause.name : "";
    error = name === "TimeoutError" || name === "AbortError" ? `Timed out after ${timeoutMs / 1000} s` : `Network error: ${String(cause)}`;
  }
  const durationMs = Date.now() - wallStart;
  const outcome = responseStatus === null ? "retryable" : classifyResponse(responseStatus);
  if (responseStatus !== null && outcome === "retryable") error = `Receiver answered HTTP ${responseStatus}`;

  const now = clock.now();
  const statements: BatchItem<"sqlite">[] = [
    tenant.insert(webhookAttempts, {
      id: newId(now),
      deliveryId,
      attempt,
      at: iso(startedAt),
      requestHeaders: headers,
      responseStatus,
      responseBody,
      durationMs,
      error,
    }),
  ];
  const settle = (status: "pending" | "succeeded" | "failed", nextAttemptAt: string | null = null) =>
    tenant.update(webhookDeliveries, deliveryId, { status, nextAttemptAt, updatedAt: iso(now) });
  const disable = (reason: string) =>
    tenant.update(webhookEndpoints, endpoint.id, { enabled: false, disabledReason: reason, updatedAt: iso(now) });

  let next: { delaySeconds: number } | "dead-letter" | undefined;
  const disabledNotice: string[] = [];
  if (outcome === "succeeded") {
    statements.push(settle("succeeded"));
    if (endpoint.failingSince) statements.push(tenant.update(webhookEndpoints, endpoint.id, { failingSince: null }));
  } else if (outcome === "gone") {
    statements.push(settle("failed"), disable("The receiver answered 410 Gone"));
  } else {
    const failingSince = endpoint.failingSince ?? iso(startedAt);
    if (!targeted && shouldDisable(Date.parse(failingSince), now)) {
      const notice = recordEvent(tenant, now, "webhook.disabled", {
        endpoint_id: endpoint.id,
        url: endpoint.url,
        reason: "Every delivery failed for 3 days",
        failing_since: failingSince,
      });
      disabledNotice.push(notice.id);
      statements.push(settle("failed"), disable("Every delivery failed for 3 days"), notice.statement);
    } else {
      if (!endpoint.failingSince && !targeted) statements.push(tenant.update(webhookEndpoints, endpoint.id, { failingSince }));
      const delaySeconds = nextRetryDelaySeconds(attempt - delivery.roundStartAttempt, retryAfter, Math.random());
      if (delaySeconds === undefined) {
        statements.push(settle("failed"));
        next = "dead-letter";
      } else {
        statements.push(settle("pending", iso(now + delaySeconds * 1000)));
        next = { delaySeconds };
      }
    }
  }
  await tenant.commit(statements);

  if (next === "dead-letter") {
    await env.WEBHOOK_DLQ.send({ kind: "deliver", delivery_id: deliveryId, attempt } satisfies WebhookMessage);
  } else if (next) {
    await env.WEBHOOK_QUEUE.send({ kind: "deliver", delivery_id: deliveryId, attempt: attempt + 1 } satisfies WebhookMessage, next);
  }
  await publishEvents(env.WEBHOOK_QUEUE, disabledNotice);
}

/**
 * The dead-letter consumer: whatever lands here (attempts used up, or a message the consumer
 * kept crashing on) ends as a failed delivery that stays visible in the log and can be replayed.
 */
export async function handleWebhookDeadLetters(batch: MessageBatch<unknown>, env: Env, clock: Clock): Promise<void> {
  const db = openDatabase(env.DB);
  for (const message of batch.messages) {
    const parsed = WebhookMessage.safeParse(message.body);
    if (parsed.success && parsed.data.kind === "deliver") {
      const { delivery_id, attempt } = parsed.data;
      // Only if the delivery is still on that attempt: a replay since then started a new round.
      await db
        .update(webhookDeliveries)
        .set({ status: "failed", nextAttemptAt: null, updatedAt: iso(clock.now()) })
        .where(
          and(
            eq(webhookDeliveries.id, delivery_id),
            eq(webhookDeliveries.status, "pending"),
            gte(webhookDeliveries.attemptCount, attempt - 1),
            lt(webhookDeliveries.roundStartAttempt, attempt),
          ),
        );
    }
    log("warn", "webhook message dead-lettered", { body: message.body });
    message.ack();
  }
}
