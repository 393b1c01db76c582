/**
 * Streaming clause splitter: LLM text deltas in, speakable clauses out (realtime.md §3 guidance:
 * start TTS on the first clause so TTS time-to-first-byte overlaps LLM generation).
 *
 * A boundary is a terminator followed by whitespace (closing quotes/brackets may sit in between):
 * - `.` `!` `?` always;
 * - `;` `:` `,` only once the clause has at least `minSoftChars` characters, so TTS is not fed
 *   choppy fragments like "Well," or "Sure,";
 * - a newline (LLMs put list items and paragraphs on their own lines).
 * Requiring whitespace after the terminator is what keeps "3.5", "10:30" and "1,000" intact; the
 * splitter therefore waits for the next character before deciding. A `.` also does not split
 * after an abbreviation ("Dr.", "e.g.", "Mr."), a single-letter initial ("J. Smith") or a bare
 * list number ("1. First").
 */

const HARD = new Set([".", "!", "?"]);
const SOFT = new Set([";", ":", ","]);
const CLOSERS = new Set(['"', "'", ")", "]", "}", "”", "’", "»"]);

/**
 * Lower-case, without the final dot. Only ones that rarely end a sentence: not "etc." and not
 * "No." (a whole answer on a call). Missing a split costs a little latency; a wrong split makes
 * TTS pause mid-sentence.
 */
const ABBREVIATIONS = new Set([
  "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "ft", "vs", "e.g", "i.e", "a.m", "p.m",
  "approx", "dept", "vol", "fig", "jan", "feb", "apr", "jun", "jul", "aug", "sept", "oct", "nov",
  "u.s", "u.k", "ph.d",
]);

export interface ClauseSplitterOptions {
  /** Minimum clause length (characters, trimmed) before `,` `;` `:` may end it. Default 24. */
  minSoftChars: number;
}

function isSpace(c: string): boolean {
  return c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\u00a0";
}

export class ClauseSplitter {
  readonly options: ClauseSplitterOptions;
  #buf = "";
  /** Buffer positions before this were already judged not to be boundaries. */
  #scan = 0;

  constructor(options: Partial<ClauseSplitterOptions> = {}) {
    this.options = { minSoftChars: 24, ...options };
  }

  /** Feeds a text delta; returns the clauses it completed (trimmed, never empty). */
  push(delta: string): string[] {
    this.#buf += delta;
    const out: string[] = [];
    for (;;) {
      const cut = this.#nextBoundary();
      if (cut < 0) break;
      const clause = this.#buf.slice(0, cut).trim();
      this.#buf = this.#buf.slice(cut).replace(/^\s+/, "");
      this.#scan = 0;
      if (clause) out.push(clause);
    }
    return out;
  }

  /** End of the LLM text: whatever is left, as a final clause. */
  flush(): string[] {
    const rest = this.#buf.trim();
    this.#buf = "";
    this.#scan = 0;
    return rest ? [rest] : [];
  }

  /** Text received but not yet emitted. */
  get pending(): string {
    return this.#buf;
  }

  /**
   * Index just past the first boundary's terminator (and closers), or -1. Stops at the first
   * terminator whose following character has not arrived yet: order must be preserved.
   */
  #nextBoundary(): number {
    const buf = this.#buf;
    for (let i = this.#scan; i < buf.length; i++) {
      const c = buf[i];
      if (c === "\n") {
        if (buf.slice(0, i).trim()) return i;
        continue;
      }
      if (!HARD.has(c) && !SOFT.has(c)) continue;
      let j = i + 1;
      while (j < buf.length && CLOSERS.has(buf[j])) j++;
      if (j >= buf.length) {
        this.#scan = i; // undecided: wait for more text
        return -1;
      }
      if (!isSpace(buf[j])) continue;
      if (HARD.has(c) ? this.#hardSplits(i) : buf.slice(0, i).trim().length >= this.options.minSoftChars) return j;
    }
    this.#scan = buf.length;
    return -1;
  }

  #hardSplits(at: number): boolean {
    if (this.#buf[at] !== ".") return true;
    const before = this.#buf.slice(0, at);
    const token = (before.match(/\S*$/)?.[0] ?? "").replace(/^[("'“‘[]+/, "");
    if (ABBREVIATIONS.has(token.toLowerCase())) return false;
    if (/^\p{Lu}$/u.test(token)) return false; // initial: "J. Smith"
    if (/^\d+$/.test(token) && before.trim() === token) return false; // list marker "1."
    return true;
  }
}

/** Splits a whole text at once (same rules as streaming). */
export function splitClauses(text: string, options: Partial<ClauseSplitterOptions> = {}): string[] {
  const splitter = new ClauseSplitter(options);
  return [...splitter.push(text), ...splitter.flush()];
}
