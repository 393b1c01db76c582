/**
 * Test audio, shared by the fakes (Node) and the tests (workerd): so it imports nothing and uses
 * only what both runtimes have (typed arrays, btoa/atob).
 *
 * Telephony audio is G.711 μ-law, 8000 Hz, mono, one byte per sample: a 20 ms frame is 160
 * bytes. The codec below is written out again on purpose (not imported from src/voice) so the
 * fakes never share a bug with the code under test.
 *
 * "Speech" is a voiced tone (a 150 Hz fundamental with harmonics, well above the speech
 * threshold); "silence" is digital silence, optionally with low noise below the threshold.
 * The TTS fakes each answer a pure tone of their own frequency (TTS_TONE_HZ), so a test can tell
 * which provider's audio reached the caller with `estimateFrequency`.
 */

export const SAMPLE_RATE = 8000;
export const FRAME_MS = 20;
/** Bytes (= samples) in one 20 ms μ-law frame. */
export const FRAME_BYTES = (SAMPLE_RATE * FRAME_MS) / 1000;
/** μ-law code of a zero sample. */
export const MULAW_SILENCE = 0xff;
/** RMS (16-bit linear scale) above which the fakes treat a 20 ms frame as speech. */
export const SPEECH_RMS_THRESHOLD = 600;
/** Tone of each fake TTS provider's audio. */
export const TTS_TONE_HZ = { elevenlabs: 440, deepgram: 520, cartesia: 600, openai: 360 } as const;
/** Audio length the fake TTS providers produce per character of text. */
export const TTS_MS_PER_CHAR = 60;

const BIAS = 0x84;
const CLIP = 32635;

export function mulawToLinear(byte: number): number {
  const u = ~byte & 0xff;
  const exponent = (u >> 4) & 0x07;
  const mantissa = u & 0x0f;
  const magnitude = (((mantissa << 3) + BIAS) << exponent) - BIAS;
  return u & 0x80 ? -magnitude : magnitude;
}

export function linearToMulaw(sample: number): number {
  let s = Math.max(-32768, Math.min(32767, Math.round(sample)));
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  if (s > CLIP) s = CLIP;
  s += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

const DECODE = Int16Array.from({ length: 256 }, (_, i) => mulawToLinear(i));

export function decodeMulaw(bytes: Uint8Array): Int16Array {
  const out = new Int16Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = DECODE[bytes[i]];
  return out;
}

export function encodeMulaw(samples: Int16Array): Uint8Array {
  const out = new Uint8Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = linearToMulaw(samples[i]);
  return out;
}

export interface ToneOptions {
  /** Sample rate, default 8000. */
  rate?: number;
  /** Partials in Hz, default [440]. */
  freqs?: number[];
  /** Peak amplitude of the sum, default 8000. */
  amplitude?: number;
  /** Index of the first sample, so consecutive pieces join without a phase jump. */
  offset?: number;
}

/** `ms` of a tone as 16-bit samples. */
export function toneSamples(ms: number, options: ToneOptions = {}): Int16Array {
  const rate = options.rate ?? SAMPLE_RATE;
  const freqs = options.freqs ?? [440];
  const amplitude = options.amplitude ?? 8000;
  const offset = options.offset ?? 0;
  const out = new Int16Array(Math.round((ms * rate) / 1000));
  for (let i = 0; i < out.length; i++) {
    const t = (i + offset) / rate;
    let v = 0;
    for (let k = 0; k < freqs.length; k++) v += Math.sin(2 * Math.PI * freqs[k] * t) / (k + 1);
    out[i] = Math.round((v / harmonicSum(freqs.length)) * amplitude);
  }
  return out;
}

function harmonicSum(n: number): number {
  let s = 0;
  for (let k = 1; k <= n; k++) s += 1 / k;
  return s;
}

/** `ms` of a tone, μ-law 8 kHz. */
export function mulawTone(ms: number, options: Omit<ToneOptions, "rate"> = {}): Uint8Array {
  return encodeMulaw(toneSamples(ms, { ...options, rate: SAMPLE_RATE }));
}

/** A voiced sound: 150 Hz with three harmonics, peak 10000 (RMS ≈ 4000, far above the threshold). */
export const SPEECH_FREQS = [150, 300, 450, 600];

/** `ms` of "speech", μ-law 8 kHz (a whole number of 20 ms frames, rounded up). */
export function speechAudio(ms: number): Uint8Array {
  return mulawTone(roundToFrames(ms), { freqs: SPEECH_FREQS, amplitude: 10000 });
}

/**
 * `ms` of silence, μ-law 8 kHz. With `noise` (peak amplitude, keep it under ~300) it is a
 * deterministic low hiss instead of digital silence, still below the speech threshold.
 */
export function silenceAudio(ms: number, options: { noise?: number } = {}): Uint8Array {
  const n = (roundToFrames(ms) * SAMPLE_RATE) / 1000;
  if (!options.noise) return new Uint8Array(n).fill(MULAW_SILENCE);
  const samples = new Int16Array(n);
  let seed = 12345;
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    samples[i] = Math.round(((seed / 0x7fffffff) * 2 - 1) * options.noise);
  }
  return encodeMulaw(samples);
}

/** `ms` of speech as 20 ms frames of 160 bytes. */
export function speechFrames(ms: number): Uint8Array[] {
  return toFrames(speechAudio(ms));
}

/** `ms` of silence as 20 ms frames of 160 bytes. */
export function silenceFrames(ms: number, options: { noise?: number } = {}): Uint8Array[] {
  return toFrames(silenceAudio(ms, options));
}

function roundToFrames(ms: number): number {
  return Math.ceil(ms / FRAME_MS) * FRAME_MS;
}

/** Splits audio into pieces of `size` bytes (the last may be shorter). */
export function toFrames(bytes: Uint8Array, size = FRAME_BYTES): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, Math.min(i + size, bytes.length)));
  return out;
}

export function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function rms(samples: Int16Array): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i] * samples[i];
  return Math.sqrt(sum / samples.length);
}

/** RMS of μ-law audio on the 16-bit linear scale. */
export function mulawRms(bytes: Uint8Array): number {
  return rms(decodeMulaw(bytes));
}

/** Whether a μ-law frame counts as speech for the fakes. */
export function isVoiced(frame: Uint8Array, threshold = SPEECH_RMS_THRESHOLD): boolean {
  return mulawRms(frame) > threshold;
}

/** Milliseconds of μ-law 8 kHz audio in `bytes` bytes. */
export function mulawMs(bytes: number): number {
  return (bytes * 1000) / SAMPLE_RATE;
}

/** Dominant frequency of a pure-ish tone, by counting zero crossings. */
export function estimateFrequency(samples: Int16Array, rate = SAMPLE_RATE): number {
  let crossings = 0;
  for (let i = 1; i < samples.length; i++) if ((samples[i - 1] < 0 && samples[i] >= 0) || (samples[i - 1] >= 0 && samples[i] < 0)) crossings++;
  return samples.length < 2 ? 0 : (crossings / 2) * (rate / (samples.length - 1));
}

/** `ms` of a tone as raw 16-bit signed little-endian PCM bytes (no header). */
export function pcm16leTone(ms: number, options: ToneOptions = {}): Uint8Array {
  const samples = toneSamples(ms, options);
  const out = new Uint8Array(samples.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < samples.length; i++) view.setInt16(i * 2, samples[i], true);
  return out;
}

/** Raw 16-bit signed little-endian PCM bytes to samples (an odd trailing byte is ignored). */
export function pcm16leToSamples(bytes: Uint8Array): Int16Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Int16Array(Math.floor(bytes.length / 2));
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(i * 2, true);
  return out;
}

/** The 44-byte RIFF/WAVE header of a μ-law (format 7) or PCM16 (format 1) mono file. */
export function wavHeader(dataBytes: number, options: { rate: number; format: "mulaw" | "pcm16" }): Uint8Array {
  const out = new Uint8Array(44);
  const view = new DataView(out.buffer);
  const bytesPerSample = options.format === "mulaw" ? 1 : 2;
  const ascii = (at: number, s: string) => [...s].forEach((c, i) => view.setUint8(at + i, c.charCodeAt(0)));
  ascii(0, "RIFF");
  view.setUint32(4, 36 + dataBytes, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, options.format === "mulaw" ? 7 : 1, true);
  view.setUint16(22, 1, true);
  view.setUint32(24, options.rate, true);
  view.setUint32(28, options.rate * bytesPerSample, true);
  view.setUint16(32, bytesPerSample, true);
  view.setUint16(34, bytesPerSample * 8, true);
  ascii(36, "data");
  view.setUint32(40, dataBytes, true);
  return out;
}

export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** Decodes base64; throws on malformed input (atob does). */
export function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
