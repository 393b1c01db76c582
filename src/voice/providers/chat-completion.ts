/**
 * One non-streaming OpenAI-compatible chat completion (POST `{base}/chat/completions`,
 * `stream: false`) answered as a JSON object (`response_format: {type: "json_object"}`, which
 * every OpenAI-compatible server that does JSON mode understands, whatever schema the caller
 * checks the answer against). Used by the post-call analysis; the voice loop streams instead
 * (./llm.ts).
 */
import { ProviderError, providerHttpError } from "./errors";
import { postChatCompletions } from "./llm";

export interface JsonCompletionRequest {
  /** Includes `/v1`, as every OpenAI-compatible server expects (DESIGN.md). */
  baseUrl: string;
  /** Undefined: no Authorization header (src/domain/llm-endpoint.ts decides). */
  apiKey: string | undefined;
  model: string;
  messages: { role: "system" | "user" | "assistant"; content: string }[];
  maxTokens?: number;
  timeoutMs?: number;
}

export interface JsonCompletion {
  /** The assistant message's text (the caller parses and checks it). */
  content: string;
  finishReason: string | null;
}

const DEFAULT_TIMEOUT_MS = 60_000;

/**
 * Throws ProviderError: with the HTTP status for an error answer (so callers can tell a retryable
 * 429/5xx from a request that will never succeed), without one for a network failure or timeout.
 */
export async function completeJson(request: JsonCompletionRequest): Promise<JsonCompletion> {
  let res: Response;
  try {
    res = await postChatCompletions(
      request.baseUrl,
      request.apiKey,
      {
        model: request.model,
        messages: request.messages,
        stream: false,
        temperature: 0,
        max_tokens: request.maxTokens ?? 1500,
        response_format: { type: "json_object" },
      },
      AbortSignal.timeout(request.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    );
  } catch (error) {
    throw new ProviderError("llm", "openai", `request to ${request.baseUrl} failed: ${String(error)}`);
  }
  if (!res.ok) throw await providerHttpError("llm", "openai", "chat completions", res);
  let body: { choices?: { message?: { content?: unknown }; finish_reason?: unknown }[] };
  try {
    body = await res.json();
  } catch (error) {
    throw new ProviderError("llm", "openai", `chat completions answered something that is not JSON: ${String(error)}`);
  }
  const choice = body.choices?.[0];
  if (!choice || typeof choice.message?.content !== "string") {
    throw new ProviderError("llm", "openai", "chat completions answered without a message content");
  }
  return { content: choice.message.content, finishReason: typeof choice.finish_reason === "string" ? choice.finish_reason : null };
}
