/**
 * A stereo 16-bit PCM WAV from two μ-law legs at 8 kHz: the caller on the left channel, the
 * agent on the right. The shorter leg is padded with silence so both stay aligned from the start.
 */
import { MULAW_DECODE_TABLE } from "./mulaw";

export const SAMPLE_RATE = 8000;

export function stereoWavFromMulaw(left: Uint8Array, right: Uint8Array): Uint8Array {
  const frames = Math.max(left.length, right.length);
  const dataBytes = frames * 4;
  const buffer = new ArrayBuffer(44 + dataBytes);
  const view = new DataView(buffer);
  const ascii = (offset: number, text: string) => {
    for (let i = 0; i < text.length; i++) view.setUint8(offset + i, text.charCodeAt(i));
  };
  ascii(0, "RIFF");
  view.setUint32(4, 36 + dataBytes, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  view.setUint32(16, 16, true); // fmt chunk size
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 2, true); // channels
  view.setUint32(24, SAMPLE_RATE, true);
  view.setUint32(28, SAMPLE_RATE * 4, true); // byte rate
  view.setUint16(32, 4, true); // block align
  view.setUint16(34, 16, true); // bits per sample
  ascii(36, "data");
  view.setUint32(40, dataBytes, true);
  // μ-law 0xFF is digital silence (decodes to 0).
  for (let i = 0; i < frames; i++) {
    view.setInt16(44 + i * 4, MULAW_DECODE_TABLE[i < left.length ? left[i] : 0xff], true);
    view.setInt16(46 + i * 4, MULAW_DECODE_TABLE[i < right.length ? right[i] : 0xff], true);
  }
  return new Uint8Array(buffer);
}
