import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { manualClockPerTest } from "../helpers/clock";
import { FRAME_BYTES, fromBase64, rms } from "../fakes/audio";
import { answeredCall, callStub, connectMedia, control, eventData, eventually, recorded, tick, transcriptOf } from "./helpers";

// Far in the future so real alarms never fire on their own: tests move this clock and run the alarm.
const START = Date.UTC(2030, 1, 4, 15, 0, 0);
const clock = manualClockPerTest(START);

describe("voice loop: a conversation", () => {
  it("greets, hears the caller, answers from the LLM, keeps both turns in order and measures the turn's latency", async () => {
    const { org, callId, marker } = await answeredCall(clock, { greeting: "Hello {{first_name}}, this is Maya from the clinic." }, { call_settings: { recording_enabled: true } });
    await control("/__fakes/deepgram/script", { tag: callId, lines: ["I would like to book an appointment"] });
    await control("/__fakes/openai/script", { match: marker, replies: [{ content: "Of course. Which day suits you best?" }] });
    const twilio = await connectMedia(callId);

    const [greeting] = await transcriptOf(callId, 1);
    expect(greeting).toMatchObject({ speaker: "agent", text: "Hello Ana, this is Maya from the clinic.", start_ms: 0, interrupted: false });

    // Twilio streams the caller's line all along: silence while the greeting plays, then speech.
    const greetingMs = twilio.audioMs;
    expect(greetingMs).toBe(2400); // 40 characters at the fake's 60 ms each
    expect(greeting.end_ms).toBe(greetingMs);
    await twilio.silence(greetingMs);
    await twilio.speak(1200);
    await twilio.silence(700);
    const turns = await transcriptOf(callId, 3);
    expect(turns.map((t) => [t.speaker, t.text, t.interrupted])).toEqual([
      ["agent", "Hello Ana, this is Maya from the clinic.", false],
      ["contact", "I would like to book an appointment", false],
      ["agent", "Of course. Which day suits you best?", false],
    ]);
    // Times run from the answer on the caller's stream clock: the caller spoke from 2.4 s to 3.6 s.
    expect(turns[1]).toMatchObject({ start_ms: 2400, end_ms: 3600 });
    expect(turns[2].start_ms).toBeGreaterThanOrEqual(turns[1].end_ms);
    for (const t of turns) expect(t.timestamp).toBe(t.start_ms / 1000);

    // What Twilio got: 160-byte μ-law frames with the stream's sid, a mark per clause, nothing it would reject.
    expect(twilio.errors).toEqual([]);
    const frames = twilio.events("media").map((m) => fromBase64(m.media!.payload!));
    expect(frames.length).toBeGreaterThan(50);
    expect(frames.every((f) => f.length === FRAME_BYTES)).toBe(true);
    expect(twilio.marks).toHaveLength(3); // the greeting, then "Of course." and "Which day suits you best?"

    // The LLM saw the filled system prompt and the conversation so far.
    const chats = (await recorded("openai", { contains: marker })).filter((r) => r.path === "/v1/chat/completions");
    expect(chats).toHaveLength(1);
    const body = JSON.parse(chats[0].body);
    expect(body).toMatchObject({ model: "gpt-4o-mini", stream: true });
    expect(body.messages).toEqual([
      { role: "system", content: `You are Maya, a receptionist (${marker}). The caller is Ana.` },
      { role: "assistant", content: "Hello Ana, this is Maya from the clinic." },
      { role: "user", content: "I would like to book an appointment" },
    ]);
    // Deepgram was asked for what the phone leg carries, with the agent's endpointing.
    const [listen] = await control<any[]>(`/__fakes/deepgram/connections?tag=${callId}`);
    expect(listen.query).toMatchObject({ encoding: "mulaw", sample_rate: "8000", channels: "1", interim_results: "true", endpointing: "300", utterance_end_ms: "1000", vad_events: "true" });

    // Latency of the caller's turn (the greeting is not a turn), on the live call…
    const live = await callStub(callId).snapshot();
    expect(live?.latency?.turns).toHaveLength(1);
    const [latency] = live!.latency!.turns;
    expect(latency.turn).toBe(1);
    expect(latency.total_ms).toBe(latency.stt_final_ms + latency.llm_first_token_ms + latency.tts_first_byte_ms + latency.first_audio_ms);
    expect(live!.latency).toMatchObject({ p50_ms: latency.total_ms, p95_ms: latency.total_ms });

    // …and on the ended call: the call object and call.ended.
    await org.post(`/calls/${callId}/hangup`);
    await tick(callId);
    const ended = (await org.get(`/calls/${callId}`)).body.data;
    expect(ended).toMatchObject({ status: "completed", end_reason: "hangup_by_api", latency: { p50_ms: latency.total_ms, turns: [latency] } });
    const [endedEvent] = await eventData(org.orgId, callId, "call.ended");
    expect(endedEvent.latency).toEqual(ended.latency);
    const served = await org.get(`/calls/${callId}/transcript`);
    expect(served.body.data).toEqual({ call_id: callId, turns });
    await twilio.waitForClose();

    // The recording: caller on the left, agent on the right, aligned on the stream clock.
    const object = await eventually(() => env.FILES.get(`recordings/${org.orgId}/${callId}.wav`), (o) => o !== null, "the recording");
    const wav = new DataView(await object!.arrayBuffer());
    const channel = (side: 0 | 1, fromMs: number, toMs: number) => {
      const samples = new Int16Array((toMs - fromMs) * 8);
      for (let i = 0; i < samples.length; i++) samples[i] = wav.getInt16(44 + (fromMs * 8 + i) * 4 + side * 2, true);
      return rms(samples);
    };
    expect(channel(1, 500, 2000)).toBeGreaterThan(1000); // the greeting
    expect(channel(0, 500, 2000)).toBe(0);
    expect(channel(0, 2600, 3400)).toBeGreaterThan(1000); // the caller
    expect(channel(1, 2600, 3400)).toBe(0);
    expect(channel(1, turns[2].start_ms + 100, turns[2].end_ms - 100)).toBeGreaterThan(1000); // the answer
  });
});
