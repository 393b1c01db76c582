// Audio and signing helpers shared by bench/voice.mjs and its fakes (plain Node: the bench cannot
// import the TypeScript fakes under test/). G.711 μ-law 8 kHz, 20 ms frames of 160 bytes.
import { createHmac } from "node:crypto";

export const FRAME_BYTES = 160;
export const FRAME_MS = 20;
export const MULAW_SILENCE = 0xff;
/** RMS (16-bit linear) above which a frame is speech, as the test fakes judge it. */
export const SPEECH_RMS_THRESHOLD = 600;

const BIAS = 0x84;
const CLIP = 32635;

function mulawToLinear(byte) {
  const u = ~byte & 0xff;
  const exponent = (u >> 4) & 0x07;
  const magnitude = ((((u & 0x0f) << 3) + BIAS) << exponent) - BIAS;
  return u & 0x80 ? -magnitude : magnitude;
}

function linearToMulaw(sample) {
  let s = Math.max(-32768, Math.min(32767, Math.round(sample)));
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  if (s > CLIP) s = CLIP;
  s += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  return ~(sign | (exponent << 4) | ((s >> (exponent + 3)) & 0x0f)) & 0xff;
}

/** Square of each μ-law code's linear value, so a frame's energy is 160 table reads. */
const SQUARE = Float64Array.from({ length: 256 }, (_, i) => mulawToLinear(i) ** 2);

/** Whether a μ-law frame is speech (RMS above SPEECH_RMS_THRESHOLD). */
export function isVoiced(frame) {
  let sum = 0;
  for (let i = 0; i < frame.length; i++) sum += SQUARE[frame[i]];
  return frame.length > 0 && Math.sqrt(sum / frame.length) > SPEECH_RMS_THRESHOLD;
}

/** `frames` 20 ms frames of a tone (sum of `freqs`, peak `amplitude`), phase-continuous. */
export function toneFrames(frames, freqs, amplitude) {
  const norm = freqs.reduce((s, _, k) => s + 1 / (k + 1), 0);
  return Array.from({ length: frames }, (_, f) => {
    const frame = Buffer.alloc(FRAME_BYTES);
    for (let i = 0; i < FRAME_BYTES; i++) {
      const t = (f * FRAME_BYTES + i) / 8000;
      let v = 0;
      freqs.forEach((hz, k) => (v += Math.sin(2 * Math.PI * hz * t) / (k + 1)));
      frame[i] = linearToMulaw((v / norm) * amplitude);
    }
    return frame;
  });
}

/** "Speech": a voiced 150 Hz tone with harmonics (RMS ≈ 4000, far above any threshold). */
export const speechFrames = (frames) => toneFrames(frames, [150, 300, 450, 600], 10_000);
export const silenceFrame = () => Buffer.alloc(FRAME_BYTES, MULAW_SILENCE);

/**
 * Wall-clock time in ms with sub-ms precision, comparable across the bench's processes (each
 * process's high-resolution clock is anchored to the wall clock at its start).
 */
export const wallNow = () => performance.timeOrigin + performance.now();

/**
 * A copy of `frame` carrying `at` (ms, wallNow) in its first 8 bytes: a click in the audio, but
 * what lets the receiver tell a delay added on the way from one already in the sender.
 */
export function stampFrame(frame, at = wallNow()) {
  const copy = Buffer.from(frame);
  copy.writeDoubleLE(at, 0);
  return copy;
}

export const readStamp = (frame) => (frame.length >= 8 ? frame.readDoubleLE(0) : NaN);

/**
 * `X-Twilio-Signature`: base64 HMAC-SHA1 keyed with the auth token over the URL followed by the
 * POST parameters sorted by name, each as name+value (src/carriers/twilio-signature.ts).
 */
export function twilioSignature(authToken, url, params = new URLSearchParams()) {
  const byName = new Map();
  for (const [name, value] of params) byName.set(name, new Set([...(byName.get(name) ?? []), value]));
  let payload = url;
  for (const name of [...byName.keys()].sort()) for (const value of [...byName.get(name)].sort()) payload += name + value;
  return createHmac("sha1", authToken).update(payload).digest("base64");
}
