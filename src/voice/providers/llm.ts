/**
 * OpenAI-compatible streaming chat completions (realtime.md §3): POST `{base}/chat/completions`
 * with `stream: true`, the body read event by event through ChatStreamAccumulator so text
 * deltas reach the clause splitter as they arrive. Aborting `signal` (barge-in) cancels the
 * fetch; the read loop then throws the AbortError, which the session expects.
 */
import { ChatStreamAccumulator, LlmStreamError, type LlmStreamEvent } from "../llm-stream";
import type { FunctionTool } from "../../domain/tool-calls";
import { ProviderError, providerHttpError } from "./errors";

/** A tool call as the assistant message that made it carries it (realtime.md §3). */
export interface ChatToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

export type ChatMessage =
  | { role: "system" | "user"; content: string }
  | { role: "assistant"; content: string | null; tool_calls?: ChatToolCall[] }
  | { role: "tool"; tool_call_id: string; content: string };

export interface ChatRequest {
  /** Includes `/v1`, as every OpenAI-compatible server expects (DESIGN.md). */
  baseUrl: string;
  /** Undefined: no Authorization header (a self-hosted server; src/domain/llm-endpoint.ts decides). */
  apiKey: string | undefined;
  model: string;
  temperature: number;
  messages: ChatMessage[];
  signal: AbortSignal;
  /** Spoken answers are short; this bounds a runaway one. */
  maxTokens?: number;
  /** Functions the model may call; omitted when there are none. */
  tools?: FunctionTool[];
  /** "none" lets the model only speak (the last tool round of a turn). */
  toolChoice?: "auto" | "none";
}

/** POSTs a chat-completions request to an OpenAI-compatible server (streaming or not); without a key, with no Authorization header. */
export function postChatCompletions(baseUrl: string, apiKey: string | undefined, body: Record<string, unknown>, signal: AbortSignal): Promise<Response> {
  return fetch(`${baseUrl.replace(/\/+$/, "")}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
    body: JSON.stringify(body),
    // The base URL may be an agent's (checked by the URL policy): a redirect could lead past that check, so it is an error answer.
    redirect: "manual",
    signal,
  });
}

export async function* streamChat(request: ChatRequest): AsyncGenerator<LlmStreamEvent> {
  let res: Response;
  try {
    res = await postChatCompletions(
      request.baseUrl,
      request.apiKey,
      {
        model: request.model,
        messages: request.messages,
        stream: true,
        stream_options: { include_usage: true },
        temperature: request.temperature,
        max_tokens: request.maxTokens ?? 400,
        ...(request.tools?.length ? { tools: request.tools, tool_choice: request.toolChoice ?? "auto" } : {}),
      },
      request.signal,
    );
  } catch (error) {
    if (request.signal.aborted) throw error;
    throw new ProviderError("llm", "openai", `request to ${request.baseUrl} failed: ${String(error)}`);
  }
  if (!res.ok || !res.body) throw await providerHttpError("llm", "openai", "chat completions", res);
  const accumulator = new ChatStreamAccumulator();
  const reader = res.body.getReader();
  try {
    for (;;) {
      let read: ReadableStreamReadResult<Uint8Array>;
      try {
        read = await reader.read();
      } catch (error) {
        if (request.signal.aborted) throw error;
        throw new ProviderError("llm", "openai", `stream broke off: ${String(error)}`);
      }
      if (read.done) break;
      yield* parse(() => accumulator.pushBytes(read.value));
      if (accumulator.done) break;
    }
    if (!accumulator.done) yield* parse(() => accumulator.end());
  } finally {
    reader.cancel().catch(() => {});
  }
}

function parse(step: () => LlmStreamEvent[]): LlmStreamEvent[] {
  try {
    return step();
  } catch (error) {
    if (error instanceof LlmStreamError) throw new ProviderError("llm", "openai", error.message);
    throw error;
  }
}
