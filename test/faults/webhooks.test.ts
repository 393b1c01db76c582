import { env } from "cloudflare:workers";
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { openDatabase, TenantDb } from "../../src/db/tenant";
import { RETRY_JITTER, RETRY_SCHEDULE_SECONDS } from "../../src/domain/webhooks";
import { manualClock } from "../../src/lib/clock";
import { deliverAttempt } from "../../src/webhooks/deliver";
import { recordEvent } from "../../src/webhooks/emit";
import { sweepWebhooks } from "../../src/webhooks/sweep";
import { BASE, fakeRequests, newOrg, type ApiClient } from "../helpers/api";
import { createEndpoint, eventually, receivedBy, receiverUrl } from "../webhooks/helpers";

/** A queue binding that refuses every message, as Queues does during an outage. */
const refusingQueue = {
  send: async () => {
    throw new Error("Queue send failed: injected outage");
  },
  sendBatch: async () => {
    throw new Error("Queue send failed: injected outage");
  },
} as unknown as Queue;

/** A queue binding that only records what it was asked to send (so no real consumer races the test). */
function recordingQueue() {
  const sent: { body: unknown; options?: { delaySeconds?: number } }[] = [];
  const queue = {
    send: async (body: unknown, options?: { delaySeconds?: number }) => void sent.push({ body, options }),
    sendBatch: async (messages: { body: unknown }[]) => void sent.push(...messages.map((m) => ({ body: m.body }))),
  } as unknown as Queue;
  return { queue, sent };
}

async function runCron(scheduledTime: number) {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime, cron: "* * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}

async function eventRow(id: string) {
  return env.DB.prepare("SELECT id, dispatched_at FROM events WHERE id = ?").bind(id).first<{ id: string; dispatched_at: string | null }>();
}

async function deliveriesOf(org: ApiClient, endpointId: string) {
  return (await org.get(`/webhooks/${endpointId}/deliveries`)).body.data as { id: string; event_id: string; status: string; attempts: { attempt: number; response_status: number | null }[] }[];
}

describe("Queue send failures on webhook emit", () => {
  it("an event whose queue send failed is kept, and the cron sweep delivers it exactly once", async () => {
    const org = await newOrg();
    const { url, tag } = receiverUrl("ok");
    const { id: endpointId } = await createEndpoint(org, url);

    // The API request runs with a queue that refuses every message: the client still gets its 202.
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request(`${BASE}/webhooks/${endpointId}/test`, { method: "POST", headers: { authorization: `Bearer ${org.apiKey}` } }),
      { ...env, WEBHOOK_QUEUE: refusingQueue },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(202);
    const eventId = ((await res.json()) as { data: { event_id: string } }).data.event_id;
    // Committed to the outbox, not dispatched, nothing delivered.
    expect(await eventRow(eventId)).toEqual({ id: eventId, dispatched_at: null });
    expect(await deliveriesOf(org, endpointId)).toEqual([]);

    // The sweep itself meeting the same outage fails loudly and changes nothing.
    const later = Date.now() + 2 * 60_000;
    await expect(sweepWebhooks(openDatabase(env.DB), refusingQueue as Queue<never>, later)).rejects.toThrow(/injected outage/);
    expect((await eventRow(eventId))?.dispatched_at).toBeNull();

    // Once the queue is back, the next cron run (after the one-minute grace) delivers it.
    await runCron(later);
    const [request] = await receivedBy(tag);
    expect(JSON.parse(request.body)).toMatchObject({ id: eventId, event: "webhook.test" });
    const [delivery] = await eventually(async () => {
      const list = await deliveriesOf(org, endpointId);
      return list[0]?.status === "succeeded" && list;
    }, "the succeeded delivery");
    expect(delivery).toMatchObject({ event_id: eventId, attempts: [{ attempt: 1, response_status: 204 }] });
    expect((await eventRow(eventId))?.dispatched_at).not.toBeNull();

    // Later sweeps find nothing left to do for it: one delivery, one request.
    await runCron(later + 10 * 60_000);
    await runCron(later + 60 * 60_000);
    expect(await deliveriesOf(org, endpointId)).toHaveLength(1);
    expect(await fakeRequests("receiver", tag)).toHaveLength(1);
  });
});

describe("a webhook receiver down for hours", () => {
  it("is retried on the published schedule, then gets the event once when it comes back, never twice", async () => {
    const org = await newOrg();
    // Down for its first 7 attempts: 5 s + 30 s + 2 min + 10 min + 30 min + 1 h + 3 h ≈ 4.7 h.
    const down = 7;
    const { url, tag } = receiverUrl("flaky", `?fail=${down}`);
    const { id: endpointId } = await createEndpoint(org, url);
    const tenant = new TenantDb(openDatabase(env.DB), org.orgId);
    const start = Date.UTC(2026, 10, 25, 9, 0, 0);
    const event = recordEvent(tenant, start, "call.ended", { call_id: "down-for-hours" });
    await event.statement;
    // As dispatch leaves it: the event handed out, its delivery row pending.
    await env.DB.prepare("UPDATE events SET dispatched_at = ? WHERE id = ?").bind(new Date(start).toISOString(), event.id).run();
    const deliveryId = crypto.randomUUID();
    await env.DB.prepare(
      "INSERT INTO webhook_deliveries (id, org_id, endpoint_id, event_id, event_type, status, attempt_count, next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, 'call.ended', 'pending', 0, ?, ?, ?)",
    )
      .bind(deliveryId, org.orgId, endpointId, event.id, new Date(start).toISOString(), new Date(start).toISOString(), new Date(start).toISOString())
      .run();

    const clock = manualClock(start);
    const { queue, sent } = recordingQueue();
    const testEnv = { ...env, WEBHOOK_QUEUE: queue } as Env;
    const db = openDatabase(env.DB);
    const row = () =>
      env.DB.prepare("SELECT status, attempt_count, next_attempt_at FROM webhook_deliveries WHERE id = ?")
        .bind(deliveryId)
        .first<{ status: string; attempt_count: number; next_attempt_at: string | null }>();

    for (let attempt = 1; attempt <= down; attempt++) {
      await deliverAttempt(db, testEnv, clock, deliveryId, attempt);
      const after = await row();
      expect(after).toMatchObject({ status: "pending", attempt_count: attempt });
      const waitSeconds = (Date.parse(after!.next_attempt_at!) - clock.now()) / 1000;
      const step = RETRY_SCHEDULE_SECONDS[attempt - 1];
      expect(waitSeconds).toBeGreaterThanOrEqual(Math.floor(step * (1 - RETRY_JITTER)));
      expect(waitSeconds).toBeLessThanOrEqual(Math.ceil(step * (1 + RETRY_JITTER)));
      // The next attempt is queued with exactly that delay.
      expect(sent.at(-1)).toEqual({ body: { kind: "deliver", delivery_id: deliveryId, attempt: attempt + 1 }, options: { delaySeconds: waitSeconds } });
      // The endpoint shows it is failing, and stays enabled (it is disabled only after 3 days).
      const endpoint = (await org.get(`/webhooks/${endpointId}`)).body.data;
      expect(endpoint.enabled).toBe(true);
      expect(endpoint.failing_since).not.toBeNull();
      // A duplicate of this attempt's message, delivered again by the queue, sends nothing.
      await deliverAttempt(db, testEnv, clock, deliveryId, attempt);
      clock.set(Date.parse(after!.next_attempt_at!));
    }
    // Hours of outage ridden out: the schedule's first `down` waits, each ±20 % (about 4.7 h nominal).
    const nominalMs = RETRY_SCHEDULE_SECONDS.slice(0, down).reduce((sum, s) => sum + s, 0) * 1000;
    expect(clock.now() - start).toBeGreaterThanOrEqual(nominalMs * (1 - RETRY_JITTER) - down * 1000);
    expect(clock.now() - start).toBeGreaterThan(3.5 * 3600_000);

    // Back up: the 8th attempt succeeds.
    await deliverAttempt(db, testEnv, clock, deliveryId, down + 1);
    expect(await row()).toMatchObject({ status: "succeeded", attempt_count: down + 1 });
    expect((await org.get(`/webhooks/${endpointId}`)).body.data.failing_since).toBeNull();

    // Late or repeated messages for any attempt change nothing now.
    for (const attempt of [1, down, down + 1, down + 2]) await deliverAttempt(db, testEnv, clock, deliveryId, attempt);
    // And the cron sweep has nothing to re-send for it.
    await sweepWebhooks(db, queue as Queue<never>, clock.now() + 24 * 3600_000);
    expect(sent.filter((m) => JSON.stringify(m.body).includes(deliveryId))).toHaveLength(down);
    expect(sent.filter((m) => JSON.stringify(m.body).includes(event.id))).toHaveLength(0);

    const requests = await fakeRequests("receiver", tag);
    expect(requests).toHaveLength(down + 1);
    expect(new Set(requests.map((r) => r.headers["webhook-id"]))).toEqual(new Set([event.id]));
    const [delivery] = await deliveriesOf(org, endpointId);
    expect(delivery.attempts.map((a) => a.response_status)).toEqual([...Array(down).fill(500), 200]);
    expect(delivery.attempts.map((a) => a.attempt)).toEqual(Array.from({ length: down + 1 }, (_, i) => i + 1));
  });
});
