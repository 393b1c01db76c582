import { describe, expect, it } from "vitest";
import { encodeMulaw } from "../../src/voice/mulaw";
import { UtteranceCollector, type Utterance } from "../../src/voice/utterances";
import { EnergyVad } from "../../src/voice/vad";

const FRAME = 160;

/**
 * A caller stream: silence and a voiced tone, each frame stamped with its own index so the test
 * can tell exactly which frames an utterance carries.
 */
function stream(plan: [kind: "speech" | "silence", ms: number][]): Uint8Array[] {
  const frames: Uint8Array[] = [];
  let t = 0;
  for (const [kind, ms] of plan) {
    for (let f = 0; f < ms / 20; f++) {
      const samples = Int16Array.from({ length: FRAME }, () => (kind === "speech" ? Math.round(8000 * Math.sin((2 * Math.PI * 200 * t++) / 8000)) : (t++, 0)));
      const frame = encodeMulaw(samples);
      // The frame's index in its first three samples, as μ-law codes 0xF0–0xFF (which decode to
      // 0…120 of 32767): far too quiet for the VAD to notice.
      const index = frames.length;
      for (let b = 0; b < 3; b++) frame[b] = 0xf0 | ((index >> (4 * b)) & 0x0f);
      frames.push(frame);
    }
  }
  return frames;
}

const indexOf = (frame: Uint8Array) => (frame[0] & 0x0f) | ((frame[1] & 0x0f) << 4) | ((frame[2] & 0x0f) << 8);

/** Runs the stream through the VAD and the collector, as the session does. */
function collect(frames: Uint8Array[], collector = new UtteranceCollector()): Utterance[] {
  const vad = new EnergyVad();
  const out: Utterance[] = [];
  for (const frame of frames) {
    const judged = vad.pushFrame(frame);
    const utterance = collector.push(frame, judged.startMs, judged.event);
    if (utterance) out.push(utterance);
  }
  return out;
}

/** The stream frame indexes an utterance's audio is made of. */
function frameIndexes(utterance: Utterance): number[] {
  expect(utterance.audio.length % FRAME).toBe(0);
  return Array.from({ length: utterance.audio.length / FRAME }, (_, i) => indexOf(utterance.audio.subarray(i * FRAME, (i + 1) * FRAME)));
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe("UtteranceCollector", () => {
  it("cuts one utterance from 200 ms before the speech to 200 ms after it, with the speech's own times", () => {
    const frames = stream([
      ["silence", 1000],
      ["speech", 1200],
      ["silence", 1000],
    ]);
    const [utterance, ...rest] = collect(frames);
    expect(rest).toEqual([]);
    expect(utterance).toMatchObject({ seq: 1, startMs: 1000, endMs: 2200, audioStartMs: 800, audioEndMs: 2400, final: true });
    // Exactly the stream's frames 40 (800 ms) to 119 (2380 ms), in order: nothing lost, nothing doubled.
    expect(frameIndexes(utterance)).toEqual(range(40, 120));
  });

  it("takes what there is of the pre-roll when the caller speaks at once", () => {
    const [utterance] = collect(stream([
      ["speech", 600],
      ["silence", 1000],
    ]));
    expect(utterance).toMatchObject({ startMs: 0, endMs: 600, audioStartMs: 0, audioEndMs: 800 });
    expect(frameIndexes(utterance)).toEqual(range(0, 40));
  });

  it("numbers successive utterances and ignores clicks too short to be speech", () => {
    const utterances = collect(stream([
      ["silence", 400],
      ["speech", 100], // a click: the VAD wants 200 ms
      ["silence", 600],
      ["speech", 500],
      ["silence", 1000],
      ["speech", 700],
      ["silence", 900],
    ]));
    expect(utterances.map((u) => [u.seq, u.startMs, u.endMs])).toEqual([
      [1, 1100, 1600],
      [2, 2600, 3300],
    ]);
  });

  it("cuts a long monologue into contiguous pieces of at most maxMs, the last one final", () => {
    const collector = new UtteranceCollector({ maxMs: 2000 });
    const frames = stream([
      ["silence", 500],
      ["speech", 4500],
      ["silence", 1000],
    ]);
    const pieces = collect(frames, collector);
    expect(pieces.map((p) => [p.final, p.startMs, p.endMs, p.audioStartMs, p.audioEndMs])).toEqual([
      [false, 500, 2300, 300, 2300],
      [false, 2300, 4300, 2300, 4300],
      [true, 4300, 5000, 4300, 5200],
    ]);
    for (const piece of pieces) expect(piece.audio.length / 8).toBeLessThanOrEqual(2000);
    // Together they are the stream from the pre-roll to the post-roll, frame for frame.
    expect(pieces.flatMap(frameIndexes)).toEqual(range(15, 260));
  });

  it("closes a monologue cut right where the speech ended with an empty final piece", () => {
    const collector = new UtteranceCollector({ maxMs: 2000 });
    // 1800 ms of speech + 200 ms of pre-roll fill the first piece exactly; silence follows.
    const pieces = collect(stream([
      ["silence", 500],
      ["speech", 1800],
      ["silence", 1000],
    ]), collector);
    expect(pieces.map((p) => [p.final, p.startMs, p.endMs, p.audio.length])).toEqual([
      [false, 500, 2300, 2000 * 8],
      [true, 2300, 2300, 0],
    ]);
    expect(collector.collecting).toBe(false);
  });

  it("keeps only a short look-back while nobody speaks", () => {
    const collector = new UtteranceCollector();
    const vad = new EnergyVad();
    let most = 0;
    for (const frame of stream([["silence", 60_000]])) {
      const judged = vad.pushFrame(frame);
      expect(collector.push(frame, judged.startMs, judged.event)).toBeNull();
      most = Math.max(most, collector.bufferedMs);
    }
    expect(most).toBeLessThanOrEqual(collector.options.lookBackMs + 20);
    expect(collector.collecting).toBe(false);
  });
});
