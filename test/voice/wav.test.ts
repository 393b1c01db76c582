import { describe, expect, it } from "vitest";
import { decodeMulaw, encodeMulaw } from "../../src/voice/mulaw";
import { monoWavFromMulaw, stereoWavFromMulaw } from "../../src/voice/wav";

/** The header fields a WAV reader looks at. */
function header(wav: Uint8Array) {
  const view = new DataView(wav.buffer, wav.byteOffset, wav.byteLength);
  const ascii = (at: number) => String.fromCharCode(...wav.subarray(at, at + 4));
  return {
    riff: ascii(0),
    riffSize: view.getUint32(4, true),
    wave: ascii(8),
    fmt: ascii(12),
    fmtSize: view.getUint32(16, true),
    format: view.getUint16(20, true),
    channels: view.getUint16(22, true),
    sampleRate: view.getUint32(24, true),
    byteRate: view.getUint32(28, true),
    blockAlign: view.getUint16(32, true),
    bits: view.getUint16(34, true),
    data: ascii(36),
    dataSize: view.getUint32(40, true),
  };
}

const samplesOf = (wav: Uint8Array) => new Int16Array(wav.buffer.slice(wav.byteOffset + 44, wav.byteOffset + wav.byteLength));

describe("WAV from μ-law", () => {
  it("mono: a 16-bit PCM file at 8 kHz with the decoded samples", () => {
    const tone = Int16Array.from({ length: 800 }, (_, i) => Math.round(9000 * Math.sin((2 * Math.PI * 300 * i) / 8000)));
    const mulaw = encodeMulaw(tone);
    const wav = monoWavFromMulaw(mulaw);
    expect(wav.length).toBe(44 + 1600);
    expect(header(wav)).toEqual({
      riff: "RIFF",
      riffSize: 36 + 1600,
      wave: "WAVE",
      fmt: "fmt ",
      fmtSize: 16,
      format: 1,
      channels: 1,
      sampleRate: 8000,
      byteRate: 16000,
      blockAlign: 2,
      bits: 16,
      data: "data",
      dataSize: 1600,
    });
    expect(Array.from(samplesOf(wav))).toEqual(Array.from(decodeMulaw(mulaw)));
  });

  it("mono: an empty leg is a valid empty file", () => {
    expect(header(monoWavFromMulaw(new Uint8Array(0)))).toMatchObject({ riffSize: 36, channels: 1, dataSize: 0 });
  });

  it("stereo: caller left, agent right, the shorter leg padded with silence", () => {
    const left = encodeMulaw(Int16Array.from([1000, -2000, 3000]));
    const right = encodeMulaw(Int16Array.from([-500]));
    const wav = stereoWavFromMulaw(left, right);
    expect(header(wav)).toMatchObject({ channels: 2, sampleRate: 8000, byteRate: 32000, blockAlign: 4, bits: 16, dataSize: 12, riffSize: 48 });
    const decodedLeft = decodeMulaw(left);
    const decodedRight = decodeMulaw(right);
    expect(Array.from(samplesOf(wav))).toEqual([decodedLeft[0], decodedRight[0], decodedLeft[1], 0, decodedLeft[2], 0]);
  });
});
