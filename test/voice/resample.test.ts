import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeMulaw, encodeMulaw } from "../../src/voice/mulaw";
import {
  designLowpass,
  pcm16FromBytesLE,
  pcm16ToBytesLE,
  type PcmRate,
  resample,
  Resampler,
  resamplerTaps,
} from "../../src/voice/resample";

const PAIRS: [PcmRate, PcmRate][] = [
  [24000, 8000],
  [16000, 8000],
  [8000, 16000],
  [8000, 24000],
  [24000, 16000],
  [16000, 24000],
];
/** Up/down factors per pair, for exact length expectations. */
const FACTORS: Record<string, [number, number]> = {
  "24000>8000": [1, 3],
  "16000>8000": [1, 2],
  "8000>16000": [2, 1],
  "8000>24000": [3, 1],
  "24000>16000": [2, 3],
  "16000>24000": [3, 2],
};

function sine(rate: number, hz: number, n: number, amplitude: number, delay = 0): Int16Array {
  return Int16Array.from({ length: n }, (_, i) => Math.round(amplitude * Math.sin((2 * Math.PI * hz * (i - delay)) / rate)));
}

function rms(x: Int16Array, from = 0, to = x.length): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += x[i] * x[i];
  return Math.sqrt(sum / (to - from));
}

/** Amplitude of one frequency component (Goertzel), normalised so a sine of amplitude A gives ≈A. */
function toneAmplitude(x: Int16Array, rate: number, hz: number, from: number): number {
  const n = x.length - from;
  const w = (2 * Math.PI * hz) / rate;
  let re = 0;
  let im = 0;
  for (let i = 0; i < n; i++) {
    re += x[from + i] * Math.cos(w * i);
    im -= x[from + i] * Math.sin(w * i);
  }
  return (2 * Math.hypot(re, im)) / n;
}

function zeroCrossings(x: Int16Array, from: number): number {
  let count = 0;
  for (let i = from + 1; i < x.length; i++) if ((x[i - 1] < 0 && x[i] >= 0) || (x[i - 1] >= 0 && x[i] < 0)) count++;
  return count;
}

function concat(parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Splits `length` items at sorted, de-duplicated cut points. */
function pieces<T extends { slice(a: number, b: number): T; length: number }>(whole: T, cuts: number[]): T[] {
  const points = [...new Set(cuts.map((c) => c % (whole.length + 1)))].sort((a, b) => a - b);
  const out: T[] = [];
  let prev = 0;
  for (const p of [...points, whole.length]) {
    out.push(whole.slice(prev, p));
    prev = p;
  }
  return out;
}

describe("designLowpass", () => {
  it("computes exact windowed-sinc taps (rectangular window, 3 taps)", () => {
    // beta 0 = rectangular; taps sinc(0.25·2·t) at t = -1, 0, 1, normalised to sum 1.
    const taps = designLowpass(3, 0.25, 0);
    const sum = 0.5 + 2 / Math.PI;
    expect(taps[0]).toBeCloseTo(1 / Math.PI / sum, 12);
    expect(taps[1]).toBeCloseTo(0.5 / sum, 12);
    expect(taps[2]).toBeCloseTo(1 / Math.PI / sum, 12);
    expect(Array.from(designLowpass(1, 0.2))).toEqual([1]);
  });

  it("is symmetric (linear phase) with the requested DC gain", () => {
    const taps = designLowpass(65, 0.1, 8, 3);
    for (let i = 0; i < taps.length; i++) expect(taps[i]).toBeCloseTo(taps[taps.length - 1 - i], 14);
    expect(taps.reduce((a, b) => a + b, 0)).toBeCloseTo(3, 12);
  });

  it("rejects even lengths and out-of-range cutoffs", () => {
    expect(() => designLowpass(64, 0.1)).toThrow(/odd/);
    expect(() => designLowpass(65, 0.5)).toThrow(/cutoff/);
    expect(() => designLowpass(65, 0)).toThrow(/cutoff/);
  });

  it("designs odd-length filters for every supported pair at load", () => {
    expect(resamplerTaps(24000, 8000).length).toBe(97);
    expect(resamplerTaps(16000, 8000).length).toBe(65);
    expect(resamplerTaps(8000, 24000).length).toBe(97);
    expect(resamplerTaps(8000, 16000).length).toBe(65);
    expect(resamplerTaps(24000, 16000).length).toBe(97);
    expect(() => resamplerTaps(8000, 8000)).toThrow(/no resampling plan/);
  });
});

describe("Resampler: signal quality", () => {
  it("24k→8k keeps a 1 kHz sine's amplitude and frequency", () => {
    const input = sine(24000, 1000, 24000, 10000); // 1 s
    const out = resample(input, 24000, 8000);
    expect(out.length).toBe(8000);
    const settled = 100; // skip the filter's start-up transient
    expect(rms(out, settled) / (10000 / Math.SQRT2)).toBeGreaterThan(0.98);
    expect(rms(out, settled) / (10000 / Math.SQRT2)).toBeLessThan(1.02);
    // Two zero crossings per cycle over (8000 - 100) samples = 0.9875 s ≈ 1975 crossings.
    const hz = zeroCrossings(out, settled) / 2 / ((out.length - settled) / 8000);
    expect(Math.abs(hz - 1000)).toBeLessThan(5);
  });

  it("24k→8k output is the input sine delayed by the filter's group delay (16 samples)", () => {
    const r = new Resampler(24000, 8000);
    expect(r.delaySamples).toBe(16);
    const out = r.push(sine(24000, 1000, 12000, 10000));
    const ideal = sine(8000, 1000, out.length, 10000, 16);
    for (let i = 100; i < out.length; i++) expect(Math.abs(out[i] - ideal[i])).toBeLessThanOrEqual(2);
  });

  it.each([
    [24000, 8000, 6000],
    [24000, 8000, 4500],
    [24000, 8000, 10000],
    [16000, 8000, 5000],
    [16000, 8000, 7000],
    [24000, 16000, 9000],
  ] as const)("%i→%i attenuates a %i Hz tone above the new Nyquist by ≥ 30 dB (it would alias)", (from, to, hz) => {
    const input = sine(from, hz, from, 20000);
    const out = resample(input, from, to);
    const db = 20 * Math.log10(Math.max(rms(out, 100), 1e-9) / rms(input));
    expect(db).toBeLessThan(-30);
  });

  it("6 kHz above 8k's Nyquist vanishes while the 1 kHz part of a mix is kept", () => {
    const a = sine(24000, 1000, 24000, 8000);
    const b = sine(24000, 6000, 24000, 8000);
    const mix = a.map((v, i) => v + b[i]);
    const out = resample(mix, 24000, 8000);
    expect(toneAmplitude(out, 8000, 1000, 200)).toBeGreaterThan(8000 * 0.98);
    // 6 kHz would fold to 2 kHz at 8 kHz sampling.
    expect(toneAmplitude(out, 8000, 2000, 200)).toBeLessThan(8000 * 10 ** (-30 / 20));
  });

  it.each([
    [8000, 24000],
    [8000, 16000],
  ] as const)("%i→%i interpolates a 1 kHz sine with images suppressed", (from, to) => {
    const r = new Resampler(from, to);
    const out = r.push(sine(from, 1000, from, 10000));
    expect(out.length).toBe(to);
    const ideal = sine(to, 1000, out.length, 10000, r.delaySamples);
    for (let i = 200; i < out.length; i++) expect(Math.abs(out[i] - ideal[i])).toBeLessThanOrEqual(2);
    // Zero-stuffing images of 1 kHz sit at 7 and 9 kHz.
    expect(toneAmplitude(out, to, 7000, 200)).toBeLessThan(10000 * 10 ** (-60 / 20));
  });

  it.each(PAIRS)("%i→%i passes DC with unity gain", (from, to) => {
    const out = resample(new Int16Array(from / 10).fill(1000), from, to);
    for (let i = 100; i < out.length; i++) expect(out[i]).toBe(1000);
  });

  it("clamps instead of wrapping when ringing overshoots full scale", () => {
    const square = Int16Array.from({ length: 2400 }, (_, i) => (Math.floor(i / 60) % 2 ? -32768 : 32767));
    const out = resample(square, 24000, 8000);
    expect(Math.max(...out)).toBe(32767);
    expect(Math.min(...out)).toBe(-32768);
  });
});

describe("Resampler: streaming", () => {
  it("produces exactly ceil(n·L/M) samples", () => {
    fc.assert(
      fc.property(fc.constantFrom(...PAIRS), fc.integer({ min: 0, max: 2000 }), ([from, to], n) => {
        const [up, down] = FACTORS[`${from}>${to}`];
        expect(resample(new Int16Array(n), from, to).length).toBe(Math.ceil((n * up) / down));
      }),
      { seed: 4242, numRuns: 300 },
    );
    expect(resample(new Int16Array(480), 24000, 8000).length).toBe(160);
    expect(resample(new Int16Array(160), 8000, 24000).length).toBe(480);
    expect(resample(new Int16Array(7), 24000, 8000).length).toBe(3);
  });

  it("gives identical output for any chunking of the same input", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...PAIRS),
        fc.array(fc.integer({ min: -32768, max: 32767 }), { minLength: 0, maxLength: 600 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        ([from, to], samples, cuts) => {
          const whole = Int16Array.from(samples);
          const r = new Resampler(from, to);
          const chunked = concat(pieces(whole, cuts).map((p) => r.push(p)));
          expect(chunked).toEqual(resample(whole, from, to));
        },
      ),
      { seed: 7, numRuns: 200 },
    );
  });

  it("flush drains the delay line, then the instance starts over", () => {
    for (const [from, to] of PAIRS) {
      const [up, down] = FACTORS[`${from}>${to}`];
      const taps = resamplerTaps(from, to).length;
      const r = new Resampler(from, to);
      const input = sine(from, 440, 1000, 5000);
      const first = concat([r.push(input), r.flush()]);
      const padded = 1000 + Math.ceil((taps - 1) / 2 / up);
      expect(first.length).toBe(Math.ceil((padded * up) / down));
      // The tail of the signal (delayed) is in the flushed part: nothing audible is lost.
      expect(rms(first, first.length - Math.ceil(r.delaySamples))).toBeGreaterThan(100);
      const second = concat([r.push(input), r.flush()]);
      expect(second).toEqual(first);
    }
  });

  it("same-rate is a copy", () => {
    const r = new Resampler(8000, 8000);
    const input = Int16Array.of(1, -2, 3);
    const out = r.push(input);
    expect(out).toEqual(input);
    expect(out).not.toBe(input);
    expect(r.flush().length).toBe(0);
  });

  it("rejects unsupported rates", () => {
    expect(() => new Resampler(44100 as PcmRate, 8000)).toThrow(/unsupported/);
  });
});

describe("Resampler: raw little-endian bytes", () => {
  it("decodes and encodes s16le exactly", () => {
    const bytes = Uint8Array.of(0x34, 0x12, 0xff, 0xff, 0x00, 0x80, 0xff, 0x7f);
    expect(Array.from(pcm16FromBytesLE(bytes))).toEqual([0x1234, -1, -32768, 32767]);
    expect(pcm16ToBytesLE(pcm16FromBytesLE(bytes))).toEqual(bytes);
  });

  it("carries an odd trailing byte into the next chunk", () => {
    const r = new Resampler(8000, 8000);
    expect(Array.from(r.pushBytes(Uint8Array.of(0x34, 0x12, 0xcd)))).toEqual([0x1234]);
    expect(Array.from(r.pushBytes(Uint8Array.of(0xab)))).toEqual([0xabcd - 0x10000]);
    expect(Array.from(r.pushBytes(Uint8Array.of(0x01)))).toEqual([]);
    expect(Array.from(r.pushBytes(Uint8Array.of(0x00, 0x02, 0x00)))).toEqual([1, 2]);
  });

  it("any byte split (odd ones included) equals resampling the whole PCM", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...PAIRS),
        fc.uint8Array({ minLength: 0, maxLength: 800 }).map((b) => b.slice(0, b.length & ~1)),
        fc.array(fc.nat(), { maxLength: 10 }),
        ([from, to], bytes, cuts) => {
          const r = new Resampler(from, to);
          const chunked = concat(pieces(bytes, cuts).map((p) => r.pushBytes(p)));
          expect(chunked).toEqual(resample(pcm16FromBytesLE(bytes), from, to));
        },
      ),
      { seed: 99, numRuns: 200 },
    );
  });

  it("OpenAI-style 24 kHz PCM bytes become 8 kHz μ-law of the same tone", () => {
    const pcm24 = pcm16ToBytesLE(sine(24000, 1000, 2400, 12000)); // 100 ms
    const r = new Resampler(24000, 8000);
    const pcm8 = concat([r.pushBytes(pcm24.subarray(0, 1001)), r.pushBytes(pcm24.subarray(1001))]);
    expect(pcm8.length).toBe(800);
    const mulaw = encodeMulaw(pcm8);
    expect(mulaw.length).toBe(800);
    expect(rms(decodeMulaw(mulaw), 100) / (12000 / Math.SQRT2)).toBeGreaterThan(0.97);
  });
});
