import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ChatStreamAccumulator, type LlmStreamEvent, LlmStreamError } from "../../src/voice/llm-stream";

const enc = new TextEncoder();

function chunk(delta: object, finish: string | null = null, extra: object = {}): string {
  return JSON.stringify({
    id: "chatcmpl-1",
    object: "chat.completion.chunk",
    created: 1730000000,
    model: "gpt-4o-mini",
    choices: [{ index: 0, delta, finish_reason: finish }],
    ...extra,
  });
}

function sse(...datas: string[]): string {
  return datas.map((d) => `data: ${d}\n\n`).join("");
}

const USAGE = { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 };
const usageChunk = JSON.stringify({ id: "chatcmpl-1", object: "chat.completion.chunk", choices: [], usage: USAGE });

function run(input: string | Uint8Array[]): { events: LlmStreamEvent[]; acc: ChatStreamAccumulator } {
  const acc = new ChatStreamAccumulator();
  const parts = typeof input === "string" ? [enc.encode(input)] : input;
  const events = [...parts.flatMap((p) => acc.pushBytes(p)), ...acc.end()];
  return { events, acc };
}

/** A recorded stream with text, parallel tool calls, comments, CRLF framing and non-ASCII text. */
const RECORDED = [
  ": OPENROUTER PROCESSING\r\n\r\n",
  `data: ${chunk({ role: "assistant", content: "" })}\r\n\r\n`,
  `data: ${chunk({ content: "Let me check — " })}\n\n`,
  `data: ${chunk({ content: "un momento 🙂." })}\n\n`,
  `data: ${chunk({ tool_calls: [{ index: 0, id: "call_A", type: "function", function: { name: "check_availability", arguments: "" } }] })}\n\n`,
  `data: ${chunk({ tool_calls: [{ index: 1, id: "call_B", type: "function", function: { name: "lookup_customer", arguments: '{"ph' } }] })}\n\n`,
  `data: ${chunk({ tool_calls: [{ index: 0, function: { arguments: '{"date":' } }] })}\n\n`,
  `data: ${chunk({ tool_calls: [{ index: 1, function: { arguments: 'one":"+1555"}' } }] })}\n\n`,
  `: keep-alive\n\n`,
  `data: ${chunk({ tool_calls: [{ index: 0, function: { arguments: '"2026-12-01"}' } }] })}\n\n`,
  `data: ${chunk({}, "tool_calls")}\n\n`,
  `data: ${usageChunk}\n\n`,
  "data: [DONE]\n\n",
].join("");

const RECORDED_EVENTS: LlmStreamEvent[] = [
  { type: "text", text: "Let me check — " },
  { type: "text", text: "un momento 🙂." },
  {
    type: "tool_calls",
    calls: [
      {
        index: 0,
        id: "call_A",
        type: "function",
        function: { name: "check_availability", arguments: '{"date":"2026-12-01"}' },
        parsed: { ok: true, value: { date: "2026-12-01" } },
      },
      {
        index: 1,
        id: "call_B",
        type: "function",
        function: { name: "lookup_customer", arguments: '{"phone":"+1555"}' },
        parsed: { ok: true, value: { phone: "+1555" } },
      },
    ],
  },
  { type: "finish", reason: "tool_calls" },
  { type: "usage", usage: USAGE },
  { type: "done" },
];

describe("ChatStreamAccumulator", () => {
  it("yields text deltas, finish reason, usage and done for a plain answer", () => {
    const { events, acc } = run(
      sse(chunk({ role: "assistant", content: null }), chunk({ content: "Hel" }), chunk({ content: "lo!" }), chunk({}, "stop"), usageChunk, "[DONE]"),
    );
    expect(events).toEqual([
      { type: "text", text: "Hel" },
      { type: "text", text: "lo!" },
      { type: "finish", reason: "stop" },
      { type: "usage", usage: USAGE },
      { type: "done" },
    ]);
    expect(acc.text).toBe("Hello!");
    expect(acc.finishReason).toBe("stop");
    expect(acc.usage).toEqual(USAGE);
    expect(acc.done).toBe(true);
    expect(acc.toolCalls).toEqual([]);
    expect(acc.assistantMessage()).toEqual({ role: "assistant", content: "Hello!" });
  });

  it("assembles parallel tool calls by index and parses arguments only at the finish", () => {
    const acc = new ChatStreamAccumulator();
    const before = RECORDED.indexOf(`data: ${chunk({}, "tool_calls")}`);
    const early = acc.pushBytes(enc.encode(RECORDED.slice(0, before)));
    expect(early.filter((e) => e.type === "tool_calls")).toEqual([]);
    expect(acc.toolCalls).toEqual([]);
    const rest = [...acc.pushBytes(enc.encode(RECORDED.slice(before))), ...acc.end()];
    expect([...early, ...rest]).toEqual(RECORDED_EVENTS);
    expect(acc.assistantMessage()).toEqual({
      role: "assistant",
      content: "Let me check — un momento 🙂.",
      tool_calls: [
        { id: "call_A", type: "function", function: { name: "check_availability", arguments: '{"date":"2026-12-01"}' } },
        { id: "call_B", type: "function", function: { name: "lookup_customer", arguments: '{"phone":"+1555"}' } },
      ],
    });
  });

  it("gives identical results at every single split point of the recorded stream", () => {
    const bytes = enc.encode(RECORDED);
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(run([bytes.slice(0, cut), bytes.slice(cut)]).events).toEqual(RECORDED_EVENTS);
    }
  });

  it("gives identical results for random multi-way splits", () => {
    const bytes = enc.encode(RECORDED);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: bytes.length }), { maxLength: 30 }), (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), bytes.length];
        const parts = points.slice(1).map((p, i) => bytes.slice(points[i], p));
        expect(run(parts).events).toEqual(RECORDED_EVENTS);
      }),
      { seed: 8675309, numRuns: 300 },
    );
  });

  it("tolerates a whole tool call, finish reason included, in one chunk", () => {
    const one = chunk({ content: null, tool_calls: [{ index: 0, id: "call_X", type: "function", function: { name: "end_call", arguments: '{"reason":"done"}' } }] }, "tool_calls");
    const { events, acc } = run(sse(one, "[DONE]"));
    expect(events).toEqual([
      {
        type: "tool_calls",
        calls: [{ index: 0, id: "call_X", type: "function", function: { name: "end_call", arguments: '{"reason":"done"}' }, parsed: { ok: true, value: { reason: "done" } } }],
      },
      { type: "finish", reason: "tool_calls" },
      { type: "done" },
    ]);
    expect(acc.assistantMessage().content).toBeNull();
  });

  it("is lenient with hosts that omit index, repeat ids, send object arguments or finish with 'stop'", () => {
    const { events } = run(
      sse(
        chunk({ tool_calls: [{ id: "c1", function: { name: "a", arguments: '{"x":' } }, { id: "c2", function: { name: "b", arguments: { y: 2 } } }] }),
        chunk({ tool_calls: [{ index: 0, id: "c1", function: { name: "a", arguments: "1}" } }] }),
        chunk({}, "stop"),
      ),
    );
    expect(events).toEqual([
      {
        type: "tool_calls",
        calls: [
          { index: 0, id: "c1", type: "function", function: { name: "a", arguments: '{"x":1}' }, parsed: { ok: true, value: { x: 1 } } },
          { index: 1, id: "c2", type: "function", function: { name: "b", arguments: '{"y":2}' }, parsed: { ok: true, value: { y: 2 } } },
        ],
      },
      { type: "finish", reason: "stop" },
    ]);
  });

  it("reports invalid or empty tool arguments without throwing", () => {
    const { events } = run(
      sse(
        chunk({ tool_calls: [{ index: 0, function: { name: "broken", arguments: '{"date": 2026-' } }, { index: 1, id: "c", function: { name: "noargs" } }] }, "tool_calls"),
        "[DONE]",
      ),
    );
    const calls = (events[0] as Extract<LlmStreamEvent, { type: "tool_calls" }>).calls;
    expect(calls[0].id).toBe("call_0"); // no id from the host: a stable fallback for tool_call_id
    expect(calls[0].parsed.ok).toBe(false);
    expect(calls[0].parsed).toMatchObject({ error: expect.stringMatching(/^invalid tool arguments JSON: /) });
    expect(calls[1].parsed).toEqual({ ok: true, value: {} });
  });

  it("throws a clear error on a malformed JSON data line", () => {
    const acc = new ChatStreamAccumulator();
    acc.pushBytes(enc.encode(sse(chunk({ content: "Hi" }))));
    expect(() => acc.pushBytes(enc.encode('data: {"choices":[{"delta":{"content":"x"}\n\n'))).toThrow(LlmStreamError);
    const again = new ChatStreamAccumulator();
    again.pushBytes(enc.encode(sse(chunk({ content: "Hi" }))));
    expect(() => again.pushBytes(enc.encode("data: not json\n\n"))).toThrow(/^malformed JSON in LLM stream event #2: .*; data: "not json"$/);
  });

  it("throws on provider error payloads and error events", () => {
    expect(() => run(sse(JSON.stringify({ error: { message: "Rate limit reached", type: "rate_limit" } })))).toThrow("LLM provider error in stream: Rate limit reached");
    expect(() => run('event: error\ndata: {"type":"overloaded"}\n\n')).toThrow(/LLM provider error event/);
    expect(() => run(sse("[1,2]"))).toThrow(/not a JSON object/);
  });

  it("ends at [DONE] and ignores anything after it", () => {
    const { events, acc } = run(sse(chunk({ content: "A" }), chunk({}, "stop"), "[DONE]", chunk({ content: "late" }), "garbage"));
    expect(events).toEqual([{ type: "text", text: "A" }, { type: "finish", reason: "stop" }, { type: "done" }]);
    expect(acc.text).toBe("A");
  });

  it("accepts a stream without [DONE] once a finish reason came, but not a cut-off one", () => {
    expect(run(sse(chunk({ content: "A" }), chunk({}, "length"))).events).toEqual([{ type: "text", text: "A" }, { type: "finish", reason: "length" }]);
    expect(() => run(sse(chunk({ content: "A" })))).toThrow("LLM stream ended without a finish_reason or [DONE]");
  });

  it("ignores empty/null content, other choices and a repeated finish reason", () => {
    const multi = JSON.stringify({
      choices: [
        { index: 1, delta: { content: "other" }, finish_reason: null },
        { index: 0, delta: { content: "mine" }, finish_reason: null },
      ],
    });
    const usageInLast = chunk({}, "stop", { usage: USAGE });
    const { events } = run(sse(chunk({ content: null }), chunk({ content: "" }), multi, usageInLast, chunk({}, "stop"), "[DONE]"));
    expect(events).toEqual([
      { type: "text", text: "mine" },
      { type: "finish", reason: "stop" },
      { type: "usage", usage: USAGE },
      { type: "done" },
    ]);
  });
});
