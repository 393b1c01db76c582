import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { manualClockPerTest } from "../helpers/clock";
import { campaignStub, liveCallIds, MONDAY_10AM_NY, tickCampaign } from "../batch-calls/helpers";
import { alarmOf, auditOf, batch, callRows, contactsOf, eventsOf, NY, orgWithNumbers, runUntil, startCampaign } from "../batch-calls/engine-helpers";

/**
 * A campaign's Durable Object restarting mid-run (a deploy, an eviction, a crash): everything it
 * needs is in its SQLite storage and its alarm, so a fresh instance carries on where the old one
 * stopped, and no contact is dialled twice.
 */

const clock = manualClockPerTest(MONDAY_10AM_NY);


/** Aborts the object: its in-memory state is dropped and the next request builds a new instance from storage. */
async function restart(id: string) {
  await runInDurableObject(campaignStub(id), (instance) => {
    (instance as unknown as { faultMarker?: boolean }).faultMarker = true;
  });
  await expect(runInDurableObject(campaignStub(id), (_instance, state) => state.abort("fault injection: restart"))).rejects.toThrow();
  const fresh = await runInDurableObject(campaignStub(id), (instance) => (instance as unknown as { faultMarker?: boolean }).faultMarker);
  expect(fresh).toBeUndefined();
}

describe("CampaignDO restarts mid-campaign", () => {
  it("rebuilds its state from storage, keeps its alarm, and dials every contact exactly once", async () => {
    const { org, agentId } = await orgWithNumbers();
    const phones = Array.from({ length: 5 }, (_, i) => `+12125557${String(Math.floor(Math.random() * 90) + 10)}${i}`);
    const id = await startCampaign(org, { agent_id: agentId, contacts: phones.map((phone_number) => ({ phone_number })) });

    // Two minutes in: two contacts done or on the line, the rest waiting for their slots.
    await runUntil(clock, org.orgId, id, NY(10, 2) + 5_000);
    const live = await liveCallIds(org.orgId, id);
    expect(live.length).toBeGreaterThan(0);
    const alarmBefore = await alarmOf(campaignStub(id));
    expect(alarmBefore).not.toBeNull();

    await restart(id);
    // The alarm lives in storage, so the new instance is woken as the old one would have been.
    expect(await alarmOf(campaignStub(id))).toBe(alarmBefore);
    // Its first alarm after the restart, run again and again at the same instant, dials nobody twice.
    for (let i = 0; i < 3; i++) await tickCampaign(id);

    // Restarted again while the next calls are live: their reports reach the new instance.
    await runUntil(clock, org.orgId, id, NY(10, 3) + 5_000);
    await restart(id);
    await runUntil(clock, org.orgId, id, NY(11));

    const calls = await callRows(org.orgId, id);
    expect(calls.map((c) => c.to_number).sort()).toEqual([...phones].sort());
    expect(calls.every((c) => c.status === "completed")).toBe(true);
    const started = (await eventsOf(org.orgId)).filter((e) => e.type === "call.started");
    expect(started).toHaveLength(phones.length);
    const contacts = await contactsOf(org, id);
    expect(contacts.map((c) => [c.status, c.attempts_count])).toEqual(phones.map(() => ["completed", 1]));
    expect((await auditOf(org, id)).filter((a) => a.decision === "dialled")).toHaveLength(phones.length);
    expect(await batch(org, id)).toMatchObject({ status: "completed", stats: { attempts: 5, called: 5, completed: 5 } });
  });
});
