import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeMulaw, encodeMulaw } from "../../src/voice/mulaw";
import { EnergyVad, MIN_DBFS, mulawFrameDbfs, type VadEvent, type VadFrame } from "../../src/voice/vad";

const FRAME = 160;

/** A μ-law tone, continuous in phase across calls so bursts have no clicks of their own. */
function toneSource(hz: number, amplitude: number) {
  let t = 0;
  return (frames: number): Uint8Array[] =>
    Array.from({ length: frames }, () =>
      encodeMulaw(Int16Array.from({ length: FRAME }, () => Math.round(amplitude * Math.sin((2 * Math.PI * hz * t++) / 8000)))),
    );
}

function silence(frames: number): Uint8Array[] {
  return Array.from({ length: frames }, () => new Uint8Array(FRAME).fill(0xff));
}

/** Deterministic white noise (LCG), uniform in ±peak. */
function noiseSource(peak: number, seed = 12345) {
  let s = seed;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  return (frames: number): Uint8Array[] =>
    Array.from({ length: frames }, () => encodeMulaw(Int16Array.from({ length: FRAME }, () => Math.round((next() * 2 - 1) * peak))));
}

/** Sample-wise sum of two μ-law frame lists (speech over line noise). */
function mix(a: Uint8Array[], b: Uint8Array[]): Uint8Array[] {
  return a.map((frame, i) => {
    const x = decodeMulaw(frame);
    const y = decodeMulaw(b[i]);
    return encodeMulaw(x.map((v, j) => v + y[j]));
  });
}

function run(vad: EnergyVad, frames: Uint8Array[]): { events: VadEvent[]; frames: VadFrame[] } {
  const results = frames.map((f) => vad.pushFrame(f));
  return { frames: results, events: results.flatMap((r) => (r.event ? [r.event] : [])) };
}

describe("mulawFrameDbfs", () => {
  it("gives exact levels for constant frames", () => {
    expect(mulawFrameDbfs(new Uint8Array(FRAME).fill(0xff))).toBe(MIN_DBFS); // decodes to 0
    expect(mulawFrameDbfs(new Uint8Array(FRAME).fill(0x7f))).toBe(MIN_DBFS); // μ-law's -0
    expect(mulawFrameDbfs(new Uint8Array(FRAME).fill(0xfe))).toBeCloseTo(20 * Math.log10(8 / 32768), 10); // -72.25
    expect(mulawFrameDbfs(new Uint8Array(FRAME).fill(0x80))).toBeCloseTo(20 * Math.log10(32124 / 32768), 10); // -0.17
    const alternating = Uint8Array.from({ length: FRAME }, (_, i) => (i % 2 ? 0x80 : 0x00)); // ±32124
    expect(mulawFrameDbfs(alternating)).toBeCloseTo(20 * Math.log10(32124 / 32768), 10);
    expect(mulawFrameDbfs(new Uint8Array(0))).toBe(MIN_DBFS);
  });

  it("measures a sine at its RMS (A/√2) within μ-law's quantisation", () => {
    const [frame] = toneSource(400, 8000)(1); // 400 Hz: exactly 8 cycles per frame
    expect(mulawFrameDbfs(frame)).toBeCloseTo(20 * Math.log10(8000 / Math.SQRT2 / 32768), 1); // -15.25
  });
});

describe("EnergyVad", () => {
  it("detects a 1 s tone between silences with exact start and end times", () => {
    const tone = toneSource(440, 8000);
    const vad = new EnergyVad();
    const { events, frames } = run(vad, [...silence(50), ...tone(50), ...silence(50)]);
    expect(events).toEqual([
      { type: "speech_start", atMs: 1000 },
      { type: "speech_end", atMs: 2000, durationMs: 1000 },
    ]);
    // Confirmed after 200 ms of voice (frame 59 ends at 1200 ms), ended after 800 ms of quiet (frame 139).
    expect(frames.findIndex((f) => f.isSpeech)).toBe(59);
    expect(frames.findIndex((f, i) => i > 59 && !f.isSpeech)).toBe(139);
    expect(frames[59].event).toEqual({ type: "speech_start", atMs: 1000 });
    expect(frames[139].event).toEqual({ type: "speech_end", atMs: 2000, durationMs: 1000 });
    expect(frames.filter((f) => f.voiced).map((f) => f.index)).toEqual(Array.from({ length: 50 }, (_, i) => 50 + i));
    expect(vad.speaking).toBe(false);
    expect(vad.timeMs).toBe(3000);
  });

  it("ignores clicks shorter than startMs, and starts at exactly startMs", () => {
    const tone = toneSource(440, 10000);
    const clicks = run(new EnergyVad(), [...silence(10), ...tone(3), ...silence(10), ...tone(9), ...silence(60)]);
    expect(clicks.events).toEqual([]);
    expect(clicks.frames.some((f) => f.isSpeech)).toBe(false);

    const exact = run(new EnergyVad(), [...silence(10), ...tone(10), ...silence(60)]);
    expect(exact.events).toEqual([
      { type: "speech_start", atMs: 200 },
      { type: "speech_end", atMs: 400, durationMs: 200 },
    ]);
  });

  it("bridges pauses shorter than stopMs", () => {
    const tone = toneSource(300, 6000);
    const { events } = run(new EnergyVad(), [...silence(25), ...tone(25), ...silence(20), ...tone(25), ...silence(40)]);
    // Speech 500–1000 ms, a 400 ms pause, speech 1400–1900 ms: one segment.
    expect(events).toEqual([
      { type: "speech_start", atMs: 500 },
      { type: "speech_end", atMs: 1900, durationMs: 1400 },
    ]);
  });

  it("honours custom startMs/stopMs", () => {
    const tone = toneSource(440, 8000);
    // 100 ms = 5 frames to start, 300 ms = 15 frames to stop.
    const frames = [...silence(5), ...tone(4), ...silence(5), ...tone(5), ...silence(15), ...tone(5), ...silence(14), ...tone(5), ...silence(15)];
    const { events } = run(new EnergyVad({ startMs: 100, stopMs: 300 }), frames);
    expect(events).toEqual([
      // 100–180 ms: 4 frames, a click. 280–380 ms: speech, then exactly 300 ms of quiet ends it.
      { type: "speech_start", atMs: 280 },
      { type: "speech_end", atMs: 380, durationMs: 100 },
      // 680–780 and 1060–1160 ms: the 280 ms gap between them is bridged.
      { type: "speech_start", atMs: 680 },
      { type: "speech_end", atMs: 1160, durationMs: 480 },
    ]);
  });

  it("adapts its noise floor to line hiss and still catches speech over it", () => {
    const noise = noiseSource(100); // ≈ -55 dBFS RMS
    const vad = new EnergyVad();
    const quiet = run(vad, noise(250)); // 5 s of hiss
    expect(quiet.events).toEqual([]);
    expect(vad.noiseFloorDbfs).toBeGreaterThan(-60);
    expect(vad.noiseFloorDbfs).toBeLessThan(-50);

    const tone = toneSource(440, 4000); // ≈ -21 dBFS, 34 dB over the hiss
    const talk = run(vad, [...mix(tone(30), noise(30)), ...noise(50)]);
    expect(talk.events).toEqual([
      { type: "speech_start", atMs: 5000 },
      { type: "speech_end", atMs: 5600, durationMs: 600 },
    ]);
  });

  it("a sudden loud hiss first reads as speech, then is absorbed and never voiced again", () => {
    // ≈ -45.5 dBFS, far above the starting floor (-70): taken for speech until the floor catches up.
    const vad = new EnergyVad();
    const first = run(vad, noiseSource(300, 1)(600));
    expect(first.events.map((e) => e.type)).toEqual(["speech_start", "speech_end"]);
    expect(first.events[0]).toEqual({ type: "speech_start", atMs: 0 });
    expect((first.events[1] as { atMs: number }).atMs).toBeLessThan(10_000);
    const later = run(vad, noiseSource(300, 2)(200));
    expect(later.events).toEqual([]);
    expect(later.frames.every((f) => !f.voiced)).toBe(true);
    expect(vad.noiseFloorDbfs).toBeGreaterThan(-48);
  });

  it("absorbs a steady hum that first looked like speech (no endless speech)", () => {
    const vad = new EnergyVad();
    const hum = toneSource(60 * 4, 2000); // ≈ -27 dBFS, constant
    const { events } = run(vad, hum(50 * 30));
    expect(events[0]).toEqual({ type: "speech_start", atMs: 0 });
    expect(events[1]?.type).toBe("speech_end");
    expect(events.length).toBe(2);
    expect(vad.speaking).toBe(false);
  });

  it("frames arbitrary byte chunks itself, with the same events as whole frames", () => {
    const tone = toneSource(440, 8000);
    const stream = [...silence(20), ...tone(30), ...silence(45), ...tone(4), ...silence(5)];
    const bytes = new Uint8Array(stream.length * FRAME);
    stream.forEach((f, i) => bytes.set(f, i * FRAME));
    const expected = run(new EnergyVad(), stream).events;
    expect(expected).toEqual([
      { type: "speech_start", atMs: 400 },
      { type: "speech_end", atMs: 1000, durationMs: 600 },
    ]);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 40 }), (sizes) => {
        const vad = new EnergyVad();
        const events: VadEvent[] = [];
        let at = 0;
        for (let i = 0; at < bytes.length; i++) {
          const size = sizes[i % sizes.length];
          events.push(...vad.push(bytes.subarray(at, at + size)));
          at += size;
        }
        expect(events).toEqual(expected);
      }),
      { seed: 2024, numRuns: 60 },
    );
  });

  it("rejects frames of the wrong size", () => {
    expect(() => new EnergyVad().pushFrame(new Uint8Array(159))).toThrow(/160 bytes/);
  });
});
