/**
 * Caller utterances cut out of the inbound stream by the energy VAD (./vad), for a batch STT that
 * hears only what it is sent (providers/openai-stt). Pure: frames and the VAD's events in,
 * finished utterances out.
 *
 *   silence ··· [pre-roll][speech_start ······· speech][post-roll] hangover ··· speech_end emitted
 *                ^ audioStartMs     ^ startMs          ^ endMs    ^ audioEndMs
 *
 * - An utterance's audio starts `preRollMs` (200 ms) before the VAD's `speech_start.atMs`: the
 *   VAD confirms speech 200 ms after its first voiced frame and soft onsets ("h", "f") sit under
 *   its threshold, so recent frames are kept in a short look-back ring to take them from.
 * - It ends `postRollMs` (200 ms) after `speech_end.atMs` (the end of the last voiced frame);
 *   the rest of the VAD's 800 ms hangover is silence and is not sent.
 * - A piece holds at most `maxMs` (30 s) of audio: a longer monologue is cut there and the piece
 *   handed out at once with `final: false`, so its transcription starts while the caller goes
 *   on; the pieces are contiguous and the session joins their texts into one caller turn. When
 *   no speech followed the cut, the final piece has no audio (it only closes the utterance).
 *
 * Times are the caller's stream ms, the VAD frames' own clock. `startMs`/`endMs` are the speech's
 * (the transcript's times), `audioStartMs`/`audioEndMs` what the bytes cover.
 */
import type { VadEvent } from "./vad";

export interface UtteranceOptions {
  preRollMs: number;
  postRollMs: number;
  maxMs: number;
  /** How much recent audio is kept before speech starts; at least the VAD's startMs + preRollMs. */
  lookBackMs: number;
}

export const DEFAULT_UTTERANCE_OPTIONS: UtteranceOptions = { preRollMs: 200, postRollMs: 200, maxMs: 30_000, lookBackMs: 600 };

export interface Utterance {
  /** 1, 2, … per collector; the pieces of one cut utterance have their own numbers. */
  seq: number;
  /** μ-law 8 kHz, contiguous from audioStartMs to audioEndMs. */
  audio: Uint8Array;
  startMs: number;
  endMs: number;
  audioStartMs: number;
  audioEndMs: number;
  /** False for a piece cut at `maxMs`: more of the same utterance follows. */
  final: boolean;
}

interface Frame {
  startMs: number;
  bytes: Uint8Array;
}

const BYTES_PER_MS = 8;
const endOf = (frame: Frame) => frame.startMs + frame.bytes.length / BYTES_PER_MS;

export class UtteranceCollector {
  readonly options: UtteranceOptions;
  /** Recent frames while no utterance is open. */
  #ring: Frame[] = [];
  /** The open utterance's frames (null in silence). */
  #frames: Frame[] | null = null;
  /** Speech start of the open piece: the VAD's atMs, or the cut for a continuation. */
  #speechStartMs = 0;
  #seq = 0;

  constructor(options: Partial<UtteranceOptions> = {}) {
    this.options = { ...DEFAULT_UTTERANCE_OPTIONS, ...options };
  }

  /** Inside an utterance (between speech_start and speech_end). */
  get collecting(): boolean {
    return this.#frames !== null;
  }

  /** Audio held now (look-back ring or the open piece), in ms. */
  get bufferedMs(): number {
    const frames = this.#frames ?? this.#ring;
    return frames.length === 0 ? 0 : endOf(frames[frames.length - 1]) - frames[0].startMs;
  }

  /**
   * One frame of caller audio starting at stream time `startMs`, with the event the VAD raised on
   * it. Returns the utterance (or piece) it completed, if any.
   */
  push(bytes: Uint8Array, startMs: number, event?: VadEvent): Utterance | null {
    const frame: Frame = { startMs, bytes };
    const endMs = endOf(frame);
    if (this.#frames) {
      this.#frames.push(frame);
    } else {
      this.#ring.push(frame);
      while (this.#ring.length > 1 && this.#ring[0].startMs < endMs - this.options.lookBackMs) this.#ring.shift();
    }

    if (event?.type === "speech_start" && !this.#frames) {
      const from = event.atMs - this.options.preRollMs;
      this.#frames = this.#ring.filter((f) => f.startMs >= from);
      this.#ring = [];
      this.#speechStartMs = event.atMs;
    } else if (event?.type === "speech_end" && this.#frames) {
      const frames = this.#frames;
      this.#frames = null;
      if (event.atMs <= this.#speechStartMs) {
        // The speech ended at the last cut: this piece only closes the utterance.
        return this.#piece([], this.#speechStartMs, this.#speechStartMs, true);
      }
      const until = event.atMs + this.options.postRollMs;
      return this.#piece(
        frames.filter((f) => f.startMs < until),
        this.#speechStartMs,
        event.atMs,
        true,
      );
    }

    const frames = this.#frames;
    if (frames && frames.length > 0 && endMs - frames[0].startMs >= this.options.maxMs) {
      const piece = this.#piece(frames, this.#speechStartMs, endMs, false);
      this.#frames = [];
      this.#speechStartMs = endMs;
      return piece;
    }
    return null;
  }

  #piece(frames: Frame[], startMs: number, endMs: number, final: boolean): Utterance {
    const audio = new Uint8Array(frames.reduce((n, f) => n + f.bytes.length, 0));
    let at = 0;
    for (const f of frames) {
      audio.set(f.bytes, at);
      at += f.bytes.length;
    }
    const audioStartMs = frames.length ? frames[0].startMs : startMs;
    const audioEndMs = frames.length ? endOf(frames[frames.length - 1]) : endMs;
    return { seq: ++this.#seq, audio, startMs, endMs, audioStartMs, audioEndMs, final };
  }
}
