/**
 * The voice session's decisions, free of I/O: when caller speech stops the agent, what the caller
 * heard of a cut-off clause, how transcript turns are ordered, how Deepgram times map onto the
 * call's stream after a reconnect, the per-turn latency figures, and keypad entries.
 */
import type { BargeInOptions } from "./session-config";
import { shouldInterrupt } from "./turns";

// ---- Barge-in ----

/**
 * Should caller speech heard while the agent talks stop it? Words decide when there are enough:
 * `minWords` non-filler words, or any interrupt word ("stop", "wait"…). Otherwise `minSpeechMs`
 * of voiced audio does, unless the words heard so far are only fillers ("okay", "mm-hmm"), which
 * never stop the agent however long they last.
 */
export function bargeInDecision(input: { text: string; voicedMs: number }, options: BargeInOptions): boolean {
  if (shouldInterrupt({ text: input.text, speechMs: Number.POSITIVE_INFINITY }, { minWords: options.minWords, minSpeechMs: 0 })) return true;
  return shouldInterrupt({ text: input.text, speechMs: input.voicedMs }, { minWords: 0, minSpeechMs: options.minSpeechMs });
}

// ---- Keypad (DTMF) ----

/** A key the carriers report: the digits, `*`, `#` and the A–D column. */
export const KEYPAD_KEY = /^[0-9*#A-D]$/;
/** A keypad entry ends this long after its last key, … */
export const KEYPAD_GAP_MS = 2000;
/** … or, once it has `#` or KEYPAD_MAX_KEYS keys, this long after that key (for keys overtaken on the way). */
export const KEYPAD_SETTLE_MS = 150;
export const KEYPAD_MAX_KEYS = 20;

/**
 * The keys of the caller's keypad entries, in the carrier's sequence order: Telnyx does not
 * promise to deliver stream messages in order (nor does a busy local workerd), so a key may
 * arrive after the one pressed next. A key older than an entry already taken is dropped.
 */
export class KeypadEntry {
  #keys: { key: string; sequence: number }[] = [];
  #takenThrough = Number.NEGATIVE_INFINITY;
  #arrivals = 0;

  /** Adds a key (`sequence`: the carrier's message number; arrival order without one). False when dropped. */
  add(key: string, sequence?: number): boolean {
    const at = sequence ?? this.#arrivals++;
    if (at <= this.#takenThrough) return false;
    this.#keys.push({ key, sequence: at });
    this.#keys.sort((a, b) => a.sequence - b.sequence);
    return true;
  }

  get empty(): boolean {
    return this.#keys.length === 0;
  }

  /** Has `#` or as many keys as an entry takes: it ends once KEYPAD_SETTLE_MS pass. */
  get complete(): boolean {
    return this.#keys.some((k) => k.key === "#") || this.#keys.length >= KEYPAD_MAX_KEYS;
  }

  /** The entry's keys in order; it starts over. */
  take(): string {
    const keys = this.#keys.map((k) => k.key).join("");
    this.#takenThrough = Math.max(this.#takenThrough, ...this.#keys.map((k) => k.sequence));
    this.#keys = [];
    return keys;
  }
}

/** A keypad entry as the caller's turn, in the transcript and, in these words, to the LLM. */
export function keypadText(keys: string): string {
  return `[keypad: ${keys}]`;
}

/**
 * What the caller heard of a clause cut off after `playedMs` of its `clauseMs` of audio: whole
 * words in proportion to the time played (marks only prove whole clauses; this is the estimate
 * for the one in progress at the clear).
 */
export function playedPrefix(clause: string, playedMs: number, clauseMs: number): string {
  if (playedMs <= 0 || clauseMs <= 0) return "";
  if (playedMs >= clauseMs) return clause;
  const words = clause.split(/\s+/).filter(Boolean);
  return words.slice(0, Math.floor((words.length * playedMs) / clauseMs)).join(" ");
}

export function joinSpoken(...parts: string[]): string {
  return parts.map((p) => p.trim()).filter(Boolean).join(" ");
}

/** One clause of an agent turn as it went out to the carrier. */
export interface SentClause {
  text: string;
  /** Audio sent for it so far. */
  audioMs: number;
  /** All its audio was sent (and its mark after it). */
  complete: boolean;
  /** Its mark came back before any clear: the caller heard all of it. */
  echoed: boolean;
}

/**
 * Speech rate assumed for a clause whose audio is still arriving (its length is not known yet):
 * about 15 characters a second.
 */
export const MS_PER_CHAR_ESTIMATE = 65;

/**
 * What the caller heard of a turn cut off by a clear: every clause whose mark was echoed, plus the
 * part of the next one played since the last echo (`msSinceLastEcho`; since the first frame when
 * none was echoed), cut by played duration (DESIGN.md "Voice loop contracts").
 */
export function heardSoFar(clauses: SentClause[], msSinceLastEcho: number): { text: string; playedMs: number } {
  let text = "";
  let playedMs = 0;
  let i = 0;
  for (; i < clauses.length && clauses[i].echoed; i++) {
    text = joinSpoken(text, clauses[i].text);
    playedMs += clauses[i].audioMs;
  }
  const playing = clauses[i];
  if (playing && msSinceLastEcho > 0 && playing.audioMs > 0) {
    const total = playing.complete ? playing.audioMs : Math.max(playing.audioMs, playing.text.length * MS_PER_CHAR_ESTIMATE);
    const played = Math.min(msSinceLastEcho, playing.audioMs);
    text = joinSpoken(text, playedPrefix(playing.text, played, total));
    playedMs += played;
  }
  return { text, playedMs: Math.round(playedMs) };
}

// ---- Transcript ----

export interface TranscriptTurn {
  speaker: "agent" | "contact";
  text: string;
  /** ms from the answer. */
  start_ms: number;
  end_ms: number;
  /** Seconds from the answer (Truedy's field). */
  timestamp: number;
  interrupted: boolean;
}

export function transcriptTurn(speaker: TranscriptTurn["speaker"], text: string, startMs: number, endMs: number, interrupted = false): TranscriptTurn {
  const start = Math.max(0, Math.round(startMs));
  const end = Math.max(start, Math.round(endMs));
  return { speaker, text, start_ms: start, end_ms: end, timestamp: start / 1000, interrupted };
}

/**
 * Adds a turn in chronological order of its start. Turns are written when they settle, which is
 * not always the order they began (an agent turn settles when its audio has played, a caller
 * backchannel heard meanwhile is written at once), so the insert keeps the list sorted.
 */
export function insertTurn(turns: TranscriptTurn[], turn: TranscriptTurn): TranscriptTurn[] {
  let at = turns.length;
  while (at > 0 && turns[at - 1].start_ms > turn.start_ms) at--;
  return [...turns.slice(0, at), turn, ...turns.slice(at)];
}

// ---- Deepgram stream time ----

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const shift = (v: unknown, by: number) => (typeof v === "number" && Number.isFinite(v) ? Math.round((v + by) * 1000) / 1000 : v);

/**
 * Deepgram times are seconds of audio received on *that* connection; after a reconnect they
 * restart at 0. Shifting each message by where the connection's audio began in the call's stream
 * keeps every time on one clock (the caller's stream), so turn assembly can span a reconnect.
 */
export function shiftDeepgramTimes(message: unknown, offsetSeconds: number): unknown {
  if (!isObject(message) || offsetSeconds === 0) return message;
  switch (message.type) {
    case "Results": {
      const channel = isObject(message.channel) ? message.channel : undefined;
      const alternatives = Array.isArray(channel?.alternatives) ? channel.alternatives : undefined;
      return {
        ...message,
        start: shift(message.start, offsetSeconds),
        ...(channel && alternatives
          ? {
              channel: {
                ...channel,
                alternatives: alternatives.map((alt) =>
                  isObject(alt) && Array.isArray(alt.words)
                    ? { ...alt, words: alt.words.map((w) => (isObject(w) ? { ...w, start: shift(w.start, offsetSeconds), end: shift(w.end, offsetSeconds) } : w)) }
                    : alt,
                ),
              },
            }
          : {}),
      };
    }
    case "UtteranceEnd":
      return { ...message, last_word_end: shift(message.last_word_end, offsetSeconds) };
    case "SpeechStarted":
      return { ...message, timestamp: shift(message.timestamp, offsetSeconds) };
    default:
      return message;
  }
}

// ---- Latency ----

/**
 * One caller turn's latency, each stage in ms (they add up to `total_ms`): end of the caller's
 * speech → STT final (endpointing + transcription), → LLM first token, → first TTS byte (the
 * first clause completing plus TTS time-to-first-byte), → first agent frame sent to the carrier.
 */
export interface TurnLatency {
  turn: number;
  stt_final_ms: number;
  llm_first_token_ms: number;
  tts_first_byte_ms: number;
  first_audio_ms: number;
  total_ms: number;
}

export interface CallLatency {
  p50_ms: number;
  p95_ms: number;
  turns: TurnLatency[];
}

/** Wall-clock instants (ms) of a turn's milestones. */
export interface LatencyMarks {
  speechEndAt: number;
  sttFinalAt: number;
  llmFirstTokenAt?: number;
  ttsFirstByteAt?: number;
  firstFrameAt?: number;
}

/** The turn's figures once its first frame went out; null when it never spoke (aborted before audio). */
export function turnLatency(turn: number, marks: LatencyMarks): TurnLatency | null {
  const { speechEndAt, sttFinalAt, llmFirstTokenAt, ttsFirstByteAt, firstFrameAt } = marks;
  if (firstFrameAt === undefined || llmFirstTokenAt === undefined || ttsFirstByteAt === undefined) return null;
  // The end of speech is estimated from frame arrival times, so it is clamped to come first.
  const end = Math.min(speechEndAt, sttFinalAt);
  const stage = (from: number, to: number) => Math.max(0, Math.round(to - from));
  return {
    turn,
    stt_final_ms: stage(end, sttFinalAt),
    llm_first_token_ms: stage(sttFinalAt, llmFirstTokenAt),
    tts_first_byte_ms: stage(llmFirstTokenAt, ttsFirstByteAt),
    first_audio_ms: stage(ttsFirstByteAt, firstFrameAt),
    total_ms: stage(end, firstFrameAt),
  };
}

/** Nearest-rank percentile (p in 0–100) of a non-empty list. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** The call's latency object, or null when no caller turn was answered. */
export function latencySummary(turns: TurnLatency[]): CallLatency | null {
  if (turns.length === 0) return null;
  const totals = turns.map((t) => t.total_ms);
  return { p50_ms: percentile(totals, 50), p95_ms: percentile(totals, 95), turns };
}

// ---- Inbound frame order ----

/** μ-law silence, for a frame that never came. */
const SILENCE_BYTE = 0xff;

/**
 * Puts inbound media frames back in order by their chunk number. Telnyx does not guarantee frame
 * order (realtime.md §2), and a Durable Object can run queued WebSocket messages out of order
 * when many arrive while it is busy; the recording and STT must hear the caller in order.
 *
 * - Numbering starts at 1 (Twilio; some clients use 0): frames wait until that one is seen, or
 *   until a gap has waited long enough (below), then flow from the lowest (a stream picked up
 *   mid-way).
 * - A frame that never comes must not stall the caller's audio: once more than `maxHeld` frames
 *   wait behind a gap and the oldest of them has waited `maxWaitMs` (or `10 × maxHeld` frames
 *   wait, whatever the time), the gap is filled with silence of the last frame's size and the
 *   rest flows. The wall-time condition matters when frames come in a burst (a busy object, a
 *   carrier catching up): a frame 25 places late may then be only milliseconds late.
 * - The stream clock (frames passed on) must stay equal to the caller's time, because turn
 *   timestamps and recordings are read off it. So a frame whose place was already filled with
 *   silence, or a repeat of one already passed on, is dropped; a frame from before the first one
 *   seen (numbering from 0) was never passed on, and goes through at once: late beats lost.
 */
export class FrameReorderer {
  readonly maxHeld: number;
  readonly maxWaitMs: number;
  #first: number | null = null;
  #next: number | null = null;
  #held = new Map<number, { bytes: Uint8Array; at: number }>();
  #lastSize = 160;
  /** Late frames dropped because silence already stood in for them (or repeats). */
  dropped = 0;

  constructor(maxHeld = 25, maxWaitMs = 200) {
    this.maxHeld = maxHeld;
    this.maxWaitMs = maxWaitMs;
  }

  /**
   * A frame with its chunk number (undefined: unnumbered, passed through) that arrived at wall
   * time `now`. Returns the frames now in order.
   */
  push(chunk: number | undefined, bytes: Uint8Array, now = Date.now()): Uint8Array[] {
    if (chunk === undefined || !Number.isInteger(chunk)) return [bytes];
    if (this.#next !== null && chunk < this.#next) return this.#late(chunk, bytes);
    if (this.#held.has(chunk)) return [];
    this.#held.set(chunk, { bytes, at: now });
    if (this.#next === null) {
      if (chunk > 1 && !this.#waitedEnough(now)) return [];
      this.#next = this.#first = Math.min(...this.#held.keys());
    }
    const out = this.#drain();
    if (this.#waitedEnough(now)) {
      const first = Math.min(...this.#held.keys());
      for (; this.#next < first; this.#next++) out.push(new Uint8Array(this.#lastSize).fill(SILENCE_BYTE));
      out.push(...this.#drain());
    }
    return out;
  }

  /** End of the stream: everything held, in order, gaps skipped. */
  flush(): Uint8Array[] {
    const out = [...this.#held.keys()].sort((a, b) => a - b).map((chunk) => this.#held.get(chunk)!.bytes);
    this.#held.clear();
    return out;
  }

  /** A frame behind the stream: silence already stood in for it, or it is a repeat. */
  #late(chunk: number, bytes: Uint8Array): Uint8Array[] {
    if (chunk < this.#first!) return [bytes];
    this.dropped++;
    return [];
  }

  #waitedEnough(now: number): boolean {
    if (this.#held.size <= this.maxHeld) return false;
    if (this.#held.size > 10 * this.maxHeld) return true;
    let oldest = now;
    for (const { at } of this.#held.values()) oldest = Math.min(oldest, at);
    return now - oldest >= this.maxWaitMs;
  }

  #drain(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let next = this.#next!, frame = this.#held.get(next); frame; frame = this.#held.get(++next)) {
      this.#held.delete(next);
      this.#lastSize = frame.bytes.length;
      out.push(frame.bytes);
      this.#next = next + 1;
    }
    return out;
  }
}

// ---- The stream's `start` frame ----

/** What a media stream's `start` frame says about itself, as sent (nothing here is trusted yet). */
export interface StreamStart {
  /** Telnyx `start.media_format` ({encoding, sample_rate, channels}), Twilio `start.mediaFormat` ({encoding, sampleRate, channels}). */
  format: unknown;
  /** Telnyx `start.call_control_id`. */
  callControlId?: unknown;
}

export interface StreamStartProblem {
  /** `format`: audio the loop cannot hear or speak; `identity`: a stream of some other call. */
  reason: "format" | "identity";
  message: string;
}

/** μ-law's names: Telnyx says `PCMU` (its older docs, like Twilio, `audio/x-mulaw`). */
const MULAW_ENCODINGS = new Set(["pcmu", "audio/x-mulaw"]);

/**
 * Why the voice loop cannot serve a stream that starts like this, or null when it can.
 *
 * - Format: the loop hears and speaks μ-law at 8000 Hz, mono, only. Audio in any other format
 *   would reach STT as noise and the caller would hear noise back, so such a stream is refused
 *   rather than spoken to. Telnyx always declares its `media_format` (realtime.md §2), so a
 *   Telnyx start without one is refused too; Twilio's `mediaFormat` is checked when present.
 * - Identity (Telnyx): the media URL is not signed, so the `call_control_id` the start carries
 *   must be the one Telnyx gave us for this call.
 */
export function streamStartProblem(provider: "twilio" | "telnyx", start: StreamStart, expectedCallControlId: string | null): StreamStartProblem | null {
  if (provider === "telnyx" && expectedCallControlId !== null && start.callControlId !== expectedCallControlId) {
    return { reason: "identity", message: `the start frame names call_control_id ${JSON.stringify(start.callControlId ?? null)}, not this call's` };
  }
  const format = start.format;
  if (format === undefined || format === null) {
    return provider === "telnyx" ? { reason: "format", message: "the start frame declares no media_format" } : null;
  }
  const shown = JSON.stringify(format)?.slice(0, 200);
  if (typeof format !== "object" || Array.isArray(format)) return { reason: "format", message: `media_format ${shown} is not an object` };
  const f = format as Record<string, unknown>;
  const rate = Number(f.sample_rate ?? f.sampleRate);
  const channels = f.channels === undefined ? 1 : Number(f.channels);
  if (typeof f.encoding !== "string" || !MULAW_ENCODINGS.has(f.encoding.toLowerCase()) || rate !== 8000 || channels !== 1) {
    return { reason: "format", message: `media_format ${shown} is not PCMU (μ-law) at 8000 Hz mono` };
  }
  return null;
}
