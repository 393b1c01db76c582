import { describe, expect, it } from "vitest";
import { manualClockPerTest } from "../helpers/clock";
import { FRAME_BYTES, TTS_MS_PER_CHAR, TTS_TONE_HZ, decodeMulaw, estimateFrequency, fromBase64 } from "../fakes/audio";
import { VOICES, answeredCall, connectMedia, recorded, transcriptOf, uniqueTag } from "./helpers";

const START = Date.UTC(2030, 1, 8, 15, 0, 0);
const clock = manualClockPerTest(START);

describe("voice loop: TTS providers", () => {
  it.each([
    ["elevenlabs", "elevenlabs", (r: any) => expect(r).toMatchObject({ path: "/v1/text-to-speech/21m00Tcm4TlvDq8ikWAM/stream", query: { output_format: "ulaw_8000" } })],
    ["deepgram", "deepgram", (r: any) => expect(r).toMatchObject({ path: "/v1/speak", query: { model: "aura-2-thalia-en", encoding: "mulaw", sample_rate: "8000", container: "none" } })],
    [
      "cartesia",
      "cartesia",
      (r: any) => {
        expect(r).toMatchObject({ path: "/tts/bytes", headers: { "cartesia-version": "2025-04-16" } });
        expect(JSON.parse(r.body)).toMatchObject({ voice: { mode: "id", id: "a0e99841-438c-4a64-b679-ae501e7d6091" }, output_format: { container: "raw", encoding: "pcm_mulaw", sample_rate: 8000 } });
      },
    ],
    ["openai", "openai", (r: any) => expect(JSON.parse(r.body)).toMatchObject({ voice: "alloy", response_format: "pcm" })],
  ] as const)("%s: the caller hears its voice as 20 ms μ-law frames of exactly 160 bytes", async (provider, service, checkRequest) => {
    const greeting = `Hello there, welcome to the clinic ${uniqueTag("tts")}.`;
    const { callId } = await answeredCall(clock, { voice_id: VOICES[provider], greeting });
    const twilio = await connectMedia(callId);
    await transcriptOf(callId, 1);

    const [request] = await recorded(service, { contains: greeting });
    checkRequest(request);
    const frames = twilio.events("media").map((m) => fromBase64(m.media!.payload!));
    expect(frames.every((f) => f.length === FRAME_BYTES)).toBe(true);
    // The whole clause (the fakes speak TTS_MS_PER_CHAR per character), padded to whole frames;
    // resampling OpenAI's 24 kHz adds the filter's few-sample tail.
    const expectedFrames = Math.ceil((greeting.length * TTS_MS_PER_CHAR) / 20);
    expect(frames.length - expectedFrames).toBe(provider === "openai" ? 1 : 0);
    // Each fake speaks its own tone: this is the provider's audio, decoded as μ-law at 8 kHz.
    const samples = decodeMulaw(twilio.audio.subarray(800, 8800));
    expect(estimateFrequency(samples)).toBeCloseTo(TTS_TONE_HZ[provider], -1);
    twilio.stop();
    twilio.close();
  });
});
