import { TTS_MS_PER_CHAR, TTS_TONE_HZ, mulawTone } from "./audio";
import { FAKE_CARTESIA_API_KEY } from "./keys";
import type { Fake, FakeRequest, FakeResponse } from "./server";
import { TtsBehaviours, chunked, header, parseJson } from "./streaming";

/**
 * Fake of Cartesia's bytes endpoint (spec §4): `POST /tts/bytes` with the dated, required
 * `Cartesia-Version` header and `Authorization: Bearer <key>` (the older `X-API-Key` too), JSON
 * `{model_id, transcript, voice: {mode: "id", id}, output_format: {container: "raw", encoding:
 * "pcm_mulaw", sample_rate: 8000}, language?}` → raw μ-law 8 kHz, a TTS_TONE_HZ.cartesia tone
 * lasting TTS_MS_PER_CHAR per character, streamed in odd-sized chunks. The fake makes that
 * output format only; anything else is a 400 that says so.
 *
 * Misbehaviour per voice id or transcript text:
 * `POST /__fakes/cartesia/tts {match, status?, cut_after_bytes?, first_byte_delay_ms?, chunk_delay_ms?, times?}`.
 */

const CHUNKS = [1024, 331, 717];
const ttsBehaviours = new TtsBehaviours();
const error = (status: number, message: string): FakeResponse => ({ status, body: { error: message } });

function ttsBytes(request: FakeRequest): FakeResponse {
  const version = header(request, "cartesia-version");
  if (!version) return error(400, "Missing Cartesia-Version header. Please set it to a dated version such as 2025-04-16.");
  if (!/^\d{4}-\d{2}-\d{2}$/.test(version)) return error(400, `Invalid Cartesia-Version: ${version}`);
  const key = /^Bearer\s+(\S+)$/i.exec(header(request, "authorization") ?? "")?.[1] ?? header(request, "x-api-key");
  if (key !== FAKE_CARTESIA_API_KEY) return error(401, "Invalid API key");
  const body = parseJson(request.body) as Record<string, unknown> | undefined;
  if (!(header(request, "content-type") ?? "").startsWith("application/json") || !body || typeof body !== "object") return error(400, "The request body must be JSON");
  if (typeof body.model_id !== "string" || body.model_id === "") return error(400, "model_id is required");
  if (typeof body.transcript !== "string" || body.transcript.trim() === "") return error(400, "transcript is required");
  const voice = body.voice as { mode?: unknown; id?: unknown } | undefined;
  if (!voice || voice.mode !== "id" || typeof voice.id !== "string" || voice.id === "") return error(400, 'voice must be {"mode": "id", "id": "<voice id>"}');
  const format = body.output_format as { container?: unknown; encoding?: unknown; sample_rate?: unknown } | undefined;
  if (!format || typeof format !== "object") return error(400, "output_format is required");
  if (format.container !== "raw" || format.encoding !== "pcm_mulaw" || format.sample_rate !== 8000) {
    return error(400, `This fake produces output_format {container: "raw", encoding: "pcm_mulaw", sample_rate: 8000} only, got ${JSON.stringify(format)}`);
  }
  const behaviour = ttsBehaviours.take(voice.id, body.transcript);
  if (behaviour?.status) return error(behaviour.status, "The fake was told to fail this request.");
  const audio = mulawTone(body.transcript.length * TTS_MS_PER_CHAR, { freqs: [TTS_TONE_HZ.cartesia], amplitude: 6000 });
  return { status: 200, headers: { "content-type": "audio/basic", "cartesia-version": version }, stream: chunked(audio, CHUNKS, behaviour) };
}

export const cartesiaFake: Fake = {
  service: "cartesia",
  handle(request) {
    if (request.url.pathname === "/tts/bytes" && request.method === "POST") return ttsBytes(request);
    return undefined;
  },
  control(request) {
    if (request.url.pathname === "/__fakes/cartesia/tts" && request.method === "POST") return ttsBehaviours.control(request);
    return undefined;
  },
};
