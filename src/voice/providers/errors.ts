/**
 * A speech or language provider failed in a way the call cannot recover from (refused
 * connection, 4xx/5xx, a stream cut mid-answer). The session ends the call with
 * `end_reason: provider_error` and logs `message`, which names the provider, the stage and what
 * it answered, so an operator can tell a bad key from an outage.
 */
export type ProviderStage = "stt" | "llm" | "tts";

export class ProviderError extends Error {
  override name = "ProviderError";
  constructor(
    readonly stage: ProviderStage,
    readonly provider: string,
    detail: string,
    readonly status?: number,
  ) {
    super(`${stage} provider ${provider}: ${detail}`);
  }
}

/** A ProviderError for a non-2xx answer, with the start of its body (providers explain themselves there). */
export async function providerHttpError(stage: ProviderStage, provider: string, what: string, res: Response): Promise<ProviderError> {
  let body = "";
  try {
    body = (await res.text()).slice(0, 300);
  } catch {
    // The body is only a hint.
  }
  return new ProviderError(stage, provider, `${what} answered HTTP ${res.status}${body ? `: ${body}` : ""}`, res.status);
}

/** The fetch was aborted on purpose (barge-in, hang-up): not a failure. */
export function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === "AbortError" || /aborted/i.test(error.message));
}
