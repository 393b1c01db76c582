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
 * Instant voice cloning: `POST /v1/voices/add`, multipart/form-data with `name`, one or more
 * `files` parts (file uploads), optional `description`, `labels` (a JSON object as a string) and
 * `remove_background_noise` (a form boolean) → 200 `{voice_id, requires_verification}`. The body
 * is parsed as multipart (a JSON or urlencoded body is FastAPI's 422, like a missing `name` or
 * `files`; a string where a file belongs is 422 too; an empty file 400 `empty_file`). The new voice
 * is then answered by `GET /v1/voices/{voice_id}` (`category: "cloned"`, its samples listed),
 * speaks through text to speech, and `DELETE /v1/voices/{voice_id}` removes it (`{status:"ok"}`;
 * premade voices cannot be deleted). Misbehaviour for clones whose name contains `match`:
 * `POST /__fakes/elevenlabs/voices-add {match, status?, detail_status?, message?, requires_verification?, delay_ms?, times?}`
 * (a 5xx answers `{detail:"Internal Server Error"}`, another status `{detail:{status, message}}`).
 * `GET /__fakes/elevenlabs/cloned-voices?name=…` lists the voices made, with each sample's
 * `file_name`, `mime_type`, `size_bytes` and SHA-256 `hash`, so tests can check what arrived.
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

interface ClonedSample {
  sample_id: string;
  file_name: string;
  mime_type: string;
  size_bytes: number;
  hash: string;
}

interface ClonedVoice {
  voice_id: string;
  name: string;
  description: string | null;
  labels: Record<string, string>;
  remove_background_noise: boolean;
  samples: ClonedSample[];
  requires_verification: boolean;
  created_at_unix: number;
}

/** Voices made through `POST /v1/voices/add`, for the lifetime of the fakes server. */
const clonedVoices = new Map<string, ClonedVoice>();

interface AddVoiceBehaviour {
  match: string;
  status?: number;
  detail_status?: string;
  message?: string;
  requires_verification?: boolean;
  delay_ms?: number;
  times?: number;
}
const addVoiceBehaviours: AddVoiceBehaviour[] = [];

function takeAddVoiceBehaviour(name: string): AddVoiceBehaviour | undefined {
  const found = addVoiceBehaviours.find((b) => name.includes(b.match));
  if (found?.times !== undefined && --found.times <= 0) addVoiceBehaviours.splice(addVoiceBehaviours.indexOf(found), 1);
  return found;
}

const ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/** 20 characters from [A-Za-z0-9], the shape of ElevenLabs voice ids. */
function newVoiceId(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(20)), (b) => ID_ALPHABET[b % ID_ALPHABET.length]).join("");
}

async function sha256Hex(bytes: ArrayBuffer): Promise<string> {
  return Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** FastAPI's 422 for request-body problems, `loc` starting at "body". */
const fastApi422 = (problems: { type: string; loc: (string | number)[]; msg: string; input?: unknown }[]): FakeResponse => ({
  status: 422,
  body: { detail: problems.map((p) => ({ input: null, ...p })) },
});

const FORM_TRUE = new Set(["true", "1", "yes", "on", "y", "t"]);
const FORM_FALSE = new Set(["false", "0", "no", "off", "n", "f"]);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function addVoice(request: FakeRequest): Promise<FakeResponse> {
  if (header(request, "xi-api-key") !== FAKE_ELEVENLABS_API_KEY) return detail(401, "invalid_api_key", "Invalid API key");
  const contentType = header(request, "content-type") ?? "";
  const missing = (field: string) => ({ type: "missing", loc: ["body", field], msg: "Field required" });
  if (!/^multipart\/form-data\s*;/i.test(contentType)) return fastApi422([missing("name"), missing("files")]);
  let form: FormData;
  try {
    form = await new Response(request.rawBody, { headers: { "content-type": contentType } }).formData();
  } catch {
    return { status: 400, body: { detail: "There was an error parsing the body" } };
  }
  const name = form.get("name");
  const parts = form.getAll("files");
  const problems: Parameters<typeof fastApi422>[0] = [];
  if (typeof name !== "string" || name === "") problems.push(missing("name"));
  if (parts.length === 0) problems.push(missing("files"));
  parts.forEach((part, i) => {
    if (typeof part === "string") problems.push({ type: "value_error", loc: ["body", "files", i], msg: "Value error, Expected UploadFile, received: <class 'str'>", input: part });
  });
  const noise = form.get("remove_background_noise");
  if (typeof noise === "string" && !FORM_TRUE.has(noise.toLowerCase()) && !FORM_FALSE.has(noise.toLowerCase())) {
    problems.push({ type: "bool_parsing", loc: ["body", "remove_background_noise"], msg: "Input should be a valid boolean, unable to interpret input", input: noise });
  }
  let labels: Record<string, string> = {};
  const rawLabels = form.get("labels");
  if (typeof rawLabels === "string" && rawLabels !== "") {
    const parsed = parseJson(rawLabels);
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed) || Object.values(parsed).some((v) => typeof v !== "string")) {
      problems.push({ type: "value_error", loc: ["body", "labels"], msg: "Value error, labels must be a JSON object of strings", input: rawLabels });
    } else labels = parsed as Record<string, string>;
  }
  if (problems.length > 0) return fastApi422(problems);

  const files = parts as File[];
  const empty = files.find((f) => f.size === 0);
  if (empty) return detail(400, "empty_file", `The file ${empty.name} is empty.`);

  const voiceName = name as string;
  const behaviour = takeAddVoiceBehaviour(voiceName);
  if (behaviour?.delay_ms) await sleep(behaviour.delay_ms);
  if (behaviour?.status) {
    if (behaviour.status >= 500) return { status: behaviour.status, body: { detail: "Internal Server Error" } };
    return detail(behaviour.status, behaviour.detail_status ?? "fake_failure", behaviour.message ?? "The fake was told to fail this request.");
  }

  const voice: ClonedVoice = {
    voice_id: newVoiceId(),
    name: voiceName,
    description: typeof form.get("description") === "string" ? (form.get("description") as string) : null,
    labels,
    remove_background_noise: typeof noise === "string" && FORM_TRUE.has(noise.toLowerCase()),
    samples: await Promise.all(
      files.map(async (f) => ({
        sample_id: newVoiceId(),
        file_name: f.name,
        mime_type: f.type,
        size_bytes: f.size,
        hash: await sha256Hex(await f.arrayBuffer()),
      })),
    ),
    requires_verification: behaviour?.requires_verification ?? false,
    created_at_unix: Math.floor(Date.now() / 1000),
  };
  clonedVoices.set(voice.voice_id, voice);
  return { status: 200, body: { voice_id: voice.voice_id, requires_verification: voice.requires_verification } };
}

function clonedVoiceResponse(voice: ClonedVoice) {
  return {
    voice_id: voice.voice_id,
    name: voice.name,
    samples: voice.samples.map((s) => ({
      ...s,
      duration_secs: null,
      remove_background_noise: voice.remove_background_noise,
      has_isolated_audio: voice.remove_background_noise,
      has_isolated_audio_preview: false,
      speaker_separation: null,
      trim_start: null,
      trim_end: null,
    })),
    category: "cloned",
    fine_tuning: {
      is_allowed_to_fine_tune: false,
      state: {},
      verification_failures: [],
      verification_attempts_count: 0,
      manual_verification_requested: false,
    },
    labels: voice.labels,
    description: voice.description,
    preview_url: null,
    available_for_tiers: [],
    settings: null,
    sharing: null,
    high_quality_base_model_ids: [],
    verified_languages: [],
    safety_control: null,
    voice_verification: { requires_verification: voice.requires_verification, is_verified: false, verification_failures: [], verification_attempts_count: 0 },
    permission_on_resource: "admin",
    is_owner: true,
    is_legacy: false,
    is_mixed: false,
    created_at_unix: voice.created_at_unix,
  };
}

function addVoiceControl(request: FakeRequest): FakeResponse {
  const body = parseJson(request.body) as Partial<AddVoiceBehaviour> | undefined;
  if (!body || typeof body.match !== "string" || body.match === "") return { status: 400, body: { error: "match (a piece of the voice name) is required" } };
  addVoiceBehaviours.unshift({ ...body, match: body.match });
  return { status: 200, body };
}

const TTS_MODELS = ["eleven_flash_v2_5", "eleven_turbo_v2_5", "eleven_multilingual_v2", "eleven_turbo_v2", "eleven_flash_v2", "eleven_monolingual_v1", "eleven_v3"];
const TTS_CHUNKS = [1000, 333];
const ttsBehaviours = new TtsBehaviours();

function textToSpeech(request: FakeRequest, voiceId: string): FakeResponse {
  if (header(request, "xi-api-key") !== FAKE_ELEVENLABS_API_KEY) return detail(401, "invalid_api_key", "Invalid API key");
  if (voiceId === FAKE_ELEVENLABS_FAILING_VOICE_ID) return { status: 500, body: { detail: "Internal Server Error" } };
  if (!FAKE_ELEVENLABS_VOICES.some((v) => v.voice_id === voiceId) && !clonedVoices.has(voiceId)) {
    return detail(404, "voice_not_found", `A voice with the voice_id ${voiceId} was not found.`);
  }
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
    if (request.url.pathname === "/__fakes/elevenlabs/voices-add" && request.method === "POST") return addVoiceControl(request);
    if (request.url.pathname === "/__fakes/elevenlabs/cloned-voices" && request.method === "GET") {
      const name = request.url.searchParams.get("name");
      return { status: 200, body: [...clonedVoices.values()].filter((v) => !name || v.name === name) };
    }
    return undefined;
  },
  handle(request) {
    const { method, url, headers } = request;
    const tts = /^\/v1\/text-to-speech\/([^/]+)(\/stream)?$/.exec(url.pathname);
    if (tts && method === "POST") return textToSpeech(request, decodeURIComponent(tts[1]));
    if (url.pathname === "/v1/voices/add" && method === "POST") return addVoice(request);
    const match = /^\/v1\/voices\/([^/]+)$/.exec(url.pathname);
    if (!match || (method !== "GET" && method !== "DELETE")) return undefined;
    if (headers["xi-api-key"] !== FAKE_ELEVENLABS_API_KEY) {
      return detail(401, "invalid_api_key", "Invalid API key");
    }
    const voiceId = decodeURIComponent(match[1]);
    if (voiceId === FAKE_ELEVENLABS_FAILING_VOICE_ID) return { status: 500, body: { detail: "Internal Server Error" } };
    const cloned = clonedVoices.get(voiceId);
    if (method === "DELETE") {
      if (cloned) {
        clonedVoices.delete(voiceId);
        return { status: 200, body: { status: "ok" } };
      }
      if (FAKE_ELEVENLABS_VOICES.some((v) => v.voice_id === voiceId)) return detail(400, "voice_not_owned", "Premade voices cannot be deleted.");
      return detail(404, "voice_not_found", `A voice with the voice_id ${voiceId} was not found.`);
    }
    if (cloned) return { status: 200, body: clonedVoiceResponse(cloned) };
    const voice = FAKE_ELEVENLABS_VOICES.find((v) => v.voice_id === voiceId);
    if (!voice) return detail(404, "voice_not_found", `A voice with the voice_id ${voiceId} was not found.`);
    return { status: 200, body: voiceResponse(voice) };
  },
};
