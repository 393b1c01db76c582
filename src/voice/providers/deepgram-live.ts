/**
 * Deepgram live transcription over an outbound WebSocket (realtime.md §5.1, §5.3): opened with
 * fetch + `Upgrade: websocket` (fetch cannot take a wss:// URL), audio sent as binary frames of
 * raw μ-law, `{"type":"KeepAlive"}` when no audio went out for a while (Deepgram closes an idle
 * socket after 10 s with NET-0001).
 *
 * The socket can drop mid-call (deploys, network, workerd#6774), so it reconnects by itself and
 * buffers the caller's audio meanwhile: the call never notices unless connecting fails
 * `maxAttempts` times in a row, which is reported once through `onFailure`. Every message's times
 * are shifted onto the call's stream clock (seconds of caller audio since the stream began), so
 * results from before and after a reconnect line up.
 */
import { shiftDeepgramTimes } from "../session-rules";
import { ProviderError } from "./errors";

const BYTES_PER_SECOND = 8000;
/** A socket that keeps dropping right after connecting is a failure too, not a loop: this many drops… */
const MAX_DROPS = 5;
/** …within this window end the call. */
const DROP_WINDOW_MS = 60_000;
/** An upgrade that gets no answer at all counts as a failed attempt after this long. */
const CONNECT_TIMEOUT_MS = 10_000;

export interface DeepgramLiveOptions {
  /** DEEPGRAM_API_BASE_URL (the host; `/v1/listen` is added). */
  baseUrl: string;
  apiKey: string | undefined;
  /** Query parameters of `/v1/listen` (model, encoding, endpointing, tag…). */
  params: Record<string, string>;
  onMessage(message: unknown): void;
  onFailure(error: ProviderError): void;
  /** Send KeepAlive after this long without audio (default 4 s, inside Deepgram's 10 s). */
  keepAliveMs?: number;
  /** Consecutive failed connects that end the call (default 2). */
  maxAttempts?: number;
  /** Wait before connecting again after a failed attempt (default 250 ms). */
  retryDelayMs?: number;
  /** Audio kept while disconnected (default 30 s); the oldest goes first. */
  maxBufferBytes?: number;
}

export function deepgramListenUrl(baseUrl: string, params: Record<string, string>): string {
  return `${baseUrl.replace(/\/+$/, "")}/v1/listen?${new URLSearchParams(params)}`;
}

export class DeepgramLive {
  readonly #options: Required<Pick<DeepgramLiveOptions, "keepAliveMs" | "maxAttempts" | "retryDelayMs" | "maxBufferBytes">> & DeepgramLiveOptions;
  #ws: WebSocket | null = null;
  #state: "idle" | "connecting" | "open" | "closed" = "idle";
  #buffer: Uint8Array[] = [];
  #bufferedBytes = 0;
  /** Bytes of caller audio handed to `send` so far: the stream clock. */
  #streamBytes = 0;
  #failures = 0;
  #connections = 0;
  #lastSentAt = 0;
  #keepAlive: ReturnType<typeof setInterval> | undefined;
  #drops: number[] = [];

  constructor(options: DeepgramLiveOptions) {
    this.#options = { keepAliveMs: 4000, maxAttempts: 2, retryDelayMs: 250, maxBufferBytes: 30 * BYTES_PER_SECOND, ...options };
  }

  /** Successful connections so far (1 + reconnects). */
  get connections(): number {
    return this.#connections;
  }

  get connected(): boolean {
    return this.#state === "open";
  }

  start(): void {
    if (this.#state !== "idle") return;
    void this.#connect();
  }

  /** Caller audio (μ-law). Buffered while (re)connecting. */
  send(bytes: Uint8Array): void {
    if (this.#state === "closed") return;
    this.#streamBytes += bytes.length;
    if (this.#state === "open" && this.#ws) {
      try {
        this.#ws.send(bytes);
        this.#lastSentAt = Date.now();
        return;
      } catch {
        // The socket died under us: keep the audio for the next connection (its close event reconnects).
      }
    }
    this.#buffer.push(bytes);
    this.#bufferedBytes += bytes.length;
    while (this.#bufferedBytes > this.#options.maxBufferBytes && this.#buffer.length > 1) this.#bufferedBytes -= this.#buffer.shift()!.length;
  }

  /** Graceful end: Deepgram flushes and closes. */
  close(): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    clearInterval(this.#keepAlive);
    const ws = this.#ws;
    this.#ws = null;
    this.#buffer = [];
    if (!ws) return;
    try {
      ws.send(JSON.stringify({ type: "CloseStream" }));
      ws.close(1000, "call ended");
    } catch {
      // Already gone.
    }
  }

  async #connect(): Promise<void> {
    this.#state = "connecting";
    const { baseUrl, apiKey, params } = this.#options;
    let ws: WebSocket | null = null;
    let detail: string;
    if (!apiKey) detail = "no API key configured (DEEPGRAM_API_KEY)";
    else {
      // A timer we clear once the upgrade answers: AbortSignal.timeout stays bound to the open
      // socket, and workerd then drops the live connection when it fires, 10 s into the call.
      const connecting = new AbortController();
      const timer = setTimeout(() => connecting.abort(new Error("connect timed out")), CONNECT_TIMEOUT_MS);
      try {
        const res = await fetch(deepgramListenUrl(baseUrl, params), {
          headers: { Upgrade: "websocket", Authorization: `Token ${apiKey}` },
          signal: connecting.signal,
        }).finally(() => clearTimeout(timer));
        ws = res.webSocket;
        detail = ws ? "" : `live transcription upgrade answered HTTP ${res.status}: ${(await res.text().catch(() => "")).slice(0, 300)}`;
      } catch (error) {
        detail = `live transcription connect failed: ${String(error)}`;
      }
    }
    if (this.#isClosed()) {
      // Closed while connecting: drop the new socket.
      if (ws) {
        ws.accept();
        ws.close(1000, "call ended");
      }
      return;
    }
    if (!ws) {
      this.#failures++;
      if (this.#failures >= this.#options.maxAttempts || !apiKey) {
        this.close();
        this.#options.onFailure(new ProviderError("stt", "deepgram", `${detail} (attempt ${this.#failures})`));
        return;
      }
      console.warn(JSON.stringify({ level: "warn", message: "deepgram connect failed; retrying", detail, tag: params.tag }));
      setTimeout(() => void this.#connect(), this.#options.retryDelayMs);
      return;
    }
    ws.accept();
    this.#failures = 0;
    this.#connections++;
    // Deepgram counts time from this connection's first audio byte: the oldest buffered one.
    const offsetSeconds = (this.#streamBytes - this.#bufferedBytes) / BYTES_PER_SECOND;
    ws.addEventListener("message", (event) => {
      if (this.#ws !== ws || typeof event.data !== "string") return;
      let message: unknown;
      try {
        message = JSON.parse(event.data);
      } catch {
        return; // Not JSON: nothing we can act on.
      }
      this.#options.onMessage(shiftDeepgramTimes(message, offsetSeconds));
    });
    ws.addEventListener("close", (event) => this.#dropped(ws, `closed ${event.code} ${event.reason}`.trim()));
    ws.addEventListener("error", () => this.#dropped(ws, "socket error"));
    this.#ws = ws;
    this.#state = "open";
    const pending = this.#buffer;
    this.#buffer = [];
    this.#bufferedBytes = 0;
    try {
      for (const chunk of pending) ws.send(chunk);
    } catch {
      // Dropped again already: its close event reconnects (this audio is lost with it).
    }
    this.#lastSentAt = Date.now();
    this.#keepAlive ??= setInterval(() => this.#keepAliveTick(), Math.min(1000, this.#options.keepAliveMs));
  }

  /** A method, not an inline test: the state changes across the awaits TypeScript cannot see. */
  #isClosed(): boolean {
    return this.#state === "closed";
  }

  #keepAliveTick(): void {
    if (this.#state !== "open" || !this.#ws || Date.now() - this.#lastSentAt < this.#options.keepAliveMs) return;
    try {
      this.#ws.send(JSON.stringify({ type: "KeepAlive" }));
      this.#lastSentAt = Date.now();
    } catch {
      // The close event reconnects.
    }
  }

  #dropped(ws: WebSocket, why: string): void {
    if (this.#ws !== ws) return;
    this.#ws = null;
    try {
      ws.close(1000, "reconnecting");
    } catch {
      // Already closed.
    }
    if (this.#state === "closed") return;
    const now = Date.now();
    this.#drops = [...this.#drops.filter((at) => now - at < DROP_WINDOW_MS), now];
    if (this.#drops.length >= MAX_DROPS) {
      this.close();
      this.#options.onFailure(new ProviderError("stt", "deepgram", `live transcription socket dropped ${this.#drops.length} times within ${DROP_WINDOW_MS / 1000} s (last: ${why})`));
      return;
    }
    console.warn(JSON.stringify({ level: "warn", message: "deepgram socket dropped; reconnecting", detail: why, tag: this.#options.params.tag }));
    void this.#connect();
  }
}
