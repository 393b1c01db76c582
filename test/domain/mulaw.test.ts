import { describe, expect, it } from "vitest";
import { decodeMulaw, encodeMulaw, linearToMulaw, MULAW_DECODE_TABLE, mulawToLinear } from "../../src/voice/mulaw";
import { stereoWavFromMulaw } from "../../src/voice/wav";

describe("G.711 μ-law", () => {
  it("matches reference points of the G.711 decode table", () => {
    // Values of the standard table (ITU-T G.711 / Sun g711.c ulaw2linear).
    const reference: [number, number][] = [
      [0x00, -32124],
      [0x01, -31100],
      [0x0f, -16764],
      [0x10, -15996],
      [0x7e, -8],
      [0x7f, 0],
      [0x80, 32124],
      [0xf0, 120],
      [0xfe, 8],
      [0xff, 0],
    ];
    for (const [byte, linear] of reference) expect(mulawToLinear(byte), byte.toString(16)).toBe(linear);
  });

  it("round-trips every code through encode(decode(x)) except the duplicate zero", () => {
    for (let code = 0; code < 256; code++) {
      const back = linearToMulaw(MULAW_DECODE_TABLE[code]);
      if (code === 0x7f) expect(back).toBe(0xff); // -0 and +0 decode alike; +0 is canonical
      else expect(back).toBe(code);
    }
  });

  it("quantises with at most the segment's step of error and clips at full scale", () => {
    for (const sample of [0, 1, -1, 100, -100, 1000, -5000, 12345, 32767, -32768]) {
      const decoded = mulawToLinear(linearToMulaw(sample));
      const step = Math.max(8, 2 ** (Math.floor(Math.log2(Math.abs(sample) + 132)) - 4));
      expect(Math.abs(decoded - Math.max(-32124, Math.min(32124, sample)))).toBeLessThanOrEqual(step);
    }
    expect(decodeMulaw(encodeMulaw(Int16Array.from([0, 32767, -32768])))).toEqual(Int16Array.from([0, 32124, -32124]));
  });
});

describe("stereo WAV", () => {
  it("writes a valid header and interleaves caller left, agent right, padding the shorter leg", () => {
    const wav = stereoWavFromMulaw(Uint8Array.from([0x80, 0x00]), Uint8Array.from([0x00]));
    const view = new DataView(wav.buffer);
    expect(new TextDecoder().decode(wav.slice(0, 4))).toBe("RIFF");
    expect(view.getUint16(22, true)).toBe(2);
    expect(view.getUint32(24, true)).toBe(8000);
    expect(view.getUint32(40, true)).toBe(8);
    expect([view.getInt16(44, true), view.getInt16(46, true), view.getInt16(48, true), view.getInt16(50, true)]).toEqual([32124, -32124, -32124, 0]);
  });
});
