import { ApiError, invalidField } from "../../lib/errors";

/**
 * Checks an imported voice against its provider before we store it, so an agent never ends up
 * with a voice id that fails at call time. Only ElevenLabs has a per-voice lookup worth making
 * (Deepgram, Cartesia and OpenAI voices are fixed model names); without ELEVENLABS_API_KEY the
 * deployment cannot ask, so the voice is stored unverified.
 */

export const ELEVENLABS_LOOKUP_TIMEOUT_MS = 10_000;

export interface ElevenLabsConfig {
  apiKey: string;
  baseUrl: string;
}

/** The configuration for ElevenLabs calls, or undefined when no API key is set. */
export function elevenLabsConfig(env: { ELEVENLABS_API_KEY?: string; ELEVENLABS_API_BASE_URL?: string }): ElevenLabsConfig | undefined {
  const apiKey = env.ELEVENLABS_API_KEY?.trim();
  if (!apiKey) return undefined;
  return { apiKey, baseUrl: (env.ELEVENLABS_API_BASE_URL || "https://api.elevenlabs.io").replace(/\/+$/, "") };
}

/** What an ElevenLabs lookup tells us that the voice object can use. */
export interface ProviderVoiceFacts {
  name?: string;
  gender?: string;
  language?: string;
  description?: string;
}

interface ElevenLabsVoice {
  voice_id: string;
  name?: string;
  description?: string | null;
  labels?: Record<string, string> | null;
  verified_languages?: { language?: string; locale?: string | null }[] | null;
}

const NOT_FOUND_STATUSES = new Set(["voice_not_found", "voice_does_not_exist"]);

async function detailStatus(res: Response): Promise<string | undefined> {
  try {
    const body = (await res.json()) as { detail?: { status?: string } };
    return body.detail?.status;
  } catch {
    return undefined;
  }
}

/**
 * `GET /v1/voices/{voice_id}` with `xi-api-key`. Maps the outcomes onto our errors:
 * unknown voice → 422 naming provider_voice_id, rejected key → 422 provider_not_configured,
 * anything else (5xx, timeout, network) → 502 provider_error.
 */
export async function lookupElevenLabsVoice(
  config: ElevenLabsConfig,
  voiceId: string,
  options: { fetcher?: typeof fetch; timeoutMs?: number } = {},
): Promise<ProviderVoiceFacts> {
  const fetcher = options.fetcher ?? fetch;
  let res: Response;
  try {
    res = await fetcher(`${config.baseUrl}/v1/voices/${encodeURIComponent(voiceId)}`, {
      headers: { "xi-api-key": config.apiKey, accept: "application/json" },
      signal: AbortSignal.timeout(options.timeoutMs ?? ELEVENLABS_LOOKUP_TIMEOUT_MS),
    });
  } catch (cause) {
    const timedOut = cause instanceof DOMException && cause.name === "TimeoutError";
    throw new ApiError("provider_error", timedOut ? "ElevenLabs did not answer in time" : "Could not reach ElevenLabs", {
      details: { provider: "elevenlabs" },
      cause,
    });
  }

  if (res.ok) {
    const voice = (await res.json()) as ElevenLabsVoice;
    const language = voice.verified_languages?.find((l) => l.locale)?.locale ?? undefined;
    return {
      name: voice.name,
      gender: voice.labels?.gender || undefined,
      language,
      description: voice.description || undefined,
    };
  }
  // Read on every failure, so the connection is released; older API versions answer an unknown
  // voice with 400 and the same detail status as today's 404.
  const status = await detailStatus(res);
  if (res.status === 404 || (res.status === 400 && NOT_FOUND_STATUSES.has(status ?? ""))) {
    throw invalidField("provider_voice_id", `ElevenLabs has no voice ${voiceId} available to this deployment's API key`);
  }
  if (res.status === 401 || res.status === 403) {
    throw new ApiError("provider_not_configured", "ElevenLabs rejected the deployment's API key (ELEVENLABS_API_KEY)", {
      details: { provider: "elevenlabs", provider_status: res.status },
    });
  }
  throw new ApiError("provider_error", `ElevenLabs answered ${res.status} while looking up the voice`, {
    details: { provider: "elevenlabs", provider_status: res.status },
  });
}

/**
 * Verifies a voice with its provider when that is possible. Returns what the provider said
 * (`verified: true`), or `verified: false` when the voice was accepted unchecked.
 */
export async function verifyProviderVoice(
  env: { ELEVENLABS_API_KEY?: string; ELEVENLABS_API_BASE_URL?: string },
  provider: string,
  providerVoiceId: string,
  options: { fetcher?: typeof fetch; timeoutMs?: number } = {},
): Promise<{ verified: true; facts: ProviderVoiceFacts } | { verified: false }> {
  if (provider !== "elevenlabs") return { verified: false };
  const config = elevenLabsConfig(env);
  if (!config) return { verified: false };
  return { verified: true, facts: await lookupElevenLabsVoice(config, providerVoiceId, options) };
}
