import { env, exports } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { manualClock, useClock } from "../../src/lib/clock";
import { decodeClientState } from "../../src/carriers/telnyx";
import { FRAME_BYTES, TTS_MS_PER_CHAR, fromBase64, mulawToLinear } from "../fakes/audio";
import { TelnyxMediaClient } from "../fakes/telnyx-media-client";
import type { MarkMode } from "../fakes/media-client";
import { adminFetch, fakeRequests, newOrg } from "../helpers/api";
import { callRecord, callView, carrierOrg, deliver, freshNumber, placeCall, telnyxInbound, telnyxWebhooks, type TelnyxWebhook } from "../call-carriers/helpers";
import { VOICES, callStub, control, eventually, recorded, transcriptOf, uniqueTag } from "./helpers";

/**
 * The voice loop over Telnyx's media stream, end to end: calls placed and answered through the
 * Telnyx carrier (the fake Telnyx API and its Ed25519-signed webhooks), the stream opened on the
 * `stream_url` we gave Telnyx through the worker's real route, and a client speaking Telnyx's
 * frames (test/fakes/telnyx-media-client.ts).
 *
 * Clock: the carrier's webhooks are signed at real time, so the test clock starts at real time,
 * stands still (the greeting's transcript time is then 0) and sets alarms ten years out, so no
 * timer (inactivity, max duration) fires by itself.
 */
const TEN_YEARS = 10 * 365 * 24 * 3600 * 1000;
let clock = manualClock(Date.now());
let restore = () => {};
beforeEach(() => {
  clock = manualClock(Date.now());
  restore = useClock({ now: clock.now, wallTime: (ms) => ms + TEN_YEARS });
});
afterEach(() => {
  restore();
  vi.restoreAllMocks();
});

const BASE = "https://truedy.test";
const GREETING = "Hello, this is Maya from the clinic.";

function pick(webhooks: TelnyxWebhook[], eventType: string): TelnyxWebhook {
  const found = webhooks.find((w) => w.event_type === eventType);
  if (!found) throw new Error(`no ${eventType} among ${webhooks.map((w) => w.event_type).join(", ")}`);
  return found;
}

async function deliverAll(webhooks: TelnyxWebhook[], ...types: string[]) {
  for (const type of types) expect((await deliver(pick(webhooks, type))).status).toBe(200);
}

/** An org whose voice agent owns a Telnyx number bought through the API (both directions). */
async function telnyxAgent(agent: Record<string, unknown> = {}) {
  const org = await newOrg();
  await adminFetch(`/organizations/${org.orgId}`, { method: "PATCH", body: { rate_limit_per_minute: 100_000 } });
  const marker = uniqueTag("tx");
  const created = await org.post("/agents", {
    name: "Telnyx voice loop",
    voice_id: VOICES.elevenlabs,
    system_prompt: `You are Maya, a receptionist (${marker}).`,
    greeting: GREETING,
    inactivity_timeout: 10,
    join_timeout: 20,
    max_duration: 600,
    stt: { provider: "deepgram", model: "nova-3", endpointing_ms: 300 },
    ...agent,
  });
  if (created.status !== 201) throw new Error(`agent: ${created.status} ${JSON.stringify(created.body)}`);
  const agentId = created.body.data.id as string;
  const number = await org.post("/telephony/numbers/purchase", { provider: "telnyx", phone_number: freshNumber() });
  if (number.status !== 201) throw new Error(`number: ${number.status} ${JSON.stringify(number.body)}`);
  for (const direction of ["outbound", "inbound"]) {
    const res = await org.post("/telephony/numbers/assign", { number_id: number.body.data.id, agent_id: agentId, assignment_type: direction });
    if (res.status !== 200) throw new Error(`assign: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return { org, agentId, marker, ourNumber: number.body.data.phone_number as string };
}

/** An outbound call dialled through Telnyx and answered by a person, its stream announced. */
async function answeredTelnyxCall(agent: Record<string, unknown> = {}, callSettings: Record<string, unknown> = {}) {
  const setup = await telnyxAgent(agent);
  const callId = await placeCall(setup.org, setup.agentId, "+14155550001", callSettings);
  const callControlId = (await callRecord(callId))?.provider_call_id as string;
  const webhooks = await telnyxWebhooks(callControlId);
  await deliverAll(webhooks, "call.initiated", "call.answered", "streaming.started");
  expect((await callView(setup.org, callId)).status).toBe("in_progress");
  const streamUrl = JSON.parse(pick(webhooks, "streaming.started").body).data.payload.stream_url as string;
  expect(streamUrl).toBe(`wss://truedy.test/telephony/telnyx/media/${callId}`);
  return { ...setup, callId, callControlId, streamUrl };
}

/** Telnyx opening the call's stream on the URL we gave it, through the worker's route. */
async function openStream(call: { streamUrl: string; callControlId: string }, options: { marks?: MarkMode; mediaFormat?: Record<string, unknown>; callControlId?: string } = {}) {
  const telnyx = await TelnyxMediaClient.connect({
    url: call.streamUrl,
    fetcher: exports.default,
    callControlId: options.callControlId ?? call.callControlId,
    marks: options.marks,
    mediaFormat: options.mediaFormat,
  });
  telnyx.begin();
  return telnyx;
}

const chats = async (marker: string) => (await recorded("openai", { contains: marker })).filter((r) => r.path === "/v1/chat/completions");

describe("voice loop over Telnyx media streaming", () => {
  it("holds a conversation: the greeting in 20 ms PCMU frames, the caller heard through Deepgram, the LLM's reply spoken, marks echoed", async () => {
    const call = await answeredTelnyxCall();
    await control("/__fakes/deepgram/script", { tag: call.callId, lines: ["I would like to book an appointment"] });
    await control("/__fakes/openai/script", { match: call.marker, replies: [{ content: "Of course. Which day suits you best?" }] });
    const telnyx = await openStream(call);

    const [greeting] = await transcriptOf(call.callId, 1);
    expect(greeting).toMatchObject({ speaker: "agent", text: GREETING, start_ms: 0, interrupted: false });
    const greetingMs = telnyx.audioMs;
    expect(greetingMs).toBe(GREETING.length * TTS_MS_PER_CHAR);
    expect(greeting.end_ms).toBe(greetingMs);

    // Telnyx streams the caller's line all along: silence while the greeting plays, then speech.
    await telnyx.silence(greetingMs);
    await telnyx.speak(1200);
    await telnyx.silence(700);
    const turns = await transcriptOf(call.callId, 3);
    expect(turns.map((t) => [t.speaker, t.text, t.interrupted])).toEqual([
      ["agent", GREETING, false],
      ["contact", "I would like to book an appointment", false],
      ["agent", "Of course. Which day suits you best?", false],
    ]);
    expect(turns[1]).toMatchObject({ start_ms: greetingMs, end_ms: greetingMs + 1200 });
    expect(turns[2].start_ms).toBeGreaterThanOrEqual(turns[1].end_ms);

    // What Telnyx got: Telnyx's own words (no streamSid, no stream id), one 160-byte PCMU frame
    // per media message, a mark per clause, each echoed; nothing its protocol would reject.
    expect(telnyx.errors).toEqual([]);
    expect(telnyx.received.every((r) => !("streamSid" in r.message) && !("stream_id" in r.message))).toBe(true);
    const frames = telnyx.events("media").map((m) => fromBase64(m.media!.payload!));
    expect(frames.length).toBe((greetingMs + turns[2].end_ms - turns[2].start_ms) / 20);
    expect(frames.every((f) => f.length === FRAME_BYTES)).toBe(true);
    expect(telnyx.marks).toHaveLength(3);
    expect(telnyx.echoedMarks).toEqual(telnyx.marks);

    // The stream is recorded under Telnyx's stream_id, with every caller frame counted.
    const framesIn = (greetingMs + 1200 + 700) / 20;
    const media = await eventually(() => callStub(call.callId).mediaSession(), (m) => m?.framesIn === framesIn, "every caller frame counted");
    expect(media).toMatchObject({ streamSid: telnyx.streamId, framesIn });

    // Deepgram heard the call's μ-law; the LLM saw the conversation so far.
    const [listen] = await control<any[]>(`/__fakes/deepgram/connections?tag=${call.callId}`);
    expect(listen.query).toMatchObject({ encoding: "mulaw", sample_rate: "8000", channels: "1" });
    const [chat] = await chats(call.marker);
    expect(JSON.parse(chat.body).messages).toEqual([
      { role: "system", content: `You are Maya, a receptionist (${call.marker}).` },
      { role: "assistant", content: GREETING },
      { role: "user", content: "I would like to book an appointment" },
    ]);

    // Hung up through the API: Telnyx is told, its call.hangup ends the call, and we close the stream.
    expect((await call.org.post(`/calls/${call.callId}/hangup`)).status).toBe(200);
    expect(await fakeRequests("telnyx", `/v2/calls/${encodeURIComponent(call.callControlId)}/actions/hangup`)).toHaveLength(1);
    await deliverAll(await telnyxWebhooks(call.callControlId), "call.hangup");
    expect(await callView(call.org, call.callId)).toMatchObject({ status: "completed", end_reason: "hangup_by_api" });
    expect(await telnyx.waitForClose()).toMatchObject({ code: 1000 });
    expect((await call.org.get(`/calls/${call.callId}/transcript`)).body.data).toEqual({ call_id: call.callId, turns });
  });

  it("takes the caller's key presses from Telnyx's dtmf frames as their turn, in the order pressed", async () => {
    const call = await answeredTelnyxCall();
    await control("/__fakes/openai/script", { match: call.marker, replies: [{ content: "Thank you, your booking is confirmed." }] });
    const telnyx = await openStream(call);
    await transcriptOf(call.callId, 1);
    await telnyx.silence(telnyx.audioMs);
    // Pressed 4, 1, #; delivered #, 1, 4 (Telnyx does not promise order; sequence_number tells).
    telnyx.pressKeys("41#", { order: [2, 1, 0] });
    const turns = await transcriptOf(call.callId, 3);
    expect(turns.map((t) => [t.speaker, t.text])).toEqual([
      ["agent", GREETING],
      ["contact", "[keypad: 41#]"],
      ["agent", "Thank you, your booking is confirmed."],
    ]);
    expect(JSON.parse((await chats(call.marker))[0].body).messages.at(-1)).toEqual({ role: "user", content: "[keypad: 41#]" });
    expect(telnyx.errors).toEqual([]);
  });

  it("puts frames Telnyx delivered out of order back in chunk order, and a stop ends the stream but not the call", async () => {
    const call = await answeredTelnyxCall({}, { recording_enabled: true });
    const telnyx = await openStream(call);
    await telnyx.waitForEvent("mark");

    // Twelve quiet frames, each a constant level of its own, sent in a scrambled order.
    const levels = Array.from({ length: 12 }, (_, i) => 0xf2 + i);
    const audio = new Uint8Array(levels.length * FRAME_BYTES);
    levels.forEach((level, i) => audio.fill(level, i * FRAME_BYTES, (i + 1) * FRAME_BYTES));
    const scrambled = [2, 0, 1, 5, 3, 4, 8, 11, 6, 7, 10, 9];
    await telnyx.sendAudio(audio, { order: () => scrambled });
    // All twelve taken in before the stop: a loaded workerd has delivered a stream's messages out
    // of order, and a frame overtaken by the stop is not in the recording the stop writes.
    await eventually(() => callStub(call.callId).mediaSession(), (m) => m?.framesIn === levels.length, "the twelve frames taken in");
    telnyx.stop();

    // The stream's stop writes the recording; the caller's leg (left) is in chunk order.
    const object = await eventually(() => env.FILES.get(`recordings/${call.org.orgId}/${call.callId}.wav`), (o) => o !== null, "the recording");
    const wav = new DataView(await object!.arrayBuffer());
    const callerLevels = levels.map((_, i) => wav.getInt16(44 + (i * FRAME_BYTES + FRAME_BYTES / 2) * 4, true));
    expect(callerLevels).toEqual(levels.map(mulawToLinear));
    expect((await callStub(call.callId).mediaSession())?.stoppedAt).toEqual(expect.any(Number));

    // Telnyx reports the end of the call with call.hangup: the stream stopping is not it.
    expect(await callView(call.org, call.callId)).toMatchObject({ status: "in_progress", end_reason: null });
    await deliverAll(await telnyxWebhooks(call.callControlId), "call.hangup");
    expect(await callView(call.org, call.callId)).toMatchObject({ status: "completed", end_reason: "hangup_by_contact" });
    expect(telnyx.errors).toEqual([]);
    telnyx.close();
  });

  it("stops the agent mid-greeting when the caller cuts in: a bare {event:clear}, queued marks sent back and ignored, only what was heard kept", async () => {
    const FIRST = "Hello, this is Maya from the clinic.";
    const SECOND = "I can help you book, move or cancel an appointment whenever you like.";
    const call = await answeredTelnyxCall({ greeting: `${FIRST} ${SECOND}` });
    await control("/__fakes/deepgram/script", { tag: call.callId, lines: ["wait a moment please"] });
    await control("/__fakes/openai/script", { match: call.marker, replies: [{ content: "Sure, take your time." }] });
    // "manual": the greeting plays only as far as the test says, so the agent is mid-sentence.
    const telnyx = await openStream(call, { marks: "manual" });

    // Both sentences are queued at Telnyx (the fake TTS is fast), each followed by its mark.
    await telnyx.waitFor((m) => m.event === "mark" && m.mark?.name?.endsWith("-c1") === true, { what: "the second clause's mark" });
    telnyx.play(FIRST.length * TTS_MS_PER_CHAR); // the first sentence plays, its mark goes back
    expect(telnyx.echoedMarks).toHaveLength(1);
    const before = telnyx.received.length;

    await telnyx.speak(600); // "wait…": an interrupt word in the interim results
    const clear = await telnyx.waitForEvent("clear", { from: before });
    expect(clear).toEqual({ event: "clear" });
    expect(telnyx.clearedMs).toBeGreaterThan(0);
    await telnyx.silence(700);

    await telnyx.waitForUnplayedMark({ from: before, what: "the reply's mark" });
    telnyx.play();
    const turns = await transcriptOf(call.callId, 3);
    expect(turns.map((t) => [t.speaker, t.interrupted])).toEqual([
      ["agent", true],
      ["contact", false],
      ["agent", false],
    ]);
    const cut = turns[0].text;
    expect(cut.startsWith(FIRST)).toBe(true);
    expect(cut.length).toBeLessThan(`${FIRST} ${SECOND}`.length);
    expect(turns[1].text).toBe("wait a moment please");
    expect(turns[2].text).toBe("Sure, take your time.");
    // The greeting's second mark came back with the clear; the loop ignored it (the reply is the next turn).
    expect(telnyx.echoedMarks[1]).toMatch(/-c1$/);
    expect(telnyx.errors).toEqual([]);
    const [chat] = await chats(call.marker);
    expect(JSON.parse(chat.body).messages.slice(1)).toEqual([
      { role: "assistant", content: cut },
      { role: "user", content: "wait a moment please" },
    ]);
    telnyx.stop();
    telnyx.close();
  });

  it("answers an inbound Telnyx call with the stream, and only Telnyx's call.hangup ends it", async () => {
    const { org, ourNumber, marker } = await telnyxAgent();
    const { call_control_id: callControlId } = await telnyxInbound("+14155557777", ourNumber);
    await deliverAll(await telnyxWebhooks(callControlId), "call.initiated");
    const [answer] = await fakeRequests("telnyx", `/v2/calls/${encodeURIComponent(callControlId)}/actions/answer`);
    const answerBody = JSON.parse(answer.body);
    const callId = (decodeClientState(answerBody.client_state) as { call_id: string }).call_id;
    expect(answerBody).toMatchObject({ stream_url: `wss://truedy.test/telephony/telnyx/media/${callId}`, stream_bidirectional_mode: "rtp", stream_bidirectional_codec: "PCMU" });
    await deliverAll(await telnyxWebhooks(callControlId), "call.answered", "streaming.started");

    const telnyx = await openStream({ streamUrl: answerBody.stream_url, callControlId });
    await telnyx.waitForAudio(GREETING.length * TTS_MS_PER_CHAR);
    await transcriptOf(callId, 1);
    expect(telnyx.errors).toEqual([]);
    expect(await chats(marker)).toHaveLength(0); // a fixed greeting: no LLM call

    telnyx.stop();
    await eventually(() => callStub(callId).mediaSession(), (m) => m?.stoppedAt != null, "the stop to be recorded");
    expect((await callView(org, callId)).status).toBe("in_progress");
    await deliverAll(await telnyxWebhooks(callControlId), "call.hangup");
    expect(await callView(org, callId)).toMatchObject({ status: "completed", end_reason: "hangup_by_contact" });
    telnyx.close();
  });

  it("refuses a stream whose start is in a format the loop cannot speak: logged, closed, no audio, the call ended", async () => {
    const errors = vi.spyOn(console, "error");
    const call = await answeredTelnyxCall();
    const telnyx = await openStream(call, { mediaFormat: { encoding: "L16", sample_rate: 16000, channels: 1 } });
    expect(await telnyx.waitForClose()).toMatchObject({ code: 1003 });
    expect(telnyx.received).toEqual([]);
    await eventually(() => callView(call.org, call.callId), (v) => v.status === "completed", "the call to end");
    expect(await callView(call.org, call.callId)).toMatchObject({ status: "completed", end_reason: "provider_error" });
    expect(await fakeRequests("telnyx", `/v2/calls/${encodeURIComponent(call.callControlId)}/actions/hangup`)).toHaveLength(1);
    const logged = errors.mock.calls.map((args) => String(args[0]));
    expect(logged.some((line) => line.includes("media stream refused") && line.includes("L16") && line.includes(call.callId))).toBe(true);
    expect(await control<any[]>(`/__fakes/deepgram/connections?tag=${call.callId}`)).toEqual([]);
  });

  it("refuses a stream that names another call's call_control_id, and the call's own stream still works", async () => {
    const call = await answeredTelnyxCall();
    const impostor = await openStream(call, { callControlId: "v3:someone-elses-call" });
    expect(await impostor.waitForClose()).toMatchObject({ code: 1008 });
    expect(impostor.received).toEqual([]);
    expect((await callView(call.org, call.callId)).status).toBe("in_progress");

    const telnyx = await openStream(call);
    await transcriptOf(call.callId, 1);
    expect(telnyx.audioMs).toBe(GREETING.length * TTS_MS_PER_CHAR);
    expect(telnyx.errors).toEqual([]);
    telnyx.stop();
    telnyx.close();
  });

  it("logs Telnyx's error frames and carries on", async () => {
    const errors = vi.spyOn(console, "error");
    const call = await answeredTelnyxCall();
    const telnyx = await openStream(call);
    telnyx.streamError("100004", "invalid_media", "The media payload could not be decoded");
    await transcriptOf(call.callId, 1);
    await eventually(
      async () => errors.mock.calls.map((args) => String(args[0])),
      (lines) => lines.some((line) => line.includes("media stream error") && line.includes("invalid_media") && line.includes(call.callId)),
      "the error frame to be logged",
    );
    expect(telnyx.errors).toEqual([]);
    expect((await callView(call.org, call.callId)).status).toBe("in_progress");
    telnyx.stop();
    telnyx.close();
  });

  it("refuses the handshake (404) for an unknown call, a call of another carrier and an ended Telnyx call", async () => {
    const open = (callId: string) => exports.default.fetch(new Request(`${BASE}/telephony/telnyx/media/${callId}`, { headers: { Upgrade: "websocket" } }));

    const unknown = await open(crypto.randomUUID());
    expect(unknown.status).toBe(404);
    expect((await unknown.json<any>()).error.code).toBe("not_found");

    const twilio = await carrierOrg("twilio");
    const twilioCall = await placeCall(twilio.org, twilio.agentId, "+14155550001");
    expect((await open(twilioCall)).status).toBe(404);

    const call = await answeredTelnyxCall();
    await deliverAll(await telnyxWebhooks(call.callControlId), "call.hangup");
    expect((await callView(call.org, call.callId)).status).toBe("completed");
    expect((await open(call.callId)).status).toBe(404);
    await expect(openStream(call)).rejects.toMatchObject({ status: 404 });
  });
});
