import { FRAME_BYTES, concatBytes, fromBase64, mulawMs, silenceFrames, speechFrames, toBase64, toFrames } from "./audio";

/**
 * Plays Twilio's side of a bidirectional Media Stream (`<Connect><Stream>`, spec §1.6–1.7) against
 * our media endpoint, from a test running in workerd: only Workers APIs (fetch with
 * `Upgrade: websocket`, then `webSocket.accept()`).
 *
 *   const twilio = await TwilioMediaClient.connect({ url, fetcher: exports.default, headers: { "X-Twilio-Signature": sig },
 *                                                    customParameters: { callId } });
 *   twilio.begin();                       // connected + start
 *   await twilio.speak(600);              // 600 ms of voiced audio as 30 media frames
 *   await twilio.silence(400);
 *   await twilio.waitForAudio(200);       // the agent's reply
 *   twilio.stop(); twilio.close();
 *
 * Frames carry 20 ms of μ-law each; `timestamp` is virtual time (ms of audio sent), so a test sends
 * seconds of audio at once unless it asks for `paceMs` (wall-clock ms between frames).
 *
 * Playback of what the server sends mirrors Twilio: `media` audio joins a play queue, a `mark`
 * is echoed back (same name) once the audio queued before it has played, and `clear` empties the
 * queue and echoes every pending mark at once. When audio "plays" depends on `marks`:
 * - "immediate" (default): at once, so every mark is echoed as it arrives;
 * - "manual": only when the test calls `play(ms)` / `play()`, to hold the agent "mid-sentence";
 * - "realtime": at 8000 bytes per wall-clock second, like a phone.
 * Everything received is kept in `received` (with arrival times); messages that Twilio would
 * reject (no or wrong streamSid, bad base64, unknown events) are listed in `errors`.
 */

export type MarkMode = "immediate" | "manual" | "realtime";

export interface MediaClientOptions {
  /** Our media endpoint, http(s):// (workerd's fetch does the upgrade). */
  url: string;
  /** Who to fetch through: `exports.default` (the worker), a DO stub, …; default the global fetch. */
  fetcher?: { fetch(request: Request): Promise<Response> };
  /** Extra handshake headers, e.g. X-Twilio-Signature. */
  headers?: Record<string, string>;
  accountSid?: string;
  callSid?: string;
  streamSid?: string;
  customParameters?: Record<string, string>;
  marks?: MarkMode;
}

export interface Received {
  /** Date.now() at arrival. */
  at: number;
  message: TwilioServerMessage;
}

export interface TwilioServerMessage {
  event: string;
  streamSid?: string;
  media?: { payload?: string };
  mark?: { name?: string };
  [key: string]: unknown;
}

export class MediaConnectError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`media stream handshake answered ${status}: ${body.slice(0, 200)}`);
  }
}

type Queued = { audio: Uint8Array } | { mark: string };

function hex(bytes: number): string {
  return [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export class TwilioMediaClient {
  readonly streamSid: string;
  readonly callSid: string;
  readonly accountSid: string;
  readonly customParameters: Record<string, string>;
  readonly received: Received[] = [];
  readonly errors: string[] = [];
  /** Names of the marks echoed back, in order. */
  readonly echoedMarks: string[] = [];
  closed?: { code: number; reason: string; at: number };

  private sequence = 0;
  private chunk = 0;
  private virtualMs = 0;
  private readonly marksMode: MarkMode;
  private queue: Queued[] = [];
  private playedBytes = 0;
  private clearedBytes = 0;
  private pump: ReturnType<typeof setInterval> | undefined;
  private lastPump = 0;
  private listeners = new Set<() => void>();

  private constructor(
    readonly ws: WebSocket,
    options: MediaClientOptions,
  ) {
    this.accountSid = options.accountSid ?? "AC00000000000000000000000000000000";
    this.callSid = options.callSid ?? `CA${hex(16)}`;
    this.streamSid = options.streamSid ?? `MZ${hex(16)}`;
    this.customParameters = options.customParameters ?? {};
    this.marksMode = options.marks ?? "immediate";
    ws.addEventListener("message", (event) => this.onMessage(event.data));
    ws.addEventListener("close", (event) => {
      this.closed = { code: event.code, reason: event.reason, at: Date.now() };
      clearInterval(this.pump);
      try {
        ws.close(event.code === 1005 || event.code === 1006 ? 1000 : event.code);
      } catch {
        // Already closed.
      }
      this.notify();
    });
    ws.addEventListener("error", () => this.notify());
  }

  /** Opens the stream (the handshake only; call `begin()` to send `connected` and `start`). */
  static async connect(options: MediaClientOptions): Promise<TwilioMediaClient> {
    const fetcher = options.fetcher ?? { fetch: (request: Request) => fetch(request) };
    const response = await fetcher.fetch(new Request(options.url, { headers: { Upgrade: "websocket", ...options.headers } }));
    const ws = response.webSocket;
    if (response.status !== 101 || !ws) throw new MediaConnectError(response.status, await response.text());
    ws.accept();
    return new TwilioMediaClient(ws, options);
  }

  // ---- What Twilio sends ----

  private send(message: Record<string, unknown>) {
    this.ws.send(JSON.stringify(message));
  }

  private nextSequence(): string {
    return String(++this.sequence);
  }

  connected() {
    this.send({ event: "connected", protocol: "Call", version: "1.0.0" });
  }

  start() {
    this.send({
      event: "start",
      sequenceNumber: this.nextSequence(),
      streamSid: this.streamSid,
      start: {
        streamSid: this.streamSid,
        accountSid: this.accountSid,
        callSid: this.callSid,
        tracks: ["inbound"],
        customParameters: this.customParameters,
        mediaFormat: { encoding: "audio/x-mulaw", sampleRate: 8000, channels: 1 },
      },
    });
  }

  /** `connected` then `start`, as Twilio opens every stream. */
  begin() {
    this.connected();
    this.start();
  }

  /** Sends μ-law audio as 20 ms `media` frames (bytes are re-cut into 160-byte frames). */
  async sendAudio(audio: Uint8Array | Uint8Array[], options: { paceMs?: number } = {}) {
    const frames = toFrames(Array.isArray(audio) ? concatBytes(audio) : audio, FRAME_BYTES);
    for (const frame of frames) {
      this.send({
        event: "media",
        sequenceNumber: this.nextSequence(),
        streamSid: this.streamSid,
        media: { track: "inbound", chunk: String(++this.chunk), timestamp: String(Math.round(this.virtualMs)), payload: toBase64(frame) },
      });
      this.virtualMs += mulawMs(frame.length);
      if (options.paceMs) await new Promise((resolve) => setTimeout(resolve, options.paceMs));
    }
  }

  /** `ms` of voiced audio. */
  speak(ms: number, options: { paceMs?: number } = {}) {
    return this.sendAudio(speechFrames(ms), options);
  }

  /** `ms` of silence. */
  silence(ms: number, options: { paceMs?: number; noise?: number } = {}) {
    return this.sendAudio(silenceFrames(ms, { noise: options.noise }), options);
  }

  dtmf(digit: string) {
    this.send({ event: "dtmf", streamSid: this.streamSid, sequenceNumber: this.nextSequence(), dtmf: { track: "inbound_track", digit } });
  }

  /** The caller hung up: Twilio's last message. */
  stop() {
    this.send({ event: "stop", sequenceNumber: this.nextSequence(), streamSid: this.streamSid, stop: { accountSid: this.accountSid, callSid: this.callSid } });
  }

  close(code = 1000, reason = "") {
    clearInterval(this.pump);
    try {
      this.ws.close(code, reason);
    } catch {
      // Already closed.
    }
  }

  /** Milliseconds of audio sent so far (the next frame's timestamp). */
  get sentMs(): number {
    return this.virtualMs;
  }

  // ---- What the server sends ----

  private onMessage(data: string | ArrayBuffer) {
    const at = Date.now();
    if (typeof data !== "string") {
      this.errors.push("binary message (Twilio takes JSON text only)");
      return this.notify();
    }
    let message: TwilioServerMessage;
    try {
      message = JSON.parse(data) as TwilioServerMessage;
    } catch {
      this.errors.push(`not JSON: ${data.slice(0, 80)}`);
      return this.notify();
    }
    this.received.push({ at, message });
    if (message.streamSid !== this.streamSid) this.errors.push(`${message.event}: streamSid ${JSON.stringify(message.streamSid)} is not the stream's ${this.streamSid}`);
    switch (message.event) {
      case "media": {
        let audio: Uint8Array | undefined;
        try {
          audio = typeof message.media?.payload === "string" ? fromBase64(message.media.payload) : undefined;
        } catch {
          audio = undefined;
        }
        if (!audio) this.errors.push("media: payload is not base64");
        else this.enqueue({ audio });
        break;
      }
      case "mark":
        if (typeof message.mark?.name !== "string") this.errors.push("mark: no mark.name");
        else this.enqueue({ mark: message.mark.name });
        break;
      case "clear":
        this.clear();
        break;
      default:
        this.errors.push(`unknown event ${JSON.stringify(message.event)}`);
    }
    this.notify();
  }

  private enqueue(item: Queued) {
    this.queue.push(item);
    if (this.marksMode === "immediate") this.play();
    else if (this.marksMode === "realtime" && !this.pump) {
      this.lastPump = Date.now();
      this.pump = setInterval(() => {
        const now = Date.now();
        this.play(now - this.lastPump);
        this.lastPump = now;
        if (this.queue.length === 0) {
          clearInterval(this.pump);
          this.pump = undefined;
        }
      }, 10);
    }
  }

  private echo(name: string) {
    this.echoedMarks.push(name);
    if (this.closed) return;
    this.send({ event: "mark", sequenceNumber: this.nextSequence(), streamSid: this.streamSid, mark: { name } });
  }

  /**
   * Plays `ms` of the queued audio (all of it when omitted), echoing each mark whose audio has
   * all played. Returns the ms actually played.
   */
  play(ms?: number): number {
    let budget = ms === undefined ? Infinity : Math.floor((ms * 8000) / 1000);
    let played = 0;
    while (this.queue.length) {
      const head = this.queue[0];
      if ("mark" in head) {
        this.queue.shift();
        this.echo(head.mark);
        continue;
      }
      if (budget <= 0) break;
      const take = Math.min(budget, head.audio.length);
      played += take;
      budget -= take;
      if (take === head.audio.length) this.queue.shift();
      else this.queue[0] = { audio: head.audio.subarray(take) };
    }
    this.playedBytes += played;
    this.notify();
    return mulawMs(played);
  }

  /** Twilio's `clear`: drop the queued audio, echo every pending mark now. */
  private clear() {
    for (const item of this.queue) {
      if ("audio" in item) this.clearedBytes += item.audio.length;
      else this.echo(item.mark);
    }
    this.queue = [];
  }

  /** Every message with this event. */
  events(event: string): TwilioServerMessage[] {
    return this.received.filter((r) => r.message.event === event).map((r) => r.message);
  }

  /** All outbound audio received (μ-law), including audio later cleared. */
  get audio(): Uint8Array {
    return concatBytes(this.events("media").map((m) => fromBase64(m.media!.payload!)));
  }

  get audioMs(): number {
    return mulawMs(this.audio.length);
  }

  /** Audio "heard" by the caller so far. */
  get playedMs(): number {
    return mulawMs(this.playedBytes);
  }

  /** Audio dropped by `clear`s. */
  get clearedMs(): number {
    return mulawMs(this.clearedBytes);
  }

  /** Audio waiting to play. */
  get queuedMs(): number {
    return mulawMs(this.queue.reduce((n, q) => n + ("audio" in q ? q.audio.length : 0), 0));
  }

  get marks(): string[] {
    return this.events("mark").map((m) => m.mark!.name!);
  }

  get clears(): number {
    return this.events("clear").length;
  }

  // ---- Waiting ----

  private notify() {
    for (const listener of [...this.listeners]) listener();
  }

  /** Resolves when `condition()` holds (checked on every message, close and playout), or throws after the timeout. */
  until<T>(condition: () => T | undefined | false, what: string, timeoutMs = 5000): Promise<T> {
    const now = condition();
    if (now) return Promise.resolve(now);
    return new Promise<T>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      const check = () => {
        const value = condition();
        if (value) {
          done();
          resolve(value);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; received ${JSON.stringify(this.received.map((r) => r.message.event))}`));
      }, timeoutMs);
      this.listeners.add(check);
    });
  }

  /** The first received message (from index `from`) matching `predicate`. */
  waitFor(predicate: (message: TwilioServerMessage) => boolean, options: { from?: number; timeoutMs?: number; what?: string } = {}): Promise<TwilioServerMessage> {
    return this.until(() => this.received.slice(options.from ?? 0).find((r) => predicate(r.message))?.message, options.what ?? "a matching message", options.timeoutMs);
  }

  waitForEvent(event: string, options: { from?: number; timeoutMs?: number } = {}): Promise<TwilioServerMessage> {
    return this.waitFor((m) => m.event === event, { ...options, what: `a ${event} message` });
  }

  /** Resolves once at least `ms` of outbound audio has arrived. */
  waitForAudio(ms: number, timeoutMs = 5000): Promise<number> {
    return this.until(() => (this.audioMs >= ms ? this.audioMs : undefined), `${ms} ms of audio`, timeoutMs);
  }

  waitForClose(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    return this.until(() => this.closed, "the socket to close", timeoutMs);
  }
}
