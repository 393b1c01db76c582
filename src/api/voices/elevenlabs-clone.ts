import { ApiError } from "../../lib/errors";
import type { ElevenLabsConfig } from "./provider-voices";

/**
 * ElevenLabs instant voice cloning: `POST /v1/voices/add` as multipart/form-data with `name`,
 * one `files` part per sample, and optional `description`, `labels` (a JSON object serialized as
 * a string) and `remove_background_noise`; authenticated with `xi-api-key`. It answers 200
 * `{voice_id, requires_verification}`. Errors come as `{detail:{status, message}}` (400/401/…) or
 * FastAPI's `{detail:[{loc, msg, type}]}` (422).
 */

/** An upload of up to 25 MB may take a while to go up and be processed. */
export const ELEVENLABS_CLONE_TIMEOUT_MS = 120_000;
const ERROR_EXCERPT_CHARS = 500;

export interface CloneRequest {
  name: string;
  description?: string | null;
  labels?: Record<string, string>;
  removeBackgroundNoise: boolean;
  files: { filename: string; contentType: string; body: Blob | Uint8Array | ArrayBuffer }[];
}

export type AddVoiceOutcome =
  | { kind: "created"; voiceId: string; requiresVerification: boolean }
  /** ElevenLabs refused the request itself: sending it again would be refused again. */
  | { kind: "rejected"; message: string; providerStatus: number }
  /** A 5xx, a 429, a timeout or no answer: worth another attempt later. */
  | { kind: "transient"; message: string; retryAfterSeconds?: number };

type Fetcher = typeof fetch;

/** The most useful sentence in an ElevenLabs error body, whichever of its shapes it has. */
export async function elevenLabsErrorMessage(res: Response): Promise<string | undefined> {
  let text: string;
  try {
    text = await res.text();
  } catch {
    return undefined;
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return text.trim().slice(0, ERROR_EXCERPT_CHARS) || undefined;
  }
  const detail = (body as { detail?: unknown })?.detail;
  if (typeof detail === "string") return detail.slice(0, ERROR_EXCERPT_CHARS);
  if (Array.isArray(detail)) {
    const parts = detail.map((d: { msg?: unknown; loc?: unknown }) => {
      const where = Array.isArray(d?.loc) ? d.loc.filter((l) => l !== "body").join(".") : "";
      return [where, typeof d?.msg === "string" ? d.msg : ""].filter(Boolean).join(": ");
    });
    return parts.filter(Boolean).join("; ").slice(0, ERROR_EXCERPT_CHARS) || undefined;
  }
  if (detail && typeof detail === "object") {
    const { message, status } = detail as { message?: unknown; status?: unknown };
    if (typeof message === "string" && message) return message.slice(0, ERROR_EXCERPT_CHARS);
    if (typeof status === "string") return status;
  }
  return text.slice(0, ERROR_EXCERPT_CHARS);
}

function retryAfterSeconds(header: string | null): number | undefined {
  if (!header || !/^\d+$/.test(header.trim())) return undefined;
  return Number(header.trim());
}

function isTimeout(cause: unknown): boolean {
  return cause instanceof Error && (cause.name === "TimeoutError" || cause.name === "AbortError");
}

/** Creates the voice at ElevenLabs. Never throws for what ElevenLabs or the network did. */
export async function addElevenLabsVoice(
  config: ElevenLabsConfig,
  request: CloneRequest,
  options: { fetcher?: Fetcher; timeoutMs?: number } = {},
): Promise<AddVoiceOutcome> {
  const form = new FormData();
  form.append("name", request.name);
  for (const file of request.files) {
    const blob = file.body instanceof Blob ? file.body : new Blob([file.body], { type: file.contentType });
    form.append("files", new File([blob], file.filename, { type: file.contentType }));
  }
  if (request.description) form.append("description", request.description);
  if (request.labels && Object.keys(request.labels).length > 0) form.append("labels", JSON.stringify(request.labels));
  form.append("remove_background_noise", request.removeBackgroundNoise ? "true" : "false");

  const timeoutMs = options.timeoutMs ?? ELEVENLABS_CLONE_TIMEOUT_MS;
  let res: Response;
  try {
    res = await (options.fetcher ?? fetch)(`${config.baseUrl}/v1/voices/add`, {
      method: "POST",
      headers: { "xi-api-key": config.apiKey, accept: "application/json" },
      body: form,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (cause) {
    return {
      kind: "transient",
      message: isTimeout(cause) ? `ElevenLabs did not answer within ${timeoutMs / 1000} s` : `Could not reach ElevenLabs: ${String(cause)}`,
    };
  }

  if (res.ok) {
    let body: { voice_id?: unknown; requires_verification?: unknown };
    try {
      body = await res.json();
    } catch {
      return { kind: "rejected", providerStatus: res.status, message: "ElevenLabs answered the clone request with a body that is not JSON" };
    }
    if (typeof body.voice_id !== "string" || body.voice_id === "") {
      return { kind: "rejected", providerStatus: res.status, message: "ElevenLabs answered the clone request without a voice_id" };
    }
    return { kind: "created", voiceId: body.voice_id, requiresVerification: body.requires_verification === true };
  }

  const detail = await elevenLabsErrorMessage(res);
  const said = detail ? `: ${detail}` : "";
  if (res.status >= 500 || res.status === 429 || res.status === 408) {
    return { kind: "transient", message: `ElevenLabs answered ${res.status}${said}`, retryAfterSeconds: retryAfterSeconds(res.headers.get("retry-after")) };
  }
  if (res.status === 401 || res.status === 403) {
    return { kind: "rejected", providerStatus: res.status, message: `ElevenLabs rejected the deployment's API key (ELEVENLABS_API_KEY)${said}` };
  }
  return { kind: "rejected", providerStatus: res.status, message: `ElevenLabs refused the samples (${res.status})${said}` };
}

/**
 * `DELETE /v1/voices/{voice_id}`: removes a cloned voice from the deployment's ElevenLabs account.
 * A voice ElevenLabs no longer has counts as deleted; anything else that fails is 502 provider_error.
 */
export async function deleteElevenLabsVoice(
  config: ElevenLabsConfig,
  voiceId: string,
  options: { fetcher?: Fetcher; timeoutMs?: number } = {},
): Promise<"deleted" | "already_gone"> {
  let res: Response;
  try {
    res = await (options.fetcher ?? fetch)(`${config.baseUrl}/v1/voices/${encodeURIComponent(voiceId)}`, {
      method: "DELETE",
      headers: { "xi-api-key": config.apiKey, accept: "application/json" },
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
  } catch (cause) {
    throw new ApiError("provider_error", "Could not reach ElevenLabs to delete the cloned voice; try again", { details: { provider: "elevenlabs" }, cause });
  }
  const detail = await elevenLabsErrorMessage(res);
  if (res.ok) return "deleted";
  if (res.status === 404) return "already_gone";
  throw new ApiError("provider_error", `ElevenLabs answered ${res.status} while deleting the cloned voice${detail ? `: ${detail}` : ""}; try again`, {
    details: { provider: "elevenlabs", provider_status: res.status },
  });
}
