import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { manualClockPerTest } from "../helpers/clock";
import { ContactStore } from "../../src/campaigns/contact-store";
import { newId } from "../../src/lib/ids";
import { adminFetch } from "../helpers/api";
import { limiterStub, tick } from "../calls/helpers";
import { campaignStub, MONDAY_10AM_NY, tickCampaign } from "./helpers";
import { auditOf,
  batch,
  callRows,
  campaignSql,
  contactsOf,
  dialGaps,
  eventsOf,
  iso,
  maxOverlap,
  NY,
  orgWithNumbers,
  runUntil,
  SHORT_WINDOW,
  startCampaign,
} from "./engine-helpers";

const clock = manualClockPerTest(MONDAY_10AM_NY);

/** Distinct New York numbers that the simulator answers (any ending but 0002–0005). */
const answering = (n: number, block = 1) => Array.from({ length: n }, (_, i) => `+1212555${block}${String(i + 1).padStart(3, "0")}`);

describe("campaign completion", () => {
  it("runs mixed outcomes to completed with stats, cost, webhooks and call metadata", async () => {
    const { org, agentId } = await orgWithNumbers();
    const ends = ["0001", "0002", "0003", "0004", "0005"];
    const id = await startCampaign(org, { agent_id: agentId, contacts: ends.map((end, i) => ({ phone_number: `+1212555${end}`, first_name: `Name${i}` })) });

    await runUntil(clock, org.orgId, id, NY(12));

    const row = await batch(org, id);
    expect(row.status).toBe("completed");
    expect(row.completed_at).toBe(iso(NY(10, 4) + 500)); // the 0005 call fails 500 ms after its dial at 10:04
    expect(row.stats).toMatchObject({
      total: 5,
      pending: 0,
      scheduled: 0,
      retry_scheduled: 0,
      dialing: 0,
      in_progress: 0,
      completed: 1,
      no_answer: 1,
      busy: 1,
      voicemail: 1,
      failed: 1,
      skipped: 0,
      called: 5,
      attempts: 5,
      cost_credits: 1, // 30 s answered by a person + 30 s by a machine, 1 credit a minute
      estimated_finish_at: null,
    });

    const contacts = await contactsOf(org, id);
    expect(contacts.map((c) => [c.phone_number, c.status, c.attempts_count])).toEqual([
      ["+12125550001", "completed", 1],
      ["+12125550002", "no_answer", 1],
      ["+12125550003", "busy", 1],
      ["+12125550004", "voicemail", 1],
      ["+12125550005", "failed", 1],
    ]);
    // Slots 1 minute apart over the 10:00–10:05 window, each dialled on time.
    expect(contacts.map((c) => c.attempts[0].dialed_at)).toEqual([0, 1, 2, 3, 4].map((m) => iso(NY(10, m))));

    const calls = await callRows(org.orgId, id);
    expect(calls).toHaveLength(5);
    expect(calls.reduce((sum, c) => sum + (c.cost_credits ?? 0), 0)).toBe(1);
    for (const [i, call] of calls.entries()) {
      const contact = contacts.find((c) => c.phone_number === call.to_number)!;
      expect(contact.call_id).toBe(call.id);
      expect(JSON.parse(call.metadata)).toEqual({ batch_call_id: id, campaign_id: id, contact_id: contact.contact_id });
      expect(JSON.parse(call.variables)).toMatchObject({ first_name: `Name${i}`, phone_number: call.to_number });
    }

    const events = (await eventsOf(org.orgId)).filter((e) => e.type.startsWith("batch."));
    const statusChanges = events.filter((e) => e.type === "batch.status.changed").map((e) => [e.data.previous_status, e.data.status]);
    expect(statusChanges).toEqual([
      ["draft", "scheduled"],
      ["scheduled", "active"],
      ["active", "completed"],
    ]);
    const completed = events.filter((e) => e.type === "batch.completed");
    expect(completed).toHaveLength(1);
    expect(completed[0].data).toMatchObject({ batch_call_id: id, status: "completed", stats: { completed: 1, voicemail: 1, cost_credits: 1 } });
    expect(events.at(-1)!.type).toBe("batch.completed");
    const contactEvents = (phone: string) => events.filter((e) => e.type === "batch.contact.updated" && e.data.phone_number === phone).map((e) => e.data.status);
    expect(contactEvents("+12125550001")).toEqual(["dialing", "in_progress", "completed"]);
    expect(contactEvents("+12125550002")).toEqual(["dialing", "no_answer"]);
    expect(contactEvents("+12125550003")).toEqual(["dialing", "busy"]);
    expect(contactEvents("+12125550004")).toEqual(["dialing", "in_progress", "voicemail"]);
    expect(contactEvents("+12125550005")).toEqual(["dialing", "failed"]);

    const audit = await auditOf(org, id);
    expect(audit.map((a) => a.decision)).toEqual(["dialled", "dialled", "dialled", "dialled", "dialled"]);
    expect(audit.map((a) => a.call_id)).toEqual(contacts.map((c) => c.call_id));
  });
});

describe("concurrency", () => {
  it("never has more than max_concurrent_calls live, and reaches it", async () => {
    // Three caller IDs, so pacing alone would let one alarm dial three at once.
    const { org, agentId, numbers } = await orgWithNumbers(2);
    // 12 slots 5 s apart in a 1-minute window, calls of 32 s: 3 concurrent calls are the bottleneck.
    const id = await startCampaign(org, {
      agent_id: agentId,
      phone_number_ids: numbers.map((n) => n.id),
      phone_rotation_strategy: "round_robin",
      end_time: "10:01",
      max_concurrent_calls: 3,
      contacts: answering(12).map((phone_number) => ({ phone_number })),
    });
    let most = 0;
    await runUntil(clock, org.orgId, id, NY(12, 0, 3), {
      onStep: (live) => {
        expect(live.length).toBeLessThanOrEqual(3);
        most = Math.max(most, live.length);
      },
    });
    expect(most).toBe(3);
    const calls = await callRows(org.orgId, id);
    expect(calls).toHaveLength(12);
    expect(calls.every((c) => c.status === "completed")).toBe(true);
    expect(maxOverlap(calls)).toBe(3);
    expect((await batch(org, id)).status).toBe("completed");
    // Those the window closed on went to Tuesday's window and were dialled there.
    const days = calls.map((c) => c.created_at.slice(0, 10));
    expect(new Set(days)).toEqual(new Set(["2030-01-07", "2030-01-08"]));
    for (const c of calls) {
      const t = Date.parse(c.created_at);
      const dayStart = Date.parse(`${c.created_at.slice(0, 10)}T15:00:00Z`);
      expect(t).toBeGreaterThanOrEqual(dayStart);
      expect(t).toBeLessThan(dayStart + 60_000);
    }
    const deferred = await auditOf(org, id).then((a) => a.filter((d) => d.decision === "deferred"));
    expect(deferred.length).toBe(12 - days.filter((d) => d === "2030-01-07").length);
    expect(deferred.every((d) => d.reason.startsWith("outside_window"))).toBe(true);
  });

  it("keeps to the organization's limit when it is below the campaign's", async () => {
    const { org, agentId, numbers } = await orgWithNumbers(2);
    expect((await adminFetch(`/organizations/${org.orgId}`, { method: "PATCH", body: { max_concurrent_calls: 2 } })).status).toBe(200);
    const id = await startCampaign(org, {
      agent_id: agentId,
      phone_number_ids: numbers.map((n) => n.id),
      phone_rotation_strategy: "round_robin",
      end_time: "10:01",
      max_concurrent_calls: 10,
      contacts: answering(6).map((phone_number) => ({ phone_number })),
    });
    let most = 0;
    await runUntil(clock, org.orgId, id, NY(12, 0, 3), {
      onStep: (live) => {
        expect(live.length).toBeLessThanOrEqual(2);
        most = Math.max(most, live.length);
      },
    });
    expect(most).toBe(2);
    const calls = await callRows(org.orgId, id);
    expect(calls).toHaveLength(6);
    expect(calls.every((c) => c.status === "completed")).toBe(true);
    expect(maxOverlap(calls)).toBe(2);
    // The campaign held back itself: no call ever had to queue for an org slot.
    expect(await limiterStub(org.orgId).callSlotStats()).toMatchObject({ granted: 0, waiting: 0, maxGranted: 2 });
    expect((await batch(org, id)).status).toBe("completed");
  });
});

describe("pacing and caller-ID rotation", () => {
  /** Schedules, pauses at once, lets every slot pass and resumes: all contacts are due together. */
  async function allDueAtOnce(org: Awaited<ReturnType<typeof orgWithNumbers>>["org"], body: Record<string, unknown>) {
    const created = await org.post("/batch-calls", { name: "Burst", timezone: "America/New_York", start_time: "10:00", end_time: "10:05", ...body });
    const id = created.body.data.id as string;
    expect((await org.post(`/batch-calls/${id}/schedule`, {})).status).toBe(200);
    expect((await org.post(`/batch-calls/${id}/pause`)).body.data.status).toBe("paused");
    clock.set(NY(10, 4, 0) + 30_000);
    expect((await org.post(`/batch-calls/${id}/resume`)).body.data.status).toBe("active");
    return id;
  }

  it("dials one caller ID at most once per CAMPAIGN_DIAL_INTERVAL_MS", async () => {
    const { org, agentId, from } = await orgWithNumbers();
    const id = await allDueAtOnce(org, { agent_id: agentId, contacts: answering(5).map((phone_number) => ({ phone_number })) });
    await runUntil(clock, org.orgId, id, NY(11));
    const calls = await callRows(org.orgId, id);
    expect(calls.map((c) => c.created_at)).toEqual([0, 1, 2, 3, 4].map((s) => iso(NY(10, 4) + 30_000 + s * 1000)));
    expect(calls.every((c) => c.from_number === from)).toBe(true);
    expect(dialGaps(calls).get(from)).toEqual([1000, 1000, 1000, 1000]);
    // In slot order.
    expect(calls.map((c) => c.to_number)).toEqual(answering(5));
    expect((await batch(org, id)).status).toBe("completed");
  });

  it("round_robin cycles the pool in order, each number paced on its own", async () => {
    const { org, agentId, numbers } = await orgWithNumbers(2);
    const id = await allDueAtOnce(org, {
      agent_id: agentId,
      phone_number_ids: numbers.map((n) => n.id),
      phone_rotation_strategy: "round_robin",
      contacts: answering(7).map((phone_number) => ({ phone_number })),
    });
    await runUntil(clock, org.orgId, id, NY(11));
    const contacts = await contactsOf(org, id);
    expect(contacts.map((c) => c.attempts[0].from_number)).toEqual([0, 1, 2, 0, 1, 2, 0].map((i) => numbers[i].phoneNumber));
    const start = NY(10, 4) + 30_000;
    expect(contacts.map((c) => c.attempts[0].dialed_at)).toEqual([0, 0, 0, 1, 1, 1, 2].map((s) => iso(start + s * 1000)));
    for (const gaps of dialGaps(await callRows(org.orgId, id)).values()) for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(1000);
  });

  it("sequential keeps to one number until its daily cap, then moves on", async () => {
    const { org, agentId, numbers } = await orgWithNumbers(1);
    const [a, b] = numbers;
    // Slots a minute apart: a is always free, so only its cap moves the campaign to b; the
    // fifth contact finds both capped and waits for Tuesday's window.
    const id = await startCampaign(org, {
      agent_id: agentId,
      phone_number_ids: [a.id, b.id],
      phone_rotation_strategy: "sequential",
      max_calls_per_number_per_day: 2,
      contacts: answering(5).map((phone_number) => ({ phone_number })),
    });
    await runUntil(clock, org.orgId, id, NY(12, 0, 1));
    const contacts = await contactsOf(org, id);
    expect(contacts.map((c) => c.attempts[0].from_number)).toEqual([a, a, b, b, b].map((n) => n.phoneNumber));
    expect(contacts.map((c) => c.attempts[0].dialed_at)).toEqual([NY(10), NY(10, 1), NY(10, 2), NY(10, 3), NY(10, 0, 1)].map(iso));
    expect((await batch(org, id)).status).toBe("completed");
  });

  it("sequential does not hop to the next number while its number only waits out the pacing interval", async () => {
    const { org, agentId, numbers } = await orgWithNumbers(1);
    const [a, b] = numbers;
    const id = await allDueAtOnce(org, {
      agent_id: agentId,
      phone_number_ids: [a.id, b.id],
      phone_rotation_strategy: "sequential",
      max_calls_per_number_per_day: 2,
      contacts: answering(4).map((phone_number) => ({ phone_number })),
    });
    await runUntil(clock, org.orgId, id, NY(11));
    const contacts = await contactsOf(org, id);
    const start = NY(10, 4) + 30_000;
    expect(contacts.map((c) => [c.attempts[0].from_number, c.attempts[0].dialed_at])).toEqual([
      [a.phoneNumber, iso(start)],
      [a.phoneNumber, iso(start + 1000)],
      [b.phoneNumber, iso(start + 1000)],
      [b.phoneNumber, iso(start + 2000)],
    ]);
  });

  it("random only uses the campaign's pool", async () => {
    const { org, agentId, from, numbers } = await orgWithNumbers(2);
    const pool = numbers.slice(1);
    const id = await startCampaign(org, {
      agent_id: agentId,
      phone_number_ids: pool.map((n) => n.id),
      phone_rotation_strategy: "random",
      contacts: answering(8).map((phone_number) => ({ phone_number })),
    });
    await runUntil(clock, org.orgId, id, NY(11));
    const calls = await callRows(org.orgId, id);
    expect(calls).toHaveLength(8);
    for (const c of calls) expect(pool.map((n) => n.phoneNumber)).toContain(c.from_number);
    expect(calls.some((c) => c.from_number === from)).toBe(false);
  });
});

describe("exactly one dial per attempt", () => {
  it("dials each contact once however often the alarm runs at the same instant", async () => {
    // More caller IDs than contacts, so pacing cannot be what stops a second dial.
    const { org, agentId, numbers } = await orgWithNumbers(4);
    const created = await org.post("/batch-calls", {
      name: "Retried alarms",
      ...SHORT_WINDOW,
      agent_id: agentId,
      phone_number_ids: numbers.map((n) => n.id),
      phone_rotation_strategy: "round_robin",
      contacts: answering(3).map((phone_number) => ({ phone_number })),
    });
    const id = created.body.data.id as string;
    await org.post(`/batch-calls/${id}/schedule`, {});
    // Paused through every slot, so on resume all three are due at the same instant.
    await org.post(`/batch-calls/${id}/pause`);
    clock.set(NY(10, 4) + 30_000);
    await org.post(`/batch-calls/${id}/resume`);
    // Overlapping runs first (each reads the due contacts before the others dial them), as an
    // alarm retry racing a slow first run would; then plain repeats.
    await runInDurableObject(campaignStub(id), (instance) => Promise.all([instance.alarm(), instance.alarm(), instance.alarm()]));
    for (let i = 0; i < 3; i++) await tickCampaign(id);
    await runInDurableObject(campaignStub(id), (instance) => Promise.all([instance.alarm(), instance.alarm()]));
    const calls = await callRows(org.orgId, id);
    expect(calls.map((c) => c.to_number).sort()).toEqual(answering(3));
    expect(new Set(calls.map((c) => c.created_at))).toEqual(new Set([iso(NY(10, 4) + 30_000)]));

    await runUntil(clock, org.orgId, id, NY(11));
    const contacts = await contactsOf(org, id);
    expect(contacts.map((c) => [c.status, c.attempts_count])).toEqual([
      ["completed", 1],
      ["completed", 1],
      ["completed", 1],
    ]);
    expect(await callRows(org.orgId, id)).toHaveLength(3);
    expect((await auditOf(org, id)).filter((a) => a.decision === "dialled")).toHaveLength(3);
    expect((await batch(org, id)).stats).toMatchObject({ attempts: 3, called: 3, completed: 3 });
  });

  it("places an attempt recorded before a crash exactly once, with the recorded call id", async () => {
    const { org, agentId, numberId, from } = await orgWithNumbers();
    const id = await startCampaign(org, { agent_id: agentId, contacts: [{ phone_number: "+12125556001" }] });
    const callId = newId(clock.now());
    // What the dispatcher writes before asking the engine for the call; then the object "dies".
    await runInDurableObject(campaignStub(id), (_instance, state) => {
      const store = new ContactStore(state.storage.sql);
      const [contact] = store.due(clock.now(), 1);
      store.startAttempt({ contact, callId, numberId, fromNumber: from, day: "2030-01-07", nowMs: clock.now(), checkAt: clock.now() + 3_600_000 });
    });
    expect(await callRows(org.orgId, id)).toHaveLength(0);

    await tickCampaign(id); // the restarted object's alarm
    let calls = await callRows(org.orgId, id);
    expect(calls.map((c) => c.id)).toEqual([callId]);

    // Lost again between the engine accepting the call and the object noting it: retried with the same id.
    await campaignSql(id, "UPDATE attempts SET placed = 0");
    clock.advance(5_000);
    await tickCampaign(id);
    await tickCampaign(id);
    expect(await campaignSql(id, "SELECT call_id, placed FROM attempts")).toEqual([{ call_id: callId, placed: 1 }]);

    await runUntil(clock, org.orgId, id, NY(11));
    calls = await callRows(org.orgId, id);
    expect(calls.map((c) => [c.id, c.status])).toEqual([[callId, "completed"]]);
    const started = (await eventsOf(org.orgId)).filter((e) => e.type === "call.started" && e.data.call_id === callId);
    expect(started).toHaveLength(1); // one dial at the carrier
    const [contact] = await contactsOf(org, id);
    expect(contact).toMatchObject({ status: "completed", attempts_count: 1, call_id: callId });
    expect((await batch(org, id)).stats).toMatchObject({ attempts: 1, called: 1, completed: 1 });
  });

  it("a placement whose confirmation was lost after a real dial is not dialled again", async () => {
    const { org, agentId } = await orgWithNumbers();
    const id = await startCampaign(org, { agent_id: agentId, contacts: [{ phone_number: "+12125556002" }] });
    await runUntil(clock, org.orgId, id, NY(10) + 5_000); // dialled and answered
    const [call] = await callRows(org.orgId, id);
    expect(call.status).toBe("in_progress");
    await campaignSql(id, "UPDATE attempts SET placed = 0");
    for (let i = 0; i < 3; i++) {
      await tickCampaign(id);
      clock.advance(5_000);
    }
    await runUntil(clock, org.orgId, id, NY(11));
    const calls = await callRows(org.orgId, id);
    expect(calls.map((c) => [c.id, c.status, c.created_at])).toEqual([[call.id, "completed", iso(NY(10))]]);
    expect((await eventsOf(org.orgId)).filter((e) => e.type === "call.started")).toHaveLength(1);
    expect((await contactsOf(org, id))[0]).toMatchObject({ status: "completed", attempts_count: 1 });
  });

  it("settles a call whose final report never arrived from the call's own state once it is overdue", async () => {
    const { org, agentId } = await orgWithNumbers();
    const id = await startCampaign(org, { agent_id: agentId, contacts: [{ phone_number: "+12125556003" }] });
    await runUntil(clock, org.orgId, id, NY(10) + 5_000);
    const [call] = await callRows(org.orgId, id);
    expect(call.status).toBe("in_progress");

    // Hide the attempt while the call ends, so its report finds nothing to update (a lost report),
    // then put it back exactly as it was.
    const [attempt] = await campaignSql(id, "SELECT * FROM attempts");
    await campaignSql(id, "DELETE FROM attempts");
    clock.set(NY(10) + 32_000);
    await tick(call.id);
    expect((await callRows(org.orgId, id))[0].status).toBe("completed");
    await runInDurableObject(campaignStub(id), (_instance, state) => {
      const columns = Object.keys(attempt);
      state.storage.sql.exec(`INSERT INTO attempts (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`, ...Object.values(attempt));
      // The insert trigger counted the attempt a second time.
      state.storage.sql.exec("UPDATE counters SET value = value - 1 WHERE name IN ('attempts', 'called')");
    });
    expect((await contactsOf(org, id))[0].status).toBe("in_progress");
    expect((await batch(org, id)).status).toBe("active");

    // Ring timeout 20 s + max duration 60 s + 5 min slack after the dial.
    const checkAt = NY(10) + 80_000 + 300_000;
    expect(attempt.check_at).toBe(checkAt);
    await runUntil(clock, org.orgId, id, checkAt - 1);
    expect((await contactsOf(org, id))[0].status).toBe("in_progress");
    await runUntil(clock, org.orgId, id, NY(11));
    const [contact] = await contactsOf(org, id);
    expect(contact).toMatchObject({ status: "completed", call_status: "completed", attempts_count: 1 });
    expect(contact.attempts[0]).toMatchObject({ outcome: "completed", end_reason: "hangup_by_contact", duration_seconds: 30, cost_credits: 0.5, ended_at: iso(NY(10) + 32_000) });
    const row = await batch(org, id);
    expect(row).toMatchObject({ status: "completed", completed_at: iso(checkAt) });
    expect(row.stats).toMatchObject({ completed: 1, attempts: 1, called: 1, cost_credits: 0.5 });
  });
});

describe("pause, resume and cancel mid-run", () => {
  it("pausing stops new dials while live calls finish and are recorded; resume carries on", async () => {
    const { org, agentId } = await orgWithNumbers();
    const id = await startCampaign(org, { agent_id: agentId, contacts: answering(5).map((phone_number) => ({ phone_number })) });
    await runUntil(clock, org.orgId, id, NY(10) + 10_000);
    expect((await callRows(org.orgId, id)).map((c) => c.status)).toEqual(["in_progress"]);

    const paused = await org.post(`/batch-calls/${id}/pause`);
    expect(paused.body.data).toMatchObject({ status: "paused", paused_at: iso(NY(10) + 10_000) });
    await runUntil(clock, org.orgId, id, NY(10, 2) + 30_000);
    // A stray run of the alarm (a retry, a restart) while paused dials nothing either.
    await tickCampaign(id);
    await runInDurableObject(campaignStub(id), (instance) => instance.alarm());
    // Slots at 10:01 and 10:02 passed: no new call, and the live one ended and was recorded.
    expect((await callRows(org.orgId, id)).map((c) => c.status)).toEqual(["completed"]);
    let row = await batch(org, id);
    expect(row.status).toBe("paused");
    expect(row.stats).toMatchObject({ completed: 1, scheduled: 4, dialing: 0, in_progress: 0, attempts: 1 });

    expect((await org.post(`/batch-calls/${id}/resume`)).body.data.status).toBe("active");
    await runUntil(clock, org.orgId, id, NY(11));
    const calls = await callRows(org.orgId, id);
    // The two overdue contacts at once (paced 1 s apart), the rest on their slots.
    expect(calls.map((c) => c.created_at)).toEqual([NY(10), NY(10, 2) + 30_000, NY(10, 2) + 31_000, NY(10, 3), NY(10, 4)].map(iso));
    row = await batch(org, id);
    expect(row.status).toBe("completed");
    expect(row.stats).toMatchObject({ completed: 5, attempts: 5 });
    const changes = (await eventsOf(org.orgId)).filter((e) => e.type === "batch.status.changed").map((e) => `${e.data.previous_status}>${e.data.status}`);
    expect(changes).toEqual(["draft>scheduled", "scheduled>active", "active>paused", "paused>active", "active>completed"]);
  });

  it("cancel skips waiting contacts, lets live calls finish without redials, and never completes", async () => {
    const { org, agentId } = await orgWithNumbers();
    // Slots 15 s apart: 10:00 answers (ends 10:00:32), 10:00:15 rings out (ends 10:00:35), two more wait.
    const id = await startCampaign(org, {
      agent_id: agentId,
      end_time: "10:01",
      retry_failed: true,
      max_retry_attempts: 2,
      contacts: ["+12125557001", "+12125550002", "+12125557003", "+12125557004"].map((phone_number) => ({ phone_number })),
    });
    await runUntil(clock, org.orgId, id, NY(10) + 20_000);
    expect((await callRows(org.orgId, id)).map((c) => c.status)).toEqual(["in_progress", "ringing"]);

    const cancelled = await org.post(`/batch-calls/${id}/cancel`);
    expect(cancelled.body.data).toMatchObject({ status: "cancelled", cancelled_at: iso(NY(10) + 20_000) });
    await runUntil(clock, org.orgId, id, NY(12, 0, 2));

    const contacts = await contactsOf(org, id);
    expect(contacts.map((c) => [c.status, c.skip_reason, c.attempts_count])).toEqual([
      ["completed", null, 1],
      ["no_answer", null, 1],
      ["skipped", "cancelled", 0],
      ["skipped", "cancelled", 0],
    ]);
    const calls = await callRows(org.orgId, id);
    expect(calls.map((c) => [c.to_number, c.status, c.end_reason])).toEqual([
      ["+12125557001", "completed", "hangup_by_contact"],
      ["+12125550002", "failed", "no_answer"],
    ]);
    const row = await batch(org, id);
    expect(row.status).toBe("cancelled");
    expect(row.stats).toMatchObject({ completed: 1, no_answer: 1, skipped: 2, retry_scheduled: 0, attempts: 2 });
    const events = await eventsOf(org.orgId);
    expect(events.filter((e) => e.type === "batch.completed")).toHaveLength(0);
    expect(events.filter((e) => e.type === "batch.status.changed").map((e) => e.data.status)).toEqual(["scheduled", "active", "cancelled"]);
    const skipped = (await auditOf(org, id)).filter((a) => a.decision === "skipped");
    expect(skipped).toHaveLength(1);
    expect(skipped[0].reason).toMatch(/^cancelled: campaign cancelled, 2 waiting contacts skipped/);
    expect(await campaignSql(id, "SELECT count(*) AS n FROM contacts WHERE due_at IS NOT NULL")).toEqual([{ n: 0 }]);
  });
});

describe("rescheduling and the agent", () => {
  it("PATCH while paused reslots unfinished contacts inside the new window and leaves finished ones alone", async () => {
    const { org, agentId } = await orgWithNumbers();
    const id = await startCampaign(org, { agent_id: agentId, start_time: "09:00", end_time: "17:00", contacts: answering(4).map((phone_number) => ({ phone_number })) });
    let contacts = await contactsOf(org, id);
    expect(contacts.map((c) => c.scheduled_at)).toEqual([NY(10), NY(11, 45), NY(13, 30), NY(15, 15)].map(iso));
    await runUntil(clock, org.orgId, id, NY(10, 1));
    expect((await org.patch(`/batch-calls/${id}`, { end_time: "12:00" })).status).toBe(409); // active: pause first
    expect((await org.post(`/batch-calls/${id}/pause`)).status).toBe(200);
    const before = contacts[0];

    const patched = await org.patch(`/batch-calls/${id}`, { end_time: "12:00" });
    expect(patched.status).toBe(200);
    expect(patched.body.data).toMatchObject({ status: "paused", end_time: "12:00" });
    contacts = await contactsOf(org, id);
    expect(contacts[0]).toMatchObject({ status: "completed", scheduled_at: before.scheduled_at, attempts_count: 1, call_id: contacts[0].attempts[0].call_id });
    const slots = contacts.slice(1).map((c) => Date.parse(c.scheduled_at));
    expect(contacts.slice(1).every((c) => c.status === "scheduled")).toBe(true);
    // [10:01, 12:00) split in three.
    const span = NY(12) - NY(10, 1);
    expect(slots).toEqual([0, 1, 2].map((i) => NY(10, 1) + Math.floor((i * span) / 3)));

    expect((await org.post(`/batch-calls/${id}/resume`)).body.data.status).toBe("active");
    await runUntil(clock, org.orgId, id, NY(18));
    const calls = await callRows(org.orgId, id);
    expect(calls.map((c) => Date.parse(c.created_at))).toEqual([NY(10), ...slots]);
    expect(calls.every((c) => Date.parse(c.created_at) < NY(12))).toBe(true);
    expect((await batch(org, id)).status).toBe("completed");
  });

  it("pauses with a reason when the agent is deactivated mid-run, and resumes once it is active again", async () => {
    const { org, agentId } = await orgWithNumbers();
    const id = await startCampaign(org, { agent_id: agentId, contacts: answering(3).map((phone_number) => ({ phone_number })) });
    await runUntil(clock, org.orgId, id, NY(10) + 10_000);
    expect((await org.patch(`/agents/${agentId}`, { status: "draft" })).status).toBe(200);

    await runUntil(clock, org.orgId, id, NY(10, 3));
    const row = await batch(org, id);
    expect(row.status).toBe("paused");
    expect(row.status_reason).toBe(`Agent ${agentId} is draft; activate it and resume`);
    expect(row.paused_at).toBe(iso(NY(10) + 100_000)); // the second slot
    // The call already live finished; nothing else was dialled.
    expect((await callRows(org.orgId, id)).map((c) => c.status)).toEqual(["completed"]);
    const change = (await eventsOf(org.orgId)).filter((e) => e.type === "batch.status.changed").at(-1)!;
    expect(change.data).toMatchObject({ previous_status: "active", status: "paused", reason: row.status_reason });

    expect((await org.patch(`/agents/${agentId}`, { status: "active" })).status).toBe(200);
    const resumed = await org.post(`/batch-calls/${id}/resume`);
    expect(resumed.body.data).toMatchObject({ status: "active", status_reason: null });
    await runUntil(clock, org.orgId, id, NY(11));
    expect((await callRows(org.orgId, id)).map((c) => c.created_at)).toEqual([NY(10), NY(10, 3), NY(10) + 200_000].map(iso));
    expect((await batch(org, id)).status).toBe("completed");
  });
});
