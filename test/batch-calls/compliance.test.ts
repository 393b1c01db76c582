import { describe, expect, it } from "vitest";
import { manualClockPerTest } from "../helpers/clock";
import { MONDAY_10AM_NY } from "./helpers";
import { auditOf, batch, callRows, campaignSql, contactsOf, eventsOf, iso, NY, orgWithNumbers, runUntil, startCampaign } from "./engine-helpers";

const clock = manualClockPerTest(MONDAY_10AM_NY);

const NINE_TO_FIVE = { timezone: "America/New_York", start_time: "09:00", end_time: "17:00" };

describe("calling window and quiet hours at dial time", () => {
  it("defers a due contact while it is before 08:00 in the recipient's zone and dials it when quiet hours end", async () => {
    const { org, agentId } = await orgWithNumbers();
    // A Los Angeles number (UTC−8) in a New York 09:00–17:00 campaign: quiet hours allow it from 11:00 New York.
    const id = await startCampaign(org, { agent_id: agentId, ...NINE_TO_FIVE, contacts: [{ phone_number: "+14155553001" }] });
    expect((await contactsOf(org, id))[0].scheduled_at).toBe(iso(NY(11)));
    // Paused before the slot and resumed the next morning at 09:30 New York (06:30 in Los Angeles):
    // the slot is long due and the campaign window is open, but quiet hours are not.
    expect((await org.post(`/batch-calls/${id}/pause`)).status).toBe(200);
    clock.set(NY(9, 30, 1));
    expect((await org.post(`/batch-calls/${id}/resume`)).body.data.status).toBe("active");
    await runUntil(clock, org.orgId, id, NY(10, 59, 1));
    expect(await callRows(org.orgId, id)).toHaveLength(0);
    const [deferred] = await auditOf(org, id);
    expect(deferred).toMatchObject({ decision: "deferred", at: iso(NY(9, 30, 1)), phone_number: "+14155553001", attempt: 1 });
    expect(deferred.reason).toMatch(/^outside_window: .*quiet hours.*; next try 2030-01-08T16:00:00\.000Z$/);
    expect((await contactsOf(org, id))[0]).toMatchObject({ status: "scheduled", scheduled_at: iso(NY(11, 0, 1)) });

    await runUntil(clock, org.orgId, id, NY(12, 0, 1));
    const calls = await callRows(org.orgId, id);
    expect(calls.map((c) => c.created_at)).toEqual([iso(NY(11, 0, 1))]); // 08:00 in Los Angeles
    expect((await batch(org, id)).status).toBe("completed");
  });

  it("with respect_recipient_timezone dials a Los Angeles contact only once it is 09:00 there", async () => {
    const { org, agentId } = await orgWithNumbers();
    const contacts = [{ phone_number: "+12125553001" }, { phone_number: "+14155553002" }];
    const local = await startCampaign(org, { agent_id: agentId, ...NINE_TO_FIVE, respect_recipient_timezone: true, contacts });
    const plain = await startCampaign(org, { agent_id: agentId, ...NINE_TO_FIVE, contacts });
    let sawEarly = false;
    await runUntil(clock, org.orgId, [local, plain], NY(18), {
      onStep: async () => {
        const calls = await callRows(org.orgId, local);
        if (calls.some((c) => c.to_number === "+14155553002" && Date.parse(c.created_at) < NY(12))) sawEarly = true;
      },
    });
    expect(sawEarly).toBe(false);
    const dials = async (id: string) => (await callRows(org.orgId, id)).map((c) => [c.to_number, c.created_at]);
    // 09:00 Los Angeles is 12:00 New York; without the option only quiet hours hold it back (08:00 there, 11:00 here).
    expect(await dials(local)).toEqual([
      ["+12125553001", iso(NY(10))],
      ["+14155553002", iso(NY(12))],
    ]);
    // Both campaigns share the org's one caller ID: the org-wide pacing holds the second a second.
    expect(await dials(plain)).toEqual([
      ["+12125553001", iso(NY(10) + 1000)],
      ["+14155553002", iso(NY(11))],
    ]);
  });

  it("runs a window that crosses midnight, counting its small hours for the evening it started", async () => {
    const { org, agentId } = await orgWithNumbers();
    // 20:00–02:00 London is 15:00–21:00 New York in January: inside the recipients' quiet hours.
    const id = await startCampaign(org, {
      agent_id: agentId,
      timezone: "Europe/London",
      start_time: "20:00",
      end_time: "02:00",
      max_calls_per_day: 3,
      contacts: ["+12125553101", "+12125553102", "+12125553103", "+12125553104"].map((phone_number) => ({ phone_number })),
    });
    const london = (day: number, h: number, m = 0) => Date.UTC(2030, 0, 7 + day, h, m);
    expect((await contactsOf(org, id)).map((c) => c.scheduled_at)).toEqual(
      [london(0, 20), london(0, 22), london(1, 0), london(1, 20)].map(iso),
    );
    await runUntil(clock, org.orgId, id, london(2, 12));
    const calls = await callRows(org.orgId, id);
    expect(calls.map((c) => c.created_at)).toEqual([london(0, 20), london(0, 22), london(1, 0), london(1, 20)].map(iso));
    expect(calls.every((c) => c.status === "completed")).toBe(true);
    // The 00:00 Tuesday dial counts for Monday's campaign day.
    expect(await campaignSql(id, "SELECT day, dials FROM day_dials ORDER BY day")).toEqual([
      { day: "2030-01-07", dials: 3 },
      { day: "2030-01-08", dials: 1 },
    ]);
    expect((await batch(org, id)).status).toBe("completed");
  });

  it("never places more than max_calls_per_day a day: the rest go to the next working days", async () => {
    const { org, agentId } = await orgWithNumbers();
    const phones = ["+12125553201", "+12125553202", "+12125553203", "+12125553204", "+12125553205"];
    const id = await startCampaign(org, { agent_id: agentId, max_calls_per_day: 2, contacts: phones.map((phone_number) => ({ phone_number })) });
    await runUntil(clock, org.orgId, id, NY(12, 0, 3));
    const calls = await callRows(org.orgId, id);
    // 10:00–10:05 shared by the day's two contacts: 10:00 and 10:02:30; Tuesday, then Wednesday.
    expect(calls.map((c) => [c.to_number, c.created_at])).toEqual([
      [phones[0], iso(NY(10))],
      [phones[1], iso(NY(10, 2) + 30_000)],
      [phones[2], iso(NY(10, 0, 1))],
      [phones[3], iso(NY(10, 2, 1) + 30_000)],
      [phones[4], iso(NY(10, 0, 2))],
    ]);
    expect((await batch(org, id)).status).toBe("completed");
  });

  it("re-checks the daily cap at dial time: a redial that used today's last call pushes a slot to the next day", async () => {
    const { org, agentId } = await orgWithNumbers();
    const id = await startCampaign(org, {
      agent_id: agentId,
      start_time: "10:00",
      end_time: "11:00",
      max_calls_per_day: 2,
      retry_failed: true,
      max_retry_attempts: 1,
      contacts: [{ phone_number: "+12125550003" }, { phone_number: "+12125553301" }],
    });
    // Slots 10:00 (busy, redialled 15 min after it ends) and 10:30.
    await runUntil(clock, org.orgId, id, NY(12));
    let calls = await callRows(org.orgId, id);
    expect(calls.map((c) => [c.to_number, c.created_at])).toEqual([
      ["+12125550003", iso(NY(10))],
      ["+12125550003", iso(NY(10, 15) + 1000)],
    ]);
    const deferred = (await auditOf(org, id)).filter((a) => a.decision === "deferred");
    expect(deferred).toHaveLength(1);
    expect(deferred[0]).toMatchObject({ phone_number: "+12125553301", at: iso(NY(10, 30)) });
    expect(deferred[0].reason).toBe(`daily_cap: 2 calls already placed today; next try ${iso(NY(10, 0, 1))}`);

    await runUntil(clock, org.orgId, id, NY(12, 0, 1));
    calls = await callRows(org.orgId, id);
    expect(calls.map((c) => [c.to_number, c.created_at]).at(-1)).toEqual(["+12125553301", iso(NY(10, 0, 1))]);
    expect(calls).toHaveLength(3);
    expect((await batch(org, id)).status).toBe("completed");
  });
});

describe("do-not-call at dial time", () => {
  it("skips a contact whose number joined the DNC list after scheduling", async () => {
    const { org, agentId } = await orgWithNumbers();
    const phones = ["+12125554001", "+12125554002", "+12125554003"];
    const id = await startCampaign(org, { agent_id: agentId, contacts: phones.map((phone_number) => ({ phone_number })) });
    expect((await org.post("/dnc", { phone_number: phones[1] })).status).toBe(201);

    await runUntil(clock, org.orgId, id, NY(11));
    const contacts = await contactsOf(org, id);
    expect(contacts.map((c) => [c.phone_number, c.status, c.skip_reason, c.attempts_count])).toEqual([
      [phones[0], "completed", null, 1],
      [phones[1], "skipped", "dnc", 0],
      [phones[2], "completed", null, 1],
    ]);
    const calls = await callRows(org.orgId, id);
    expect(calls.map((c) => c.to_number)).toEqual([phones[0], phones[2]]);
    const skipped = (await auditOf(org, id)).filter((a) => a.decision === "skipped");
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toMatchObject({ phone_number: phones[1], call_id: null, at: iso(NY(10) + 100_000) });
    expect(skipped[0].reason).toMatch(/^dnc/);
    const event = (await eventsOf(org.orgId)).find((e) => e.type === "batch.contact.updated" && e.data.phone_number === phones[1]);
    expect(event?.data).toMatchObject({ status: "skipped", previous_status: "scheduled", skip_reason: "dnc" });
    const row = await batch(org, id);
    expect(row).toMatchObject({ status: "completed" });
    expect(row.stats).toMatchObject({ completed: 2, skipped: 1, called: 2 });
  });

  it("skips opted-out org contacts picked by contact_ids, whether they opted out before or after scheduling", async () => {
    const { org, agentId } = await orgWithNumbers();
    const made = [];
    for (const [i, phone_number] of ["+12125554101", "+12125554102", "+12125554103"].entries()) {
      const res = await org.post("/contacts", { phone_number, first_name: `Org${i}` });
      expect(res.status).toBe(201);
      made.push(res.body.data);
    }
    expect((await org.patch(`/contacts/${made[1].id}`, { opted_out: true })).body.data.opted_out).toBe(true);
    const id = await startCampaign(org, { agent_id: agentId, contact_ids: made.map((c) => c.id) });
    expect((await org.patch(`/contacts/${made[2].id}`, { opted_out: true })).body.data.opted_out).toBe(true);

    await runUntil(clock, org.orgId, id, NY(11));
    const contacts = await contactsOf(org, id);
    expect(contacts.map((c) => [c.contact_id, c.status, c.skip_reason])).toEqual([
      [made[0].id, "completed", null],
      [made[1].id, "skipped", "dnc"],
      [made[2].id, "skipped", "dnc"],
    ]);
    const calls = await callRows(org.orgId, id);
    expect(calls.map((c) => c.to_number)).toEqual(["+12125554101"]);
    expect(JSON.parse(calls[0].variables)).toMatchObject({ first_name: "Org0" });
    expect(JSON.parse(calls[0].metadata)).toMatchObject({ contact_id: made[0].id });
    const skipped = (await auditOf(org, id)).filter((a) => a.decision === "skipped");
    expect(skipped.map((a) => a.contact_id)).toEqual([made[1].id, made[2].id]);
    expect(skipped.every((a) => a.reason.startsWith("dnc"))).toBe(true);
    expect((await batch(org, id)).status).toBe("completed");
  });
});

describe("opted-out contacts without a DNC entry", () => {
  it("still skips a contact whose opt-out outlived its DNC entry", async () => {
    const { org, agentId } = await orgWithNumbers();
    const contact = (await org.post("/contacts", { phone_number: "+12125554201" })).body.data;
    await org.patch(`/contacts/${contact.id}`, { opted_out: true });
    const [entry] = (await org.get("/dnc")).body.data;
    expect(entry.phone_number).toBe("+12125554201");
    // Removing the number from the list keeps the person's own opt-out (see DELETE /dnc/{id}).
    expect((await org.delete(`/dnc/${entry.id}`)).status).toBe(200);
    const id = await startCampaign(org, { agent_id: agentId, contact_ids: [contact.id] });
    await runUntil(clock, org.orgId, id, NY(11));
    expect((await contactsOf(org, id))[0]).toMatchObject({ status: "skipped", skip_reason: "dnc" });
    expect((await auditOf(org, id)).map((a) => [a.decision, a.reason])).toEqual([["skipped", "dnc: the contact opted out"]]);
    expect(await callRows(org.orgId, id)).toEqual([]);
  });
});

describe("no dial outside the guard, whatever the campaign window says", () => {
  it("keeps an all-day campaign inside 08:00–21:00 for every recipient", async () => {
    const { org, agentId } = await orgWithNumbers();
    clock.set(NY(6)); // 06:00 New York, 03:00 Los Angeles
    const id = await startCampaign(org, {
      agent_id: agentId,
      start_time: null,
      end_time: null,
      working_days: [1, 2, 3, 4, 5, 6, 7],
      contacts: ["+12125555001", "+14155555002", "+13055555003"].map((phone_number) => ({ phone_number })),
    });
    await runUntil(clock, org.orgId, id, NY(6, 0, 2));
    const calls = await callRows(org.orgId, id);
    expect(calls).toHaveLength(3);
    const localHour = (ms: number, zone: string) => Number(new Intl.DateTimeFormat("en-US", { timeZone: zone, hour: "numeric", hourCycle: "h23" }).format(ms));
    for (const c of calls) {
      const zone = c.to_number.startsWith("+1415") ? "America/Los_Angeles" : "America/New_York";
      const hour = localHour(Date.parse(c.created_at), zone);
      expect(hour).toBeGreaterThanOrEqual(8);
      expect(hour).toBeLessThan(21);
    }
    expect(Math.min(...calls.map((c) => Date.parse(c.created_at)))).toBeGreaterThanOrEqual(NY(8));
    expect(calls.find((c) => c.to_number.startsWith("+1415"))!.created_at >= iso(NY(11))).toBe(true);
  });
});
