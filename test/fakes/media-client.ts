import { FRAME_BYTES, concatBytes, fromBase64, toFrames } from "./audio";
import { CarrierPlaybackClient, type CarrierServerMessage, type CarrierSocketOptions, type MarkMode } from "./playback";

export { MediaConnectError } from "./playback";

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
 * (The play queue and the waiting helpers are shared with the other media fakes: ./playback.)
 * Everything received is kept in `received` (with arrival times); messages that Twilio would
 * reject (no or wrong streamSid, bad base64, unknown events) are listed in `errors`.
 */

export type { MarkMode };

/** `headers` carries X-Twilio-Signature. */
export interface MediaClientOptions extends CarrierSocketOptions {
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

export interface TwilioServerMessage extends CarrierServerMessage {
  streamSid?: string;
}

function hex(bytes: number): string {
  return [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export class TwilioMediaClient extends CarrierPlaybackClient<TwilioServerMessage> {
  readonly streamSid: string;
  readonly callSid: string;
  readonly accountSid: string;
  readonly customParameters: Record<string, string>;

  private constructor(ws: WebSocket, options: MediaClientOptions) {
    super(ws, options.marks ?? "immediate");
    this.accountSid = options.accountSid ?? "AC00000000000000000000000000000000";
    this.callSid = options.callSid ?? `CA${hex(16)}`;
    this.streamSid = options.streamSid ?? `MZ${hex(16)}`;
    this.customParameters = options.customParameters ?? {};
  }

  /** Opens the stream (the handshake only; call `begin()` to send `connected` and `start`). */
  static async connect(options: MediaClientOptions): Promise<TwilioMediaClient> {
    return new TwilioMediaClient(await CarrierPlaybackClient.openSocket(options), options);
  }

  // ---- What Twilio sends ----

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
        media: { track: "inbound", ...this.nextMedia(frame) },
      });
      if (options.paceMs) await new Promise((resolve) => setTimeout(resolve, options.paceMs));
    }
  }

  dtmf(digit: string) {
    this.send({ event: "dtmf", streamSid: this.streamSid, sequenceNumber: this.nextSequence(), dtmf: { track: "inbound_track", digit } });
  }

  /** The caller hung up: Twilio's last message. */
  stop() {
    this.send({ event: "stop", sequenceNumber: this.nextSequence(), streamSid: this.streamSid, stop: { accountSid: this.accountSid, callSid: this.callSid } });
  }

  // ---- What the server sends ----

  protected onMessage(data: string | ArrayBuffer) {
    const at = Date.now();
    if (typeof data !== "string") {
      this.errors.push("binary message (Twilio takes JSON text only)");
      return this.notify();
    }
    const message = this.parseJson<TwilioServerMessage>(data);
    if (!message) return this.notify();
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
        else this.playback.enqueueAudio(audio);
        break;
      }
      case "mark":
        if (typeof message.mark?.name !== "string") this.errors.push("mark: no mark.name");
        else this.playback.enqueueMark(message.mark.name);
        break;
      case "clear":
        // Twilio's `clear`: drop the queued audio, echo every pending mark now.
        this.playback.clear();
        break;
      default:
        this.errors.push(`unknown event ${JSON.stringify(message.event)}`);
    }
    this.notify();
  }

  protected sendMark(name: string) {
    this.send({ event: "mark", sequenceNumber: this.nextSequence(), streamSid: this.streamSid, mark: { name } });
  }
}
