/**
 * Pure rules of knowledge-base retrieval: turning extracted text into overlapping chunks, turning
 * a question into an FTS5 query, fusing keyword and vector rankings, and fitting the best chunks
 * into a token budget. No I/O: src/knowledge/ does the fetching, extracting and storing.
 */

export interface ChunkOptions {
  /** Target size of a chunk in characters; a chunk never exceeds it. */
  size: number;
  /** Characters of the previous chunk repeated at the start of the next one (whole sentences when they fit). */
  overlap: number;
}

export const DEFAULT_CHUNK_OPTIONS: ChunkOptions = { size: 800, overlap: 150 };

/** A source producing more chunks than this fails with a clear error instead of filling D1. */
export const MAX_CHUNKS_PER_SOURCE = 5000;

/** Collapses runs of spaces and tabs inside a paragraph; keeps paragraph breaks (blank lines). */
export function normalizeText(text: string): string {
  return text
    .replace(/\r\n?/g, "\n")
    .replace(/[\u00a0\t\f\v ]+/g, " ")
    .split(/\n[ ]*\n+/)
    .map((paragraph) => paragraph.replace(/\s*\n\s*/g, " ").trim())
    .filter(Boolean)
    .join("\n\n");
}

// Closing quotes and brackets stay with their sentence: the split consumes only the spaces.
const SENTENCE_END = /(?<=[.!?…。！？]["'”’)\]]*)\s+/u;

/** A paragraph cut at sentence ends; a "sentence" longer than `max` is cut at word boundaries. */
function sentencesOf(paragraph: string, max: number): string[] {
  const out: string[] = [];
  for (const sentence of paragraph.split(SENTENCE_END)) {
    const trimmed = sentence.trim();
    if (!trimmed) continue;
    if (trimmed.length <= max) out.push(trimmed);
    else out.push(...wordPieces(trimmed, max));
  }
  return out;
}

/** Cuts text at spaces into pieces of at most `max` characters; a word longer than `max` is cut hard. */
function wordPieces(text: string, max: number): string[] {
  const out: string[] = [];
  let current = "";
  for (const word of text.split(" ")) {
    if (!word) continue;
    if (word.length > max) {
      if (current) out.push(current);
      current = "";
      for (let i = 0; i < word.length; i += max) out.push(word.slice(i, i + max));
      continue;
    }
    if (current && current.length + 1 + word.length > max) {
      out.push(current);
      current = word;
    } else current = current ? `${current} ${word}` : word;
  }
  if (current) out.push(current);
  return out;
}

interface Unit {
  text: string;
  /** Starts a new paragraph (joined with a blank line rather than a space). */
  paragraph: boolean;
}

const joinUnits = (units: Unit[]) => units.map((u, i) => (i === 0 ? u.text : `${u.paragraph ? "\n\n" : " "}${u.text}`)).join("");

/**
 * Splits text into chunks of at most `size` characters that end on paragraph or sentence
 * boundaries, each starting with up to `overlap` characters of the end of the previous chunk
 * (its last whole sentences, or the tail words of one long sentence), so a fact cut in two still
 * sits whole in one chunk. Whitespace is normalized first; empty text gives no chunks.
 */
export function chunkText(text: string, options: ChunkOptions = DEFAULT_CHUNK_OPTIONS): string[] {
  const { size, overlap } = options;
  if (size < 20 || overlap < 0 || overlap >= size / 2) throw new Error(`invalid chunk options ${JSON.stringify(options)}`);
  const units: Unit[] = [];
  for (const paragraph of normalizeText(text).split("\n\n")) {
    if (!paragraph) continue;
    sentencesOf(paragraph, size).forEach((sentence, i) => units.push({ text: sentence, paragraph: i === 0 }));
  }

  const chunks: string[] = [];
  let current: Unit[] = [];
  let carried = 0; // how many leading units of `current` are overlap from the previous chunk
  const length = (units: Unit[]) => joinUnits(units).length;

  for (const unit of units) {
    if (current.length > carried && length([...current, unit]) > size) {
      chunks.push(joinUnits(current));
      current = overlapTail(current, overlap, size - unit.text.length - 2);
      carried = current.length;
    }
    if (current.length > 0 && current.length === carried && length([...current, unit]) > size) {
      // Only overlap so far and the unit does not fit beside it: drop the overlap.
      current = [];
      carried = 0;
    }
    current.push(unit);
  }
  if (current.length > carried) chunks.push(joinUnits(current));
  return chunks;
}

/** The units (or tail words) ending `units` that fit in `overlap` characters and leave `room` for the next unit. */
function overlapTail(units: Unit[], overlap: number, room: number): Unit[] {
  const budget = Math.min(overlap, room);
  if (budget <= 0) return [];
  const tail: Unit[] = [];
  for (let i = units.length - 1; i >= 0; i--) {
    const candidate = [{ ...units[i] }, ...tail];
    if (length(candidate) > budget) {
      if (tail.length > 0) break;
      // The last sentence alone is longer than the overlap: carry its last words.
      const words = units[i].text.split(" ");
      let piece = "";
      for (let w = words.length - 1; w >= 0; w--) {
        const next = piece ? `${words[w]} ${piece}` : words[w];
        if (next.length > budget) break;
        piece = next;
      }
      return piece ? [{ text: piece, paragraph: true }] : [];
    }
    tail.unshift({ ...units[i] });
  }
  if (tail.length) tail[0] = { ...tail[0], paragraph: true };
  return tail;

  function length(us: Unit[]) {
    return joinUnits(us).length;
  }
}

/**
 * Markdown to the text a reader sees: headings, list items and quotes lose their markers, links
 * and images keep their text, emphasis and inline-code marks go, fenced code keeps its lines,
 * HTML tags are dropped. Paragraph breaks stay.
 */
export function markdownToText(markdown: string): string {
  const lines = markdown.replace(/\r\n?/g, "\n").split("\n");
  const out: string[] = [];
  let inFence = false;
  for (const raw of lines) {
    if (/^\s*(```|~~~)/.test(raw)) {
      inFence = !inFence;
      out.push("");
      continue;
    }
    if (inFence) {
      out.push(raw);
      continue;
    }
    let line = raw;
    if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) {
      out.push("");
      continue; // horizontal rule
    }
    if (/^\s*(=+|-+)\s*$/.test(line)) continue; // setext heading underline
    const heading = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      out.push("", inline(heading[1]), "");
      continue;
    }
    line = line.replace(/^\s*>+\s?/, "").replace(/^\s*(?:[-*+]|\d+[.)])\s+(\[[ xX]\]\s+)?/, "");
    if (/^\s*\|?(\s*:?-+:?\s*\|)+\s*:?-*:?\s*$/.test(line)) continue; // table separator row
    if (line.includes("|")) line = line.replace(/^\s*\||\|\s*$/g, "").replace(/\s*\|\s*/g, " · ");
    out.push(inline(line));
  }
  return out.join("\n");

  function inline(text: string): string {
    return text
      .replace(/!\[([^\]]*)\]\([^)]*\)/g, "$1")
      .replace(/\[([^\]]+)\]\([^)]*\)/g, "$1")
      .replace(/\[([^\]]+)\]\[[^\]]*\]/g, "$1")
      .replace(/<\/?[A-Za-z][^>]*>/g, "")
      .replace(/(\*\*|__)(?=\S)(.+?)(?<=\S)\1/g, "$2")
      .replace(/(^|[^\w*])([*_])(?=\S)(.+?)(?<=\S)\2(?!\w)/g, "$1$3")
      .replace(/~~(.+?)~~/g, "$1")
      .replace(/`([^`]+)`/g, "$1");
  }
}

const NAMED_ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: "\u00a0",
  ndash: "–",
  mdash: "—",
  hellip: "…",
  lsquo: "‘",
  rsquo: "’",
  ldquo: "“",
  rdquo: "”",
  copy: "©",
  reg: "®",
  trade: "™",
  euro: "€",
  pound: "£",
  deg: "°",
  middot: "·",
  bull: "•",
};

/** Decodes numeric and the common named HTML/XML character references; unknown ones stay as written. */
export function decodeEntities(text: string): string {
  return text.replace(/&(#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z]{2,8});/g, (whole, body: string) => {
    if (body[0] === "#") {
      const code = body[1] === "x" || body[1] === "X" ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[body] ?? whole;
  });
}

/** Very common English words: they match nearly every chunk and only slow the keyword search. */
const STOPWORDS = new Set(
  (
    "a an and are as at be but by can could do does did for from had has have how i if in into is it its " +
    "me my of on or our so than that the their them then there these they this to was we were what when where " +
    "which who whom why will with would you your"
  ).split(" "),
);

export const MAX_QUERY_TERMS = 32;

/** The words of a question, lowercased, without stopwords or repeats, at most MAX_QUERY_TERMS. */
export function queryTerms(query: string): string[] {
  const words = query.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const terms: string[] = [];
  for (const word of words) {
    if (STOPWORDS.has(word) || terms.includes(word)) continue;
    terms.push(word);
    if (terms.length === MAX_QUERY_TERMS) break;
  }
  return terms;
}

/**
 * An FTS5 MATCH expression for a free-text question: every term quoted (so no user text is ever
 * FTS syntax) and OR-ed, letting BM25 rank chunks by how many rare terms they share. Undefined
 * when the question has no searchable word.
 */
export function ftsMatchExpression(query: string): string | undefined {
  const terms = queryTerms(query);
  return terms.length ? terms.map((t) => `"${t}"`).join(" OR ") : undefined;
}

/** The constant of reciprocal-rank fusion (Cormack et al. 2009): damps the weight of the very top ranks. */
export const RRF_K = 60;

export interface FusedRank {
  id: number;
  score: number;
  /** 1-based rank of the item in each input list, or null when absent from that list. */
  ranks: (number | null)[];
}

/**
 * Reciprocal-rank fusion: each list contributes 1 / (k + rank) for every item it ranks. Items
 * ranked well by both lists rise above items ranked well by one. Ties keep the order of first
 * appearance (first list first).
 */
export function reciprocalRankFusion(lists: number[][], k = RRF_K): FusedRank[] {
  const fused = new Map<number, FusedRank>();
  lists.forEach((list, l) => {
    list.forEach((id, i) => {
      let entry = fused.get(id);
      if (!entry) {
        entry = { id, score: 0, ranks: lists.map(() => null) };
        fused.set(id, entry);
      }
      if (entry.ranks[l] !== null) return; // a repeat within one list counts once
      entry.ranks[l] = i + 1;
      entry.score += 1 / (k + i + 1);
    });
  });
  return [...fused.values()].sort((a, b) => b.score - a.score);
}

/** Cosine similarity of two vectors of the same length (0 when either is all zeros). */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`vector lengths differ: ${a.length} and ${b.length}`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** The vector scaled to unit length, as float32 (what is stored). */
export function normalizeVector(values: ArrayLike<number>): Float32Array {
  let norm = 0;
  for (let i = 0; i < values.length; i++) norm += values[i] * values[i];
  norm = Math.sqrt(norm) || 1;
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i] / norm;
  return out;
}

/** Tokens of a text as LLM context, estimated as one per four characters (rounded up). */
export const estimateTokens = (text: string) => Math.ceil(text.length / 4);

/**
 * The best-ranked texts whose estimated tokens add up to at most `tokenBudget`, in rank order. A
 * text that does not fit is skipped and smaller, lower-ranked ones may still fill the rest.
 */
export function fitToTokenBudget<T extends { text: string }>(ranked: T[], tokenBudget: number): T[] {
  const picked: T[] = [];
  let used = 0;
  for (const item of ranked) {
    const tokens = estimateTokens(item.text);
    if (used + tokens > tokenBudget) continue;
    picked.push(item);
    used += tokens;
  }
  return picked;
}

// ---- Crawling ----

export interface CrawlLimits {
  /** Link hops from a start URL: 0 reads only the given pages. */
  max_depth: number;
  /** Pages fetched at most, start pages included. */
  max_pages: number;
}

export const DEFAULT_CRAWL: CrawlLimits = { max_depth: 1, max_pages: 20 };
export const MAX_CRAWL_DEPTH = 3;
export const MAX_CRAWL_PAGES = 100;

/** The page a link points at, without its fragment, or undefined for non-http(s) links. */
export function resolveLink(href: string, base: URL): URL | undefined {
  let url: URL;
  try {
    url = new URL(href.trim(), base);
  } catch {
    return undefined;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
  url.hash = "";
  return url;
}

/** Same site = same scheme, host and port as the start page: the crawl never leaves it. */
export const sameSite = (a: URL, b: URL) => a.origin === b.origin;

/** File types a crawl does not fetch: they are not web pages. */
const NON_PAGE_EXTENSION = /\.(png|jpe?g|gif|webp|svg|ico|bmp|tiff?|mp[34]|m4a|wav|ogg|webm|mov|avi|zip|gz|tgz|rar|7z|exe|dmg|pkg|iso|css|js|mjs|json|xml|rss|woff2?|ttf|otf|eot|pdf|docx?|xlsx?|pptx?)$/i;

export const looksLikePage = (url: URL) => !NON_PAGE_EXTENSION.test(url.pathname);
