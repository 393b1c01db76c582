import { exports } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { manualClock, useClock } from "../../src/lib/clock";
import { TelnyxMediaClient } from "../fakes/telnyx-media-client";
import { TwilioMediaClient } from "../fakes/media-client";
import { manualClockPerTest } from "../helpers/clock";
import { adminFetch, fakeRequests, newOrg } from "../helpers/api";
import { MONDAY_10AM_NY } from "../batch-calls/helpers";
import { NY, contactsOf, runUntil, startCampaign } from "../batch-calls/engine-helpers";
import { callRecord, callView, deliver, fields, freshNumber, placeCall, telnyxWebhooks, twilioCallbacks, twilioInbound, type TwilioCallback } from "../call-carriers/helpers";
import { VOICES, answeredCall, callStub, connectMedia, control, eventually, recorded, transcript, transcriptOf, uniqueTag } from "./helpers";

/**
 * The built-in call actions the LLM is offered on every call: end_call, transfer_call, send_dtmf
 * and opt_out, carried out through the call's carrier (the Twilio and Telnyx fakes record the
 * commands with their real request shapes) or the simulator.
 */

const chats = async (marker: string) => (await recorded("openai", { contains: marker })).filter((r) => r.path === "/v1/chat/completions").map((r) => JSON.parse(r.body));

async function toolCallsOf(org: { get(path: string): Promise<{ status: number; body: any }> }, callId: string): Promise<any[]> {
  const res = await org.get(`/calls/${callId}/tool-calls`);
  expect(res.status).toBe(200);
  return res.body.data.tool_calls;
}

/** The caller says `line` once the greeting has been heard. */
async function sayAfterGreeting(stream: { audioMs: number; silence(ms: number): Promise<void>; speak(ms: number): Promise<void> }, callId: string) {
  await transcriptOf(callId, 1);
  await stream.silence(stream.audioMs);
  await stream.speak(1200);
  await stream.silence(700);
}

describe("call actions on simulated calls", () => {
  const clock = manualClockPerTest(MONDAY_10AM_NY);

  it("end_call: the goodbye is heard in full, then the call ends with hangup_by_agent", async () => {
    const { org, callId, marker } = await answeredCall(clock);
    await control("/__fakes/deepgram/script", { tag: callId, lines: ["That is all thank you"], fallback: "" });
    await control("/__fakes/openai/script", { match: marker, replies: [{ content: "You are welcome, goodbye!", tool_calls: [{ name: "end_call", arguments: {} }] }] });
    const twilio = await connectMedia(callId, "manual");
    // The caller hears the greeting (played as it arrives, until its turn is complete), then speaks.
    await eventually(
      () => {
        twilio.play();
        return transcript(callId);
      },
      (t) => t.length === 1,
      "the greeting to be heard",
    );
    await sayAfterGreeting(twilio, callId);

    // The goodbye is sent, but the caller has not heard it yet: the call waits.
    const greetingMs = twilio.playedMs;
    await twilio.until(() => twilio.queuedMs >= "You are welcome, goodbye!".replace(/ /g, "").length * 60 || undefined, "the goodbye's audio");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await org.get(`/calls/${callId}`)).body.data.status).toBe("in_progress");

    twilio.play();
    expect(twilio.playedMs).toBeGreaterThan(greetingMs);
    const ended = await eventually(() => org.get(`/calls/${callId}`), (r) => r.body.data.status === "completed", "the call to end");
    expect(ended.body.data.end_reason).toBe("hangup_by_agent");
    const turns = await transcriptOf(callId, 3);
    expect(turns[2]).toMatchObject({ speaker: "agent", text: "You are welcome, goodbye!", interrupted: false });
    await twilio.waitForClose();
    const [logged] = await toolCallsOf(org, callId);
    expect(logged).toMatchObject({ name: "end_call", kind: "action", tool_id: null, request: null, error: null });
    // Ended at once: the model was not asked to go on.
    const [only, ...more] = await chats(marker);
    expect(more).toEqual([]);
    // An agent without transfer destinations is not offered transfer_call.
    expect(only.tools.map((t: any) => t.function.name)).toEqual(["end_call", "send_dtmf", "opt_out"]);
  });

  it("opt_out: lists the number (source opt_out), flags the contact, confirms and hangs up; later calls and campaign dials to it are refused", async () => {
    const { org, callId, agentId, marker } = await answeredCall(clock);
    const contact = await org.post("/contacts", { phone_number: "+14155550001", first_name: "Ana" });
    expect(contact.status).toBe(201);
    await control("/__fakes/deepgram/script", { tag: callId, lines: ["Please stop calling me"], fallback: "" });
    await control("/__fakes/openai/script", { match: marker, replies: [{ tool_calls: [{ name: "opt_out", arguments: {} }] }] });
    const twilio = await connectMedia(callId);
    await sayAfterGreeting(twilio, callId);

    const ended = await eventually(() => org.get(`/calls/${callId}`), (r) => r.body.data.status === "completed", "the call to end");
    expect(ended.body.data.end_reason).toBe("hangup_by_agent");
    const turns = await transcriptOf(callId, 3);
    expect(turns[2]).toMatchObject({ speaker: "agent", text: "Understood. We will not call you again. Goodbye.", interrupted: false });

    const check = (await org.get("/dnc/check?phone_number=%2B14155550001")).body.data;
    expect(check).toMatchObject({ listed: true, entry: { phone_number: "+14155550001", source: "opt_out" } });
    expect(check.entry.reason).toBe(`Contact opted out during call ${callId}`);
    expect((await org.get(`/contacts/${contact.body.data.id}`)).body.data).toMatchObject({ opted_out: true, opted_out_at: expect.any(String) });
    const [logged] = await toolCallsOf(org, callId);
    expect(logged).toMatchObject({ name: "opt_out", kind: "action", response: "The number is now on the do-not-call list.", error: null });

    // Nobody calls them again: not through the API…
    const again = await org.post("/calls", { agent_id: agentId, phone_number: "+14155550001" });
    expect(again.status).toBe(422);
    expect(again.body.error.code).toBe("number_on_dnc_list");
    // …nor through a campaign, which dials the others.
    // 09:00-17:00 New York: the California number is due once quiet hours end there (11:00 New York).
    const window = { timezone: "America/New_York", start_time: "09:00", end_time: "17:00" };
    const id = await startCampaign(org, { agent_id: agentId, ...window, contacts: [{ phone_number: "+14155550001" }, { phone_number: "+12125554001" }] });
    await runUntil(clock, org.orgId, id, NY(18));
    const contacts = await contactsOf(org, id);
    expect(contacts.map((c) => [c.phone_number, c.status, c.skip_reason])).toEqual([
      ["+14155550001", "skipped", "dnc"],
      ["+12125554001", "completed", null],
    ]);
  });

  it("answers a transfer outside the agent's destinations or bad DTMF to the model, then transfers a simulated call (end_reason transferred)", async () => {
    const { org, callId, marker } = await answeredCall(clock, { transfer_destinations: [{ destination: "+1 415 555 2671", description: "Sales" }] });
    await control("/__fakes/deepgram/script", { tag: callId, lines: ["Put me through to sales"], fallback: "" });
    await control("/__fakes/openai/script", {
      match: marker,
      replies: [
        {
          tool_calls: [
            { name: "transfer_call", arguments: { destination: "+19005550123" } },
            { name: "send_dtmf", arguments: { digits: "1; drop table" } },
            { name: "no_such_tool", arguments: {} },
          ],
        },
        { content: "Connecting you to sales now.", tool_calls: [{ name: "transfer_call", arguments: { destination: "+1 (415) 555-2671" } }] },
      ],
    });
    const twilio = await connectMedia(callId);
    await sayAfterGreeting(twilio, callId);
    const ended = await eventually(() => org.get(`/calls/${callId}`), (r) => r.body.data.status === "completed", "the call to end");
    expect(ended.body.data.end_reason).toBe("transferred");
    const requests = await chats(marker);
    expect(requests.map((r) => r.messages.map((m: any) => m.role))).toEqual([
      ["system", "assistant", "user"],
      ["system", "assistant", "user", "assistant", "tool", "tool", "tool"],
    ]);
    expect(requests[0].tools.find((t: any) => t.function.name === "transfer_call").function.parameters.properties.destination.enum).toEqual(["+14155552671"]);
    const second = requests[1];
    expect(second.messages.filter((m: any) => m.role === "tool").map((m: any) => JSON.parse(m.content).error)).toEqual([
      "destination must be one of: +14155552671",
      "digits must be 1 to 64 of 0-9, *, #, w (half-second pause) and W (one-second pause)",
      'No tool is named "no_such_tool"',
    ]);
    const logged = await toolCallsOf(org, callId);
    expect(logged.map((l) => [l.name, l.kind, l.error === null, l.response])).toEqual([
      ["transfer_call", "action", false, null],
      ["send_dtmf", "action", false, null],
      ["no_such_tool", "http", false, null],
      ["transfer_call", "action", true, "Transferred to +14155552671."],
    ]);
    const turns = await transcriptOf(callId, 3);
    expect(turns[2]).toMatchObject({ text: "Connecting you to sales now.", interrupted: false });
  });
});

// ---- Real carriers ----

const TEN_YEARS = 10 * 365 * 24 * 3600 * 1000;
const BASE = "https://truedy.test";

describe("call actions through Twilio and Telnyx", () => {
  // Carrier webhooks are signed at real time: the clock starts now, stands still, and alarms sit ten years out.
  let clock = manualClock(Date.now());
  let restore = () => {};
  beforeEach(() => {
    clock = manualClock(Date.now());
    restore = useClock({ now: clock.now, wallTime: (ms) => ms + TEN_YEARS });
  });
  afterEach(() => restore());

  /** An org whose voice agent owns a number bought through the API from `provider`, both directions. */
  async function carrierAgent(provider: "twilio" | "telnyx") {
    const org = await newOrg();
    await adminFetch(`/organizations/${org.orgId}`, { method: "PATCH", body: { rate_limit_per_minute: 100_000 } });
    const marker = uniqueTag("act");
    const agent = await org.post("/agents", {
      name: "Actions",
      voice_id: VOICES.elevenlabs,
      system_prompt: `You are Maya (${marker}).`,
      greeting: "Hello, this is Maya.",
      transfer_destinations: [{ destination: "+14155552671" }, { destination: "sip:support@pbx.example.com", description: "Support desk" }],
      join_timeout: 20,
      max_duration: 600,
      stt: { provider: "deepgram", model: "nova-3", endpointing_ms: 300 },
    });
    if (agent.status !== 201) throw new Error(`agent: ${agent.status} ${JSON.stringify(agent.body)}`);
    const number = await org.post("/telephony/numbers/purchase", { provider, phone_number: freshNumber() });
    if (number.status !== 201) throw new Error(`number: ${number.status} ${JSON.stringify(number.body)}`);
    for (const direction of ["outbound", "inbound"]) {
      const res = await org.post("/telephony/numbers/assign", { number_id: number.body.data.id, agent_id: agent.body.data.id, assignment_type: direction });
      if (res.status !== 200) throw new Error(`assign: ${res.status} ${JSON.stringify(res.body)}`);
    }
    return { org, agentId: agent.body.data.id as string, marker, ourNumber: number.body.data.phone_number as string };
  }

  const pickTwilio = (callbacks: TwilioCallback[], status: string) => {
    const found = callbacks.find((c) => (c.kind === "status" ? fields(c).CallStatus === status : c.kind === status));
    if (!found) throw new Error(`no ${status} callback`);
    return found;
  };

  /** An outbound Twilio call answered by a person, its TwiML fetched, the stream connected to the call's object. */
  async function answeredTwilioCall() {
    const setup = await carrierAgent("twilio");
    const callId = await placeCall(setup.org, setup.agentId, "+14155550001");
    const sid = (await callRecord(callId))?.provider_call_id as string;
    const callbacks = await twilioCallbacks(sid);
    for (const step of ["initiated", "ringing", "twiml", "in-progress"]) expect((await deliver(pickTwilio(callbacks, step))).status).toBeLessThan(300);
    expect((await callView(setup.org, callId)).status).toBe("in_progress");
    return { ...setup, callId, sid };
  }

  /** An outbound Telnyx call answered by a person, its stream opened on the URL we gave Telnyx. */
  async function answeredTelnyxCall() {
    const setup = await carrierAgent("telnyx");
    const callId = await placeCall(setup.org, setup.agentId, "+14155550001");
    const callControlId = (await callRecord(callId))?.provider_call_id as string;
    const webhooks = await telnyxWebhooks(callControlId);
    for (const type of ["call.initiated", "call.answered", "streaming.started"]) {
      const webhook = webhooks.find((w) => w.event_type === type)!;
      expect((await deliver(webhook)).status).toBe(200);
    }
    const telnyx = await TelnyxMediaClient.connect({ url: `wss://truedy.test/telephony/telnyx/media/${callId}`.replace("wss:", "https:"), fetcher: exports.default, callControlId });
    telnyx.begin();
    return { ...setup, callId, callControlId, telnyx };
  }

  it("transfer_call on a Twilio call redirects the live call to <Dial> and ends it transferred", async () => {
    const call = await answeredTwilioCall();
    await control("/__fakes/deepgram/script", { tag: call.callId, lines: ["I need a human please"], fallback: "" });
    await control("/__fakes/openai/script", { match: call.marker, replies: [{ content: "Transferring you now.", tool_calls: [{ name: "transfer_call", arguments: { destination: "+14155552671" } }] }] });
    const twilio = await connectMedia(call.callId);
    await sayAfterGreeting(twilio, call.callId);

    const ended = await eventually(() => callView(call.org, call.callId), (v) => v.status === "completed", "the call to end");
    expect(ended.end_reason).toBe("transferred");
    const updates = (await recorded("twilio", { contains: `/Calls/${call.sid}.json` })).filter((r) => r.method === "POST");
    expect(updates).toHaveLength(1);
    const form = new URLSearchParams(updates[0].body);
    expect([...form.keys()]).toEqual(["Twiml"]);
    expect(form.get("Twiml")).toBe(`<?xml version="1.0" encoding="UTF-8"?><Response><Dial callerId="${call.ourNumber}"><Number>+14155552671</Number></Dial></Response>`);
    // The transfer came after "Transferring you now." had played, and that turn is complete.
    expect(updates[0].at).toBeGreaterThan(twilio.received.filter((r) => r.message.event === "media").at(-1)!.at);
    expect((await transcriptOf(call.callId, 3))[2]).toMatchObject({ text: "Transferring you now.", interrupted: false });
    await twilio.waitForClose();
    // Twilio's own end of the call (once the new party hangs up) changes nothing.
    const completed = (await twilioCallbacks(call.sid)).filter((c) => c.kind === "status" && fields(c).CallStatus === "completed").at(-1)!;
    expect((await deliver(completed)).status).toBe(204);
    expect(await callView(call.org, call.callId)).toMatchObject({ status: "completed", end_reason: "transferred" });
  });

  it("transfer_call on a Telnyx call sends actions/transfer and ends it transferred", async () => {
    const call = await answeredTelnyxCall();
    await control("/__fakes/deepgram/script", { tag: call.callId, lines: ["Can I talk to support"], fallback: "" });
    await control("/__fakes/openai/script", {
      match: call.marker,
      replies: [{ content: "Sure, one moment.", tool_calls: [{ name: "transfer_call", arguments: { destination: "sip:support@pbx.example.com" } }] }],
    });
    await sayAfterGreeting(call.telnyx, call.callId);
    const ended = await eventually(() => callView(call.org, call.callId), (v) => v.status === "completed", "the call to end");
    expect(ended.end_reason).toBe("transferred");
    const [transfer, ...more] = await fakeRequests("telnyx", `/v2/calls/${encodeURIComponent(call.callControlId)}/actions/transfer`);
    expect(more).toEqual([]);
    expect(JSON.parse(transfer.body)).toEqual({ to: "sip:support@pbx.example.com", from: call.ourNumber });
    expect(transfer.headers.authorization).toBe("Bearer KEYplatformtelnyx");
    const [logged] = await toolCallsOf(call.org, call.callId);
    expect(logged).toMatchObject({ name: "transfer_call", arguments: { destination: "sip:support@pbx.example.com" }, response: "Transferred to sip:support@pbx.example.com." });
  });

  it("send_dtmf on a Telnyx call sends actions/send_dtmf and the conversation goes on", async () => {
    const call = await answeredTelnyxCall();
    await control("/__fakes/deepgram/script", { tag: call.callId, lines: ["Press one then two for me"], fallback: "" });
    await control("/__fakes/openai/script", { match: call.marker, replies: [{ tool_calls: [{ name: "send_dtmf", arguments: { digits: "1W2" } }] }, { content: "I pressed one, then two." }] });
    await sayAfterGreeting(call.telnyx, call.callId);
    const turns = await transcriptOf(call.callId, 3);
    expect(turns[2]).toMatchObject({ speaker: "agent", text: "I pressed one, then two." });
    const [dtmf] = await fakeRequests("telnyx", `/v2/calls/${encodeURIComponent(call.callControlId)}/actions/send_dtmf`);
    expect(JSON.parse(dtmf.body)).toEqual({ digits: "1W2", duration_millis: 250 });
    const [, second] = await chats(call.marker);
    expect(JSON.parse(second.messages.at(-1).content)).toEqual({ ok: true, result: "Sent 1W2." });
    expect((await callView(call.org, call.callId)).status).toBe("in_progress");
  });

  it("send_dtmf on an inbound Twilio call plays the digits from new TwiML, and the new stream resumes the conversation", async () => {
    const setup = await carrierAgent("twilio");
    const { sid, callbacks } = await twilioInbound("+14155557123", setup.ourNumber);
    const answer = await deliver(callbacks.find((c) => c.kind === "voice")!);
    const callId = /<Parameter name="callId" value="([^"]+)"\/>/.exec(answer.text)![1];
    await control("/__fakes/deepgram/script", { tag: callId, lines: ["Dial extension twelve", "Are you still there"], fallback: "" });
    await control("/__fakes/openai/script", { match: setup.marker, replies: [{ content: "Dialling it.", tool_calls: [{ name: "send_dtmf", arguments: { digits: "1W2#" } }] }, { content: "Yes, I am here." }] });
    const first = await connectMedia(callId);
    await sayAfterGreeting(first, callId);

    const update = await eventually(
      async () => (await fakeRequests("twilio", `/Calls/${sid}.json`)).filter((r) => r.method === "POST"),
      (r) => r.length === 1,
      "the call update",
    );
    const urls = { media: `wss://truedy.test/telephony/twilio/media/${callId}`, reconnect: `${BASE}/telephony/twilio/reconnect/${callId}` };
    expect(new URLSearchParams(update[0].body).get("Twiml")).toBe(
      `<?xml version="1.0" encoding="UTF-8"?><Response><Play digits="1ww2#"/><Connect><Stream url="${urls.media}"><Parameter name="callId" value="${callId}"/></Stream></Connect><Redirect method="POST">${urls.reconnect}</Redirect></Response>`,
    );
    // Twilio ends the old stream: for an inbound call a stop is normally the caller hanging up, not here.
    first.stop();
    first.close();
    await eventually(async () => (await callStub(callId).mediaSession())?.stoppedAt, (at) => typeof at === "number", "the stop to be handled");
    expect((await callView(setup.org, callId)).status).toBe("in_progress");

    // The new stream picks the conversation up (10 s into the call): no second greeting, the caller's next words answered.
    clock.advance(10_000);
    const second = await TwilioMediaClient.connect({ url: "https://truedy.test/media", fetcher: callStub(callId), customParameters: { callId } });
    second.begin();
    await second.speak(1000);
    await second.silence(700);
    const turns = await transcriptOf(callId, 5);
    expect(turns.map((t) => [t.speaker, t.text])).toEqual([
      ["agent", "Hello, this is Maya."],
      ["contact", "Dial extension twelve"],
      ["agent", "Dialling it."],
      ["contact", "Are you still there"],
      ["agent", "Yes, I am here."],
    ]);
    expect(second.marks).toHaveLength(1);
    // The model's next request has the DTMF round in its history.
    const last = (await chats(setup.marker)).at(-1);
    const dtmfCall = last.messages.find((m: any) => m.tool_calls?.[0]?.function.name === "send_dtmf");
    expect(dtmfCall).toBeDefined();
    expect(last.messages[last.messages.indexOf(dtmfCall) + 1]).toMatchObject({ role: "tool", content: JSON.stringify({ ok: true, result: "Sent 1W2#." }) });
    second.stop();
    second.close();
  });
});
