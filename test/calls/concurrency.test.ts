import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { manualClockPerTest } from "../helpers/clock";
import { adminFetch } from "../helpers/api";
import { callRow, limiterStub, orgWithCaller, tick } from "./helpers";

const START = Date.UTC(2030, 0, 8, 15, 0, 0);
const clock = manualClockPerTest(START);

describe("per-organization call concurrency", () => {
  it("never holds more slots than the limit with 50 simultaneous creates, and dials waiting calls as slots free", async () => {
    const { org, agentId } = await orgWithCaller();
    await adminFetch(`/organizations/${org.orgId}`, { method: "PATCH", body: { max_concurrent_calls: 5 } });
    const created = await Promise.all(
      // Numbers ending 0003 are busy after a second, so the queue drains in a few simulated seconds.
      Array.from({ length: 50 }, (_, i) => org.post("/calls", { agent_id: agentId, phone_number: `+1${300 + i}5550003` })),
    );
    expect(created.every((r) => r.status === 201)).toBe(true);
    const ids = created.map((r) => r.body.data.id as string);
    const stats = await limiterStub(org.orgId).callSlotStats();
    expect(stats).toMatchObject({ granted: 5, waiting: 45, maxGranted: 5 });

    // Run every call to its end, round after round, as slots are handed on.
    for (let round = 0; round < 25; round++) {
      await Promise.all(ids.map((id) => tick(id)));
      clock.advance(1000);
      const now = await limiterStub(org.orgId).callSlotStats();
      expect(now.granted).toBeLessThanOrEqual(5);
    }
    const rows = await Promise.all(ids.map((id) => callRow(org, id)));
    expect(rows.filter((r) => r.status === "failed" && r.end_reason === "busy")).toHaveLength(50);
    expect(await limiterStub(org.orgId).callSlotStats()).toEqual({ granted: 0, waiting: 0, maxGranted: 5 });
  });

  it("frees the slot of a failed, cancelled or queued-cancelled call at once", async () => {
    const { org, agentId } = await orgWithCaller();
    await adminFetch(`/organizations/${org.orgId}`, { method: "PATCH", body: { max_concurrent_calls: 1 } });
    const first = (await org.post("/calls", { agent_id: agentId, phone_number: "+14155550003" })).body.data.id; // busy
    const second = (await org.post("/calls", { agent_id: agentId, phone_number: "+14155550001" })).body.data.id;
    expect(await limiterStub(org.orgId).callSlotStats()).toMatchObject({ granted: 1, waiting: 1 });
    await tick(first);
    clock.advance(1000);
    await tick(first);
    expect((await callRow(org, first)).end_reason).toBe("busy");
    expect(await limiterStub(org.orgId).callSlotStats()).toMatchObject({ granted: 1, waiting: 0 });
    expect(await tick(second)).toBe(true); // its dial timer was set when the slot came
    expect((await callRow(org, second)).status).toBe("queued");
    await org.post(`/calls/${second}/cancel`);
    await tick(second);
    expect(await limiterStub(org.orgId).callSlotStats()).toMatchObject({ granted: 0, waiting: 0 });
  });

  it("takes back a slot whose carrier went silent when its lease expires", async () => {
    const { org, agentId } = await orgWithCaller();
    await adminFetch(`/organizations/${org.orgId}`, { method: "PATCH", body: { max_concurrent_calls: 1 } });
    const silent = (await org.post("/calls", { agent_id: agentId, phone_number: "+14155550001" })).body.data.id;
    const waiting = (await org.post("/calls", { agent_id: agentId, phone_number: "+14155550001" })).body.data.id;
    // Neither the call's timers nor the carrier ever fire: only the limiter's lease alarm does.
    clock.advance((20 + 60) * 1000 + 5 * 60_000 + 1);
    expect(await runDurableObjectAlarm(limiterStub(org.orgId))).toBe(true);
    expect(await callRow(org, silent)).toMatchObject({ status: "failed", end_reason: "carrier_error" });
    expect(await limiterStub(org.orgId).callSlotStats()).toMatchObject({ granted: 1, waiting: 0 });
    await tick(waiting);
    expect((await callRow(org, waiting)).provider).toBe("simulator");
  });
});
