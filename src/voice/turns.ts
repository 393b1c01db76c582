/**
 * Turn-taking from Deepgram live results, and the barge-in decision (realtime.md §5.1, §6).
 *
 * Turn assembly follows call-gpt: every `is_final` transcript is appended to a buffer; the buffer
 * becomes the user's turn on `speech_final` (endpointing saw a pause) or, when endpointing never
 * fired (noisy lines), on `UtteranceEnd` (gap detection over word timings). Emitting empties the
 * buffer, so an UtteranceEnd that follows a speech_final finds nothing and cannot double-emit.
 */

export interface DeepgramWord {
  word: string;
  /** Seconds from stream start. */
  start: number;
  end: number;
  confidence?: number;
  punctuated_word?: string;
}

export interface DeepgramResults {
  type: "Results";
  start?: number;
  duration?: number;
  is_final?: boolean;
  speech_final?: boolean;
  from_finalize?: boolean;
  channel?: { alternatives?: { transcript?: string; confidence?: number; words?: DeepgramWord[] }[] };
}

export interface DeepgramUtteranceEnd {
  type: "UtteranceEnd";
  last_word_end?: number;
}

export interface DeepgramSpeechStarted {
  type: "SpeechStarted";
  timestamp?: number;
}

export type DeepgramServerMessage = DeepgramResults | DeepgramUtteranceEnd | DeepgramSpeechStarted;

export type TurnEvent =
  /** The user's words so far in this turn: finalized segments plus the current draft. */
  | { type: "interim"; text: string }
  /** Deepgram's VAD heard speech start (vad_events=true): a barge-in trigger. */
  | { type: "speech_started"; atMs: number }
  /** A complete user turn; times in ms from stream start, from word timings when present. */
  | { type: "turn"; text: string; startMs: number; endMs: number };

export interface TurnAssemblerOptions {
  /**
   * Treat a result with `from_finalize:true` as the end of the turn (default true): the client
   * sent `{"type":"Finalize"}` precisely because it wants the turn now, and such a result need not
   * carry speech_final.
   */
  endOnFinalize: boolean;
}

function toMs(seconds: number): number {
  return Math.round(seconds * 1000);
}

function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

export class DeepgramTurnAssembler {
  readonly options: TurnAssemblerOptions;
  #segments: string[] = [];
  #startSec: number | undefined;
  #endSec: number | undefined;
  #lastInterim = "";

  constructor(options: Partial<TurnAssemblerOptions> = {}) {
    this.options = { endOnFinalize: true, ...options };
  }

  /** Finalized text waiting for the end of the turn. */
  get buffered(): string {
    return this.#segments.join(" ");
  }

  /**
   * One parsed server message (JSON from the socket). Unknown types (Metadata, errors) and
   * malformed shapes are ignored: a transcript glitch must not kill a live call.
   */
  push(message: unknown): TurnEvent[] {
    if (typeof message !== "object" || message === null) return [];
    const msg = message as { type?: unknown };
    switch (msg.type) {
      case "Results":
        return this.#results(message as DeepgramResults);
      case "UtteranceEnd": {
        const lastWordEnd = num((message as DeepgramUtteranceEnd).last_word_end);
        if (this.#endSec === undefined && lastWordEnd !== undefined) this.#endSec = lastWordEnd;
        return this.#emitTurn();
      }
      case "SpeechStarted": {
        const ts = num((message as DeepgramSpeechStarted).timestamp);
        return ts === undefined ? [] : [{ type: "speech_started", atMs: toMs(ts) }];
      }
      default:
        return [];
    }
  }

  /** Drops the buffer (e.g. the call moved on and this partial speech is moot). */
  reset(): void {
    this.#segments = [];
    this.#startSec = this.#endSec = undefined;
    this.#lastInterim = "";
  }

  #results(r: DeepgramResults): TurnEvent[] {
    const alt = r.channel?.alternatives?.[0];
    const transcript = typeof alt?.transcript === "string" ? alt.transcript.trim() : "";
    const words = Array.isArray(alt?.words) ? alt.words.filter((w) => num(w?.start) !== undefined && num(w?.end) !== undefined) : [];

    if (!r.is_final) {
      if (!transcript) return [];
      return this.#interim([...this.#segments, transcript].join(" "));
    }

    if (transcript) {
      this.#segments.push(transcript);
      const start = num(r.start);
      const duration = num(r.duration);
      const segStart = words.length > 0 ? words[0].start : start;
      const segEnd = words.length > 0 ? words[words.length - 1].end : start !== undefined && duration !== undefined ? start + duration : undefined;
      if (this.#startSec === undefined) this.#startSec = segStart;
      if (segEnd !== undefined) this.#endSec = segEnd;
    }
    const ends = r.speech_final === true || (this.options.endOnFinalize && r.from_finalize === true);
    if (ends) return this.#emitTurn();
    return transcript ? this.#interim(this.buffered) : [];
  }

  #interim(text: string): TurnEvent[] {
    if (text === this.#lastInterim) return []; // repeated drafts carry no news
    this.#lastInterim = text;
    return [{ type: "interim", text }];
  }

  #emitTurn(): TurnEvent[] {
    const text = this.buffered;
    const startSec = this.#startSec;
    const endSec = this.#endSec;
    this.reset();
    if (!text) return [];
    const startMs = startSec === undefined ? 0 : toMs(startSec);
    return [{ type: "turn", text, startMs, endMs: endSec === undefined ? startMs : toMs(endSec) }];
  }
}

/** Acknowledgements and fillers that must not stop the bot (realtime.md §6, "Backchannels"). */
export const BACKCHANNEL_WORDS: ReadonlySet<string> = new Set([
  "okay", "ok", "k", "yeah", "yep", "yes", "yup", "uh-huh", "uh", "huh", "mm-hmm", "mhm", "mmhmm",
  "mm", "hmm", "hm", "um", "umm", "ah", "oh", "right", "sure", "alright", "gotcha", "cool",
]);

/** Words that always stop the bot, whatever the thresholds (Vapi's interruptionPhrases). */
export const INTERRUPT_WORDS: ReadonlySet<string> = new Set(["stop", "wait", "actually", "no"]);

export interface InterruptOptions {
  /** Non-backchannel words needed to interrupt (default 2; 0 lets VAD-only speech interrupt). */
  minWords: number;
  /** Speech duration needed to interrupt (default 200 ms). */
  minSpeechMs: number;
}

/** Lower-cased words, keeping internal hyphens/apostrophes ("uh-huh", "don't"). */
export function spokenWords(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu) ?? [];
}

/** Stretched fillers ("ummm", "hmmmm", "mmmm", "uhhh") count as backchannels too. */
function isBackchannel(word: string): boolean {
  return BACKCHANNEL_WORDS.has(word) || /^(?:u+m+|u+h+|h+m+|m+|m+h+m+|a+h+|o+h+)$/.test(word);
}

/** Nothing but acknowledgements and fillers ("okay", "mm-hmm"): heard, never answered. */
export function onlyBackchannel(text: string): boolean {
  return spokenWords(text).every(isBackchannel);
}

/**
 * Should caller speech heard while the bot talks stop the bot? `text` is the transcript so far
 * (may be "" when only VAD fired), `speechMs` how long the caller has been speaking.
 * - any interrupt word ("stop", "wait", "actually", "no") → yes, immediately;
 * - only backchannels/fillers ("okay", "uh-huh", "um") → no, however long;
 * - otherwise at least `minWords` other words and `minSpeechMs` of speech.
 */
export function shouldInterrupt(input: { text: string; speechMs: number }, options: Partial<InterruptOptions> = {}): boolean {
  const { minWords, minSpeechMs } = { minWords: 2, minSpeechMs: 200, ...options };
  const tokens = spokenWords(input.text);
  if (tokens.some((w) => INTERRUPT_WORDS.has(w))) return true;
  const content = tokens.filter((w) => !isBackchannel(w));
  if (tokens.length > 0 && content.length === 0) return false;
  return content.length >= minWords && input.speechMs >= minSpeechMs;
}
