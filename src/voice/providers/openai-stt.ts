/**
 * OpenAI-compatible batch transcription, the voice loop's STT fallback (agent `stt.provider:
 * "openai"`): one caller utterance cut out by the energy VAD (../utterances) per request.
 *
 *   POST `{base}/audio/transcriptions`, multipart/form-data:
 *     file            `<name>.wav`, a mono 16-bit PCM WAV at 8 kHz (the phone leg decoded from
 *                     μ-law: WAV is the one container every OpenAI-compatible server reads, and
 *                     8 kHz is what the line carries, so resampling up would add nothing)
 *     model           see openaiSttModel
 *     response_format json → `{text}`
 *     language        ISO-639-1 ("en"), when the agent has a language (see openaiSttLanguage)
 *
 * Failures: a network error, a timeout, 429 or 5xx is tried once more after a short pause (a
 * caller's turn is worth one retry, not a long backoff: they are waiting); any other answer, or a
 * second failure, is a ProviderError and the call ends with provider_error. Aborting `signal`
 * (the session closed) cancels the request and throws the AbortError, which the session expects.
 */
import { monoWavFromMulaw } from "../wav";
import { ProviderError, providerHttpError } from "./errors";

/** Used when the agent's model is not a transcription model an OpenAI-compatible server knows. */
export const DEFAULT_OPENAI_STT_MODEL = "gpt-4o-mini-transcribe";

/**
 * The model sent: the agent's `stt.model` as is, except Deepgram's model names (`nova-3`, the
 * agents' default, `nova-2-phonecall`, `enhanced`, `base`, `flux-…`), which an agent switched to
 * `provider: "openai"` keeps when its model is left alone. Those become gpt-4o-mini-transcribe:
 * OpenAI's cheaper, faster transcription model, more accurate than whisper-1 on phone audio.
 * Other names pass through, since OpenAI-compatible servers have their own (`whisper-large-v3`
 * on Groq, `Systran/faster-whisper-small` on speaches).
 */
export function openaiSttModel(model: string | null | undefined): string {
  const name = (model ?? "").trim();
  if (!name || /^(nova|enhanced|base|flux)(-|$)/i.test(name)) return DEFAULT_OPENAI_STT_MODEL;
  return name;
}

/**
 * The `language` sent: OpenAI takes ISO-639-1 only and answers 400 to a BCP-47 tag like "en-US"
 * (the form agents hold), so the primary subtag is sent; anything else ("multi", Deepgram's
 * multilingual mode, or a three-letter code) is left out and the model detects the language.
 */
export function openaiSttLanguage(language: string | null | undefined): string | null {
  const primary = (language ?? "").trim().split(/[-_]/)[0].toLowerCase();
  return /^[a-z]{2}$/.test(primary) ? primary : null;
}

export interface TranscriptionRequest {
  /** Includes `/v1`, as every OpenAI-compatible server expects (DESIGN.md). */
  baseUrl: string;
  apiKey: string | undefined;
  model: string;
  /** The agent's language (BCP-47 or ISO-639-1), or null to let the model detect it. */
  language: string | null;
  /** μ-law 8 kHz mono. */
  audio: Uint8Array;
  /** The upload's file name (must end in .wav); the session names it after the call and the utterance. */
  fileName: string;
  signal: AbortSignal;
  /** Per attempt, after which the attempt counts as a network failure (default 15 s). */
  timeoutMs?: number;
}

const RETRY_PAUSE_MS = 250;
const DEFAULT_TIMEOUT_MS = 15_000;

/** The transcribed text (trimmed; empty when the model heard no words). */
export async function transcribeUtterance(request: TranscriptionRequest): Promise<string> {
  const url = `${request.baseUrl.replace(/\/+$/, "")}/audio/transcriptions`;
  const wav = monoWavFromMulaw(request.audio);
  const language = openaiSttLanguage(request.language);
  for (let attempt = 1; ; attempt++) {
    const form = new FormData();
    form.append("file", new Blob([wav], { type: "audio/wav" }), request.fileName);
    form.append("model", request.model);
    form.append("response_format", "json");
    if (language) form.append("language", language);
    const answer = await attemptOnce(url, request, form);
    if (typeof answer === "string") return answer;
    const failure = answer;
    if (attempt >= 2 || !retryable(failure)) throw failure;
    await pause(RETRY_PAUSE_MS, request.signal);
  }
}

function retryable(error: ProviderError): boolean {
  return error.status === undefined || error.status === 429 || error.status >= 500;
}

/**
 * One request: the text, or the failure to judge. Throws only when `signal` was aborted; a
 * failure without a status (network, timeout) is the retryable kind.
 */
async function attemptOnce(url: string, request: TranscriptionRequest, form: FormData): Promise<string | ProviderError> {
  const timeoutMs = request.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const controller = new AbortController();
  const onAbort = () => controller.abort(request.signal.reason);
  if (request.signal.aborted) onAbort();
  else request.signal.addEventListener("abort", onAbort, { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error("timed out"));
  }, timeoutMs);
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: request.apiKey ? { authorization: `Bearer ${request.apiKey}` } : {},
      body: form,
      // The base URL may be an agent's: a redirect could lead past the URL policy, so it is an error answer.
      redirect: "manual",
      signal: controller.signal,
    });
    if (!res.ok) return await providerHttpError("stt", "openai", "audio transcriptions", res);
    const raw = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return new ProviderError("stt", "openai", `audio transcriptions answered HTTP ${res.status} without JSON: ${raw.slice(0, 200)}`, res.status);
    }
    const text = (body as { text?: unknown } | null)?.text;
    if (typeof text !== "string") return new ProviderError("stt", "openai", `audio transcriptions answered without a text: ${JSON.stringify(body).slice(0, 200)}`, res.status);
    return text.trim();
  } catch (error) {
    if (request.signal.aborted) throw error;
    const what = timedOut ? `no answer within ${timeoutMs / 1000} s` : String(error);
    return new ProviderError("stt", "openai", `request to ${url} failed: ${what}`);
  } finally {
    clearTimeout(timer);
    request.signal.removeEventListener("abort", onAbort);
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason ?? new DOMException("The operation was aborted", "AbortError"));
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason ?? new DOMException("The operation was aborted", "AbortError"));
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
