import { describe, expect, it } from "vitest";
import { DEFAULT_BARGE_IN, DEFAULT_INACTIVITY_MESSAGE, voiceSessionConfig } from "../../src/voice/session-config";
import {
  FrameReorderer,
  KEYPAD_MAX_KEYS,
  KeypadEntry,
  bargeInDecision,
  heardSoFar,
  insertTurn,
  latencySummary,
  percentile,
  playedPrefix,
  shiftDeepgramTimes,
  streamStartProblem,
  transcriptTurn,
  turnLatency,
} from "../../src/voice/session-rules";
import { ttsRequest } from "../../src/voice/providers/tts";
import { deepgramListenUrl } from "../../src/voice/providers/deepgram-live";

describe("barge-in decision", () => {
  const decide = (text: string, voicedMs = 0) => bargeInDecision({ text, voicedMs }, DEFAULT_BARGE_IN);

  it("stops the agent for two real words, an interrupt word, or 400 ms of voice without words yet", () => {
    expect(decide("can you")).toBe(true);
    expect(decide("wait")).toBe(true);
    expect(decide("", 400)).toBe(true);
    expect(decide("hello", 400)).toBe(true);
  });

  it("does not stop it for one word, short voice, or fillers however long", () => {
    expect(decide("hello", 200)).toBe(false);
    expect(decide("", 380)).toBe(false);
    expect(decide("okay", 2000)).toBe(false);
    expect(decide("mm-hmm yeah", 2000)).toBe(false);
    expect(decide("uh okay so", 100)).toBe(false);
  });
});

describe("what the caller heard", () => {
  const clause = (text: string, audioMs: number, flags: Partial<{ complete: boolean; echoed: boolean }> = {}) => ({ text, audioMs, complete: true, echoed: false, ...flags });

  it("keeps every echoed clause and the played share of the next, in whole words", () => {
    const clauses = [clause("One two three.", 1000, { echoed: true }), clause("Four five six seven.", 2000), clause("Eight.", 500)];
    expect(heardSoFar(clauses, 0)).toEqual({ text: "One two three.", playedMs: 1000 });
    expect(heardSoFar(clauses, 1000)).toEqual({ text: "One two three. Four five", playedMs: 2000 });
    expect(heardSoFar(clauses, 9000)).toEqual({ text: "One two three. Four five six seven.", playedMs: 3000 });
  });

  it("never counts more than was sent of a clause still arriving, nor more words than its estimated length allows", () => {
    // 22 characters ≈ 1430 ms of speech; 650 ms sent and played: 1 of its 4 words.
    expect(heardSoFar([clause("Alpha beta gamma delta", 650, { complete: false })], 5000)).toEqual({ text: "Alpha", playedMs: 650 });
    expect(heardSoFar([], 5000)).toEqual({ text: "", playedMs: 0 });
    expect(playedPrefix("a b c d", 0, 100)).toBe("");
    expect(playedPrefix("a b c d", 100, 100)).toBe("a b c d");
  });
});

describe("transcript order", () => {
  it("inserts a turn by its start, after turns that started at the same time", () => {
    const a = transcriptTurn("agent", "Hi.", 0, 900);
    const b = transcriptTurn("contact", "Hello", 1000, 1500);
    const late = transcriptTurn("contact", "mm-hmm", 500, 700);
    expect(insertTurn(insertTurn([a], b), late).map((t) => t.text)).toEqual(["Hi.", "mm-hmm", "Hello"]);
    expect(transcriptTurn("agent", "x", 1234.4, 1000)).toEqual({ speaker: "agent", text: "x", start_ms: 1234, end_ms: 1234, timestamp: 1.234, interrupted: false });
  });
});

describe("Deepgram times on the call's stream clock", () => {
  it("shifts results, utterance ends and speech starts by where the connection's audio began", () => {
    const results = { type: "Results", start: 0.5, duration: 1, channel: { alternatives: [{ transcript: "hi there", words: [{ word: "hi", start: 0.5, end: 0.8 }, { word: "there", start: 0.8, end: 1.1 }] }] } };
    expect(shiftDeepgramTimes(results, 2)).toEqual({
      ...results,
      start: 2.5,
      channel: { alternatives: [{ transcript: "hi there", words: [{ word: "hi", start: 2.5, end: 2.8 }, { word: "there", start: 2.8, end: 3.1 }] }] },
    });
    expect(shiftDeepgramTimes({ type: "UtteranceEnd", last_word_end: 1.2 }, 0.4)).toEqual({ type: "UtteranceEnd", last_word_end: 1.6 });
    expect(shiftDeepgramTimes({ type: "SpeechStarted", timestamp: 0 }, 3)).toEqual({ type: "SpeechStarted", timestamp: 3 });
    expect(shiftDeepgramTimes({ type: "Metadata" }, 3)).toEqual({ type: "Metadata" });
    expect(shiftDeepgramTimes("junk", 3)).toBe("junk");
  });
});

describe("latency", () => {
  it("splits a turn into stages that add up to the total, and is null for a turn that never spoke", () => {
    expect(turnLatency(1, { speechEndAt: 1000, sttFinalAt: 1350, llmFirstTokenAt: 1600, ttsFirstByteAt: 1800, firstFrameAt: 1801 })).toEqual({
      turn: 1,
      stt_final_ms: 350,
      llm_first_token_ms: 250,
      tts_first_byte_ms: 200,
      first_audio_ms: 1,
      total_ms: 801,
    });
    expect(turnLatency(2, { speechEndAt: 1000, sttFinalAt: 1350, llmFirstTokenAt: 1600 })).toBeNull();
  });

  it("summarises a call with nearest-rank p50 and p95 of the totals", () => {
    expect(percentile([5, 1, 4, 2, 3], 50)).toBe(3);
    expect(percentile([5, 1, 4, 2, 3], 95)).toBe(5);
    expect(percentile([7], 95)).toBe(7);
    const turn = (n: number, total: number) => ({ turn: n, stt_final_ms: 0, llm_first_token_ms: 0, tts_first_byte_ms: 0, first_audio_ms: 0, total_ms: total });
    expect(latencySummary([turn(1, 800), turn(2, 600), turn(3, 1200), turn(4, 700)])).toMatchObject({ p50_ms: 700, p95_ms: 1200 });
    expect(latencySummary([])).toBeNull();
  });
});

describe("session configuration", () => {
  const agent = {
    systemPrompt: "You call {{first_name}} about {{topic}}.",
    greeting: "Hi {{first_name}}!",
    firstSpeaker: "agent",
    model: "gpt-4o-mini",
    temperature: 0.3,
    languageHint: null,
    inactivityTimeout: 7,
    inactivityMessage: null,
    llm: { provider: "openai", model: "gpt-4.1-mini", base_url: "https://llm.example/v1/" },
    stt: { provider: "deepgram", model: "nova-3" },
  } as any;
  const voice = { provider: "cartesia", providerVoiceId: "v-1", language: "en-US" } as const;

  it("fills variables, prefers the call's greeting and the agent's LLM base URL, and applies defaults", () => {
    const config = voiceSessionConfig(agent, voice, { variables: { first_name: "Ana" }, settings: { greeting: "Hello {{first_name}}, quick call." } }, { OPENAI_BASE_URL: "https://api.openai.com/v1" });
    expect(config).toMatchObject({
      systemPrompt: "You call Ana about {{topic}}.",
      greeting: "Hello Ana, quick call.",
      llm: { baseUrl: "https://llm.example/v1", model: "gpt-4.1-mini", temperature: 0.3 },
      stt: { provider: "deepgram", model: "nova-3", endpointingMs: 300, language: null },
      voice: { provider: "cartesia", voiceId: "v-1", language: "en-US" },
      inactivityTimeoutMs: 7000,
      inactivityMessage: DEFAULT_INACTIVITY_MESSAGE,
      bargeIn: DEFAULT_BARGE_IN,
    });
    const plain = voiceSessionConfig({ ...agent, greeting: "  ", llm: { provider: "openai", model: "gpt-4o-mini" } }, voice, { variables: {}, settings: {} }, { OPENAI_BASE_URL: "https://api.openai.com/v1" });
    expect(plain).toMatchObject({ greeting: null, llm: { baseUrl: "https://api.openai.com/v1" } });
  });

  it("takes the agent's interruption settings over the defaults, and fills its max_duration message", () => {
    const call = { variables: { first_name: "Ana" }, settings: {} };
    const env = { OPENAI_BASE_URL: "https://api.openai.com/v1" };
    expect(voiceSessionConfig(agent, voice, call, env)).toMatchObject({
      bargeIn: { enabled: true, minWords: 2, minSpeechMs: 400 },
      maxDurationMessage: "I'm sorry, we've reached the time limit for this call. Thank you for your time, goodbye.",
    });
    const tuned = { ...agent, interruption: { enabled: false, min_words: 4, min_speech_ms: 900 }, maxDurationMessage: "Out of time, {{first_name}}. Bye!" };
    expect(voiceSessionConfig(tuned, voice, call, env)).toMatchObject({
      bargeIn: { enabled: false, minWords: 4, minSpeechMs: 900 },
      maxDurationMessage: "Out of time, Ana. Bye!",
    });
  });
});

describe("provider requests", () => {
  const env = {
    OPENAI_BASE_URL: "https://api.openai.com/v1",
    OPENAI_API_KEY: "sk",
    DEEPGRAM_API_BASE_URL: "https://api.deepgram.com",
    DEEPGRAM_API_KEY: "dg",
    ELEVENLABS_API_BASE_URL: "https://api.elevenlabs.io/",
    ELEVENLABS_API_KEY: "xi",
    CARTESIA_API_BASE_URL: "https://api.cartesia.ai",
    CARTESIA_API_KEY: "ca",
  };

  it("asks each TTS provider for μ-law 8 kHz where it can make it, and OpenAI for raw 24 kHz pcm", async () => {
    const eleven = ttsRequest(env, { provider: "elevenlabs", voiceId: "abc" }, "Hi.");
    expect(eleven.url).toBe("https://api.elevenlabs.io/v1/text-to-speech/abc/stream?output_format=ulaw_8000");
    expect(eleven.headers.get("xi-api-key")).toBe("xi");
    expect(ttsRequest(env, { provider: "deepgram", voiceId: "aura-2-thalia-en" }, "Hi.").url).toBe(
      "https://api.deepgram.com/v1/speak?model=aura-2-thalia-en&encoding=mulaw&sample_rate=8000&container=none",
    );
    const cartesia = ttsRequest(env, { provider: "cartesia", voiceId: "v", language: "en-US" }, "Hi.");
    expect(cartesia.headers.get("cartesia-version")).toBe("2025-04-16");
    expect(await cartesia.json()).toMatchObject({ transcript: "Hi.", language: "en", output_format: { container: "raw", encoding: "pcm_mulaw", sample_rate: 8000 } });
    const openai = ttsRequest(env, { provider: "openai", voiceId: "alloy" }, "Hi.");
    expect(openai.url).toBe("https://api.openai.com/v1/audio/speech");
    expect(await openai.json()).toMatchObject({ input: "Hi.", voice: "alloy", response_format: "pcm" });
    expect(() => ttsRequest({ ...env, CARTESIA_API_KEY: "" }, { provider: "cartesia", voiceId: "v" }, "Hi.")).toThrow(/no API key configured \(CARTESIA_API_KEY\)/);
    expect(deepgramListenUrl("https://api.deepgram.com/", { encoding: "mulaw", tag: "c1" })).toBe("https://api.deepgram.com/v1/listen?encoding=mulaw&tag=c1");
  });
});

describe("inbound frame order", () => {
  const frame = (n: number) => new Uint8Array(160).fill(n);
  const ids = (frames: Uint8Array[]) => frames.map((f) => f[0]);

  it("lets frames through in chunk order, holding the ones that overtook an earlier frame", () => {
    const r = new FrameReorderer();
    expect(ids(r.push(1, frame(1)))).toEqual([1]);
    expect(ids(r.push(4, frame(4)))).toEqual([]);
    expect(ids(r.push(3, frame(3)))).toEqual([]);
    expect(ids(r.push(2, frame(2)))).toEqual([2, 3, 4]);
    expect(ids(r.push(5, frame(5)))).toEqual([5]);
    expect(ids(r.push(undefined, frame(9)))).toEqual([9]); // unnumbered: as it comes
  });

  it("waits for the stream's first frame, passes on one from before it, and drops repeats", () => {
    const r = new FrameReorderer();
    expect(ids([...r.push(4, frame(4)), ...r.push(3, frame(3)), ...r.push(2, frame(2))])).toEqual([]);
    expect(ids(r.push(1, frame(1)))).toEqual([1, 2, 3, 4]);
    expect(ids(r.push(0, frame(0)))).toEqual([0]); // numbered from 0: never passed on, late beats lost
    expect(ids(r.push(3, frame(3)))).toEqual([]); // a repeat would stretch the stream clock
    expect(r.dropped).toBe(1);
  });

  it("fills a gap that never closes with silence once enough frames have waited long enough, and drops the frame if it comes after all", () => {
    const r = new FrameReorderer(3, 200);
    r.push(1, frame(1), 0);
    const out = [...r.push(3, frame(3), 20), ...r.push(4, frame(4), 40), ...r.push(5, frame(5), 60), ...r.push(6, frame(6), 80)];
    expect(out).toEqual([]); // four wait, but the oldest only 60 ms
    const released = r.push(7, frame(7), 220);
    expect(ids(released)).toEqual([0xff, 3, 4, 5, 6, 7]);
    // Silence stood in for frame 2: passing it on now would put the caller 20 ms behind their own time.
    expect(r.push(2, frame(2), 230)).toEqual([]);
    expect(r.dropped).toBe(1);
    r.push(9, new Uint8Array(80).fill(9), 240);
    expect(r.flush().map((f) => [f[0], f.length])).toEqual([[9, 80]]);
  });

  it("holds a burst for a frame that overtook it by more than maxHeld places but only milliseconds", () => {
    const r = new FrameReorderer(3, 200);
    r.push(1, frame(1), 0);
    const burst = [3, 4, 5, 6, 7, 8].flatMap((n) => r.push(n, frame(n), 1));
    expect(burst).toEqual([]);
    expect(ids(r.push(2, frame(2), 3))).toEqual([2, 3, 4, 5, 6, 7, 8]);
    expect(r.dropped).toBe(0);
    // ...and past ten times maxHeld, a gap is filled whatever the time.
    const flood = Array.from({ length: 31 }, (_, i) => 10 + i).flatMap((n) => r.push(n, frame(n), 4));
    expect(ids(flood)).toEqual([0xff, ...Array.from({ length: 31 }, (_, i) => 10 + i)]);
  });

  it("starts a stream picked up mid-way from its lowest frame once enough have waited", () => {
    const mid = new FrameReorderer(2, 200);
    expect(ids([...mid.push(502, frame(2), 0), ...mid.push(501, frame(1), 10), ...mid.push(503, frame(3), 20)])).toEqual([]);
    expect(ids(mid.push(504, frame(4), 200))).toEqual([1, 2, 3, 4]);
  });
});

describe("a media stream's start", () => {
  const PCMU = { encoding: "PCMU", sample_rate: 8000, channels: 1 };

  it("serves μ-law at 8000 Hz mono under Telnyx's names (PCMU; audio/x-mulaw in its older docs) and Twilio's", () => {
    expect(streamStartProblem("telnyx", { format: PCMU, callControlId: "v3:a" }, "v3:a")).toBeNull();
    expect(streamStartProblem("telnyx", { format: { encoding: "audio/x-mulaw", sample_rate: 8000, channels: 1 }, callControlId: "v3:a" }, "v3:a")).toBeNull();
    expect(streamStartProblem("twilio", { format: { encoding: "audio/x-mulaw", sampleRate: 8000, channels: 1 } }, "CA1")).toBeNull();
    expect(streamStartProblem("twilio", { format: undefined }, "CA1")).toBeNull();
  });

  it.each([
    [{ encoding: "PCMA", sample_rate: 8000, channels: 1 }],
    [{ encoding: "L16", sample_rate: 16000, channels: 1 }],
    [{ encoding: "PCMU", sample_rate: 16000, channels: 1 }],
    [{ encoding: "PCMU", sample_rate: 8000, channels: 2 }],
    [{ sample_rate: 8000 }],
    ["PCMU"],
    [undefined],
  ])("refuses a Telnyx stream declaring %j", (format) => {
    expect(streamStartProblem("telnyx", { format, callControlId: "v3:a" }, "v3:a")).toMatchObject({ reason: "format" });
  });

  it("refuses a Twilio stream whose mediaFormat is not μ-law 8 kHz mono", () => {
    expect(streamStartProblem("twilio", { format: { encoding: "audio/x-l16", sampleRate: 16000, channels: 1 } }, "CA1")).toMatchObject({ reason: "format" });
  });

  it("refuses a Telnyx stream naming another call, or none", () => {
    expect(streamStartProblem("telnyx", { format: PCMU, callControlId: "v3:b" }, "v3:a")).toMatchObject({ reason: "identity" });
    expect(streamStartProblem("telnyx", { format: PCMU }, "v3:a")).toMatchObject({ reason: "identity" });
  });
});

describe("KeypadEntry", () => {
  it("gives the keys in the carrier's sequence order, whatever order they arrived in", () => {
    const entry = new KeypadEntry();
    expect(entry.empty).toBe(true);
    entry.add("#", 12);
    entry.add("1", 10);
    entry.add("2", 11);
    expect(entry.complete).toBe(true);
    expect(entry.take()).toBe("12#");
    expect(entry.empty).toBe(true);
  });

  it("is complete at # or at the most keys an entry takes, not before", () => {
    const entry = new KeypadEntry();
    for (let i = 0; i < KEYPAD_MAX_KEYS - 1; i++) entry.add(String(i % 10), i);
    expect(entry.complete).toBe(false);
    entry.add("9", KEYPAD_MAX_KEYS);
    expect(entry.complete).toBe(true);
  });

  it("drops a key older than an entry already taken, and starts the next entry after it", () => {
    const entry = new KeypadEntry();
    entry.add("5", 20);
    entry.add("#", 22);
    expect(entry.take()).toBe("5#");
    expect(entry.add("4", 21)).toBe(false);
    expect(entry.empty).toBe(true);
    expect(entry.add("7", 23)).toBe(true);
    expect(entry.take()).toBe("7");
  });

  it("keeps arrival order for keys without a sequence number", () => {
    const entry = new KeypadEntry();
    for (const key of ["3", "1", "*"]) entry.add(key);
    expect(entry.take()).toBe("31*");
    entry.add("2");
    expect(entry.take()).toBe("2");
  });
});
