import { randomUUID } from "node:crypto";
import type { RawData, WebSocket } from "ws";
import { FRAME_BYTES, SAMPLE_RATE, SPEECH_RMS_THRESHOLD, TTS_MS_PER_CHAR, TTS_TONE_HZ, isVoiced, mulawTone, wavHeader } from "./audio";
import { FAKE_DEEPGRAM_API_KEY } from "./keys";
import type { Fake, FakeRequest, FakeResponse, FakeUpgrade } from "./server";
import { TtsBehaviours, chunked, header, parseJson } from "./streaming";

/**
 * Fake of Deepgram: live transcription over a WebSocket (`GET /v1/listen`, spec §5.1) and Aura
 * text-to-speech (`POST /v1/speak`, spec §4). Both authenticate with `Authorization: Token <key>`
 * (the live socket also with the subprotocol `token, <key>`); a bad key is 401 before any upgrade.
 *
 * Live transcription cannot recognise speech, so it is scripted. It decodes the μ-law audio in
 * 20 ms frames and calls a frame speech when its RMS is above a threshold. All timing is stream
 * time (seconds of audio received), so results do not depend on how fast a test sends audio:
 * - speech onset → `SpeechStarted` (with `vad_events=true`), and an utterance begins, taking the
 *   next line of the tag's script (the fallback when there is none);
 * - while speech goes on, with `interim_results=true`, an interim `Results` (`is_final:false`)
 *   every `interim_ms` of audio, revealing one more word of the line per `word_ms` of speech;
 * - after `endpointing` ms of silence (default 10; `endpointing=false` disables it, and the
 *   utterance is then finalised after 500 ms of silence with `speech_final:false`), a final
 *   `Results` with `is_final:true, speech_final:true` whose transcript is the line and whose
 *   `words[]` spread evenly over the speech (first voiced frame to last);
 * - with `utterance_end_ms`, an `UtteranceEnd` once that much audio followed the last word seen
 *   in any result (`last_word_end`).
 * Text messages: `KeepAlive` only keeps the socket open; `Finalize` finalises what is pending
 * with `from_finalize:true` (an empty final when nothing is); `CloseStream` finalises, sends
 * `Metadata` and closes 1000. Any other text closes 1008. With no audio and no text for 10 s
 * (the script's `idle_timeout_ms`), the socket closes 1011 with Deepgram's NET-0001 message.
 *
 * Tests key everything by the `tag` query parameter (real Deepgram accepts `tag` for usage
 * reporting), so concurrent tests never share a script:
 * - `POST /__fakes/deepgram/script {tag, lines: string[], fallback?, threshold?, interim_ms?, word_ms?, idle_timeout_ms?}`
 *   sets the tag's script; lines are used in order across the tag's connections (a reconnect
 *   continues the script). Without a script, or once it is used up, utterances read `fallback`
 *   (default "hello"). An empty line is an utterance with an empty transcript (noise).
 * - `POST /__fakes/deepgram/fail {tag, status?: 500, count?: 1}`: the tag's next `count`
 *   upgrades are refused with `status`.
 * - `POST /__fakes/deepgram/drop {tag}`: destroys the tag's open sockets without a close frame
 *   (the client sees 1006) → `{dropped}`.
 * - `GET /__fakes/deepgram/connections?tag=…`: every connection of the tag with its query, audio
 *   received, the text messages received, the messages sent, and how it closed.
 * - `POST /__fakes/deepgram/tts {match, status?, cut_after_bytes?, first_byte_delay_ms?, chunk_delay_ms?, times?}`:
 *   misbehaviour of `/v1/speak` for a model (`match` equal) or a text containing `match`.
 *
 * Aura: `POST /v1/speak?model=aura-2-thalia-en&encoding=mulaw&sample_rate=8000&container=none`,
 * JSON `{text}` → raw μ-law 8 kHz, a tone of TTS_TONE_HZ.deepgram lasting TTS_MS_PER_CHAR per
 * character, streamed in odd-sized chunks. Without `container=none` the audio comes after a WAV
 * header, as Deepgram sends it (and as clicks on a phone line). The fake speaks only mulaw at
 * 8000 Hz; any other `encoding`/`sample_rate` is a 400 that says so.
 */

const NET0001 = "NET-0001: Deepgram did not receive audio data or a text message within the timeout window. See https://dpgr.am/net0001";
const IDLE_TIMEOUT_MS = 10_000;
const NO_ENDPOINTING_FINAL_MS = 500;
const MODEL_UUID = "1ed36bac-f71c-4f3f-a31f-02fd6525c489";
const MODEL_INFO = { name: "2-general-nova", version: "2024-01-09.29447", arch: "nova-3" };

interface Script {
  lines: string[];
  next: number;
  fallback: string;
  threshold: number;
  interim_ms: number;
  word_ms: number;
  idle_timeout_ms: number;
}

const DEFAULT_SCRIPT: Omit<Script, "lines" | "next"> = {
  fallback: "hello",
  threshold: SPEECH_RMS_THRESHOLD,
  interim_ms: 200,
  word_ms: 200,
  idle_timeout_ms: IDLE_TIMEOUT_MS,
};

const scripts = new Map<string, Script>();
const failures = new Map<string, { status: number; count: number }>();

export interface DeepgramConnection {
  id: string;
  tag: string;
  query: Record<string, string>;
  opened_at: number;
  /** Bytes of audio received. */
  audio_bytes: number;
  /** Milliseconds of audio received (stream time). */
  audio_ms: number;
  /** Binary messages received. */
  audio_messages: number;
  /** Text messages received, as sent. */
  text_in: string[];
  /** Messages sent, parsed. */
  sent: Record<string, unknown>[];
  closed_at?: number;
  close_code?: number;
  close_reason?: string;
  /** Who ended it: the client, the fake (CloseStream, NET-0001, a bad message), or a `drop`. */
  closed_by?: "client" | "server" | "drop";
}

const connections: DeepgramConnection[] = [];
const open = new Map<DeepgramConnection, { ws: WebSocket; session: LiveSession }>();

const round = (seconds: number) => Math.round(seconds * 1000) / 1000;

function dgError(status: number, code: string, message: string): FakeResponse {
  return { status, headers: { "dg-error": message }, body: { err_code: code, err_msg: message, request_id: randomUUID() } };
}

/** The key from `Authorization: Token <key>` or the subprotocol `token, <key>`. */
function apiKey(request: FakeRequest): string | undefined {
  const auth = /^Token\s+(\S+)$/i.exec(header(request, "authorization") ?? "")?.[1];
  if (auth) return auth;
  const protocols = (header(request, "sec-websocket-protocol") ?? "").split(",").map((p) => p.trim());
  return protocols[0]?.toLowerCase() === "token" ? protocols[1] : undefined;
}

interface LiveOptions {
  interim: boolean;
  vadEvents: boolean;
  /** ms, or null when `endpointing=false`. */
  endpointing: number | null;
  utteranceEndMs: number | null;
}

function liveOptions(query: URLSearchParams): LiveOptions | string {
  const encoding = query.get("encoding");
  if (encoding !== "mulaw") return `this fake transcribes raw encoding=mulaw only (got ${encoding ?? "no encoding, i.e. containerised audio"})`;
  const rate = query.get("sample_rate");
  if (rate !== String(SAMPLE_RATE)) return `sample_rate must be given with raw audio; this fake takes 8000 (got ${rate})`;
  const channels = query.get("channels");
  if (channels !== null && channels !== "1") return "this fake transcribes channels=1 only";
  for (const flag of ["interim_results", "vad_events", "smart_format", "punctuate"]) {
    const value = query.get(flag);
    if (value !== null && value !== "true" && value !== "false") return `${flag} must be true or false`;
  }
  const endpointingParam = query.get("endpointing");
  let endpointing: number | null = 10;
  if (endpointingParam === "false") endpointing = null;
  else if (endpointingParam !== null) {
    if (!/^\d+$/.test(endpointingParam)) return "endpointing must be a number of milliseconds or false";
    endpointing = Number(endpointingParam);
  }
  const interim = query.get("interim_results") === "true";
  const utteranceParam = query.get("utterance_end_ms");
  let utteranceEndMs: number | null = null;
  if (utteranceParam !== null) {
    if (!/^\d+$/.test(utteranceParam)) return "utterance_end_ms must be a number of milliseconds";
    if (!interim) return "utterance_end_ms requires interim_results=true";
    utteranceEndMs = Number(utteranceParam);
  }
  return { interim, vadEvents: query.get("vad_events") === "true", endpointing, utteranceEndMs };
}

function scriptFor(tag: string): Script {
  let script = scripts.get(tag);
  if (!script) {
    script = { ...DEFAULT_SCRIPT, lines: [], next: 0 };
    scripts.set(tag, script);
  }
  return script;
}

interface Utterance {
  start: number;
  end: number;
  /** The line's words as they would be punctuated. */
  tokens: string[];
  line: string;
}

class LiveSession {
  private bytes = 0;
  private remainder = new Uint8Array(0);
  private utterance: Utterance | null = null;
  private voiced = false;
  private silenceMs = 0;
  private segmentStart = 0;
  private lastInterimAt = 0;
  private lastWordEnd: number | null = null;
  private utteranceEndDue = false;
  private idle: ReturnType<typeof setTimeout> | undefined;
  private closing = false;
  private readonly requestId = randomUUID();
  private readonly created = new Date().toISOString();

  constructor(
    private readonly ws: WebSocket,
    private readonly info: DeepgramConnection,
    private readonly options: LiveOptions,
    private readonly script: Script,
  ) {
    ws.on("message", (data: RawData, isBinary: boolean) => this.onMessage(data, isBinary));
    ws.on("close", (code: number, reason: Buffer) => this.onClose(code, reason.toString("utf8")));
    this.armIdle();
  }

  private get now(): number {
    return this.bytes / SAMPLE_RATE;
  }

  private armIdle() {
    clearTimeout(this.idle);
    this.idle = setTimeout(() => this.close(1011, NET0001), this.script.idle_timeout_ms);
  }

  private send(message: Record<string, unknown>) {
    if (this.closing || this.ws.readyState !== this.ws.OPEN) return;
    this.info.sent.push(message);
    this.ws.send(JSON.stringify(message));
  }

  close(code: number, reason: string) {
    if (this.closing) return;
    this.closing = true;
    clearTimeout(this.idle);
    this.info.closed_by ??= "server";
    this.info.closed_at = Date.now();
    this.info.close_code = code;
    this.info.close_reason = reason;
    this.ws.close(code, reason);
  }

  drop() {
    this.closing = true;
    clearTimeout(this.idle);
    this.info.closed_by = "drop";
    this.info.closed_at = Date.now();
    this.info.close_code = 1006;
    this.info.close_reason = "";
    this.ws.terminate();
  }

  private onClose(code: number, reason: string) {
    clearTimeout(this.idle);
    this.closing = true;
    this.info.closed_at ??= Date.now();
    this.info.close_code ??= code;
    this.info.close_reason ??= reason;
    this.info.closed_by ??= "client";
    open.delete(this.info);
  }

  private onMessage(data: RawData, isBinary: boolean) {
    if (this.closing) return;
    this.armIdle();
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (isBinary) return this.onAudio(bytes);
    const text = bytes.toString("utf8");
    this.info.text_in.push(text);
    const type = (parseJson(text) as { type?: unknown } | undefined)?.type;
    if (type === "KeepAlive") return;
    if (type === "Finalize") {
      if (this.utterance) this.finalize({ speechFinal: false, fromFinalize: true });
      else this.sendResult({ isFinal: true, speechFinal: false, fromFinalize: true, tokens: [], start: 0, end: 0 });
      return;
    }
    if (type === "CloseStream") {
      if (this.utterance) this.finalize({ speechFinal: false, fromFinalize: false });
      this.send({
        type: "Metadata",
        transaction_key: "deprecated",
        request_id: this.requestId,
        sha256: "0".repeat(64),
        created: this.created,
        duration: round(this.now),
        channels: 1,
        models: [MODEL_UUID],
        model_info: { [MODEL_UUID]: MODEL_INFO },
      });
      return this.close(1000, "");
    }
    this.close(1008, `fake Deepgram: unexpected text message (type ${JSON.stringify(type ?? null)})`);
  }

  private onAudio(bytes: Buffer) {
    this.info.audio_messages++;
    this.info.audio_bytes += bytes.length;
    this.info.audio_ms = (this.info.audio_bytes * 1000) / SAMPLE_RATE;
    const all = new Uint8Array(this.remainder.length + bytes.length);
    all.set(this.remainder);
    all.set(bytes, this.remainder.length);
    let at = 0;
    for (; at + FRAME_BYTES <= all.length; at += FRAME_BYTES) this.onFrame(all.subarray(at, at + FRAME_BYTES));
    this.remainder = all.slice(at);
  }

  private onFrame(frame: Uint8Array) {
    const start = this.now;
    this.bytes += frame.length;
    const end = this.now;
    const voiced = isVoiced(frame, this.script.threshold);
    if (voiced) {
      if (!this.voiced && this.options.vadEvents) this.send({ type: "SpeechStarted", channel: [0, 1], timestamp: round(start) });
      this.voiced = true;
      this.silenceMs = 0;
      if (!this.utterance) {
        const line = this.nextLine();
        this.utterance = { start, end, line, tokens: line.split(/\s+/).filter(Boolean) };
        this.lastInterimAt = start;
      }
      this.utterance.end = end;
      if (this.options.interim && (end - this.lastInterimAt) * 1000 >= this.script.interim_ms - 1e-6) {
        this.lastInterimAt = end;
        const u = this.utterance;
        const shown = Math.min(u.tokens.length, Math.max(1, Math.floor(((end - u.start) * 1000) / this.script.word_ms + 1e-9)));
        this.sendResult({ isFinal: false, speechFinal: false, fromFinalize: false, tokens: u.tokens.slice(0, shown), start: u.start, end });
      }
    } else {
      this.voiced = false;
      if (this.utterance) {
        this.silenceMs += (frame.length * 1000) / SAMPLE_RATE;
        const endpointing = this.options.endpointing;
        if (endpointing !== null ? this.silenceMs >= endpointing : this.silenceMs >= NO_ENDPOINTING_FINAL_MS) {
          this.finalize({ speechFinal: endpointing !== null, fromFinalize: false });
        }
      }
      const gapMs = this.lastWordEnd === null ? 0 : (end - this.lastWordEnd) * 1000;
      if (this.options.utteranceEndMs !== null && this.utteranceEndDue && gapMs >= this.options.utteranceEndMs - 1e-6) {
        this.utteranceEndDue = false;
        this.send({ type: "UtteranceEnd", channel: [0, 1], last_word_end: round(this.lastWordEnd!) });
      }
    }
  }

  private nextLine(): string {
    const script = this.script;
    return script.next < script.lines.length ? script.lines[script.next++] : script.fallback;
  }

  private finalize(flags: { speechFinal: boolean; fromFinalize: boolean }) {
    const u = this.utterance!;
    this.utterance = null;
    this.silenceMs = 0;
    this.sendResult({ isFinal: true, ...flags, tokens: u.tokens, start: u.start, end: u.end });
  }

  /** A `Results` message for the segment since the last final, with `tokens` spread over [start, end]. */
  private sendResult(r: { isFinal: boolean; speechFinal: boolean; fromFinalize: boolean; tokens: string[]; start: number; end: number }) {
    const slot = r.tokens.length ? (r.end - r.start) / r.tokens.length : 0;
    const words = r.tokens.map((token, i) => ({
      word: token.toLowerCase().replace(/[^\p{L}\p{N}'-]/gu, ""),
      start: round(r.start + i * slot),
      end: round(r.start + (i + 1) * slot),
      confidence: 0.98,
      punctuated_word: token,
    }));
    const segmentStart = this.segmentStart;
    if (r.isFinal) this.segmentStart = this.now;
    if (words.length) {
      this.lastWordEnd = r.end;
      this.utteranceEndDue = true;
    }
    this.send({
      type: "Results",
      channel_index: [0, 1],
      duration: round(this.now - segmentStart),
      start: round(segmentStart),
      is_final: r.isFinal,
      speech_final: r.speechFinal,
      from_finalize: r.fromFinalize,
      channel: { alternatives: [{ transcript: r.tokens.join(" "), confidence: r.tokens.length ? 0.98 : 0, words }] },
      metadata: { request_id: this.requestId, model_info: MODEL_INFO, model_uuid: MODEL_UUID },
    });
  }
}

function upgradeListen(request: FakeRequest): FakeUpgrade {
  const key = apiKey(request);
  if (key !== FAKE_DEEPGRAM_API_KEY) return { response: dgError(401, "INVALID_AUTH", "Invalid credentials.") };
  const tag = request.url.searchParams.get("tag") ?? "";
  const failure = failures.get(tag);
  if (failure && failure.count > 0) {
    if (--failure.count === 0) failures.delete(tag);
    return { response: dgError(failure.status, "INTERNAL_SERVER_ERROR", "The fake was told to fail this connection.") };
  }
  const options = liveOptions(request.url.searchParams);
  if (typeof options === "string") return { response: dgError(400, "Bad Request", options) };
  return {
    accept(ws) {
      const info: DeepgramConnection = {
        id: randomUUID(),
        tag,
        query: Object.fromEntries(request.url.searchParams),
        opened_at: Date.now(),
        audio_bytes: 0,
        audio_ms: 0,
        audio_messages: 0,
        text_in: [],
        sent: [],
      };
      connections.push(info);
      open.set(info, { ws, session: new LiveSession(ws, info, options, scriptFor(tag)) });
    },
  };
}

// ---- Aura TTS ----

const ttsBehaviours = new TtsBehaviours();
const AURA_CHUNKS = [1000, 333, 777];

function speak(request: FakeRequest): FakeResponse {
  const key = /^Token\s+(\S+)$/i.exec(header(request, "authorization") ?? "")?.[1];
  if (key !== FAKE_DEEPGRAM_API_KEY) return dgError(401, "INVALID_AUTH", "Invalid credentials.");
  const query = request.url.searchParams;
  const model = query.get("model") ?? "aura-asteria-en";
  if (!/^aura-/.test(model)) return dgError(400, "Bad Request", `No such model: ${model}`);
  const encoding = query.get("encoding") ?? "linear16";
  if (encoding !== "mulaw") return dgError(400, "Bad Request", `this fake speaks encoding=mulaw only (got ${encoding}; Deepgram's default is linear16)`);
  const rate = query.get("sample_rate") ?? "8000";
  if (rate !== "8000") return dgError(400, "Bad Request", `this fake speaks mulaw at sample_rate=8000 only (got ${rate})`);
  const container = query.get("container") ?? "wav";
  if (container !== "none" && container !== "wav") return dgError(400, "Bad Request", `container must be none or wav for mulaw (got ${container})`);
  const body = parseJson(request.body) as { text?: unknown } | undefined;
  if (!(header(request, "content-type") ?? "").startsWith("application/json") || !body) return dgError(400, "Bad Request", "The request body must be JSON: {\"text\": \"…\"}");
  if (typeof body.text !== "string" || body.text.trim() === "") return dgError(400, "Bad Request", "text is required");
  if (body.text.length > 2000) return dgError(413, "Payload Too Large", "text must be at most 2000 characters");
  const behaviour = ttsBehaviours.take(model, body.text);
  if (behaviour?.status) return dgError(behaviour.status, behaviour.status >= 500 ? "INTERNAL_SERVER_ERROR" : "Bad Request", "The fake was told to fail this request.");
  const audio = mulawTone(body.text.length * TTS_MS_PER_CHAR, { freqs: [TTS_TONE_HZ.deepgram], amplitude: 6000 });
  const bytes = container === "wav" ? concat(wavHeader(audio.length, { rate: 8000, format: "mulaw" }), audio) : audio;
  return {
    status: 200,
    headers: {
      "content-type": container === "wav" ? "audio/wav" : "audio/basic",
      "dg-model-name": model,
      "dg-char-count": String(body.text.length),
      "dg-request-id": randomUUID(),
    },
    stream: chunked(bytes, AURA_CHUNKS, behaviour),
  };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export const deepgramFake: Fake = {
  service: "deepgram",
  handle(request) {
    if (request.url.pathname === "/v1/speak" && request.method === "POST") return speak(request);
    if (request.url.pathname === "/v1/listen") return dgError(426, "Bad Request", "Live transcription needs a WebSocket upgrade (Upgrade: websocket).");
    return undefined;
  },
  upgrade(request) {
    return request.url.pathname === "/v1/listen" ? upgradeListen(request) : undefined;
  },
  control(request) {
    const path = request.url.pathname;
    const body = (parseJson(request.body) ?? {}) as Record<string, unknown>;
    if (path === "/__fakes/deepgram/script" && request.method === "POST") {
      if (typeof body.tag !== "string" || !Array.isArray(body.lines) || !body.lines.every((l) => typeof l === "string")) {
        return { status: 400, body: { error: "{tag: string, lines: string[]} is required" } };
      }
      const script: Script = { ...DEFAULT_SCRIPT, lines: body.lines as string[], next: 0 };
      for (const name of ["threshold", "interim_ms", "word_ms", "idle_timeout_ms"] as const) {
        if (typeof body[name] === "number") script[name] = body[name] as number;
      }
      if (typeof body.fallback === "string") script.fallback = body.fallback;
      scripts.set(body.tag, script);
      return { status: 200, body: { tag: body.tag, ...script } };
    }
    if (path === "/__fakes/deepgram/fail" && request.method === "POST") {
      if (typeof body.tag !== "string") return { status: 400, body: { error: "tag is required" } };
      failures.set(body.tag, { status: typeof body.status === "number" ? body.status : 500, count: typeof body.count === "number" ? body.count : 1 });
      return { status: 200, body: { tag: body.tag, ...failures.get(body.tag) } };
    }
    if (path === "/__fakes/deepgram/drop" && request.method === "POST") {
      if (typeof body.tag !== "string") return { status: 400, body: { error: "tag is required" } };
      let dropped = 0;
      for (const [info, { session }] of [...open]) {
        if (info.tag !== body.tag) continue;
        session.drop();
        dropped++;
      }
      return { status: 200, body: { dropped } };
    }
    if (path === "/__fakes/deepgram/connections" && request.method === "GET") {
      const tag = request.url.searchParams.get("tag");
      return { status: 200, body: connections.filter((c) => tag === null || c.tag === tag) };
    }
    if (path === "/__fakes/deepgram/tts" && request.method === "POST") return ttsBehaviours.control(request);
    return undefined;
  },
};
