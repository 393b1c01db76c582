import type { FakeRequest, FakeResponse } from "./server";

/**
 * Streamed bodies for the fakes (Node-free: ./elevenlabs is also imported by tests in workerd).
 * A fake answers `{status, headers, stream}`; the server writes each piece as it comes. Throwing
 * `CutStream` from the stream cuts the connection mid-body, as a dropped upstream does (the
 * client's body read then fails), instead of ending it cleanly.
 */
export class CutStream extends Error {
  readonly cut = true;
  constructor() {
    super("stream cut by the fake");
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A scripted misbehaviour of a TTS endpoint, set with `POST /__fakes/{service}/tts` and chosen per
 * request: `match` is a voice id (equal) or a piece of the text (contained), so concurrent tests
 * never disturb each other.
 */
export interface TtsBehaviour {
  match: string;
  /** Answer this HTTP status (with the provider's error body) instead of audio. */
  status?: number;
  /** Stream this many audio bytes, then cut the connection. */
  cut_after_bytes?: number;
  /** Wait this long before the first audio byte (headers go out at once). */
  first_byte_delay_ms?: number;
  /** Wait this long between chunks. */
  chunk_delay_ms?: number;
  /** Applies to this many requests, then is forgotten (default: every matching request). */
  times?: number;
}

export class TtsBehaviours {
  private list: TtsBehaviour[] = [];

  add(behaviour: TtsBehaviour) {
    this.list.unshift(behaviour);
  }

  /** The newest behaviour matching the voice or text, counted as used. */
  take(voice: string, text: string): TtsBehaviour | undefined {
    const found = this.list.find((b) => b.match === voice || (b.match.length > 0 && text.includes(b.match)));
    if (found?.times !== undefined && --found.times <= 0) this.list.splice(this.list.indexOf(found), 1);
    return found;
  }

  /** Handles `POST /__fakes/{service}/tts {match, status?, cut_after_bytes?, first_byte_delay_ms?, chunk_delay_ms?, times?}`. */
  control(request: FakeRequest): FakeResponse {
    const body = parseJson(request.body) as Partial<TtsBehaviour> | undefined;
    if (!body || typeof body.match !== "string" || body.match === "") return { status: 400, body: { error: "match (a voice id or a piece of the text) is required" } };
    this.add({ ...body, match: body.match });
    return { status: 200, body };
  }
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Streams `bytes` in chunks whose sizes cycle through `sizes` (odd sizes, so clients must carry
 * partial samples over), applying the behaviour's delays and cut.
 */
export async function* chunked(bytes: Uint8Array, sizes: number[], behaviour?: TtsBehaviour): AsyncGenerator<Uint8Array> {
  if (behaviour?.first_byte_delay_ms) await sleep(behaviour.first_byte_delay_ms);
  const limit = behaviour?.cut_after_bytes;
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    if (i > 0) await (behaviour?.chunk_delay_ms ? sleep(behaviour.chunk_delay_ms) : sleep(0));
    let end = Math.min(at + sizes[i % sizes.length], bytes.length);
    if (limit !== undefined && end >= limit) {
      end = Math.min(end, limit);
      if (end > at) yield bytes.subarray(at, end);
      await sleep(5);
      throw new CutStream();
    }
    yield bytes.subarray(at, end);
    at = end;
  }
}

/** Header value as one string. */
export function header(request: FakeRequest, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(", ") : value;
}
