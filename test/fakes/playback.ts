import { concatBytes, fromBase64, mulawMs, silenceFrames, speechFrames, toBase64 } from "./audio";

/**
 * What the three media-stream fakes share: the Twilio client (./media-client), the Telnyx client
 * (./telnyx-media-client) and the browser's web-call client (./web-client). Each keeps its own
 * wire protocol (what it sends, the shapes it accepts, what it lists in `errors`) and hands what
 * it accepted to the pieces here:
 * - `Playback`: the carrier's (or browser player's) play queue of outbound audio and marks;
 * - `PlaybackClient`: the socket side all three share (answering the server's close, `errors`,
 *   `echoedMarks`, the `until`/`waitForAudio`/`waitForClose` helpers);
 * - `CarrierPlaybackClient`: what the two phone carriers' clients share on top, as both speak
 *   JSON `event` messages with `media.payload` (base64 μ-law) and `mark.name`.
 */

/**
 * When queued audio "plays": at once ("immediate"), only when the test calls `play(ms)` /
 * `play()` ("manual", to hold the agent "mid-sentence"), or at wall-clock speed ("realtime").
 */
export type MarkMode = "immediate" | "manual" | "realtime";

type Queued = { audio: Uint8Array } | { mark: string };

export interface PlaybackOptions {
  marks: MarkMode;
  /** Bytes of outbound audio per second played: 8000 for μ-law 8 kHz, 32000 for PCM16 16 kHz. */
  bytesPerSecond: number;
  /** A mark with no audio queued before it comes back at once, even in "manual"/"realtime" (Telnyx). */
  lonelyMarksAtOnce?: boolean;
  /** Sends one mark back on the wire. */
  echo(name: string): void;
  /** Called after every `play`, so waiters can look again. */
  onPlay(): void;
}

/**
 * A play queue: audio joins it, a mark comes back (via `echo`) once the audio queued before it
 * has played, and `clear` drops the queued audio and sends every queued mark back at once.
 */
export class Playback {
  /** Names of the marks sent back, in order. */
  readonly echoedMarks: string[] = [];
  private queue: Queued[] = [];
  private played = 0;
  private cleared = 0;
  private pump: ReturnType<typeof setInterval> | undefined;
  private lastPump = 0;
  private stopped = false;

  constructor(private readonly options: PlaybackOptions) {}

  enqueueAudio(audio: Uint8Array) {
    this.enqueue({ audio });
  }

  enqueueMark(name: string) {
    this.enqueue({ mark: name });
  }

  private enqueue(item: Queued) {
    this.queue.push(item);
    if (this.options.marks === "immediate") this.play();
    else if (this.options.lonelyMarksAtOnce && "mark" in item && this.queue.every((q) => "mark" in q)) this.play(0);
    else if (this.options.marks === "realtime" && !this.pump && !this.stopped) {
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
    this.options.echo(name);
  }

  /**
   * Plays `ms` of the queued audio (all of it when omitted), sending back each mark whose audio
   * has all played. Returns the ms actually played.
   */
  play(ms?: number): number {
    let budget = ms === undefined ? Infinity : Math.floor((ms * this.options.bytesPerSecond) / 1000);
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
    this.played += played;
    this.options.onPlay();
    return this.ms(played);
  }

  /** Drops the queued audio and sends every queued mark back now. */
  clear() {
    for (const item of this.queue) {
      if ("audio" in item) this.cleared += item.audio.length;
      else this.echo(item.mark);
    }
    this.queue = [];
  }

  /** Ends realtime playback for good (the socket closed); `play()` still works. */
  stop() {
    this.stopped = true;
    clearInterval(this.pump);
  }

  /** Audio "heard" so far. */
  get playedMs(): number {
    return this.ms(this.played);
  }

  /** Audio dropped by `clear`s. */
  get clearedMs(): number {
    return this.ms(this.cleared);
  }

  /** Audio waiting to play. */
  get queuedMs(): number {
    return this.ms(this.queue.reduce((n, q) => n + ("audio" in q ? q.audio.length : 0), 0));
  }

  private ms(bytes: number): number {
    return (bytes * 1000) / this.options.bytesPerSecond;
  }
}

/**
 * A test's end of a media WebSocket that plays what the server sends: answers the server's close
 * (so `waitForClose` resolves), keeps the play queue and lets tests wait on anything the socket
 * changes. Subclasses parse messages (`onMessage`), send marks back in their protocol's shape
 * (`sendMark`) and say how much audio arrived (`audioMs`).
 */
export abstract class PlaybackClient {
  readonly errors: string[] = [];
  closed?: { code: number; reason: string; at: number };

  protected readonly playback: Playback;
  private listeners = new Set<() => void>();

  protected constructor(
    readonly ws: WebSocket,
    playback: Pick<PlaybackOptions, "marks" | "bytesPerSecond" | "lonelyMarksAtOnce">,
  ) {
    this.playback = new Playback({
      ...playback,
      // Marks still come off the queue after a close (a `clear` or `play()`), but nothing can be sent.
      echo: (name) => {
        if (!this.closed) this.sendMark(name);
      },
      onPlay: () => this.notify(),
    });
    ws.addEventListener("message", (event) => this.onMessage(event.data));
    ws.addEventListener("close", (event) => {
      this.closed = { code: event.code, reason: event.reason, at: Date.now() };
      this.playback.stop();
      try {
        // 1005 and 1006 say "no code"; they are not codes a peer may send back.
        ws.close(event.code === 1005 || event.code === 1006 ? 1000 : event.code);
      } catch {
        // Already closed.
      }
      this.notify();
    });
    ws.addEventListener("error", () => this.notify());
  }

  protected abstract onMessage(data: string | ArrayBuffer): void;

  protected abstract sendMark(name: string): void;

  /** Ms of outbound audio received, including audio later cleared. */
  abstract get audioMs(): number;

  /** What arrived so far, for a timeout's message. */
  protected abstract describeReceived(): string;

  /** Names of the marks sent back, in order. */
  get echoedMarks(): string[] {
    return this.playback.echoedMarks;
  }

  close(code = 1000, reason = "") {
    this.playback.stop();
    try {
      this.ws.close(code, reason);
    } catch {
      // Already closed.
    }
  }

  /** A text message as JSON; one that is not is listed in `errors` and gives undefined. */
  protected parseJson<T>(data: string): T | undefined {
    try {
      return JSON.parse(data) as T;
    } catch {
      this.errors.push(`not JSON: ${data.slice(0, 80)}`);
      return undefined;
    }
  }

  // ---- Waiting ----

  protected notify() {
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
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; received ${this.describeReceived()}`));
      }, timeoutMs);
      this.listeners.add(check);
    });
  }

  /** Resolves once at least `ms` of outbound audio has arrived. */
  waitForAudio(ms: number, timeoutMs = 5000): Promise<number> {
    return this.until(() => (this.audioMs >= ms ? this.audioMs : undefined), `${ms} ms of audio`, timeoutMs);
  }

  waitForClose(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    return this.until(() => this.closed, "the socket to close", timeoutMs);
  }
}

/** What both carriers send us back: JSON text with an `event`, audio in `media.payload`, marks in `mark.name`. */
export interface CarrierServerMessage {
  event: string;
  media?: { payload?: string };
  mark?: { name?: string };
  [key: string]: unknown;
}

/** Our media endpoint refused the stream's WebSocket handshake. */
export class MediaConnectError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`media stream handshake answered ${status}: ${body.slice(0, 200)}`);
  }
}

export interface CarrierSocketOptions {
  /** Our media endpoint; ws(s):// is fetched as http(s):// (workerd's fetch does the upgrade). */
  url: string;
  /** Who to fetch through: `exports.default` (the worker), a DO stub, …; default the global fetch. */
  fetcher?: { fetch(request: Request): Promise<Response> };
  /** Extra handshake headers, e.g. a signature. */
  headers?: Record<string, string>;
}

/** The phone carriers' clients: every message kept in `received`, μ-law 8 kHz audio both ways. */
export abstract class CarrierPlaybackClient<M extends CarrierServerMessage> extends PlaybackClient {
  readonly received: { at: number; message: M }[] = [];
  private sequence = 0;
  private chunk = 0;
  private virtualMs = 0;

  protected constructor(ws: WebSocket, marks: MarkMode, options: { lonelyMarksAtOnce?: boolean } = {}) {
    super(ws, { marks, bytesPerSecond: 8000, ...options });
  }

  /** The WebSocket handshake as the carrier makes it; a refusal throws MediaConnectError. */
  protected static async openSocket(options: CarrierSocketOptions): Promise<WebSocket> {
    const fetcher = options.fetcher ?? { fetch: (request: Request) => fetch(request) };
    const url = options.url.replace(/^ws(s?):\/\//, "http$1://");
    const response = await fetcher.fetch(new Request(url, { headers: { Upgrade: "websocket", ...options.headers } }));
    const ws = response.webSocket;
    if (response.status !== 101 || !ws) throw new MediaConnectError(response.status, await response.text());
    ws.accept();
    return ws;
  }

  protected send(message: Record<string, unknown>) {
    this.ws.send(JSON.stringify(message));
  }

  /** The next message's sequence number: both carriers count every message from 1, as a string. */
  protected nextSequence(): string {
    return String(++this.sequence);
  }

  /** The `chunk`, `timestamp` and `payload` of the next inbound 20 ms media frame. */
  protected nextMedia(frame: Uint8Array): { chunk: string; timestamp: string; payload: string } {
    const media = { chunk: String(++this.chunk), timestamp: String(Math.round(this.virtualMs)), payload: toBase64(frame) };
    this.virtualMs += mulawMs(frame.length);
    return media;
  }

  /** Sends μ-law audio as 20 ms `media` frames (re-cut into 160-byte frames). */
  abstract sendAudio(audio: Uint8Array | Uint8Array[], options?: { paceMs?: number }): Promise<void>;

  /** `ms` of voiced audio. */
  speak(ms: number, options: { paceMs?: number } = {}) {
    return this.sendAudio(speechFrames(ms), options);
  }

  /** `ms` of silence. */
  silence(ms: number, options: { paceMs?: number; noise?: number } = {}) {
    return this.sendAudio(silenceFrames(ms, { noise: options.noise }), options);
  }

  /** Milliseconds of audio sent so far (the next frame's timestamp). */
  get sentMs(): number {
    return this.virtualMs;
  }

  /**
   * Plays `ms` of the queued audio (all of it when omitted), sending back each mark whose audio
   * has all played. Returns the ms actually played.
   */
  play(ms?: number): number {
    return this.playback.play(ms);
  }

  /** Every message with this event. */
  events(event: string): M[] {
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
    return this.playback.playedMs;
  }

  /** Audio dropped by `clear`s. */
  get clearedMs(): number {
    return this.playback.clearedMs;
  }

  /** Audio waiting to play. */
  get queuedMs(): number {
    return this.playback.queuedMs;
  }

  get marks(): string[] {
    return this.events("mark").map((m) => m.mark!.name!);
  }

  get clears(): number {
    return this.events("clear").length;
  }

  protected describeReceived(): string {
    return JSON.stringify(this.received.map((r) => r.message.event));
  }

  /** The first received message (from index `from`) matching `predicate`. */
  waitFor(predicate: (message: M) => boolean, options: { from?: number; timeoutMs?: number; what?: string } = {}): Promise<M> {
    return this.until(() => this.received.slice(options.from ?? 0).find((r) => predicate(r.message))?.message, options.what ?? "a matching message", options.timeoutMs);
  }

  waitForEvent(event: string, options: { from?: number; timeoutMs?: number } = {}): Promise<M> {
    return this.waitFor((m) => m.event === event, { ...options, what: `a ${event} message` });
  }

  /** The first mark (from index `from`) not yet sent back: audio of the agent's that has not played. */
  waitForUnplayedMark(options: { from?: number; timeoutMs?: number; what?: string } = {}): Promise<M> {
    return this.waitFor((m) => m.event === "mark" && !this.echoedMarks.includes(m.mark!.name!), { what: "a mark not yet played", ...options });
  }
}
