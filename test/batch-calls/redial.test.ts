import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createContact, createFolder } from "../contacts/helpers";
import { manualClockPerTest } from "../helpers/clock";
import { MONDAY_10AM_NY } from "./helpers";
import { auditOf, batch, callRows, contactsOf, DAY, eventsOf, iso, NY, orgWithNumbers, runUntil, startCampaign } from "./engine-helpers";

const clock = manualClockPerTest(MONDAY_10AM_NY);

const NINE_TO_FIVE = { timezone: "America/New_York", start_time: "09:00", end_time: "17:00" };

describe("redial rules", () => {
  it("redials no answer after 2 h and busy after 15 min, never voicemail, up to max_retry_attempts", async () => {
    const { org, agentId } = await orgWithNumbers();
    const id = await startCampaign(org, {
      agent_id: agentId,
      ...NINE_TO_FIVE,
      retry_failed: true,
      max_retry_attempts: 2,
      contacts: ["+12125550002", "+12125550003", "+12125550004"].map((phone_number) => ({ phone_number })),
    });
    // Slots spread over 10:00–17:00: 10:00, 12:20, 14:40.
    await runUntil(clock, org.orgId, id, NY(10, 30));
    const [waiting] = await contactsOf(org, id);
    expect(waiting).toMatchObject({ status: "retry_scheduled", call_status: "failed", attempts_count: 1, scheduled_at: iso(NY(12) + 20_000) });
    expect((await batch(org, id)).stats).toMatchObject({ retry_scheduled: 1, scheduled: 2, attempts: 1 });

    await runUntil(clock, org.orgId, id, NY(18));
    const contacts = await contactsOf(org, id);
    const timeline = (c: any) => c.attempts.map((a: any) => [a.attempt, a.outcome, a.dialed_at, a.ended_at]);
    expect(contacts.map((c) => [c.phone_number, c.status, c.attempts_count])).toEqual([
      ["+12125550002", "no_answer", 3],
      ["+12125550003", "busy", 3],
      ["+12125550004", "voicemail", 1],
    ]);
    // Each redial at the previous attempt's end plus the policy's delay, to the millisecond.
    expect(timeline(contacts[0])).toEqual([
      [1, "no_answer", iso(NY(10)), iso(NY(10) + 20_000)],
      [2, "no_answer", iso(NY(12) + 20_000), iso(NY(12) + 40_000)],
      [3, "no_answer", iso(NY(14) + 40_000), iso(NY(14, 1))],
    ]);
    expect(timeline(contacts[1])).toEqual([
      [1, "busy", iso(NY(12, 20)), iso(NY(12, 20) + 1000)],
      [2, "busy", iso(NY(12, 35) + 1000), iso(NY(12, 35) + 2000)],
      [3, "busy", iso(NY(12, 50) + 2000), iso(NY(12, 50) + 3000)],
    ]);
    expect(timeline(contacts[2])).toEqual([[1, "voicemail", iso(NY(14, 40)), iso(NY(14, 40) + 32_000)]]);
    // Redials keep the original slot on record and the call id of the latest attempt on the contact.
    expect(contacts[0].attempts.map((a: any) => a.scheduled_at)).toEqual([NY(10), NY(12) + 20_000, NY(14) + 40_000].map(iso));
    expect(contacts[0].call_id).toBe(contacts[0].attempts[2].call_id);

    const row = await batch(org, id);
    expect(row).toMatchObject({ status: "completed", completed_at: iso(NY(14, 40) + 32_000) });
    expect(row.stats).toMatchObject({ called: 3, attempts: 7, no_answer: 1, busy: 1, voicemail: 1, retry_scheduled: 0 });
    expect(await callRows(org.orgId, id)).toHaveLength(7);
    const updates = (await eventsOf(org.orgId)).filter((e) => e.type === "batch.contact.updated" && e.data.phone_number === "+12125550002");
    expect(updates.map((e) => [e.data.status, e.data.attempt])).toEqual([
      ["dialing", 1],
      ["retry_scheduled", 1],
      ["dialing", 2],
      ["retry_scheduled", 2],
      ["dialing", 3],
      ["no_answer", 3],
    ]);
  });

  it("redials a contact whose call reached voicemail per retry_policy: an agent that hangs up on machines ends each call at the answer", async () => {
    const { org, agentId } = await orgWithNumbers();
    expect((await org.patch(`/agents/${agentId}`, { voicemail: { action: "hangup" } })).status).toBe(200);
    const contact = await createContact(org, { folder_id: await createFolder(org), phone_number: "+12125550004", first_name: "Ana" });
    const id = await startCampaign(org, {
      agent_id: agentId,
      ...NINE_TO_FIVE,
      retry_failed: true,
      max_retry_attempts: 1,
      retry_policy: { voicemail: { delay_minutes: 60 } },
      contact_ids: [contact.id],
    });
    await runUntil(clock, org.orgId, id, NY(18));
    const [campaignContact] = await contactsOf(org, id);
    expect(campaignContact).toMatchObject({ status: "voicemail", attempts_count: 2 });
    // The simulator's machine answers 2 s after the dial and the agent hangs up right then
    // (without the voicemail action the call would run until the machine hung up, 30 s later).
    expect(campaignContact.attempts.map((a: any) => [a.attempt, a.outcome, a.dialed_at, a.ended_at])).toEqual([
      [1, "voicemail", iso(NY(10)), iso(NY(10) + 2000)],
      [2, "voicemail", iso(NY(11) + 2000), iso(NY(11) + 4000)],
    ]);
    for (const row of await callRows(org.orgId, id)) {
      expect((await org.get(`/calls/${row.id}`)).body.data).toMatchObject({ status: "completed", end_reason: "voicemail", answered_by: "machine", duration_seconds: 0 });
    }
    // The org's contact remembers the outcome of its latest call.
    expect((await org.get(`/contacts/${contact.id}`)).body.data).toMatchObject({ last_call_outcome: "voicemail", call_count: 2, last_called_at: iso(NY(11) + 4000) });
  });

  it("moves a redial that falls outside the window to the next window, following retry_policy", async () => {
    const { org, agentId } = await orgWithNumbers();
    const id = await startCampaign(org, {
      agent_id: agentId,
      retry_failed: true,
      max_retry_attempts: 1,
      retry_policy: { no_answer: { delay_minutes: 30 }, voicemail: { delay_minutes: 60 } },
      contacts: ["+12125550002", "+12125550004"].map((phone_number) => ({ phone_number })),
    });
    await runUntil(clock, org.orgId, id, NY(12));
    let contacts = await contactsOf(org, id);
    // 10:30:20 and 11:03:02 are past Monday's 10:00–10:05 window: both wait for Tuesday's.
    expect(contacts.map((c) => [c.status, c.scheduled_at])).toEqual([
      ["retry_scheduled", iso(NY(10, 0, 1))],
      ["retry_scheduled", iso(NY(10, 0, 1))],
    ]);
    await runUntil(clock, org.orgId, id, NY(12, 0, 1));
    contacts = await contactsOf(org, id);
    expect(contacts.map((c) => [c.status, c.attempts_count])).toEqual([
      ["no_answer", 2],
      ["voicemail", 2],
    ]);
    // Both due at Tuesday's opening; one caller ID, so one second apart.
    expect(contacts.map((c) => c.attempts[1].dialed_at).sort()).toEqual([iso(NY(10, 0, 1)), iso(NY(10, 0, 1) + 1000)]);
    expect((await batch(org, id)).status).toBe("completed");
  });

  it("allows at most 3 campaign calls to a number per 24 h across the organization's campaigns", async () => {
    const { org, agentId } = await orgWithNumbers();
    const phone = "+12125550002";
    const redialFast = { retry_failed: true, max_retry_attempts: 1, retry_policy: { no_answer: { delay_minutes: 15 } } };
    // A: 10:00 and its redial at 10:15:20.
    const a = await startCampaign(org, { agent_id: agentId, ...NINE_TO_FIVE, ...redialFast, contacts: [{ phone_number: phone }] });
    await runUntil(clock, org.orgId, a, NY(10, 30));
    // B: 10:30, the third call; its redial at 10:45:20 would be the fourth.
    const b = await startCampaign(org, { agent_id: agentId, ...NINE_TO_FIVE, ...redialFast, contacts: [{ phone_number: phone }] });
    await runUntil(clock, org.orgId, [a, b], NY(10, 45));
    // C: due at 10:45.
    const c = await startCampaign(org, { agent_id: agentId, ...NINE_TO_FIVE, contacts: [{ phone_number: phone }] });
    await runUntil(clock, org.orgId, [a, b, c], NY(17));

    const dials = async () => {
      const rows = await env.DB.prepare("SELECT batch_call_id, created_at FROM calls WHERE org_id = ? AND to_number = ? ORDER BY created_at")
        .bind(org.orgId, phone)
        .all<{ batch_call_id: string; created_at: string }>();
      return rows.results.map((r) => [r.batch_call_id, r.created_at]);
    };
    expect(await dials()).toEqual([
      [a, iso(NY(10))],
      [a, iso(NY(10, 15) + 20_000)],
      [b, iso(NY(10, 30))],
    ]);
    const oldestPlus24h = iso(NY(10) + DAY);
    const [cDeferred] = await auditOf(org, c);
    expect(cDeferred).toMatchObject({ decision: "deferred", at: iso(NY(10, 45)) });
    expect(cDeferred.reason).toBe(`attempt_limit: 3 campaign calls to this number in the last 24 h; next try ${oldestPlus24h}`);
    const bDeferred = (await auditOf(org, b)).filter((d) => d.decision === "deferred");
    expect(bDeferred).toHaveLength(1);
    expect(bDeferred[0]).toMatchObject({ attempt: 2, at: iso(NY(10, 45) + 20_000) });
    expect(bDeferred[0].reason).toMatch(/^attempt_limit: 3 campaign calls/);
    expect((await contactsOf(org, c))[0]).toMatchObject({ status: "scheduled", scheduled_at: oldestPlus24h, attempts_count: 0 });
    expect((await batch(org, c)).status).toBe("active");

    // Tuesday 10:00 A's first call leaves the 24 h: B's redial takes the freed place, C waits
    // for the next one (A's redial leaving at 10:15:20).
    await runUntil(clock, org.orgId, [a, b, c], NY(17, 0, 1));
    expect(await dials()).toEqual([
      [a, iso(NY(10))],
      [a, iso(NY(10, 15) + 20_000)],
      [b, iso(NY(10, 30))],
      [b, iso(NY(10, 0, 1))],
      [c, iso(NY(10, 15, 1) + 20_000)],
    ]);
    const times = (await dials()).map(([, at]) => Date.parse(at));
    for (const t of times) expect(times.filter((u) => u > t - DAY && u <= t).length).toBeLessThanOrEqual(3);
    // Tuesday 10:00:00 B's redial takes the one caller ID; C waits out its pacing second, then
    // meets the attempt limit (B's redial is the third call of the last 24 h).
    expect((await auditOf(org, c)).filter((d) => d.decision === "deferred").map((d) => d.at)).toEqual([iso(NY(10, 45)), iso(NY(10, 0, 1) + 1000)]);
    for (const id of [a, b, c]) expect((await batch(org, id)).status).toBe("completed");
  });
});
