import { describe, expect, it } from "vitest";
import { manualClockPerTest } from "../helpers/clock";
import { answeredCall, callStub, connectMedia, control, eventually, transcriptOf, uniqueTag } from "./helpers";

const START = Date.UTC(2030, 1, 7, 15, 0, 0);
const clock = manualClockPerTest(START);

const connections = (callId: string) => control<any[]>(`/__fakes/deepgram/connections?tag=${callId}`);

describe("voice loop: provider failures", () => {
  const cases: [string, Record<string, unknown>, (ids: { callId: string; marker: string; greeting: string }) => Promise<unknown>][] = [
    ["STT refuses the connection twice", {}, ({ callId }) => control("/__fakes/deepgram/fail", { tag: callId, status: 503, count: 2 })],
    // No greeting: the LLM writes the opening line, and fails.
    ["the LLM answers 500", { greeting: null }, ({ marker }) => control("/__fakes/openai/script", { match: marker, replies: [], fail: 500 })],
    ["TTS answers 500", {}, ({ greeting }) => control("/__fakes/elevenlabs/tts", { match: greeting, status: 500 })],
  ];

  it.each(cases)("ends the call with provider_error when %s", async (_name, agent, fail) => {
    const greeting = `Hello, this is ${uniqueTag("greeting")}.`;
    const { org, callId, marker } = await answeredCall(clock, { greeting, ...agent });
    await fail({ callId, marker, greeting });
    const twilio = await connectMedia(callId);
    const ended = await eventually(async () => (await org.get(`/calls/${callId}`)).body.data, (c) => c.status !== "in_progress", "the call to end");
    expect(ended).toMatchObject({ status: "completed", end_reason: "provider_error" });
    await twilio.waitForClose();
    // Nothing is left open: any STT socket is closed by us.
    const open = (await connections(callId)).filter((c) => !c.closed_at);
    expect(open).toEqual([]);
  });
});

describe("voice loop: Deepgram socket drops", () => {
  it("reconnects when the socket drops, and the conversation goes on with times on the same clock", async () => {
    const { org, callId, marker } = await answeredCall(clock);
    await control("/__fakes/deepgram/script", { tag: callId, lines: ["Do you have parking"] });
    await control("/__fakes/openai/script", { match: marker, replies: [{ content: "Yes, there is free parking." }] });
    const twilio = await connectMedia(callId);
    await transcriptOf(callId, 1);
    await twilio.silence(400);
    await eventually(() => connections(callId), (c) => c[0]?.audio_ms === 400, "the first socket to get the audio");

    expect((await control("/__fakes/deepgram/drop", { tag: callId })).dropped).toBe(1);
    const reconnected = await eventually(() => connections(callId), (c) => c.length === 2 && !c[1].closed_at, "a second STT connection");
    expect(reconnected[0].closed_by).toBe("drop");

    await twilio.speak(1000);
    await twilio.silence(700);
    const turns = await transcriptOf(callId, 3);
    expect(turns.map((t) => [t.speaker, t.text])).toEqual([
      ["agent", "Hello Ana, this is Maya."],
      ["contact", "Do you have parking"],
      ["agent", "Yes, there is free parking."],
    ]);
    // The second socket counts from 0, the call's stream from the start: its times are shifted back.
    expect(turns[1]).toMatchObject({ start_ms: 400, end_ms: 1400 });
    expect((await org.get(`/calls/${callId}`)).body.data.status).toBe("in_progress");
    expect((await callStub(callId).mediaSession())?.voice).toMatchObject({ sttConnections: 2, sttConnected: true });
    twilio.stop();
    twilio.close();
  });

  it("keeps the caller's audio while STT connects again after a refusal, and loses none of it", async () => {
    const { callId, marker } = await answeredCall(clock, { first_speaker: "user" });
    await control("/__fakes/deepgram/script", { tag: callId, lines: ["Hello is this the clinic"] });
    await control("/__fakes/openai/script", { match: marker, replies: [{ content: "Yes, this is the clinic." }] });
    await control("/__fakes/deepgram/fail", { tag: callId, status: 503, count: 1 });
    const twilio = await connectMedia(callId);
    // Spoken while the first connection is refused and the retry waits.
    await twilio.speak(1000);
    await twilio.silence(700);
    const turns = await transcriptOf(callId, 2);
    expect(turns.map((t) => [t.speaker, t.text, t.start_ms, t.end_ms])).toEqual([
      ["contact", "Hello is this the clinic", 0, 1000],
      ["agent", "Yes, this is the clinic.", turns[1].start_ms, turns[1].end_ms],
    ]);
    const listens = await connections(callId);
    expect(listens).toHaveLength(1);
    expect(listens[0].audio_ms).toBe(1700);
    twilio.stop();
    twilio.close();
  });
});
