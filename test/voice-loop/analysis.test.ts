import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { runCallAnalysis } from "../../src/calls/analysis";
import { openDatabase } from "../../src/db/tenant";
import { currentClock } from "../../src/lib/clock";
import { createContact, createFolder } from "../contacts/helpers";
import { adminFetch, newOrg } from "../helpers/api";
import { manualClockPerTest } from "../helpers/clock";
import { connectMedia, control, greetingThenCallerSpeaks, eventData, eventually, recorded, tick, transcriptOf, uniqueTag, VOICES } from "./helpers";

// Far in the future so real alarms never fire on their own: tests move this clock and run the alarm.
const START = Date.UTC(2030, 1, 12, 15, 0, 0);
const clock = manualClockPerTest(START);

const SCHEMA = {
  type: "object",
  properties: {
    wants_appointment: { type: "boolean" },
    preferred_day: { enum: ["monday", "tuesday", "wednesday", "thursday", "friday", null] },
  },
  required: ["wants_appointment", "preferred_day"],
  additionalProperties: false,
};

const GOOD = { summary: "Ana asked to book an appointment; Maya asked which day suits her.", success: true, sentiment: "positive", data: { wants_appointment: true, preferred_day: "tuesday" } };

type Org = Awaited<ReturnType<typeof newOrg>>;

/**
 * An org with an agent (success criteria carrying `marker`, which only the analysis request's
 * instructions contain), a simulator number, a contact with the called number, and an answered
 * call to that contact (its id in the call's metadata, as campaign calls carry it).
 */
async function callToContact(agent: Record<string, unknown> = {}) {
  const org = await newOrg();
  await adminFetch(`/organizations/${org.orgId}`, { method: "PATCH", body: { rate_limit_per_minute: 100_000 } });
  const marker = uniqueTag("an");
  const created = await org.post("/agents", {
    name: "Bookings",
    voice_id: VOICES.elevenlabs,
    system_prompt: "You are Maya, a receptionist. The caller is {{first_name}}.",
    greeting: "Hello {{first_name}}, this is Maya.",
    stt: { provider: "deepgram", model: "nova-3", endpointing_ms: 300 },
    success_criteria: `The contact wants an appointment (${marker}).`,
    analysis_schema: SCHEMA,
    ...agent,
  });
  if (created.status !== 201) throw new Error(`agent: ${created.status} ${JSON.stringify(created.body)}`);
  const agentId = created.body.data.id as string;
  const from = `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`;
  const at = new Date().toISOString();
  await env.DB.prepare(
    `INSERT INTO phone_numbers (id, org_id, phone_number, provider, ownership, capabilities, outbound_agent_id, created_at, updated_at)
     VALUES (?, ?, ?, 'simulator', 'managed', '["voice"]', ?, ?, ?)`,
  )
    .bind(crypto.randomUUID(), org.orgId, from, agentId, at, at)
    .run();
  const contact = await createContact(org, { folder_id: await createFolder(org), phone_number: "+14155550001", first_name: "Ana" });
  const placed = await org.post("/calls", { agent_id: agentId, phone_number: "+14155550001", variables: { first_name: "Ana" }, metadata: { contact_id: contact.id } });
  if (placed.status !== 201) throw new Error(`call: ${placed.status} ${JSON.stringify(placed.body)}`);
  const callId = placed.body.data.id as string;
  await tick(callId); // dial
  clock.advance(2000);
  await tick(callId); // ringing, answered
  return { org, callId, marker, contactId: contact.id as string };
}

/** Greeting, the contact's line, the agent's answer (the fake LLM's echo), then an API hang-up. */
async function converse(org: Org, callId: string) {
  await control("/__fakes/deepgram/script", { tag: callId, lines: ["I would like to book an appointment"] });
  const twilio = await connectMedia(callId);
  await greetingThenCallerSpeaks(twilio, callId);
  clock.advance(9000);
  expect((await org.post(`/calls/${callId}/hangup`)).status).toBe(200);
  await tick(callId);
  await twilio.waitForClose();
}

const callOf = async (org: Org, callId: string) => (await org.get(`/calls/${callId}`)).body.data;
const contactOf = async (org: Org, id: string) => (await org.get(`/contacts/${id}`)).body.data;
/** The queue consumer runs the analysis on its own; this waits for it to be done. */
const analysed = (org: Org, callId: string) => eventually(() => callOf(org, callId), (c) => c.analysis !== null && c.analysis.status !== "pending", "the analysis", 15_000);
const analysisRequests = async (marker: string) => (await recorded("openai", { contains: marker })).filter((r) => r.path === "/v1/chat/completions");

describe("post-call analysis", () => {
  it("stores summary, success, sentiment and schema data, sends call.analyzed and refines the contact's last_call_outcome", async () => {
    const { org, callId, marker, contactId } = await callToContact();
    await control("/__fakes/openai/script", { match: marker, replies: [{ content: JSON.stringify(GOOD) }] });
    await converse(org, callId);
    // At the end the contact is `contacted`; the analysis makes it `interested` (success: true).
    const view = await analysed(org, callId);
    expect(view.analysis).toEqual({ status: "completed", ...GOOD, error: null, errors: [], skip_reason: null, analyzed_at: expect.any(String) });
    expect(view.summary).toBe(GOOD.summary);

    // One request: non-streaming, JSON mode, the criteria and the schema in the instructions, the transcript after.
    const requests = await analysisRequests(marker);
    expect(requests).toHaveLength(1);
    const body = JSON.parse(requests[0].body);
    expect(body).toMatchObject({ model: "gpt-4o-mini", stream: false, temperature: 0, response_format: { type: "json_object" } });
    expect(body.messages).toHaveLength(2);
    expect(body.messages[0].content).toContain(`The contact wants an appointment (${marker}).`);
    expect(body.messages[0].content).toContain(JSON.stringify(SCHEMA));
    expect(body.messages[1].content).toMatch(/^Transcript \(seconds from the answer\):\n\[0\.0s\] Agent: Hello Ana, this is Maya\.\n\[[\d.]+s\] Contact: I would like to book an appointment\n\[[\d.]+s\] Agent: You said: I would like to book an appointment/);
    expect(body.messages[1].content).toMatch(/The call ended: end reason hangup_by_api, \d+ s long\.$/);

    const events = await eventData(org.orgId, callId, "call.analyzed");
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ call_id: callId, status: "completed", end_reason: "hangup_by_api", metadata: { contact_id: contactId }, analysis: view.analysis });
    expect(await contactOf(org, contactId)).toMatchObject({ last_call_outcome: "interested", call_count: 1, last_called_at: view.ended_at });
  });

  it("sends a wrong answer back once with what was wrong; a second wrong answer is stored as failed with its errors", async () => {
    const { org, callId, marker, contactId } = await callToContact();
    const wrongData = { summary: "Ana wants to book.", success: "maybe", sentiment: "happy", data: { wants_appointment: "yes", preferred_day: "someday" } };
    await control("/__fakes/openai/script", { match: marker, replies: [{ content: "Sure! The caller wanted an appointment." }, { content: JSON.stringify(wrongData) }] });
    await converse(org, callId);
    const view = await analysed(org, callId);
    expect(view.analysis).toMatchObject({ status: "failed", summary: null, success: null, sentiment: null, data: null, error: expect.stringContaining("twice") });
    expect(view.analysis.errors).toEqual(
      expect.arrayContaining([
        "success: must be true or false",
        'sentiment: must be one of "positive", "neutral", "negative"',
        expect.stringMatching(/^data\.wants_appointment: /),
        expect.stringMatching(/^data\.preferred_day: /),
      ]),
    );

    const requests = await analysisRequests(marker);
    expect(requests).toHaveLength(2);
    const retry = JSON.parse(requests[1].body).messages;
    expect(retry).toHaveLength(4);
    expect(retry[2]).toEqual({ role: "assistant", content: "Sure! The caller wanted an appointment." });
    expect(retry[3]).toEqual({
      role: "user",
      content: "That answer was rejected:\n- the answer is not valid JSON: send one JSON object and nothing else\nAnswer again with only the corrected JSON object.",
    });
    const [event] = await eventData(org.orgId, callId, "call.analyzed");
    expect(event.analysis).toEqual(view.analysis);
    // Without a verdict the contact stays `contacted`.
    expect(await contactOf(org, contactId)).toMatchObject({ last_call_outcome: "contacted", call_count: 1 });
  });

  it("stores the answer the model corrected on the retry", async () => {
    const { org, callId, marker, contactId } = await callToContact();
    const fixed = { ...GOOD, success: false, sentiment: "neutral", data: { wants_appointment: false, preferred_day: null } };
    await control("/__fakes/openai/script", { match: marker, replies: [{ content: JSON.stringify({ ...fixed, data: { wants_appointment: false } }) }, { content: JSON.stringify(fixed) }] });
    await converse(org, callId);
    const view = await analysed(org, callId);
    expect(view.analysis).toMatchObject({ status: "completed", summary: fixed.summary, success: false, sentiment: "neutral", data: fixed.data, errors: [] });
    const requests = await analysisRequests(marker);
    expect(requests).toHaveLength(2);
    expect(JSON.parse(requests[1].body).messages[3].content).toMatch(/^That answer was rejected:\n- data: .*preferred_day/);
    expect(await contactOf(org, contactId)).toMatchObject({ last_call_outcome: "not_interested" });
  });

  it("skips a call in which the contact never spoke: no request, no call.analyzed", async () => {
    const { org, callId, marker, contactId } = await callToContact();
    const twilio = await connectMedia(callId);
    await transcriptOf(callId, 1);
    clock.advance(3000);
    await org.post(`/calls/${callId}/hangup`);
    await tick(callId);
    await twilio.waitForClose();
    const view = await callOf(org, callId);
    expect(view).toMatchObject({ status: "completed", summary: null, analysis: { status: "skipped", skip_reason: "no_conversation", summary: null, analyzed_at: view.ended_at } });
    expect(await analysisRequests(marker)).toEqual([]);
    expect(await eventData(org.orgId, callId, "call.analyzed")).toEqual([]);
    expect(await contactOf(org, contactId)).toMatchObject({ last_call_outcome: "contacted", call_count: 1, last_called_at: view.ended_at });
  });

  it("retries a provider failure on a later attempt; a redelivered attempt does nothing", async () => {
    const { org, callId, marker } = await callToContact();
    await control("/__fakes/openai/script", { match: marker, replies: [{ status: 503 }] });
    await converse(org, callId);
    // Attempt 1 met a 503: the analysis stays pending, attempt 2 due 30 s later (queued with that delay).
    const row = () => env.DB.prepare("SELECT analysis_status, analysis_attempts, analysis_next_attempt_at FROM calls WHERE id = ?").bind(callId).first<Record<string, unknown>>();
    await eventually(row, (r) => r?.analysis_attempts === 1 && r.analysis_next_attempt_at === new Date(clock.now() + 30_000).toISOString(), "attempt 2 to be scheduled", 15_000);
    expect((await callOf(org, callId)).analysis).toMatchObject({ status: "pending" });
    expect(await analysisRequests(marker)).toHaveLength(1);

    await control("/__fakes/openai/script", { match: marker, replies: [{ content: JSON.stringify(GOOD) }] });
    clock.advance(30_000);
    await runCallAnalysis(openDatabase(env.DB), env, currentClock(), callId, 2);
    expect((await callOf(org, callId)).analysis).toMatchObject({ status: "completed", ...GOOD });
    expect(await row()).toMatchObject({ analysis_status: "completed", analysis_attempts: 2, analysis_next_attempt_at: null });
    // The queued attempt 2 (or attempt 1 again) arriving now finds the work done.
    await runCallAnalysis(openDatabase(env.DB), env, currentClock(), callId, 2);
    await runCallAnalysis(openDatabase(env.DB), env, currentClock(), callId, 1);
    expect(await analysisRequests(marker)).toHaveLength(2);
    expect(await eventData(org.orgId, callId, "call.analyzed")).toHaveLength(1);
  });
});
