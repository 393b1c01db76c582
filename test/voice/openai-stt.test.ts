import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { speechAudio } from "../fakes/audio";
import { ProviderError } from "../../src/voice/providers/errors";
import { DEFAULT_OPENAI_STT_MODEL, openaiSttLanguage, openaiSttModel, transcribeUtterance } from "../../src/voice/providers/openai-stt";

const FAKES = env.FAKES_CONTROL_URL;
const tag = () => `stt-${crypto.randomUUID().slice(0, 8)}`;

async function control(path: string, body: unknown) {
  const res = await fetch(`${FAKES}${path}`, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
  expect(res.ok).toBe(true);
  await res.body?.cancel();
}

const requestsFor = async (match: string): Promise<any[]> => (await fetch(`${FAKES}/__fakes/openai/transcriptions?match=${match}`)).json();

const request = (fileName: string, overrides: Partial<Parameters<typeof transcribeUtterance>[0]> = {}) => ({
  baseUrl: env.OPENAI_BASE_URL,
  apiKey: env.OPENAI_API_KEY,
  model: "gpt-4o-mini-transcribe",
  language: "en-US",
  audio: speechAudio(800),
  fileName,
  signal: new AbortController().signal,
  ...overrides,
});

describe("openaiSttModel / openaiSttLanguage", () => {
  it("turns Deepgram's model names (the agents' default) into OpenAI's and keeps every other name", () => {
    for (const deepgram of ["nova-3", "nova-2-phonecall", "nova", "enhanced", "base", "flux-general-en", "", null, undefined]) {
      expect(openaiSttModel(deepgram)).toBe(DEFAULT_OPENAI_STT_MODEL);
    }
    for (const openai of ["whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe", "whisper-large-v3", "Systran/faster-whisper-small", "baseline-v2"]) {
      expect(openaiSttModel(openai)).toBe(openai);
    }
  });

  it("sends ISO-639-1 only: the primary subtag of a BCP-47 tag, nothing for what it cannot say", () => {
    expect(openaiSttLanguage("en-US")).toBe("en");
    expect(openaiSttLanguage("pt_BR")).toBe("pt");
    expect(openaiSttLanguage("DE")).toBe("de");
    expect(openaiSttLanguage("multi")).toBeNull();
    expect(openaiSttLanguage("fil")).toBeNull();
    expect(openaiSttLanguage(null)).toBeNull();
  });
});

describe("transcribeUtterance", () => {
  it("uploads a mono 16-bit WAV at 8 kHz with the model, json and the language, and returns the text", async () => {
    const id = tag();
    await control("/__fakes/openai/transcription", { match: id, text: "  Book me for Tuesday.  " });
    expect(await transcribeUtterance(request(`${id}-1.wav`))).toBe("Book me for Tuesday.");
    const [sent, ...more] = await requestsFor(id);
    expect(more).toEqual([]);
    expect(sent).toMatchObject({
      filename: `${id}-1.wav`,
      content_type: "audio/wav",
      model: "gpt-4o-mini-transcribe",
      response_format: "json",
      language: "en",
      prompt: null,
      status: 200,
      wav: { format: 1, channels: 1, sample_rate: 8000, bits_per_sample: 16, data_bytes: 800 * 16, duration_ms: 800, voiced_ms: 800 },
    });
  });

  it("retries once after a 5xx and then succeeds", async () => {
    const id = tag();
    await control("/__fakes/openai/transcription", { match: id, text: "second time lucky" });
    await control("/__fakes/openai/transcription", { match: id, status: 503, times: 1 });
    expect(await transcribeUtterance(request(`${id}-1.wav`))).toBe("second time lucky");
    expect((await requestsFor(id)).map((r) => r.status)).toEqual([503, 200]);
  });

  it("gives up after a second 5xx or 429 with a ProviderError naming the stage and the answer", async () => {
    for (const status of [500, 429]) {
      const id = tag();
      await control("/__fakes/openai/transcription", { match: id, status });
      const error = await transcribeUtterance(request(`${id}-1.wav`)).catch((e) => e);
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({ stage: "stt", provider: "openai", status });
      expect(error.message).toContain(`audio transcriptions answered HTTP ${status}`);
      expect((await requestsFor(id)).map((r) => r.status)).toEqual([status, status]);
    }
  });

  it("does not retry what a retry cannot fix (an unknown model, a bad key)", async () => {
    const id = tag();
    const badModel = await transcribeUtterance(request(`${id}-1.wav`, { model: "nova-3" })).catch((e) => e);
    expect(badModel).toMatchObject({ stage: "stt", status: 400 });
    expect(badModel.message).toContain("invalid model ID");
    const badKey = await transcribeUtterance(request(`${id}-2.wav`, { apiKey: "sk-wrong" })).catch((e) => e);
    expect(badKey).toMatchObject({ stage: "stt", status: 401 });
    // The bad key never reached the endpoint's checks; the bad model was refused once.
    expect((await requestsFor(id)).map((r) => [r.filename, r.status])).toEqual([[`${id}-1.wav`, 400]]);
    // No key: no Authorization header (a self-hosted server may need none; src/domain/llm-endpoint.ts decides), so the server's 401 is what is reported.
    expect(await transcribeUtterance(request(`${id}-3.wav`, { apiKey: undefined })).catch((e) => e)).toMatchObject({ stage: "stt", status: 401, message: expect.stringContaining("didn't provide an API key") });
  });

  it("a network failure is retried, then reported", async () => {
    const error = await transcribeUtterance(request("x.wav", { baseUrl: "http://127.0.0.1:1/v1" })).catch((e) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error.message).toContain("request to http://127.0.0.1:1/v1/audio/transcriptions failed");
  });

  it("aborting cancels the request in flight and throws the abort, not a ProviderError", async () => {
    const id = tag();
    await control("/__fakes/openai/transcription", { match: id, text: "too late", delay_ms: 5000 });
    const abort = new AbortController();
    const pending = transcribeUtterance(request(`${id}-1.wav`, { signal: abort.signal })).catch((e) => e);
    // Wait until the fake has the request, then give up on it.
    for (let i = 0; i < 500 && (await requestsFor(id)).length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    const started = Date.now();
    abort.abort();
    const error = await pending;
    expect(Date.now() - started).toBeLessThan(1000);
    expect(error).not.toBeInstanceOf(ProviderError);
    expect(String(error?.name ?? error)).toMatch(/Abort/);
    expect(await requestsFor(id)).toHaveLength(1);
  });
});
