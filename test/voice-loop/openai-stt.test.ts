import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { manualClockPerTest } from "../helpers/clock";
import { answeredCall, callStub, connectMedia, control, eventually, recorded, tick, transcript, transcriptOf } from "./helpers";

// Far in the future so real alarms never fire on their own: tests move this clock and run the alarm.
const START = Date.UTC(2030, 1, 9, 15, 0, 0);
const clock = manualClockPerTest(START);

/** An agent on the OpenAI-compatible STT: no Deepgram, the VAD's utterances go to /audio/transcriptions. */
const OPENAI_STT = { stt: { provider: "openai", model: "gpt-4o-mini-transcribe" } };

/** The transcription requests of a call, as the OpenAI fake parsed them (the session names each file `${callId}-${n}.wav`). */
const transcriptions = (callId: string) => control<any[]>(`/__fakes/openai/transcriptions?match=${callId}`);

const chats = async (marker: string) => (await recorded("openai", { contains: marker })).filter((r) => r.path === "/v1/chat/completions");

const inactivityTimer = (callId: string) =>
  runInDurableObject(callStub(callId), async (_instance, state) => {
    const stored = await state.storage.get<{ timers: { kind: string; at: number }[] }>("call");
    return stored?.timers.find((t) => t.kind === "inactivity")?.at ?? null;
  });

describe("voice loop: OpenAI-compatible STT fed by the VAD's utterances", () => {
  it("transcribes the caller's utterance, answers it and measures the turn, without opening Deepgram", async () => {
    const { org, callId, marker } = await answeredCall(clock, { stt: { provider: "openai", model: "gpt-4o-mini-transcribe", language: "en-US" } });
    await control("/__fakes/openai/transcription", { match: callId, text: "I would like to book an appointment" });
    const twilio = await connectMedia(callId);

    const [greeting] = await transcriptOf(callId, 1);
    expect(greeting).toMatchObject({ speaker: "agent", text: "Hello Ana, this is Maya." });
    const greetingMs = twilio.audioMs;
    await twilio.silence(greetingMs);
    await twilio.speak(1200);
    await twilio.silence(1000); // the VAD ends speech after 800 ms of silence
    const turns = await transcriptOf(callId, 3);
    expect(turns.map((t) => [t.speaker, t.text, t.interrupted])).toEqual([
      ["agent", "Hello Ana, this is Maya.", false],
      ["contact", "I would like to book an appointment", false],
      ["agent", "You said: I would like to book an appointment", false],
    ]);
    // The speech's own times on the caller's stream clock (the VAD's), not the pre-roll's.
    expect(turns[1]).toMatchObject({ start_ms: greetingMs, end_ms: greetingMs + 1200 });
    expect(turns[2].start_ms).toBeGreaterThanOrEqual(turns[1].end_ms);

    // One upload: a mono 16-bit WAV at 8 kHz, 200 ms before and after the speech, the speech in it.
    const [request, ...more] = await transcriptions(callId);
    expect(more).toEqual([]);
    expect(request).toMatchObject({
      filename: `${callId}-1.wav`,
      content_type: "audio/wav",
      model: "gpt-4o-mini-transcribe",
      response_format: "json",
      language: "en",
      status: 200,
      wav: { format: 1, channels: 1, sample_rate: 8000, bits_per_sample: 16, duration_ms: 1600, voiced_ms: 1200 },
    });
    expect(request.fields).toEqual(["file", "model", "response_format", "language"]);
    // The LLM heard the transcription as the caller's message.
    const [chat] = await chats(marker);
    expect(JSON.parse(chat.body).messages.at(-1)).toEqual({ role: "user", content: "I would like to book an appointment" });

    // No Deepgram for this call: no socket, no request of any kind tagged with it.
    expect(await recorded("deepgram", { tag: callId })).toEqual([]);
    expect(await control<any[]>(`/__fakes/deepgram/connections?tag=${callId}`)).toEqual([]);
    expect((await callStub(callId).mediaSession())?.voice).toMatchObject({ sttConnections: 0 });

    // The turn's latency is measured as with Deepgram: end of speech → transcription → LLM → TTS → first frame.
    const live = await callStub(callId).snapshot();
    expect(live?.latency?.turns).toHaveLength(1);
    const [latency] = live!.latency!.turns;
    expect(latency.turn).toBe(1);
    expect(latency.total_ms).toBe(latency.stt_final_ms + latency.llm_first_token_ms + latency.tts_first_byte_ms + latency.first_audio_ms);
    await org.post(`/calls/${callId}/hangup`);
    await tick(callId);
    expect((await org.get(`/calls/${callId}`)).body.data).toMatchObject({ end_reason: "hangup_by_api", latency: { turns: [latency] } });
    await twilio.waitForClose();
  });

  it("sends an agent's Deepgram model as gpt-4o-mini-transcribe and no language when it has none", async () => {
    const { callId } = await answeredCall(clock, { stt: { provider: "openai", model: "nova-3" }, first_speaker: "user" });
    await control("/__fakes/openai/transcription", { match: callId, text: "Hello?" });
    const twilio = await connectMedia(callId);
    await twilio.speak(500);
    await twilio.silence(1000);
    const turns = await transcriptOf(callId, 2);
    expect(turns[0]).toMatchObject({ speaker: "contact", text: "Hello?", start_ms: 0, end_ms: 500 });
    const [request] = await transcriptions(callId);
    expect(request).toMatchObject({ model: "gpt-4o-mini-transcribe", language: null, wav: { duration_ms: 700, voiced_ms: 500 } });
    twilio.stop();
    twilio.close();
  });

  it("transcribes utterances one at a time, in the order they were spoken", async () => {
    const { callId } = await answeredCall(clock, { ...OPENAI_STT, first_speaker: "user" });
    // The first transcription is slow: the second utterance is ready long before it is answered.
    await control("/__fakes/openai/transcription", { match: `${callId}-1.wav`, text: "I need a table", delay_ms: 1000 });
    await control("/__fakes/openai/transcription", { match: `${callId}-2.wav`, text: "for four people" });
    const twilio = await connectMedia(callId);
    await twilio.speak(600);
    await twilio.silence(1000);
    await twilio.speak(600);
    await twilio.silence(1000);
    const contact = await eventually(
      async () => (await transcript(callId)).filter((t) => t.speaker === "contact"),
      (t) => t.length === 2,
      "both caller turns",
    );
    expect(contact.map((t) => [t.text, t.start_ms, t.end_ms])).toEqual([
      ["I need a table", 0, 600],
      ["for four people", 1600, 2200],
    ]);
    // The second request went out only once the first was answered.
    const [first, second] = await transcriptions(callId);
    expect([first.filename, second.filename]).toEqual([`${callId}-1.wav`, `${callId}-2.wav`]);
    expect(second.at - first.at).toBeGreaterThanOrEqual(900);
    // The last word is the agent's answer to the second.
    await eventually(() => transcript(callId), (t) => t.at(-1)?.text === "You said: for four people", "the answer to the second turn");
    twilio.stop();
    twilio.close();
  });

  it("barges in on the agent by voiced duration alone (no interim words), and answers what the caller said", async () => {
    const { callId, marker } = await answeredCall(clock, {
      ...OPENAI_STT,
      greeting: "Hello Ana, this is Maya from the clinic. I am calling about your appointment next week.",
    });
    await control("/__fakes/openai/transcription", { match: callId, text: "sorry, who is this" });
    // "manual": the greeting's audio plays only when the test says, so the agent is still speaking.
    const twilio = await connectMedia(callId, "manual");
    await twilio.until(() => twilio.marks.length === 2, "both clauses of the greeting");
    twilio.play(2500); // the first sentence (2.4 s) and the start of the second

    await twilio.speak(300); // short of the 400 ms that interrupts
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(twilio.clears).toBe(0);
    await twilio.speak(300); // 600 ms in one run of speech
    await twilio.waitForEvent("clear");
    await twilio.silence(1000);
    await twilio.waitForUnplayedMark({ what: "the reply's mark" });
    twilio.play();
    const turns = await transcriptOf(callId, 3);
    expect(turns.map((t) => [t.speaker, t.interrupted])).toEqual([
      ["agent", true],
      ["contact", false],
      ["agent", false],
    ]);
    // What the caller heard of the greeting is kept: the first sentence, not the whole.
    expect(turns[0].text.startsWith("Hello Ana, this is Maya from the clinic.")).toBe(true);
    expect(turns[0].text.length).toBeLessThan("Hello Ana, this is Maya from the clinic. I am calling about your appointment next week.".length);
    expect(turns[1]).toMatchObject({ text: "sorry, who is this", end_ms: turns[1].start_ms + 600 });
    expect(turns[2].text).toBe("You said: sorry, who is this");
    const history = JSON.parse((await chats(marker))[0].body).messages.slice(1);
    expect(history).toEqual([
      { role: "assistant", content: turns[0].text },
      { role: "user", content: "sorry, who is this" },
    ]);
    twilio.stop();
    twilio.close();
  });

  it("keeps a short murmur over the agent in the transcript without stopping or answering it", async () => {
    const { callId, marker } = await answeredCall(clock, { ...OPENAI_STT, greeting: "Hello Ana, this is Maya from the clinic." });
    await control("/__fakes/openai/transcription", { match: callId, text: "mm-hmm" });
    const twilio = await connectMedia(callId, "manual");
    await twilio.waitForEvent("mark");
    await twilio.speak(300);
    await twilio.silence(1000);
    await eventually(() => transcript(callId), (t) => t.some((x) => x.speaker === "contact"), "the murmur in the transcript");
    twilio.play();
    const turns = await transcriptOf(callId, 2);
    expect(turns.map((t) => [t.speaker, t.text, t.interrupted]).sort()).toEqual([
      ["agent", "Hello Ana, this is Maya from the clinic.", false],
      ["contact", "mm-hmm", false],
    ]);
    expect(twilio.clears).toBe(0);
    expect(await chats(marker)).toEqual([]);
    twilio.stop();
    twilio.close();
  });

  it("an utterance the model hears no words in is no turn: the silence timer runs again", async () => {
    const { callId, marker } = await answeredCall(clock, { ...OPENAI_STT, inactivity_timeout: 5 });
    await control("/__fakes/openai/transcription", { match: callId, text: "" });
    const twilio = await connectMedia(callId);
    await transcriptOf(callId, 1);
    const armedAfterGreeting = await eventually(() => inactivityTimer(callId), (at) => at !== null, "the timer after the greeting");
    clock.advance(3000);
    await twilio.speak(500);
    await twilio.silence(1000);
    await eventually(() => transcriptions(callId), (r) => r.length === 1 && r[0].status === 200, "the transcription");
    // Counted from the caller's last sound, not from the greeting: and not cancelled as by a turn.
    await eventually(() => inactivityTimer(callId), (at) => at === clock.now() + 5000, "the inactivity timer to run from after the speech");
    expect(clock.now() + 5000).toBe(armedAfterGreeting! + 3000);
    expect(await transcript(callId)).toHaveLength(1);
    expect(await chats(marker)).toEqual([]);
    twilio.stop();
    twilio.close();
  });

  it("ends the call with provider_error when the transcription fails twice", async () => {
    const { org, callId, marker } = await answeredCall(clock, OPENAI_STT);
    await control("/__fakes/openai/transcription", { match: callId, status: 500, times: 2 });
    const twilio = await connectMedia(callId);
    await transcriptOf(callId, 1);
    await twilio.speak(800);
    await twilio.silence(1000);
    const ended = await eventually(async () => (await org.get(`/calls/${callId}`)).body.data, (c) => c.status !== "in_progress", "the call to end");
    expect(ended).toMatchObject({ status: "completed", end_reason: "provider_error" });
    await twilio.waitForClose();
    // Tried once more, then given up: no caller turn, no reply.
    expect((await transcriptions(callId)).map((r) => r.status)).toEqual([500, 500]);
    expect((await transcript(callId)).map((t) => t.speaker)).toEqual(["agent"]);
    expect(await chats(marker)).toEqual([]);
  });

  it("aborts a transcription in flight when the call ends", async () => {
    const { org, callId, marker } = await answeredCall(clock, OPENAI_STT);
    await control("/__fakes/openai/transcription", { match: callId, text: "never heard", delay_ms: 5000 });
    const twilio = await connectMedia(callId);
    await transcriptOf(callId, 1);
    await twilio.speak(800);
    await twilio.silence(1000);
    await eventually(() => recorded("openai", { contains: `${callId}-1.wav` }), (r) => r.length === 1, "the transcription request");
    await org.post(`/calls/${callId}/hangup`);
    await tick(callId);
    await twilio.waitForClose();
    const [request] = await eventually(
      () => recorded("openai", { contains: `${callId}-1.wav` }),
      (r) => r[0]?.stream?.aborted === true,
      "the transcription request to be aborted",
      3000,
    );
    expect(request.stream.done).toBe(false);
    expect((await org.get(`/calls/${callId}`)).body.data).toMatchObject({ end_reason: "hangup_by_api" });
    expect((await transcript(callId)).map((t) => t.speaker)).toEqual(["agent"]);
    expect(await chats(marker)).toEqual([]);
  });
});
