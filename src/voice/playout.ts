/**
 * Outbound audio bookkeeping for a Twilio/Telnyx media stream.
 *
 * - `MulawFramer` cuts μ-law arriving in whatever sizes a TTS HTTP body yields into exact 20 ms
 *   frames (160 bytes at 8 kHz; μ-law is one byte per sample, so any byte boundary is a sample
 *   boundary), carrying the remainder into the next chunk.
 * - `MarkTracker` answers "what did the caller actually hear?" at barge-in: a mark is sent after a
 *   clause's audio, Twilio echoes it once that audio has played, and on `clear` Twilio echoes every
 *   pending mark at once (realtime.md §1.7). So only echoes that arrived *before* the clear prove
 *   playback; echoes of marks pending at the clear are ignored.
 */

export const FRAME_BYTES = 160;
/** μ-law byte for digital silence (decodes to 0). */
export const MULAW_SILENCE = 0xff;

export class MulawFramer {
  readonly frameBytes: number;
  #rest = new Uint8Array(0);

  constructor(frameBytes = FRAME_BYTES) {
    if (!Number.isInteger(frameBytes) || frameBytes < 1) throw new RangeError(`frameBytes must be a positive integer, got ${frameBytes}`);
    this.frameBytes = frameBytes;
  }

  /** Bytes held back until a whole frame is available. */
  get pendingBytes(): number {
    return this.#rest.length;
  }

  /** Returns every complete frame (each a fresh copy of exactly `frameBytes` bytes). */
  push(bytes: Uint8Array): Uint8Array[] {
    const size = this.frameBytes;
    let data = bytes;
    if (this.#rest.length > 0) {
      data = new Uint8Array(this.#rest.length + bytes.length);
      data.set(this.#rest);
      data.set(bytes, this.#rest.length);
    }
    const frames: Uint8Array[] = [];
    let offset = 0;
    for (; offset + size <= data.length; offset += size) frames.push(data.slice(offset, offset + size));
    this.#rest = data.slice(offset);
    return frames;
  }

  /**
   * End of an utterance: the partial frame, padded with silence to a whole frame when `pad` is
   * true (some carriers want fixed-size frames), or null when nothing is pending.
   */
  flush(pad = true): Uint8Array | null {
    if (this.#rest.length === 0) return null;
    const rest = this.#rest;
    this.#rest = new Uint8Array(0);
    if (!pad) return rest;
    const frame = new Uint8Array(this.frameBytes).fill(MULAW_SILENCE);
    frame.set(rest);
    return frame;
  }

  /** Barge-in: drop the partial frame. */
  reset(): void {
    this.#rest = new Uint8Array(0);
  }
}

export interface PlayoutMark {
  /** The `mark.name` sent to the carrier; unique while pending. */
  name: string;
  turnId: string;
  /** The turn's assistant text whose audio precedes this mark (cumulative from the turn start). */
  textUpTo: string;
}

export interface InterruptedTurn {
  turnId: string;
  /** Text confirmed played before the clear: textUpTo of the last mark echoed, or "". */
  heardText: string;
  /** Text of the last mark sent for the turn (what would have been said without the clear). */
  sentText: string;
}

interface TurnState {
  heardText: string;
  sentText: string;
}

export class MarkTracker {
  /** Marks sent and not yet echoed, in send order (carriers play and echo in order). */
  #pending: PlayoutMark[] = [];
  #turns = new Map<string, TurnState>();
  /** Names of marks that were pending at a clear; their echoes are expected and ignored. */
  #cleared = new Set<string>();

  markSent(mark: PlayoutMark): void {
    if (this.#pending.some((m) => m.name === mark.name)) throw new Error(`mark name "${mark.name}" is already pending; mark names must be unique`);
    this.#cleared.delete(mark.name);
    this.#pending.push(mark);
    const turn = this.#turn(mark.turnId);
    turn.sentText = mark.textUpTo;
  }

  /**
   * A mark echo from the carrier. Returns the mark when it proves playback; undefined for echoes
   * of cleared or unknown marks. Because playback is in order, an echo also confirms every mark
   * sent before it.
   */
  markEchoed(name: string): PlayoutMark | undefined {
    if (this.#cleared.delete(name)) return undefined;
    const at = this.#pending.findIndex((m) => m.name === name);
    if (at < 0) return undefined;
    const played = this.#pending.splice(0, at + 1);
    for (const m of played) this.#turn(m.turnId).heardText = m.textUpTo;
    return played[played.length - 1];
  }

  /**
   * Record a `clear` sent to the carrier. Returns the turns that were cut off (had marks still
   * pending), with the text the caller heard, so history can be truncated to it (realtime.md §6).
   */
  clear(): InterruptedTurn[] {
    const interrupted: InterruptedTurn[] = [];
    const seen = new Set<string>();
    for (const m of this.#pending) {
      this.#cleared.add(m.name);
      if (seen.has(m.turnId)) continue;
      seen.add(m.turnId);
      const turn = this.#turn(m.turnId);
      interrupted.push({ turnId: m.turnId, heardText: turn.heardText, sentText: turn.sentText });
    }
    this.#pending = [];
    return interrupted;
  }

  /** Text of the turn confirmed played so far ("" when nothing was confirmed). */
  heardText(turnId: string): string {
    return this.#turns.get(turnId)?.heardText ?? "";
  }

  /** True while audio is queued at the carrier (some mark not yet echoed): the bot is speaking. */
  get speaking(): boolean {
    return this.#pending.length > 0;
  }

  get pendingCount(): number {
    return this.#pending.length;
  }

  /** Drop per-turn state once the turn is settled in history (bounds memory on long calls). */
  forget(turnId: string): void {
    this.#turns.delete(turnId);
  }

  #turn(turnId: string): TurnState {
    let turn = this.#turns.get(turnId);
    if (!turn) {
      turn = { heardText: "", sentText: "" };
      this.#turns.set(turnId, turn);
    }
    return turn;
  }
}
