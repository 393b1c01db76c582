/**
 * Accumulates an OpenAI-compatible Chat Completions stream (realtime.md §3) into events a voice
 * turn can act on as they happen: text deltas (to feed the clause splitter and TTS), assembled
 * tool calls, the finish reason and the usage chunk.
 *
 * Tool calls arrive as fragments keyed by `index` (parallel calls use several indexes): `id` and
 * `function.name` in the first fragment, `function.arguments` as a JSON string accreting across
 * fragments. Arguments are parsed only once the choice finishes, since any prefix is invalid JSON.
 * Hosts vary, so the code is lenient where that is harmless: a whole call in one chunk, a missing
 * `index` (array position is used), `arguments` sent as an object, `finish_reason:"stop"` with
 * tool calls, no `[DONE]` after a finish reason, or usage inside the last choice chunk.
 */
import { type SseEvent, SseParser } from "./sse";

export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter" | "function_call" | (string & {});

export interface ChatUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
  [key: string]: unknown;
}

export type ParsedArguments = { ok: true; value: unknown } | { ok: false; error: string };

export interface AssembledToolCall {
  index: number;
  id: string;
  type: "function";
  function: { name: string; arguments: string };
  /** JSON.parse of `function.arguments` ("" counts as {}); a model can emit invalid JSON, which is reported, not thrown. */
  parsed: ParsedArguments;
}

export type LlmStreamEvent =
  | { type: "text"; text: string }
  | { type: "tool_calls"; calls: AssembledToolCall[] }
  | { type: "finish"; reason: FinishReason }
  | { type: "usage"; usage: ChatUsage }
  | { type: "done" };

/** The stream cannot be trusted any more: malformed data, a provider error event, or a truncated body. */
export class LlmStreamError extends Error {
  override name = "LlmStreamError";
}

/** The assistant message to append to history after the turn (realtime.md §3). */
export interface AssistantMessage {
  role: "assistant";
  content: string | null;
  tool_calls?: { id: string; type: "function"; function: { name: string; arguments: string } }[];
}

interface PartialCall {
  index: number;
  id: string;
  name: string;
  arguments: string;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function preview(data: string): string {
  return data.length > 120 ? `${data.slice(0, 120)}…` : data;
}

export class ChatStreamAccumulator {
  #sse = new SseParser();
  #eventCount = 0;
  #text = "";
  #calls = new Map<number, PartialCall>();
  #assembled: AssembledToolCall[] | null = null;
  #finishReason: FinishReason | null = null;
  #usage: ChatUsage | null = null;
  #done = false;

  get text(): string {
    return this.#text;
  }
  get finishReason(): FinishReason | null {
    return this.#finishReason;
  }
  get usage(): ChatUsage | null {
    return this.#usage;
  }
  /** Tool calls in index order, once the choice has finished ([] before that or when there were none). */
  get toolCalls(): AssembledToolCall[] {
    return this.#assembled ?? [];
  }
  /** `[DONE]` was seen. Anything after it is ignored. */
  get done(): boolean {
    return this.#done;
  }

  /** Raw response-body bytes, split anywhere. */
  pushBytes(chunk: Uint8Array | string): LlmStreamEvent[] {
    return this.#events(this.#sse.push(chunk));
  }

  /**
   * End of the response body. Throws if the stream stopped before any finish reason or `[DONE]`
   * (a cut connection must not look like a complete answer).
   */
  end(): LlmStreamEvent[] {
    const out = this.#events(this.#sse.end());
    if (!this.#done) {
      if (this.#finishReason === null) throw new LlmStreamError("LLM stream ended without a finish_reason or [DONE]");
      out.push(...this.#finishToolCalls());
    }
    return out;
  }

  /** One SSE `data` payload: a JSON chunk or `[DONE]`. */
  pushData(data: string): LlmStreamEvent[] {
    if (this.#done) return [];
    this.#eventCount++;
    if (data.trim() === "[DONE]") {
      this.#done = true;
      return [...this.#finishToolCalls(), { type: "done" }];
    }
    let chunk: unknown;
    try {
      chunk = JSON.parse(data);
    } catch (err) {
      throw new LlmStreamError(`malformed JSON in LLM stream event #${this.#eventCount}: ${(err as Error).message}; data: ${JSON.stringify(preview(data))}`);
    }
    return this.pushChunk(chunk);
  }

  /** One parsed `chat.completion.chunk`. */
  pushChunk(chunk: unknown): LlmStreamEvent[] {
    if (this.#done) return [];
    if (!isObject(chunk)) throw new LlmStreamError(`LLM stream event #${this.#eventCount} is not a JSON object: ${preview(JSON.stringify(chunk) ?? String(chunk))}`);
    if (chunk.error !== undefined && chunk.error !== null) {
      const message = isObject(chunk.error) && typeof chunk.error.message === "string" ? chunk.error.message : JSON.stringify(chunk.error);
      throw new LlmStreamError(`LLM provider error in stream: ${message}`);
    }
    const out: LlmStreamEvent[] = [];
    const choices = Array.isArray(chunk.choices) ? chunk.choices : [];
    // Only the first choice matters for a voice turn (n=1); others are ignored.
    const choice = choices.find((c): c is Json => isObject(c) && (c.index === undefined || c.index === 0));
    if (choice) {
      const delta = isObject(choice.delta) ? choice.delta : isObject(choice.message) ? choice.message : {};
      if (typeof delta.content === "string" && delta.content.length > 0) {
        this.#text += delta.content;
        out.push({ type: "text", text: delta.content });
      }
      if (Array.isArray(delta.tool_calls)) delta.tool_calls.forEach((fragment, position) => this.#fragment(fragment, position));
      if (typeof choice.finish_reason === "string" && this.#finishReason === null) {
        this.#finishReason = choice.finish_reason;
        out.push(...this.#finishToolCalls(), { type: "finish", reason: choice.finish_reason });
      }
    }
    if (isObject(chunk.usage)) {
      this.#usage = chunk.usage as ChatUsage;
      out.push({ type: "usage", usage: this.#usage });
    }
    return out;
  }

  /** The assistant message for history: text, plus tool_calls when the model called tools. */
  assistantMessage(): AssistantMessage {
    const calls = this.toolCalls;
    if (calls.length === 0) return { role: "assistant", content: this.#text };
    return {
      role: "assistant",
      content: this.#text.length > 0 ? this.#text : null,
      tool_calls: calls.map((c) => ({ id: c.id, type: "function", function: { ...c.function } })),
    };
  }

  #events(events: SseEvent[]): LlmStreamEvent[] {
    const out: LlmStreamEvent[] = [];
    for (const e of events) {
      if (e.event === "error") throw new LlmStreamError(`LLM provider error event: ${preview(e.data)}`);
      out.push(...this.pushData(e.data));
    }
    return out;
  }

  #fragment(fragment: unknown, position: number): void {
    if (!isObject(fragment)) return;
    if (this.#assembled) throw new LlmStreamError("tool call fragment after the choice finished");
    const index = typeof fragment.index === "number" ? fragment.index : position;
    let call = this.#calls.get(index);
    if (!call) {
      call = { index, id: "", name: "", arguments: "" };
      this.#calls.set(index, call);
    }
    // Some hosts repeat id/name on every fragment: keep the first, never concatenate them.
    if (typeof fragment.id === "string" && fragment.id && !call.id) call.id = fragment.id;
    const fn = isObject(fragment.function) ? fragment.function : {};
    if (typeof fn.name === "string" && fn.name && !call.name) call.name = fn.name;
    if (typeof fn.arguments === "string") call.arguments += fn.arguments;
    else if (isObject(fn.arguments)) call.arguments += JSON.stringify(fn.arguments);
  }

  /** Assembles and parses the calls once (at the finish reason, or at [DONE]/end if none came). */
  #finishToolCalls(): LlmStreamEvent[] {
    if (this.#assembled) return [];
    this.#assembled = [...this.#calls.values()]
      .sort((a, b) => a.index - b.index)
      .map((c) => ({
        index: c.index,
        id: c.id || `call_${c.index}`,
        type: "function" as const,
        function: { name: c.name, arguments: c.arguments },
        parsed: parseArguments(c.arguments),
      }));
    return this.#assembled.length > 0 ? [{ type: "tool_calls", calls: this.#assembled }] : [];
  }
}

function parseArguments(args: string): ParsedArguments {
  if (args.trim() === "") return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(args) };
  } catch (err) {
    return { ok: false, error: `invalid tool arguments JSON: ${(err as Error).message}` };
  }
}
