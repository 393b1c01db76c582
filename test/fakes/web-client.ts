import { concatBytes, SPEECH_FREQS, toneSamples } from "./audio";
import { PlaybackClient } from "./playback";

/**
 * Plays a browser's side of a web call (POST /calls/web, protocol in src/voice/web-protocol.ts)
 * from a test running in workerd: fetch with `Upgrade: websocket` on the call's `websocket_url`
 * (http(s):// instead of ws(s)://, through `exports.default`), then `webSocket.accept()`.
 *
 *   const browser = await WebCallClient.connect({ url, fetcher: exports.default });
 *   await browser.ready;                      // {"type":"ready",…}
 *   browser.speak(1200); browser.silence(700); // PCM16 16 kHz in 20 ms messages (640 bytes)
 *   await browser.waitForAudio(500);          // the agent's PCM16 16 kHz
 *   browser.hangup();
 *
 * Audio is generated here at 16 kHz (a voiced 150 Hz tone with harmonics, or digital silence),
 * not converted with the code under test. Playback mirrors a browser's player: binary audio joins
 * a play queue, a `mark` is echoed once the audio queued before it has played, `clear` empties the
 * queue and echoes its pending marks. With marks "immediate" (default) audio plays at once;
 * "manual" waits for `play()` (the play queue and the waiting helpers are shared with the carrier
 * fakes: ./playback). Messages the protocol does not allow are listed in `errors`.
 */

export const WEB_RATE = 16_000;
/** Bytes of one 20 ms message of PCM16 at 16 kHz. */
export const WEB_FRAME_BYTES = (WEB_RATE / 1000) * 20 * 2;

export type WebMarkMode = "immediate" | "manual";

export interface WebServerMessage {
  type: string;
  [key: string]: unknown;
}

export class WebConnectError extends Error {
  constructor(
    readonly status: number,
    readonly body: any,
  ) {
    super(`web call handshake answered ${status}: ${JSON.stringify(body).slice(0, 200)}`);
  }
}

/** Samples to PCM16 little-endian bytes. */
export function pcm16le(samples: Int16Array): Uint8Array {
  const out = new Uint8Array(samples.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < samples.length; i++) view.setInt16(i * 2, samples[i], true);
  return out;
}

/** PCM16 little-endian bytes to samples. */
export function samplesOf(bytes: Uint8Array): Int16Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Int16Array(bytes.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(i * 2, true);
  return out;
}

export class WebCallClient extends PlaybackClient {
  /** Text messages from the server, in order, with arrival times. */
  readonly messages: { at: number; message: WebServerMessage }[] = [];
  /** Binary agent audio, one entry per message. */
  readonly audioMessages: Uint8Array[] = [];
  /** Resolves with the `ready` message. */
  readonly ready: Promise<WebServerMessage>;

  private sentSamples = 0;

  private constructor(ws: WebSocket, marks: WebMarkMode) {
    super(ws, { marks, bytesPerSecond: WEB_RATE * 2 });
    this.ready = this.waitFor((m) => m.type === "ready", { what: "ready" });
    // Awaited by the tests that need it; a socket refused later must not leave it rejecting unheard.
    this.ready.catch(() => {});
  }

  /** Opens the call's socket; a refused handshake throws WebConnectError with the status and the JSON error. */
  static async connect(options: { url: string; fetcher: { fetch(request: Request): Promise<Response> }; marks?: WebMarkMode }): Promise<WebCallClient> {
    const url = options.url.replace(/^ws(s?):/, "http$1:");
    const response = await options.fetcher.fetch(new Request(url, { headers: { Upgrade: "websocket" } }));
    const ws = response.webSocket;
    if (response.status !== 101 || !ws) {
      const text = await response.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // Not JSON.
      }
      throw new WebConnectError(response.status, body);
    }
    // As a browser player would ask; the standard default is Blob.
    (ws as WebSocket & { binaryType: string }).binaryType = "arraybuffer";
    ws.accept();
    return new WebCallClient(ws, options.marks ?? "immediate");
  }

  // ---- What the browser sends ----

  /** Raw bytes as one binary message (tests of the limits use odd or oversized ones). */
  sendBytes(bytes: Uint8Array) {
    this.ws.send(bytes);
  }

  sendJson(message: unknown) {
    this.ws.send(JSON.stringify(message));
  }

  /**
   * PCM16 16 kHz samples as 20 ms messages (640 bytes; the last may be shorter). With `paceMs`,
   * that many wall-clock ms pass between messages, as a browser's microphone paces them (a
   * Durable Object may run socket messages that queue up while it is busy out of order).
   */
  async sendSamples(samples: Int16Array, options: { paceMs?: number } = {}) {
    const bytes = pcm16le(samples);
    this.sentSamples += samples.length;
    for (let i = 0; i < bytes.length; i += WEB_FRAME_BYTES) {
      this.ws.send(bytes.slice(i, Math.min(i + WEB_FRAME_BYTES, bytes.length)));
      if (options.paceMs) await new Promise((resolve) => setTimeout(resolve, options.paceMs));
    }
  }

  /** `ms` of voiced audio (phase-continuous across calls). */
  speak(ms: number, options: { paceMs?: number } = {}) {
    return this.sendSamples(toneSamples(ms, { rate: WEB_RATE, freqs: SPEECH_FREQS, amplitude: 10000, offset: this.sentSamples }), options);
  }

  /** `ms` of digital silence. */
  silence(ms: number, options: { paceMs?: number } = {}) {
    return this.sendSamples(new Int16Array((ms * WEB_RATE) / 1000), options);
  }

  hangup() {
    this.sendJson({ type: "hangup" });
  }

  /** A key of the page's keypad. */
  dtmf(digit: string) {
    this.sendJson({ type: "dtmf", digit });
  }

  /** Ms of audio sent so far. */
  get sentMs(): number {
    return (this.sentSamples * 1000) / WEB_RATE;
  }

  // ---- What the server sends ----

  protected onMessage(data: string | ArrayBuffer) {
    if (typeof data !== "string") {
      if (!(data instanceof ArrayBuffer)) {
        this.errors.push(`binary message as ${Object.prototype.toString.call(data)}, not an ArrayBuffer`);
        return this.notify();
      }
      const bytes = new Uint8Array(data);
      if (bytes.length % 2 !== 0) this.errors.push(`binary message of odd length ${bytes.length}`);
      this.audioMessages.push(bytes);
      this.playback.enqueueAudio(bytes);
      return this.notify();
    }
    const message = this.parseJson<WebServerMessage>(data);
    if (!message) return this.notify();
    this.messages.push({ at: Date.now(), message });
    switch (message.type) {
      case "ready":
      case "ended":
      case "error":
        break;
      case "mark":
        if (typeof message.name !== "string") this.errors.push("mark without a name");
        else this.playback.enqueueMark(message.name);
        break;
      case "clear":
        this.playback.clear();
        break;
      default:
        this.errors.push(`unknown message type ${JSON.stringify(message.type)}`);
    }
    this.notify();
  }

  protected sendMark(name: string) {
    this.sendJson({ type: "mark", name });
  }

  /** Plays everything queued, echoing the marks behind it. */
  play() {
    this.playback.play();
  }

  /** Text messages of one type. */
  of(type: string): WebServerMessage[] {
    return this.messages.filter((m) => m.message.type === type).map((m) => m.message);
  }

  /** All agent audio received (PCM16 16 kHz bytes). */
  get audio(): Uint8Array {
    return concatBytes(this.audioMessages);
  }

  get audioMs(): number {
    return this.audio.length / 2 / (WEB_RATE / 1000);
  }

  protected describeReceived(): string {
    return `${JSON.stringify(this.messages.map((m) => m.message.type))} and ${this.audioMessages.length} audio messages`;
  }

  waitFor(predicate: (message: WebServerMessage) => boolean, options: { what?: string; timeoutMs?: number } = {}): Promise<WebServerMessage> {
    return this.until(() => this.messages.find((m) => predicate(m.message))?.message, options.what ?? "a matching message", options.timeoutMs);
  }
}
