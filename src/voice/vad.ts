/**
 * Energy voice-activity detector over 20 ms μ-law 8 kHz frames (160 bytes, Twilio's frame size).
 *
 * Why energy and not a model: it is a cheap local barge-in trigger while the bot speaks
 * (realtime.md §6, "VAD voice for ≥0.2 s"); Deepgram does the real endpointing. Phone lines differ
 * in hiss and hum, so the threshold rides an adaptive noise floor rather than a fixed level.
 *
 * Per frame: RMS level in dBFS; "voiced" when level ≥ max(minThresholdDbfs, noiseFloor + marginDb).
 * Speech starts after `startMs` of consecutive voiced frames (short clicks never start it) and ends
 * after `stopMs` of consecutive unvoiced frames (short pauses never end it), the pipecat-style
 * start_secs 0.2 / stop_secs 0.8 hysteresis.
 */
import { MULAW_DECODE_TABLE } from "./mulaw";
import { FRAME_BYTES, MulawFramer } from "./playout";

export const FRAME_MS = 20;
/** Level reported for digital silence (16-bit dynamic range), instead of -Infinity. */
export const MIN_DBFS = -96;

export interface VadOptions {
  /** Voiced time before speech_start (default 200 ms). */
  startMs: number;
  /** Unvoiced time before speech_end (default 800 ms). */
  stopMs: number;
  /** How far above the noise floor a frame must be to count as voiced (default 12 dB). */
  marginDb: number;
  /** Voiced frames must also reach this absolute level, so digital silence + dither never triggers (default -50 dBFS). */
  minThresholdDbfs: number;
  /** Starting noise floor (default -70 dBFS). */
  initialNoiseFloorDbfs: number;
}

export const DEFAULT_VAD_OPTIONS: VadOptions = {
  startMs: 200,
  stopMs: 800,
  marginDb: 12,
  minThresholdDbfs: -50,
  initialNoiseFloorDbfs: -70,
};

/** Noise-floor smoothing per frame: fall fast toward quieter frames, rise slowly toward louder ones. */
const FLOOR_FALL = 0.3;
const FLOOR_RISE = 0.05;
/**
 * During voiced frames the floor still creeps up (time constant ~10 s), so a steady loud hum that
 * first looked like speech is eventually absorbed instead of holding the VAD on forever.
 */
const FLOOR_RISE_VOICED = 0.002;

export type VadEvent =
  /** `atMs`: stream time of the first voiced frame of the run (emitted `startMs` later). */
  | { type: "speech_start"; atMs: number }
  /** `atMs`: end of the last voiced frame (emitted `stopMs` later). */
  | { type: "speech_end"; atMs: number; durationMs: number };

export interface VadFrame {
  index: number;
  /** Stream time of the frame's start. */
  startMs: number;
  dbfs: number;
  /** Threshold this frame was judged against. */
  thresholdDbfs: number;
  voiced: boolean;
  /** Detector state after this frame: inside a confirmed speech segment. */
  isSpeech: boolean;
  event?: VadEvent;
}

/** RMS level of a μ-law frame in dBFS (0 dBFS = a full-scale square wave), floored at MIN_DBFS. */
export function mulawFrameDbfs(frame: Uint8Array): number {
  if (frame.length === 0) return MIN_DBFS;
  let sum = 0;
  for (let i = 0; i < frame.length; i++) {
    const s = MULAW_DECODE_TABLE[frame[i]];
    sum += s * s;
  }
  const rms = Math.sqrt(sum / frame.length);
  return rms === 0 ? MIN_DBFS : Math.max(MIN_DBFS, 20 * Math.log10(rms / 32768));
}

export class EnergyVad {
  readonly options: VadOptions;
  readonly #startFrames: number;
  readonly #stopFrames: number;
  readonly #framer = new MulawFramer(FRAME_BYTES);
  #index = 0;
  #floor: number;
  #speaking = false;
  /** Consecutive voiced frames while silent / unvoiced frames while speaking. */
  #run = 0;
  #speechStartMs = 0;
  #lastVoicedEndMs = 0;

  constructor(options: Partial<VadOptions> = {}) {
    this.options = { ...DEFAULT_VAD_OPTIONS, ...options };
    // Whole frames, at least one: 200 ms = 10 frames, 800 ms = 40.
    this.#startFrames = Math.max(1, Math.ceil(this.options.startMs / FRAME_MS));
    this.#stopFrames = Math.max(1, Math.ceil(this.options.stopMs / FRAME_MS));
    this.#floor = this.options.initialNoiseFloorDbfs;
  }

  get speaking(): boolean {
    return this.#speaking;
  }

  get noiseFloorDbfs(): number {
    return this.#floor;
  }

  /** Stream time processed so far. */
  get timeMs(): number {
    return this.#index * FRAME_MS;
  }

  /** Judges one 160-byte frame. */
  pushFrame(frame: Uint8Array): VadFrame {
    if (frame.length !== FRAME_BYTES) throw new RangeError(`VAD frames must be ${FRAME_BYTES} bytes, got ${frame.length}`);
    const index = this.#index++;
    const startMs = index * FRAME_MS;
    const endMs = startMs + FRAME_MS;
    const dbfs = mulawFrameDbfs(frame);
    const thresholdDbfs = Math.max(this.options.minThresholdDbfs, this.#floor + this.options.marginDb);
    const voiced = dbfs >= thresholdDbfs;

    const rate = voiced ? FLOOR_RISE_VOICED : dbfs < this.#floor ? FLOOR_FALL : FLOOR_RISE;
    this.#floor += rate * (dbfs - this.#floor);

    let event: VadEvent | undefined;
    if (!this.#speaking) {
      this.#run = voiced ? this.#run + 1 : 0;
      if (this.#run >= this.#startFrames) {
        this.#speaking = true;
        this.#run = 0;
        this.#speechStartMs = endMs - this.#startFrames * FRAME_MS;
        this.#lastVoicedEndMs = endMs;
        event = { type: "speech_start", atMs: this.#speechStartMs };
      }
    } else if (voiced) {
      this.#run = 0;
      this.#lastVoicedEndMs = endMs;
    } else if (++this.#run >= this.#stopFrames) {
      this.#speaking = false;
      this.#run = 0;
      event = { type: "speech_end", atMs: this.#lastVoicedEndMs, durationMs: this.#lastVoicedEndMs - this.#speechStartMs };
    }
    return { index, startMs, dbfs, thresholdDbfs, voiced, isSpeech: this.#speaking, ...(event ? { event } : {}) };
  }

  /** μ-law bytes in any chunk size (e.g. one Twilio media payload); returns the events they caused. */
  push(bytes: Uint8Array): VadEvent[] {
    const events: VadEvent[] = [];
    for (const frame of this.#framer.push(bytes)) {
      const { event } = this.pushFrame(frame);
      if (event) events.push(event);
    }
    return events;
  }
}
