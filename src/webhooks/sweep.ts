import { and, asc, eq, isNull, lt } from "drizzle-orm";
import { sweepVoiceTraining } from "../api/voices/training";
import { sweepCallAnalyses } from "../calls/analysis";
import { events, webhookDeliveries } from "../db/schema";
import type { Database } from "../db/tenant";
import type { WebhookMessage } from "./messages";

/** An event not dispatched this long after it was committed lost its queue message. */
const UNDISPATCHED_GRACE_MS = 60_000;
/** A pending delivery this far past its due time lost its queue message (or its attempt crashed). */
const OVERDUE_GRACE_MS = 5 * 60_000;
const SWEEP_LIMIT = 500;

/**
 * The cron-driven safety net behind at-least-once delivery: re-enqueues events whose dispatch
 * message was never sent or never processed, deliveries whose next attempt is long overdue, and
 * voice clones whose next attempt is (src/api/voices/training.ts).
 * Runs across organizations because it only moves ids; the consumer re-derives the org from rows.
 */
export async function sweepWebhooks(
  db: Database,
  queue: Queue<WebhookMessage>,
  nowMs: number,
): Promise<{ events: number; deliveries: number; voice_clones: number; call_analyses: number }> {
  const [stuckEvents, overdue] = await db.batch([
    db
      .select({ id: events.id })
      .from(events)
      .where(and(isNull(events.dispatchedAt), lt(events.createdAt, new Date(nowMs - UNDISPATCHED_GRACE_MS).toISOString())))
      .orderBy(asc(events.createdAt))
      .limit(SWEEP_LIMIT),
    db
      .select({ id: webhookDeliveries.id, attemptCount: webhookDeliveries.attemptCount })
      .from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.status, "pending"), lt(webhookDeliveries.nextAttemptAt, new Date(nowMs - OVERDUE_GRACE_MS).toISOString())))
      .orderBy(asc(webhookDeliveries.nextAttemptAt))
      .limit(SWEEP_LIMIT),
  ]);
  const messages: { body: WebhookMessage }[] = [
    ...stuckEvents.map((e) => ({ body: { kind: "dispatch" as const, event_id: e.id } })),
    ...overdue.map((d) => ({ body: { kind: "deliver" as const, delivery_id: d.id, attempt: d.attemptCount + 1 } })),
  ];
  // sendBatch takes at most 100 messages.
  for (let i = 0; i < messages.length; i += 100) await queue.sendBatch(messages.slice(i, i + 100));
  // Voice clones travel on the same queue, so their lost attempts are re-sent here too.
  const voiceClones = await sweepVoiceTraining(db, queue, nowMs);
  // So do post-call analyses (src/calls/analysis.ts).
  const callAnalyses = await sweepCallAnalyses(db, queue, nowMs);
  return { events: stuckEvents.length, deliveries: overdue.length, voice_clones: voiceClones, call_analyses: callAnalyses };
}
