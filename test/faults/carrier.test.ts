import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { fakeRequests } from "../helpers/api";
import { eventually } from "../helpers/eventually";
import { manualClockPerTest } from "../helpers/clock";
import { callRecord, carrierOrg, deliver, type TwilioCallback } from "../call-carriers/helpers";
import { tickCampaign } from "../batch-calls/helpers";
import { auditOf, callRows, contactsOf, MINUTE, NY, runUntil, startCampaign } from "../batch-calls/engine-helpers";
import { MONDAY_10AM_NY } from "../batch-calls/helpers";

/**
 * The carrier failing while a campaign places its calls: Twilio answering 503, or not answering
 * at all within the client's timeout. Each refused dial is one failed attempt the campaign redials
 * on its retry policy; the contact is never dialled a second time for the same attempt.
 */

const clock = manualClockPerTest(MONDAY_10AM_NY);

/** A New York number of its own (the fake Twilio answers any ending but 0002–0005 with a person). */
const uniqueNewYorkNumber = () => `+1212${200 + Math.floor(Math.random() * 800)}${String(6000 + Math.floor(Math.random() * 3000))}`;

/** The call creations the fake Twilio received for `to`, refused or not. */
async function dialsTo(to: string) {
  const requests = await fakeRequests("twilio", to.slice(1));
  return requests.filter((r) => r.method === "POST" && r.path.endsWith("/Calls.json") && new URLSearchParams(r.body).get("To") === to);
}

async function failNextDials(to: string, options: { status?: number; delay_ms?: number; count?: number; create?: boolean }) {
  const res = await fetch(new URL("/__fakes/twilio/fail-calls", env.FAKES_CONTROL_URL), { method: "POST", body: JSON.stringify({ to, ...options }) });
  expect(res.status).toBe(204);
}

describe("carrier failures while a campaign dials", () => {
  it("a 503 and a timeout from Twilio each fail one attempt with carrier_error, redialled once after the retry delay", async () => {
    const { org, agentId } = await carrierOrg("twilio");
    const refused = uniqueNewYorkNumber();
    const silent = uniqueNewYorkNumber();
    await failNextDials(refused, { status: 503 });
    // Past the carrier client's 10 s timeout: the fetch is aborted, nothing is created.
    await failNextDials(silent, { status: 503, delay_ms: 11_000 });
    const id = await startCampaign(org, {
      agent_id: agentId,
      timezone: "America/New_York",
      start_time: "10:00",
      // Two contacts: slots at 10:00 and 10:10; a failed attempt is redialled 5 minutes on.
      end_time: "10:20",
      retry_failed: true,
      max_retry_attempts: 2,
      retry_policy: { failed: { delay_minutes: 5 } },
      contacts: [{ phone_number: refused }, { phone_number: silent }],
    });

    // 10:00: the first contact's dial is refused with a 503.
    await runUntil(clock, org.orgId, id, NY(10, 1));
    const [first] = await callRows(org.orgId, id);
    expect(first).toMatchObject({ to_number: refused, status: "failed", end_reason: "carrier_error" });
    const [waiting] = (await contactsOf(org, id)).filter((c) => c.phone_number === refused);
    expect(waiting).toMatchObject({ status: "retry_scheduled", attempts_count: 1 });
    expect(waiting.attempts[0]).toMatchObject({ outcome: "failed", end_reason: "carrier_error" });
    expect(await dialsTo(refused)).toHaveLength(1);
    // The campaign's alarm running again and again before the retry delay dials nobody.
    for (let i = 0; i < 3; i++) await tickCampaign(id);
    expect(await callRows(org.orgId, id)).toHaveLength(1);

    // 10:05 the first is redialled; 10:10 the second contact's dial times out at the carrier;
    // 10:15 that one is redialled.
    await runUntil(clock, org.orgId, id, NY(10, 16), { maxSteps: 100 });
    for (let i = 0; i < 3; i++) await tickCampaign(id);
    const calls = await callRows(org.orgId, id);
    const byNumber = (to: string) => calls.filter((c) => c.to_number === to);
    for (const to of [refused, silent]) {
      const [failed, redial] = byNumber(to);
      expect(byNumber(to)).toHaveLength(2);
      expect(failed).toMatchObject({ status: "failed", end_reason: "carrier_error" });
      expect(Date.parse(redial.created_at) - Date.parse(failed.ended_at!)).toBe(5 * MINUTE);
      // One refused creation and one real one per number, whatever the alarms did meanwhile. (The
      // fake logs the timed-out request only once it answers, a second after our client gave up.)
      const dials = await eventually(() => dialsTo(to), (d) => d.length >= 2, `two dials to ${to}`);
      expect(dials).toHaveLength(2);
    }
    const contacts = await contactsOf(org, id);
    for (const contact of contacts) expect(contact.attempts_count).toBe(2);
    const dialled = (await auditOf(org, id)).filter((a) => a.decision === "dialled");
    expect(dialled).toHaveLength(4);
  }, 60_000);

  it("a dial that timed out although Twilio placed the call is adopted when the call's callbacks come: one call, never dialled twice", async () => {
    const { org, agentId } = await carrierOrg("twilio");
    const to = uniqueNewYorkNumber();
    // Twilio creates the call but answers only after our client's 10 s timeout.
    await failNextDials(to, { create: true, delay_ms: 11_000 });
    const created = await org.post("/calls", { agent_id: agentId, phone_number: to });
    expect(created.status).toBe(201);
    const callId = created.body.data.id as string;
    const stub = env.CALL.get(env.CALL.idFromName(callId));
    await runDurableObjectAlarm(stub); // the dial, which times out
    expect(await callRecord(callId)).toMatchObject({ status: "queued", provider_call_id: null, end_reason: null });

    // Twilio's callbacks name our call (its per-call status URL): the call is adopted.
    const callbacks = await eventually(
      async () => (await fetch(new URL(`/__fakes/twilio/callbacks?to=${encodeURIComponent(to)}`, env.FAKES_CONTROL_URL)).then((r) => r.json())) as TwilioCallback[],
      (c) => Array.isArray(c) && c.some((cb) => cb.kind === "status"),
      "the created call's callbacks",
    );
    const statuses = callbacks.filter((c) => c.kind === "status");
    const sid = new URLSearchParams(statuses[0].body).get("CallSid");
    for (const callback of statuses.slice(0, 2)) expect((await deliver(callback)).status).toBe(204); // initiated, ringing
    expect(await callRecord(callId)).toMatchObject({ status: "ringing", provider_call_id: sid });

    // Past the 15 s the call had to be confirmed in, it is not taken as failed, and nobody redials it.
    clock.advance(16_000);
    await runDurableObjectAlarm(stub);
    expect(await callRecord(callId)).toMatchObject({ status: "ringing", end_reason: null });
    const events = await env.DB.prepare("SELECT type FROM events WHERE org_id = ? AND json_extract(data, '$.call_id') = ? ORDER BY created_at, rowid").bind(org.orgId, callId).all<{ type: string }>();
    expect(events.results.map((e) => e.type)).toEqual(["call.started", "call.ringing"]);
    expect(await eventually(() => dialsTo(to), (d) => d.length === 1, "the one dial on record")).toHaveLength(1);
  }, 60_000);

  it("a call Twilio reports only after the confirmation window, for a call already taken as failed, is hung up at once and changes nothing", async () => {
    const { org, agentId } = await carrierOrg("twilio");
    const to = uniqueNewYorkNumber();
    await failNextDials(to, { create: true, delay_ms: 11_000 });
    const created = await org.post("/calls", { agent_id: agentId, phone_number: to });
    const callId = created.body.data.id as string;
    const stub = env.CALL.get(env.CALL.idFromName(callId));
    await runDurableObjectAlarm(stub); // the dial, which times out
    // Twilio's callbacks are held back past the 15 s window: the call is taken as never placed.
    clock.advance(16_000);
    await runDurableObjectAlarm(stub);
    expect(await callRecord(callId)).toMatchObject({ status: "failed", end_reason: "carrier_error", provider_call_id: null });

    const callbacks = await eventually(
      async () => (await fetch(new URL(`/__fakes/twilio/callbacks?to=${encodeURIComponent(to)}`, env.FAKES_CONTROL_URL)).then((r) => r.json())) as TwilioCallback[],
      (c) => Array.isArray(c) && c.filter((cb) => cb.kind === "status").length >= 2,
      "the created call's callbacks",
    );
    const statuses = callbacks.filter((c) => c.kind === "status");
    const sid = new URLSearchParams(statuses[0].body).get("CallSid")!;
    const hangups = async () =>
      (await fakeRequests("twilio", sid)).filter((r) => r.method === "POST" && r.path.endsWith(`/Calls/${sid}.json`) && new URLSearchParams(r.body).get("Status") === "completed");
    expect(await hangups()).toHaveLength(0);
    // initiated, then ringing (and the first again, as Twilio may repeat it): one hang-up.
    for (const callback of [statuses[0], statuses[1], statuses[0]]) expect((await deliver(callback)).status).toBe(204);
    expect(await eventually(hangups, (h) => h.length === 1, "the stray call's hang-up")).toHaveLength(1);
    expect(await hangups()).toHaveLength(1);
    // The call stays as it ended: failed, with no carrier id and no event after call.failed.
    expect(await callRecord(callId)).toMatchObject({ status: "failed", end_reason: "carrier_error", provider_call_id: null });
    const events = await env.DB.prepare("SELECT type FROM events WHERE org_id = ? AND json_extract(data, '$.call_id') = ? ORDER BY created_at, rowid").bind(org.orgId, callId).all<{ type: string }>();
    expect(events.results.map((e) => e.type)).toEqual(["call.failed"]);
  }, 60_000);

  it("a dial that timed out and that Twilio never placed ends carrier_error once the confirmation window has passed", async () => {
    const { org, agentId } = await carrierOrg("twilio");
    const to = uniqueNewYorkNumber();
    await failNextDials(to, { status: 503, delay_ms: 11_000 });
    const created = await org.post("/calls", { agent_id: agentId, phone_number: to });
    const callId = created.body.data.id as string;
    const stub = env.CALL.get(env.CALL.idFromName(callId));
    await runDurableObjectAlarm(stub);
    expect(await callRecord(callId)).toMatchObject({ status: "queued", provider_call_id: null });
    clock.advance(14_000);
    await runDurableObjectAlarm(stub);
    expect(await callRecord(callId)).toMatchObject({ status: "queued" });
    clock.advance(2_000);
    await runDurableObjectAlarm(stub);
    expect(await callRecord(callId)).toMatchObject({ status: "failed", end_reason: "carrier_error" });
  }, 60_000);
});
