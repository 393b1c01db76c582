import { env } from "cloudflare:workers";
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { agents } from "../../src/db/schema";
import { openDatabase, TenantDb } from "../../src/db/tenant";
import { manualClock } from "../../src/lib/clock";
import { deliverAttempt, USER_AGENT } from "../../src/webhooks/deliver";
import { recordEvent } from "../../src/webhooks/emit";
import { newOrg, type ApiClient } from "../helpers/api";
import { createEndpoint, eventually, receivedBy, receiverUrl } from "./helpers";

async function deliveries(org: ApiClient, endpointId: string, query = "") {
  return (await org.get(`/webhooks/${endpointId}/deliveries${query}`)).body.data as {
    id: string;
    status: string;
    next_attempt_at: string | null;
    attempts: { attempt: number; response_status: number | null; error: string | null; request_headers: Record<string, string>; response_body: string | null; duration_ms: number }[];
  }[];
}

async function deliveryWithStatus(org: ApiClient, endpointId: string, status: string) {
  return eventually(async () => (await deliveries(org, endpointId)).find((d) => d.status === status), `a ${status} delivery`);
}

/** Puts an event straight into the outbox and creates its delivery row, as dispatch would. */
async function seedDelivery(org: ApiClient & { orgId: string }, endpointId: string, attemptCount = 0) {
  const tenant = new TenantDb(openDatabase(env.DB), org.orgId);
  const event = recordEvent(tenant, Date.now(), "call.ended", { call_id: "c-1" });
  await event.statement;
  const id = crypto.randomUUID();
  const at = new Date().toISOString();
  await env.DB.prepare(
    "INSERT INTO webhook_deliveries (id, org_id, endpoint_id, event_id, event_type, status, attempt_count, next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, 'call.ended', 'pending', ?, ?, ?, ?)",
  )
    .bind(id, org.orgId, endpointId, event.id, attemptCount, at, at, at)
    .run();
  return { deliveryId: id, eventId: event.id };
}

describe("webhook delivery through the real queue", () => {
  it("delivers a test event signed both ways and logs the attempt without the secret", async () => {
    const org = await newOrg();
    const { url, tag } = receiverUrl("ok");
    const { id, secret } = await createEndpoint(org, url);
    const sent = await org.post(`/webhooks/${id}/test`);
    expect(sent.status).toBe(202);

    const [request] = await receivedBy(tag);
    const body = JSON.parse(request.body);
    expect(body).toMatchObject({ id: sent.body.data.event_id, event: "webhook.test", data: { endpoint_id: id } });
    expect(request.headers["user-agent"]).toBe(USER_AGENT);
    expect(request.headers["webhook-id"]).toBe(sent.body.data.event_id);
    expect(new Webhook(secret).verify(request.body, request.headers)).toEqual(body);
    // Independent check of the Truedy pair, as a receiver following Truedy's docs would do it.
    const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
    const hex = request.headers["x-truedy-signature"];
    const bytes = new Uint8Array(hex.match(/../g)!.map((h: string) => parseInt(h, 16)));
    const signed = new TextEncoder().encode(`${request.headers["x-truedy-timestamp"]}.${request.body}`);
    expect(await crypto.subtle.verify("HMAC", key, bytes, signed)).toBe(true);

    const [delivery] = await eventually(async () => {
      const list = await deliveries(org, id, "?event=webhook.test");
      return list[0]?.status === "succeeded" && list;
    }, "the succeeded delivery in the log");
    expect(delivery.attempts).toHaveLength(1);
    expect(delivery.attempts[0]).toMatchObject({ attempt: 1, response_status: 204, error: null });
    expect(JSON.stringify(delivery)).not.toContain(secret);
  });

  it("only sends events an endpoint subscribes to", async () => {
    const org = await newOrg();
    const ended = receiverUrl("ok");
    const failed = receiverUrl("ok");
    await createEndpoint(org, ended.url, ["call.ended"]);
    const other = await createEndpoint(org, failed.url, ["call.failed"]);
    const tenant = new TenantDb(openDatabase(env.DB), org.orgId);
    const event = recordEvent(tenant, Date.now(), "call.ended", { call_id: "x" });
    await event.statement;
    await env.WEBHOOK_QUEUE.send({ kind: "dispatch", event_id: event.id });
    await receivedBy(ended.tag);
    expect(await deliveries(org, other.id)).toEqual([]);
  });

  it("retries a failing receiver on the schedule and succeeds on the next attempt", async () => {
    const org = await newOrg();
    const { url, tag } = receiverUrl("flaky", "?fail=1");
    const { id } = await createEndpoint(org, url);
    await org.post(`/webhooks/${id}/test`);
    const requests = await eventually(async () => {
      const got = await (await import("../helpers/api")).fakeRequests("receiver", tag);
      return got.length >= 2 && got;
    }, "the retry", 12_000);
    expect(requests[0].headers["webhook-id"]).toBe(requests[1].headers["webhook-id"]);
    expect(Number(requests[1].headers["webhook-timestamp"]) - Number(requests[0].headers["webhook-timestamp"])).toBeGreaterThanOrEqual(3);
    const delivery = await deliveryWithStatus(org, id, "succeeded");
    expect(delivery.attempts.map((a) => a.response_status)).toEqual([500, 200]);
    expect(delivery.attempts[0].error).toBe("Receiver answered HTTP 500");
    expect((await org.get(`/webhooks/${id}`)).body.data.failing_since).toBeNull();
  }, 20_000);

  it("disables the endpoint when the receiver answers 410", async () => {
    const org = await newOrg();
    const { url } = receiverUrl("gone");
    const { id } = await createEndpoint(org, url);
    await org.post(`/webhooks/${id}/test`);
    await deliveryWithStatus(org, id, "failed");
    const endpoint = (await org.get(`/webhooks/${id}`)).body.data;
    expect(endpoint).toMatchObject({ enabled: false, disabled_reason: "The receiver answered 410 Gone" });
  });

  it("sends a delivery that used its last attempt to the dead-letter queue, which marks it failed", async () => {
    const org = await newOrg();
    const { url, tag } = receiverUrl("fail");
    const { id } = await createEndpoint(org, url);
    const { deliveryId } = await seedDelivery(org, id, 9);
    await env.WEBHOOK_QUEUE.send({ kind: "deliver", delivery_id: deliveryId, attempt: 10 });
    await receivedBy(tag);
    const delivery = await deliveryWithStatus(org, id, "failed");
    expect(delivery.attempts.map((a) => a.attempt)).toEqual([10]);
    expect(delivery.next_attempt_at).toBeNull();
  });

  it("the cron sweep re-enqueues an event whose queue send was lost", async () => {
    const org = await newOrg();
    const { url, tag } = receiverUrl("ok");
    await createEndpoint(org, url);
    const tenant = new TenantDb(openDatabase(env.DB), org.orgId);
    const lostAt = Date.now() - 120_000;
    const event = recordEvent(tenant, lostAt, "call.ended", { call_id: "lost" });
    await event.statement; // committed, but never published: as if queue.send had failed
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    const [request] = await receivedBy(tag);
    expect(JSON.parse(request.body).id).toBe(event.id);
  });

  it("records the event with the business change in one batch: if the change fails, no event exists", async () => {
    const org = await newOrg();
    const tenant = new TenantDb(openDatabase(env.DB), org.orgId);
    const event = recordEvent(tenant, Date.now(), "call.ended", { call_id: "never" });
    // An agent row missing required columns fails the batch, taking the event with it.
    const broken = tenant.db.insert(agents).values({ id: "x" } as never);
    await expect(tenant.commit([event.statement, broken])).rejects.toThrow();
    expect(await env.DB.prepare("SELECT id FROM events WHERE id = ?").bind(event.id).first()).toBeNull();
  });
});

describe("webhook attempts with injected time", () => {
  const db = () => openDatabase(env.DB);

  it("schedules the next attempt with jitter, and honours a longer Retry-After", async () => {
    const org = await newOrg();
    const clock = manualClock(Date.UTC(2026, 10, 25, 12, 0, 0));
    for (const [behaviour, min, max] of [["fail", 4, 6], ["ratelimit", 120, 120]] as const) {
      const { id } = await createEndpoint(org, receiverUrl(behaviour).url);
      const { deliveryId } = await seedDelivery(org, id);
      await deliverAttempt(db(), env, clock, deliveryId, 1);
      const row = await env.DB.prepare("SELECT status, attempt_count, next_attempt_at FROM webhook_deliveries WHERE id = ?").bind(deliveryId).first<{ status: string; attempt_count: number; next_attempt_at: string }>();
      expect(row?.status).toBe("pending");
      expect(row?.attempt_count).toBe(1);
      const wait = (Date.parse(row!.next_attempt_at) - clock.now()) / 1000;
      expect(wait).toBeGreaterThanOrEqual(min);
      expect(wait).toBeLessThanOrEqual(max);
    }
  });

  it("never makes the same attempt twice, whatever the queue redelivers", async () => {
    const org = await newOrg();
    const { url, tag } = receiverUrl("ok");
    const { id } = await createEndpoint(org, url);
    const { deliveryId } = await seedDelivery(org, id);
    const clock = manualClock(Date.now());
    await Promise.all([deliverAttempt(db(), env, clock, deliveryId, 1), deliverAttempt(db(), env, clock, deliveryId, 1)]);
    await deliverAttempt(db(), env, clock, deliveryId, 1);
    const requests = await receivedBy(tag);
    expect(requests).toHaveLength(1);
  });

  it("records a timeout as a failed attempt", async () => {
    const org = await newOrg();
    const { id } = await createEndpoint(org, receiverUrl("slow", "?ms=2000").url);
    const { deliveryId } = await seedDelivery(org, id);
    await deliverAttempt(db(), env, manualClock(Date.now()), deliveryId, 1, { timeoutMs: 200 });
    const [delivery] = await deliveries(org, id);
    expect(delivery.attempts[0]).toMatchObject({ response_status: null, error: "Timed out after 0.2 s" });
    expect(delivery.status).toBe("pending");
  });

  it("keeps only the first 4 KB of a response body", async () => {
    const org = await newOrg();
    const { id } = await createEndpoint(org, receiverUrl("big").url);
    const { deliveryId } = await seedDelivery(org, id);
    await deliverAttempt(db(), env, manualClock(Date.now()), deliveryId, 1);
    const [delivery] = await deliveries(org, id);
    expect(delivery.attempts[0].response_body).toHaveLength(4096);
    expect(delivery.status).toBe("succeeded");
  });

  it("disables an endpoint that has failed for three days and records webhook.disabled for the others", async () => {
    const org = await newOrg();
    const watcher = receiverUrl("ok");
    await createEndpoint(org, watcher.url, ["webhook.disabled"]);
    const { id } = await createEndpoint(org, receiverUrl("fail").url);
    const now = Date.UTC(2026, 10, 25, 12, 0, 0);
    await env.DB.prepare("UPDATE webhook_endpoints SET failing_since = ? WHERE id = ?").bind(new Date(now - 3 * 86_400_000).toISOString(), id).run();
    const { deliveryId } = await seedDelivery(org, id, 3);
    await deliverAttempt(db(), env, manualClock(now), deliveryId, 4);
    const endpoint = (await org.get(`/webhooks/${id}`)).body.data;
    expect(endpoint).toMatchObject({ enabled: false, disabled_reason: "Every delivery failed for 3 days" });
    const [notice] = await receivedBy(watcher.tag);
    expect(JSON.parse(notice.body)).toMatchObject({ event: "webhook.disabled", data: { endpoint_id: id } });
  });
});

describe("replay", () => {
  it("re-sends one failed delivery after the receiver is fixed, continuing the attempt numbers", async () => {
    const org = await newOrg();
    const { id } = await createEndpoint(org, receiverUrl("fail").url);
    const { deliveryId } = await seedDelivery(org, id, 9);
    await env.WEBHOOK_QUEUE.send({ kind: "deliver", delivery_id: deliveryId, attempt: 10 });
    await deliveryWithStatus(org, id, "failed");

    const fixed = receiverUrl("ok");
    await org.patch(`/webhooks/${id}`, { url: fixed.url });
    const replay = await org.post(`/webhooks/${id}/deliveries/${deliveryId}/replay`);
    expect(replay.status).toBe(202);
    expect(replay.body.data.status).toBe("pending");
    await receivedBy(fixed.tag);
    const delivery = await deliveryWithStatus(org, id, "succeeded");
    expect(delivery.attempts.map((a) => a.attempt)).toEqual([10, 11]);
    expect((await org.post(`/webhooks/${id}/deliveries/${deliveryId}/replay`)).status).toBe(202);
  });

  it("replays a time range, creating deliveries for events that never had one", async () => {
    const org = await newOrg();
    const { url, tag } = receiverUrl("ok");
    const { id } = await createEndpoint(org, url, ["call.ended"]);
    await org.patch(`/webhooks/${id}`, { enabled: false });
    const tenant = new TenantDb(openDatabase(env.DB), org.orgId);
    const base = Date.UTC(2026, 10, 24, 10, 0, 0);
    const inside = [recordEvent(tenant, base + 1000, "call.ended", { n: 1 }), recordEvent(tenant, base + 2000, "call.ended", { n: 2 })];
    const outside = recordEvent(tenant, base + 7_200_000, "call.ended", { n: 3 });
    const unsubscribed = recordEvent(tenant, base + 3000, "call.failed", { n: 4 });
    await tenant.commit([...inside, outside, unsubscribed].map((e) => e.statement));

    const range = { since: new Date(base).toISOString(), until: new Date(base + 3_600_000).toISOString() };
    const blocked = await org.post(`/webhooks/${id}/replay`, range);
    expect(blocked.status).toBe(409);
    await org.patch(`/webhooks/${id}`, { enabled: true });
    const replay = await org.post(`/webhooks/${id}/replay`, range);
    expect(replay.body.data).toEqual({ queued: 2, truncated: false });
    const requests = await receivedBy(tag, 2);
    expect(requests.map((r) => JSON.parse(r.body).id).sort()).toEqual(inside.map((e) => e.id).sort());
    expect((await org.post(`/webhooks/${id}/replay`, { ...range, status: "failed" })).body.data.queued).toBe(0);
    const backwards = await org.post(`/webhooks/${id}/replay`, { since: range.until, until: range.since });
    expect(backwards.status).toBe(422);
    expect(backwards.body.error.details.field).toBe("until");
  });
});
