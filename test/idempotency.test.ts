import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { manualClock, useClock } from "../src/lib/clock";
import { CATALOGUE_VOICE_ID, newOrg } from "./helpers/api";

const agent = { name: "Idem", voice_id: CATALOGUE_VOICE_ID, system_prompt: "Hello" };

let restoreClock = () => {};
afterEach(() => restoreClock());

describe("idempotency keys on create POSTs", () => {
  it("replays the stored response for the same key and body, creating nothing new", async () => {
    const org = await newOrg();
    const first = await org.post("/agents", agent, { "Idempotency-Key": "k-1" });
    expect(first.status).toBe(201);
    // Same body with keys in another order, and the X- spelling of the header.
    const again = await org.post("/agents", { system_prompt: "Hello", voice_id: CATALOGUE_VOICE_ID, name: "Idem" }, { "X-Idempotency-Key": "k-1" });
    expect(again.status).toBe(201);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(again.body.data).toEqual(first.body.data);
    expect((await org.get("/agents")).body.pagination.total).toBe(1);
  });

  it("rejects the same key with another body (422)", async () => {
    const org = await newOrg();
    await org.post("/agents", agent, { "Idempotency-Key": "k-2" });
    const res = await org.post("/agents", { ...agent, name: "Other" }, { "Idempotency-Key": "k-2" });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("idempotency_key_reused");
  });

  it("answers 409 while the first request holds the key, and lets a retry take over a crashed one", async () => {
    const clock = manualClock(Date.UTC(2026, 10, 25, 10, 0, 0));
    restoreClock = useClock(clock);
    const org = await newOrg();
    const first = await org.post("/agents", agent, { "Idempotency-Key": "k-3" });
    // Simulate a first request that died after claiming the key: put the row back in flight.
    await env.DB.prepare("UPDATE idempotency_keys SET state = 'in_progress', locked_until = ?, response_status = NULL WHERE org_id = ? AND key = 'k-3'")
      .bind(clock.now() + 60_000, org.orgId)
      .run();
    const busy = await org.post("/agents", agent, { "Idempotency-Key": "k-3" });
    expect(busy.status).toBe(409);
    expect(busy.body.error.code).toBe("idempotency_key_in_use");
    expect(busy.headers.get("Retry-After")).toBe("1");
    clock.advance(61_000);
    const retried = await org.post("/agents", agent, { "Idempotency-Key": "k-3" });
    expect(retried.status).toBe(201);
    expect(retried.body.data.id).not.toBe(first.body.data.id);
  });

  it("stores nothing for a failed request, so the retry runs", async () => {
    const org = await newOrg();
    const bad = await org.post("/agents", { ...agent, temperature: 9 }, { "Idempotency-Key": "k-4" });
    expect(bad.status).toBe(422);
    const good = await org.post("/agents", { ...agent, temperature: 0.5 }, { "Idempotency-Key": "k-4" });
    expect(good.status).toBe(201);
  });

  it("scopes keys per organization and forgets them after 24 hours", async () => {
    const clock = manualClock(Date.UTC(2026, 10, 25, 10, 0, 0));
    restoreClock = useClock(clock);
    const a = await newOrg();
    const b = await newOrg();
    const fromA = await a.post("/agents", agent, { "Idempotency-Key": "shared" });
    const fromB = await b.post("/agents", agent, { "Idempotency-Key": "shared" });
    expect(fromB.status).toBe(201);
    expect(fromB.body.data.id).not.toBe(fromA.body.data.id);
    clock.advance(24 * 3600 * 1000 + 1);
    const later = await a.post("/agents", { ...agent, name: "new day" }, { "Idempotency-Key": "shared" });
    expect(later.status).toBe(201);
    expect(later.body.data.name).toBe("new day");
  });

  it("rejects an over-long key", async () => {
    const org = await newOrg();
    const res = await org.post("/agents", agent, { "Idempotency-Key": "x".repeat(256) });
    expect(res.status).toBe(422);
  });
});

describe("idempotency retention sweep", () => {
  it("the cron trigger deletes keys older than 24 hours and keeps newer ones", async () => {
    const { createExecutionContext, createScheduledController, waitOnExecutionContext } = await import("cloudflare:test");
    const worker = (await import("../src/index")).default;
    const org = await newOrg();
    const now = Date.UTC(2026, 10, 26, 0, 0, 0);
    for (const [key, age] of [["old", 25 * 3600_000], ["fresh", 3600_000]] as const) {
      await env.DB.prepare(
        "INSERT INTO idempotency_keys (org_id, route, key, request_hash, state, locked_until, created_at) VALUES (?, 'POST /x', ?, 'h', 'done', 0, ?)",
      )
        .bind(org.orgId, key, now - age)
        .run();
    }
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: now, cron: "*/5 * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    const left = await env.DB.prepare("SELECT key FROM idempotency_keys WHERE org_id = ?").bind(org.orgId).all();
    expect(left.results).toEqual([{ key: "fresh" }]);
  });
});
