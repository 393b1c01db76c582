import { TTS_MS_PER_CHAR, TTS_TONE_HZ, mulawTone } from "./audio";
import type { Fake, FakeRequest, FakeResponse } from "./server";
import { TtsBehaviours, chunked, header, parseJson } from "./streaming";

/**
 * Fake of the ElevenLabs API, speaking its wire protocol: every request authenticates with the
 * `xi-api-key` header, errors are `{detail:{status, message}}`. `GET /v1/voices/{voice_id}`
 * answers the premade voices below; any other id is the real API's 404 `voice_not_found`.
 *
 * Text to speech (spec §4): `POST /v1/text-to-speech/{voice_id}/stream?output_format=ulaw_8000`
 * (and the same without `/stream`), JSON `{text, model_id?, voice_settings?, …}` → raw μ-law
 * 8 kHz, a TTS_TONE_HZ.elevenlabs tone lasting TTS_MS_PER_CHAR per character, streamed in chunks
 * of 1000 and 333 bytes. `output_format` is a query parameter; the fake makes `ulaw_8000` only
 * and answers a 400 saying so for anything else (ElevenLabs' default is mp3). A voice outside the
 * premade list is 404 `voice_not_found`, FAKE_ELEVENLABS_FAILING_VOICE_ID 500, a body without
 * `text` 422 as FastAPI answers. Misbehaviour per voice id or text:
 * `POST /__fakes/elevenlabs/tts {match, status?, cut_after_bytes?, first_byte_delay_ms?, chunk_delay_ms?, times?}`.
 *
 * This module is also imported by tests in workerd: keep it free of Node imports.
 */

/** The key vitest.config.ts gives the worker; any other key is rejected as the real API does. */
export const FAKE_ELEVENLABS_API_KEY = "test-elevenlabs-key";

/** Looking up this voice makes the fake answer 500, as ElevenLabs does during an outage. */
export const FAKE_ELEVENLABS_FAILING_VOICE_ID = "fakeServerError500xyz";

interface PremadeVoice {
  voice_id: string;
  name: string;
  gender: string;
  accent: string;
  age: string;
  description: string;
  use_case: string;
}

/** Real premade voices (ids and labels as ElevenLabs publishes them). */
export const FAKE_ELEVENLABS_VOICES: PremadeVoice[] = [
  { voice_id: "21m00Tcm4TlvDq8ikWAM", name: "Rachel", gender: "female", accent: "american", age: "young", description: "calm", use_case: "narration" },
  { voice_id: "AZnzlk1XvdvUeBnXmlld", name: "Domi", gender: "female", accent: "american", age: "young", description: "strong", use_case: "narration" },
  { voice_id: "MF3mGyEYCl7XYWbV9V6O", name: "Elli", gender: "female", accent: "american", age: "young", description: "emotional", use_case: "narration" },
  { voice_id: "VR6AewLTigWG4xSOukaG", name: "Arnold", gender: "male", accent: "american", age: "middle aged", description: "crisp", use_case: "narration" },
  { voice_id: "yoZ06aMxZJJ28mfd3POQ", name: "Sam", gender: "male", accent: "american", age: "young", description: "raspy", use_case: "narration" },
  { voice_id: "pNInz6obpgDQGcFmaJgB", name: "Adam", gender: "male", accent: "american", age: "middle aged", description: "deep", use_case: "narration" },
  { voice_id: "EXAVITQu4vr4xnSDxMaL", name: "Bella", gender: "female", accent: "american", age: "young", description: "soft", use_case: "narration" },
  { voice_id: "ErXwobaYiN019PkySvjV", name: "Antoni", gender: "male", accent: "american", age: "young", description: "well-rounded", use_case: "narration" },
  { voice_id: "TxGEqnHWrfWFTfGW9XjX", name: "Josh", gender: "male", accent: "american", age: "young", description: "deep", use_case: "narration" },
];

function voiceResponse(voice: PremadeVoice) {
  const previewUrl = `https://storage.googleapis.com/eleven-public-prod/premade/voices/${voice.voice_id}/preview.mp3`;
  return {
    voice_id: voice.voice_id,
    name: voice.name,
    samples: null,
    category: "premade",
    fine_tuning: {
      is_allowed_to_fine_tune: true,
      state: {},
      verification_failures: [],
      verification_attempts_count: 0,
      manual_verification_requested: false,
    },
    labels: { accent: voice.accent, description: voice.description, age: voice.age, gender: voice.gender, use_case: voice.use_case },
    description: null,
    preview_url: previewUrl,
    available_for_tiers: [],
    settings: null,
    sharing: null,
    high_quality_base_model_ids: ["eleven_turbo_v2", "eleven_multilingual_v2", "eleven_turbo_v2_5", "eleven_flash_v2_5"],
    verified_languages: [{ language: "en", model_id: "eleven_multilingual_v2", accent: voice.accent, locale: "en-US", preview_url: previewUrl }],
    safety_control: null,
    voice_verification: { requires_verification: false, is_verified: false, verification_failures: [], verification_attempts_count: 0 },
    permission_on_resource: null,
    is_owner: false,
    is_legacy: false,
    is_mixed: false,
    created_at_unix: null,
  };
}

const detail = (status: number, code: string, message: string): FakeResponse => ({ status, body: { detail: { status: code, message } } });

const TTS_MODELS = ["eleven_flash_v2_5", "eleven_turbo_v2_5", "eleven_multilingual_v2", "eleven_turbo_v2", "eleven_flash_v2", "eleven_monolingual_v1", "eleven_v3"];
const TTS_CHUNKS = [1000, 333];
const ttsBehaviours = new TtsBehaviours();

function textToSpeech(request: FakeRequest, voiceId: string): FakeResponse {
  if (header(request, "xi-api-key") !== FAKE_ELEVENLABS_API_KEY) return detail(401, "invalid_api_key", "Invalid API key");
  if (voiceId === FAKE_ELEVENLABS_FAILING_VOICE_ID) return { status: 500, body: { detail: "Internal Server Error" } };
  if (!FAKE_ELEVENLABS_VOICES.some((v) => v.voice_id === voiceId)) return detail(404, "voice_not_found", `A voice with the voice_id ${voiceId} was not found.`);
  const format = request.url.searchParams.get("output_format") ?? "mp3_44100_128";
  if (format !== "ulaw_8000") {
    return detail(400, "invalid_output_format", `This fake produces output_format=ulaw_8000 only, got ${format} (ElevenLabs' default is mp3_44100_128; output_format is a query parameter).`);
  }
  const latency = request.url.searchParams.get("optimize_streaming_latency");
  if (latency !== null && !/^[0-4]$/.test(latency)) return detail(400, "invalid_optimize_streaming_latency", "optimize_streaming_latency must be 0 to 4");
  const body = parseJson(request.body) as { text?: unknown; model_id?: unknown } | undefined;
  if (!(header(request, "content-type") ?? "").startsWith("application/json") || !body || typeof body !== "object") {
    return { status: 422, body: { detail: [{ type: "json_invalid", loc: ["body"], msg: "JSON decode error", input: {} }] } };
  }
  if (typeof body.text !== "string" || body.text.trim() === "") {
    return { status: 422, body: { detail: [{ type: "missing", loc: ["body", "text"], msg: "Field required", input: body }] } };
  }
  const model = body.model_id ?? "eleven_multilingual_v2";
  if (typeof model !== "string" || !TTS_MODELS.includes(model)) return detail(400, "model_not_found", `A model with model ID ${String(model)} does not exist.`);
  const behaviour = ttsBehaviours.take(voiceId, body.text);
  if (behaviour?.status) return behaviour.status >= 500 ? { status: behaviour.status, body: { detail: "Internal Server Error" } } : detail(behaviour.status, "fake_failure", "The fake was told to fail this request.");
  const audio = mulawTone(body.text.length * TTS_MS_PER_CHAR, { freqs: [TTS_TONE_HZ.elevenlabs], amplitude: 6000 });
  return {
    status: 200,
    headers: { "content-type": "audio/basic", "character-cost": String(body.text.length), "request-id": crypto.randomUUID() },
    stream: chunked(audio, TTS_CHUNKS, behaviour),
  };
}

export const elevenlabsFake: Fake = {
  service: "elevenlabs",
  control(request) {
    if (request.url.pathname === "/__fakes/elevenlabs/tts" && request.method === "POST") return ttsBehaviours.control(request);
    return undefined;
  },
  handle(request) {
    const { method, url, headers } = request;
    const tts = /^\/v1\/text-to-speech\/([^/]+)(\/stream)?$/.exec(url.pathname);
    if (tts && method === "POST") return textToSpeech(request, decodeURIComponent(tts[1]));
    const match = /^\/v1\/voices\/([^/]+)$/.exec(url.pathname);
    if (!match || method !== "GET") return undefined;
    if (headers["xi-api-key"] !== FAKE_ELEVENLABS_API_KEY) {
      return detail(401, "invalid_api_key", "Invalid API key");
    }
    const voiceId = decodeURIComponent(match[1]);
    if (voiceId === FAKE_ELEVENLABS_FAILING_VOICE_ID) return { status: 500, body: { detail: "Internal Server Error" } };
    const voice = FAKE_ELEVENLABS_VOICES.find((v) => v.voice_id === voiceId);
    if (!voice) return detail(404, "voice_not_found", `A voice with the voice_id ${voiceId} was not found.`);
    return { status: 200, body: voiceResponse(voice) };
  },
};
