import type { Fake, FakeResponse } from "./server";

/**
 * Fake of the ElevenLabs API, speaking its wire protocol: every request authenticates with the
 * `xi-api-key` header, errors are `{detail:{status, message}}`. `GET /v1/voices/{voice_id}`
 * answers the premade voices below; any other id is the real API's 404 `voice_not_found`.
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

export const elevenlabsFake: Fake = {
  service: "elevenlabs",
  handle({ method, url, headers }) {
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
