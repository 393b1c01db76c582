/**
 * Text to speech over HTTP, streamed, always ending as raw μ-law 8 kHz (what the phone leg
 * carries). ElevenLabs (`ulaw_8000`), Deepgram Aura (`mulaw`, `container=none`: a WAV header
 * would click) and Cartesia (`pcm_mulaw`) produce it directly; OpenAI-compatible servers only
 * give `pcm` at 24 kHz, which is resampled to 8 kHz and encoded here (realtime.md §4).
 * Chunks are yielded as they arrive, so the first frame can go out before the clause is done.
 */
import { encodeMulaw } from "../mulaw";
import { Resampler } from "../resample";
import type { TtsProvider } from "../session-config";
import { ProviderError, providerHttpError } from "./errors";

export interface TtsEnv {
  OPENAI_BASE_URL: string;
  OPENAI_API_KEY?: string;
  DEEPGRAM_API_BASE_URL: string;
  DEEPGRAM_API_KEY?: string;
  ELEVENLABS_API_BASE_URL: string;
  ELEVENLABS_API_KEY?: string;
  CARTESIA_API_BASE_URL: string;
  CARTESIA_API_KEY?: string;
}

export interface TtsVoice {
  provider: TtsProvider;
  voiceId: string;
  language?: string | null;
}

/** Models chosen for phone latency; the voice picks the speaker. */
export const TTS_MODELS = {
  elevenlabs: "eleven_flash_v2_5",
  cartesia: "sonic-2",
  openai: "gpt-4o-mini-tts",
} as const;

/** Cartesia requires a dated API version. */
export const CARTESIA_VERSION = "2025-04-16";

const trim = (url: string) => url.replace(/\/+$/, "");

function key(value: string | undefined, name: string, provider: string): string {
  if (!value) throw new ProviderError("tts", provider, `no API key configured (${name})`);
  return value;
}

/** The provider's HTTP request for `text`, asking for μ-law 8 kHz wherever the provider can make it. */
export function ttsRequest(env: TtsEnv, voice: TtsVoice, text: string): Request {
  const json = { "content-type": "application/json" };
  switch (voice.provider) {
    case "elevenlabs": {
      const url = `${trim(env.ELEVENLABS_API_BASE_URL)}/v1/text-to-speech/${encodeURIComponent(voice.voiceId)}/stream?output_format=ulaw_8000`;
      return new Request(url, {
        method: "POST",
        headers: { ...json, "xi-api-key": key(env.ELEVENLABS_API_KEY, "ELEVENLABS_API_KEY", "elevenlabs") },
        body: JSON.stringify({ text, model_id: TTS_MODELS.elevenlabs }),
      });
    }
    case "deepgram": {
      const query = new URLSearchParams({ model: voice.voiceId, encoding: "mulaw", sample_rate: "8000", container: "none" });
      return new Request(`${trim(env.DEEPGRAM_API_BASE_URL)}/v1/speak?${query}`, {
        method: "POST",
        headers: { ...json, authorization: `Token ${key(env.DEEPGRAM_API_KEY, "DEEPGRAM_API_KEY", "deepgram")}` },
        body: JSON.stringify({ text }),
      });
    }
    case "cartesia":
      return new Request(`${trim(env.CARTESIA_API_BASE_URL)}/tts/bytes`, {
        method: "POST",
        headers: { ...json, "cartesia-version": CARTESIA_VERSION, authorization: `Bearer ${key(env.CARTESIA_API_KEY, "CARTESIA_API_KEY", "cartesia")}` },
        body: JSON.stringify({
          model_id: TTS_MODELS.cartesia,
          transcript: text,
          voice: { mode: "id", id: voice.voiceId },
          output_format: { container: "raw", encoding: "pcm_mulaw", sample_rate: 8000 },
          ...(voice.language ? { language: voice.language.slice(0, 2).toLowerCase() } : {}),
        }),
      });
    case "openai":
      return new Request(`${trim(env.OPENAI_BASE_URL)}/audio/speech`, {
        method: "POST",
        headers: { ...json, authorization: `Bearer ${key(env.OPENAI_API_KEY, "OPENAI_API_KEY", "openai")}` },
        body: JSON.stringify({ model: TTS_MODELS.openai, input: text, voice: voice.voiceId, response_format: "pcm" }),
      });
  }
}

/**
 * Streams `text` as μ-law 8 kHz chunks (any sizes; the caller frames them). Throws ProviderError
 * on a refusal or a cut body, and the fetch's AbortError when `signal` aborts.
 */
export async function* synthesizeMulaw(env: TtsEnv, voice: TtsVoice, text: string, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  const request = ttsRequest(env, voice, text);
  let res: Response;
  try {
    res = await fetch(request, { signal });
  } catch (error) {
    if (signal.aborted) throw error;
    throw new ProviderError("tts", voice.provider, `request failed: ${String(error)}`);
  }
  if (!res.ok || !res.body) throw await providerHttpError("tts", voice.provider, "text-to-speech", res);
  // OpenAI's pcm is 24 kHz s16le; its chunks may split a sample, which pushBytes carries over.
  const resampler = voice.provider === "openai" ? new Resampler(24000, 8000) : null;
  const reader = res.body.getReader();
  try {
    for (;;) {
      let read: ReadableStreamReadResult<Uint8Array>;
      try {
        read = await reader.read();
      } catch (error) {
        if (signal.aborted) throw error;
        throw new ProviderError("tts", voice.provider, `audio stream broke off: ${String(error)}`);
      }
      if (read.done) break;
      if (read.value.length === 0) continue;
      if (!resampler) yield read.value;
      else {
        const samples = resampler.pushBytes(read.value);
        if (samples.length > 0) yield encodeMulaw(samples);
      }
    }
    if (resampler) {
      const tail = resampler.flush();
      if (tail.length > 0) yield encodeMulaw(tail);
    }
  } finally {
    // Frees the connection when the consumer stops early (barge-in): one of the six per invocation.
    reader.cancel().catch(() => {});
  }
}
