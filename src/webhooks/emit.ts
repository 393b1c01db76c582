import { events } from "../db/schema";
import type { TenantDb } from "../db/tenant";
import type { WebhookEventType } from "../domain/webhooks";
import { newId } from "../lib/ids";
import type { WebhookMessage } from "./messages";

export interface PendingEvent {
  id: string;
  /** The outbox insert, to run in the same D1 batch as the change that caused the event. */
  statement: ReturnType<TenantDb["insert"]>;
}

/**
 * The one way domain code records an event. It returns the outbox statement rather than running
 * it, so the caller commits it in the same `batch` as the business change: either both are
 * stored or neither. After the batch commits, call `publishEvents`.
 */
export function recordEvent(
  tenant: TenantDb,
  nowMs: number,
  type: WebhookEventType,
  data: Record<string, unknown>,
  options: { endpointId?: string } = {},
): PendingEvent {
  const id = newId(nowMs);
  return {
    id,
    statement: tenant.insert(events, {
      id,
      type,
      data,
      endpointId: options.endpointId ?? null,
      createdAt: new Date(nowMs).toISOString(),
      dispatchedAt: null,
    }),
  };
}

/**
 * Hands committed events to the queue. A failure here loses nothing: the rows are in D1 with
 * `dispatched_at` still null, and the cron sweep enqueues them again.
 */
export async function publishEvents(queue: Queue<WebhookMessage>, eventIds: string[]): Promise<void> {
  if (eventIds.length === 0) return;
  try {
    await queue.sendBatch(eventIds.map((event_id) => ({ body: { kind: "dispatch", event_id } })));
  } catch (error) {
    console.error(JSON.stringify({ level: "warn", message: "webhook enqueue failed; the sweep will retry", event_ids: eventIds, error: String(error) }));
  }
}

/** Records and publishes one event on its own, when there is no business change to commit with it. */
export async function emitEvent(
  tenant: TenantDb,
  queue: Queue<WebhookMessage>,
  nowMs: number,
  type: WebhookEventType,
  data: Record<string, unknown>,
  options: { endpointId?: string } = {},
): Promise<string> {
  const event = recordEvent(tenant, nowMs, type, data, options);
  await event.statement;
  await publishEvents(queue, [event.id]);
  return event.id;
}
