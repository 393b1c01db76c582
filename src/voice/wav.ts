/**
 * 16-bit PCM WAV files from μ-law at 8 kHz (the phone legs' audio): stereo for the call recording
 * (the caller on the left channel, the agent on the right), mono for one caller utterance sent to
 * a batch transcription API (providers/openai-stt).
 */
import { MULAW_DECODE_TABLE } from "./mulaw";

export const SAMPLE_RATE = 8000;
/** Bytes of the canonical 44-byte header (RIFF, a 16-byte `fmt ` chunk, the `data` chunk's head). */
export const WAV_HEADER_BYTES = 44;

/** A buffer with the header of a 16-bit PCM WAV at 8 kHz written, for `dataBytes` of samples. */
function pcm16Wav(channels: number, dataBytes: number): DataView {
  const view = new DataView(new ArrayBuffer(WAV_HEADER_BYTES + dataBytes));
  const ascii = (offset: number, text: string) => {
    for (let i = 0; i < text.length; i++) view.setUint8(offset + i, text.charCodeAt(i));
  };
  const blockAlign = channels * 2;
  ascii(0, "RIFF");
  view.setUint32(4, 36 + dataBytes, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  view.setUint32(16, 16, true); // fmt chunk size
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, channels, true);
  view.setUint32(24, SAMPLE_RATE, true);
  view.setUint32(28, SAMPLE_RATE * blockAlign, true); // byte rate
  view.setUint16(32, blockAlign, true);
  view.setUint16(34, 16, true); // bits per sample
  ascii(36, "data");
  view.setUint32(40, dataBytes, true);
  return view;
}

export function stereoWavFromMulaw(left: Uint8Array, right: Uint8Array): Uint8Array {
  const frames = Math.max(left.length, right.length);
  const view = pcm16Wav(2, frames * 4);
  // The shorter leg is padded with silence so both stay aligned from the start (μ-law 0xFF decodes to 0).
  for (let i = 0; i < frames; i++) {
    view.setInt16(44 + i * 4, MULAW_DECODE_TABLE[i < left.length ? left[i] : 0xff], true);
    view.setInt16(46 + i * 4, MULAW_DECODE_TABLE[i < right.length ? right[i] : 0xff], true);
  }
  return new Uint8Array(view.buffer);
}

/** A mono 16-bit PCM WAV of one μ-law leg: what every transcription API accepts, unlike raw μ-law. */
export function monoWavFromMulaw(mulaw: Uint8Array): Uint8Array {
  const view = pcm16Wav(1, mulaw.length * 2);
  for (let i = 0; i < mulaw.length; i++) view.setInt16(44 + i * 2, MULAW_DECODE_TABLE[mulaw[i]], true);
  return new Uint8Array(view.buffer);
}
