import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FRAME_BYTES, MarkTracker, MulawFramer } from "../../src/voice/playout";

function bytes(n: number, from = 0): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);
}

describe("MulawFramer", () => {
  it("cuts arbitrary chunks into exact 160-byte frames, carrying the remainder", () => {
    const f = new MulawFramer();
    expect(f.push(bytes(100))).toEqual([]);
    expect(f.pendingBytes).toBe(100);
    const second = f.push(bytes(100, 100));
    expect(second).toEqual([bytes(160)]);
    expect(f.pendingBytes).toBe(40);
    const third = f.push(bytes(440, 200)); // 40 carried + 440 = three frames exactly
    expect(third).toEqual([bytes(160, 160), bytes(160, 320), bytes(160, 480)]);
    expect(f.pendingBytes).toBe(0);
    expect(f.push(new Uint8Array(0))).toEqual([]);
    expect(f.flush()).toBeNull();
  });

  it("pads the last partial frame with μ-law silence, or returns it raw", () => {
    const f = new MulawFramer();
    f.push(bytes(170));
    const padded = f.flush();
    expect(padded?.length).toBe(FRAME_BYTES);
    expect(Array.from(padded?.subarray(0, 10) ?? [])).toEqual(Array.from(bytes(10, 160)));
    expect(padded?.subarray(10).every((b) => b === 0xff)).toBe(true);
    f.push(bytes(3));
    expect(f.flush(false)).toEqual(bytes(3));
    f.push(bytes(3));
    f.reset();
    expect(f.pendingBytes).toBe(0);
  });

  it("returns frames that do not alias the caller's buffer", () => {
    const f = new MulawFramer();
    const input = bytes(160);
    const [frame] = f.push(input);
    input[0] = 99;
    expect(frame[0]).toBe(0);
  });

  it("loses and reorders nothing for any chunking", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 500 }), { maxLength: 30 }), (sizes) => {
        const f = new MulawFramer();
        const total = sizes.reduce((a, b) => a + b, 0);
        const frames: Uint8Array[] = [];
        let at = 0;
        for (const size of sizes) {
          frames.push(...f.push(bytes(size, at)));
          at += size;
        }
        expect(frames.length).toBe(Math.floor(total / FRAME_BYTES));
        expect(frames.every((fr) => fr.length === FRAME_BYTES)).toBe(true);
        const tail = f.flush(false);
        const joined = [...frames.flatMap((fr) => Array.from(fr)), ...(tail ? Array.from(tail) : [])];
        expect(joined).toEqual(Array.from(bytes(total)));
      }),
      { seed: 160, numRuns: 200 },
    );
  });

  it("supports other frame sizes (e.g. 100 ms batches) and rejects nonsense", () => {
    expect(new MulawFramer(800).push(bytes(1700)).map((fr) => fr.length)).toEqual([800, 800]);
    expect(() => new MulawFramer(0)).toThrow(RangeError);
  });
});

describe("MarkTracker", () => {
  const t1 = [
    { name: "t1-s1", turnId: "t1", textUpTo: "Hi, this is Ava." },
    { name: "t1-s2", turnId: "t1", textUpTo: "Hi, this is Ava. I'm calling about your appointment." },
    { name: "t1-s3", turnId: "t1", textUpTo: "Hi, this is Ava. I'm calling about your appointment. Is now a good time?" },
  ];

  it("reports the text heard up to the last mark echoed before the clear", () => {
    const m = new MarkTracker();
    for (const mark of t1) m.markSent(mark);
    expect(m.speaking).toBe(true);
    expect(m.markEchoed("t1-s1")).toEqual(t1[0]);
    expect(m.heardText("t1")).toBe("Hi, this is Ava.");
    expect(m.clear()).toEqual([{ turnId: "t1", heardText: "Hi, this is Ava.", sentText: t1[2].textUpTo }]);
    // Twilio echoes every pending mark right after a clear: they prove nothing.
    expect(m.markEchoed("t1-s2")).toBeUndefined();
    expect(m.markEchoed("t1-s3")).toBeUndefined();
    expect(m.heardText("t1")).toBe("Hi, this is Ava.");
    expect(m.speaking).toBe(false);
  });

  it("reports an empty heard text when nothing was echoed before the clear", () => {
    const m = new MarkTracker();
    m.markSent(t1[0]);
    expect(m.clear()).toEqual([{ turnId: "t1", heardText: "", sentText: "Hi, this is Ava." }]);
    expect(m.markEchoed("t1-s1")).toBeUndefined();
  });

  it("treats an echo as proof for every earlier mark (in-order playback)", () => {
    const m = new MarkTracker();
    for (const mark of t1) m.markSent(mark);
    expect(m.markEchoed("t1-s2")).toEqual(t1[1]);
    expect(m.pendingCount).toBe(1);
    expect(m.markEchoed("t1-s1")).toBeUndefined(); // already confirmed
    expect(m.heardText("t1")).toBe(t1[1].textUpTo);
  });

  it("only reports turns that still had audio queued", () => {
    const m = new MarkTracker();
    m.markSent(t1[0]);
    m.markEchoed("t1-s1");
    m.markSent({ name: "t2-s1", turnId: "t2", textUpTo: "Great." });
    m.markSent({ name: "t2-s2", turnId: "t2", textUpTo: "Great. Let me book that." });
    m.markEchoed("t2-s1");
    expect(m.clear()).toEqual([{ turnId: "t2", heardText: "Great.", sentText: "Great. Let me book that." }]);
    expect(m.clear()).toEqual([]);
    expect(m.heardText("t1")).toBe("Hi, this is Ava.");
  });

  it("keeps working for the next turn after a clear", () => {
    const m = new MarkTracker();
    m.markSent(t1[0]);
    m.clear();
    m.markSent({ name: "t2-s1", turnId: "t2", textUpTo: "Sorry, go ahead." });
    expect(m.markEchoed("t1-s1")).toBeUndefined(); // the late echo of the cleared mark
    expect(m.markEchoed("t2-s1")).toEqual({ name: "t2-s1", turnId: "t2", textUpTo: "Sorry, go ahead." });
    expect(m.heardText("t2")).toBe("Sorry, go ahead.");
    m.forget("t2");
    expect(m.heardText("t2")).toBe("");
  });

  it("rejects a duplicate pending mark name and ignores unknown echoes", () => {
    const m = new MarkTracker();
    m.markSent(t1[0]);
    expect(() => m.markSent(t1[0])).toThrow(/already pending/);
    expect(m.markEchoed("nope")).toBeUndefined();
    expect(m.heardText("unknown")).toBe("");
  });
});
