import { describe, expect, it } from "vitest";
import { TTS_MS_PER_CHAR, TTS_TONE_HZ, concatBytes, decodeMulaw, estimateFrequency, mulawRms } from "../fakes/audio";
import { FAKE_ELEVENLABS_API_KEY } from "../fakes/elevenlabs";
import { FAKE_CARTESIA_API_KEY, FAKE_DEEPGRAM_API_KEY } from "../fakes/keys";
import { FAKES, control, readChunks, recorded, uniqueTag } from "./helpers";

const RACHEL = "21m00Tcm4TlvDq8ikWAM";

function elevenlabs(text: string, options: { voice?: string; query?: string; key?: string } = {}) {
  return fetch(`${FAKES}/v1/text-to-speech/${options.voice ?? RACHEL}/stream${options.query ?? "?output_format=ulaw_8000"}`, {
    method: "POST",
    headers: { "xi-api-key": options.key ?? FAKE_ELEVENLABS_API_KEY, "content-type": "application/json" },
    body: JSON.stringify({ text, model_id: "eleven_flash_v2_5" }),
  });
}

function aura(text: string, query = "model=aura-2-thalia-en&encoding=mulaw&sample_rate=8000&container=none", key = FAKE_DEEPGRAM_API_KEY) {
  return fetch(`${FAKES}/v1/speak?${query}`, {
    method: "POST",
    headers: { authorization: `Token ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ text }),
  });
}

function cartesia(transcript: string, options: { version?: string | null; format?: unknown } = {}) {
  const headers: Record<string, string> = { authorization: `Bearer ${FAKE_CARTESIA_API_KEY}`, "content-type": "application/json" };
  if (options.version !== null) headers["cartesia-version"] = options.version ?? "2025-04-16";
  return fetch(`${FAKES}/tts/bytes`, {
    method: "POST",
    headers,
    body: JSON.stringify({
      model_id: "sonic-2",
      transcript,
      voice: { mode: "id", id: "a0e99841-438c-4a64-b679-ae501e7d6091" },
      output_format: options.format ?? { container: "raw", encoding: "pcm_mulaw", sample_rate: 8000 },
      language: "en",
    }),
  });
}

/** Checks the body is raw μ-law 8 kHz: a tone of the provider's frequency, TTS_MS_PER_CHAR per character. */
function expectMulawTone(audio: Uint8Array, text: string, hz: number) {
  expect(audio.length).toBe((text.length * TTS_MS_PER_CHAR * 8000) / 1000);
  expect(mulawRms(audio)).toBeGreaterThan(1000);
  expect(estimateFrequency(decodeMulaw(audio))).toBeCloseTo(hz, -1);
}

describe("fake TTS providers", () => {
  it("ElevenLabs streams raw μ-law 8 kHz for output_format=ulaw_8000, and checks key, voice and format", async () => {
    const text = `Thanks for calling, ${uniqueTag("el")}.`;
    const res = await elevenlabs(text);
    expect(res.status).toBe(200);
    expectMulawTone(concatBytes(await readChunks(res)), text, TTS_TONE_HZ.elevenlabs);
    const [request] = await recorded("elevenlabs", { contains: text });
    expect(request).toMatchObject({ path: `/v1/text-to-speech/${RACHEL}/stream`, query: { output_format: "ulaw_8000" }, headers: { "xi-api-key": FAKE_ELEVENLABS_API_KEY } });
    // Chunks of 1000 and 333 bytes: samples of one 20 ms frame straddle chunks.
    let chunks = 0;
    for (let left = request.stream.bytes; left > 0; chunks++) left -= chunks % 2 === 0 ? 1000 : 333;
    expect(request.stream).toMatchObject({ chunks, done: true });

    expect((await elevenlabs("hi", { key: "nope" })).status).toBe(401);
    expect((await elevenlabs("hi", { voice: "doesNotExist12345678" })).status).toBe(404);
    const mp3 = await elevenlabs("hi", { query: "" });
    expect(mp3.status).toBe(400);
    expect(await mp3.json()).toMatchObject({ detail: { status: "invalid_output_format" } });
  });

  it("Deepgram Aura answers raw μ-law with container=none, a WAV header without it, and refuses other encodings", async () => {
    const text = `Your table is ready ${uniqueTag("aura")}`;
    const raw = await aura(text);
    expect(raw.status).toBe(200);
    expectMulawTone(concatBytes(await readChunks(raw)), text, TTS_TONE_HZ.deepgram);

    const wav = concatBytes(await readChunks(await aura(text, "model=aura-2-thalia-en&encoding=mulaw&sample_rate=8000")));
    expect(new TextDecoder().decode(wav.subarray(0, 4))).toBe("RIFF");
    expect(wav.length).toBe(44 + (text.length * TTS_MS_PER_CHAR * 8000) / 1000);

    const linear = await aura(text, "model=aura-2-thalia-en");
    expect(linear.status).toBe(400);
    expect((await linear.json<any>()).err_msg).toContain("encoding=mulaw");
    const badKey = await aura(text, undefined, "nope");
    expect(badKey.status).toBe(401);
    await badKey.body?.cancel();
  });

  it("Cartesia answers raw pcm_mulaw at 8000 Hz, and requires Cartesia-Version and that output format", async () => {
    const text = `One moment please ${uniqueTag("cartesia")}`;
    const res = await cartesia(text);
    expect(res.status).toBe(200);
    expectMulawTone(concatBytes(await readChunks(res)), text, TTS_TONE_HZ.cartesia);

    const noVersion = await cartesia(text, { version: null });
    expect(noVersion.status).toBe(400);
    expect((await noVersion.json<any>()).error).toContain("Cartesia-Version");
    const wav = await cartesia(text, { format: { container: "wav", encoding: "pcm_s16le", sample_rate: 24000 } });
    expect(wav.status).toBe(400);
    await wav.body?.cancel();
  });

  it("fails, cuts or delays a TTS stream when told to", async () => {
    const failing = uniqueTag("fail");
    await control("/__fakes/elevenlabs/tts", { match: failing, status: 500, times: 1 });
    expect((await elevenlabs(`This fails ${failing}`)).status).toBe(500);
    expect((await elevenlabs(`This works again ${failing}`)).status).toBe(200);

    const cut = uniqueTag("cut");
    await control("/__fakes/deepgram/tts", { match: cut, cut_after_bytes: 1500 });
    const res = await aura(`A long sentence that is cut off halfway through ${cut}`);
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let received = 0;
    await expect(
      (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          received += value.length;
        }
      })(),
    ).rejects.toThrow();
    expect(received).toBeLessThanOrEqual(1500);

    const slow = uniqueTag("slow");
    await control("/__fakes/cartesia/tts", { match: slow, first_byte_delay_ms: 250 });
    const started = Date.now();
    const delayed = await cartesia(`Slow start ${slow}`);
    expect(delayed.status).toBe(200);
    const first = await delayed.body!.getReader().read();
    expect(first.done).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
  });
});
