import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type SseEvent, SseParser } from "../../src/voice/sse";

const enc = new TextEncoder();

function parseAll(chunks: (Uint8Array | string)[]): SseEvent[] {
  const p = new SseParser();
  return [...chunks.flatMap((c) => p.push(c)), ...p.end()];
}

function splitBytes(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.slice(prev, p));
    prev = p;
  }
  return out;
}

describe("SseParser", () => {
  it("parses data events separated by blank lines", () => {
    expect(parseAll(["data: a\n\ndata: b\n\n"])).toEqual([
      { event: "message", data: "a" },
      { event: "message", data: "b" },
    ]);
  });

  it("accepts \\r\\n and lone \\r line endings", () => {
    expect(parseAll(["data: a\r\n\r\ndata: b\r\rdata: c\n\n"])).toEqual([
      { event: "message", data: "a" },
      { event: "message", data: "b" },
      { event: "message", data: "c" },
    ]);
  });

  it("does not see a blank line when a CRLF is split between chunks", () => {
    expect(parseAll(["data: a\r", "\ndata: b\r", "\n\r", "\n"])).toEqual([{ event: "message", data: "a\nb" }]);
  });

  it("ignores comment and keep-alive lines", () => {
    expect(parseAll([": keep-alive\n\n:\n: OPENROUTER PROCESSING\n\ndata: x\n: inside\n\n"])).toEqual([{ event: "message", data: "x" }]);
  });

  it("joins multi-line data with \\n and strips only one leading space", () => {
    expect(parseAll(["data:no-space\ndata:  two\ndata\n\n"])).toEqual([{ event: "message", data: "no-space\n two\n" }]);
  });

  it("reads event, id and retry fields; ignores unknown fields and data-less events", () => {
    expect(parseAll(["event: error\nid: 7\nretry: 1500\nfoo: bar\ndata: {}\n\nevent: ping\n\ndata: y\n\n"])).toEqual([
      { event: "error", data: "{}", id: "7", retry: 1500 },
      { event: "message", data: "y", id: "7" },
    ]);
  });

  it("strips a UTF-8 BOM and survives multi-byte characters split across chunks", () => {
    const bytes = enc.encode("\uFEFFdata: héllo 👋 — ok\n\n");
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(parseAll([bytes.slice(0, cut), bytes.slice(cut)])).toEqual([{ event: "message", data: "héllo 👋 — ok" }]);
    }
  });

  it("dispatches a final event lacking the closing blank line at end()", () => {
    const p = new SseParser();
    expect(p.push("data: 1\n\ndata: [DONE]")).toEqual([{ event: "message", data: "1" }]);
    expect(p.end()).toEqual([{ event: "message", data: "[DONE]" }]);
    expect(parseAll(["data: 1\n\n: trailing comment"])).toEqual([{ event: "message", data: "1" }]);
  });

  it("gives identical events for any chunking of a mixed stream", () => {
    const stream = enc.encode(
      ': hi\r\n\r\ndata: {"a":"ü"}\r\n\r\nevent: x\ndata: 1\ndata: 2\n\n\rdata: 😀\r\rdata: [DONE]\n\n',
    );
    const whole = parseAll([stream]);
    expect(whole).toEqual([
      { event: "message", data: '{"a":"ü"}' },
      { event: "x", data: "1\n2" },
      { event: "message", data: "😀" },
      { event: "message", data: "[DONE]" },
    ]);
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 20 }), (cuts) => {
        expect(parseAll(splitBytes(stream, cuts))).toEqual(whole);
      }),
      { seed: 31337, numRuns: 300 },
    );
  });
});
