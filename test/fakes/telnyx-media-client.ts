import { FRAME_BYTES, SAMPLE_RATE, concatBytes, fromBase64, mulawMs, toFrames } from "./audio";
import { CarrierPlaybackClient, type CarrierServerMessage, type CarrierSocketOptions, type MarkMode } from "./playback";

/**
 * Plays Telnyx's side of a bidirectional media stream (Call Control `stream_url` with
 * `stream_bidirectional_mode: "rtp"` and PCMU both ways; realtime.md §2) against our media
 * endpoint, from a test running in workerd: fetch with `Upgrade: websocket`, then
 * `webSocket.accept()`.
 *
 *   const telnyx = await TelnyxMediaClient.connect({ url, fetcher: exports.default, callControlId });
 *   telnyx.begin();                       // connected + start
 *   await telnyx.speak(600);              // 600 ms of voiced audio as 30 media frames
 *   await telnyx.waitForAudio(200);       // the agent's reply
 *   telnyx.stop(); telnyx.close();
 *
 * What Telnyx sends, as its docs show it (all JSON text; numbers as strings):
 *   {"event":"connected","version":"1.0.0"}
 *   {"event":"start","sequence_number":"1","stream_id":"…","start":{"user_id","call_control_id",
 *     "call_session_id","from","to","client_state","custom_parameters",
 *     "media_format":{"encoding":"PCMU","sample_rate":8000,"channels":1}}}
 *   {"event":"media","sequence_number":"2","stream_id":"…","media":{"track":"inbound","chunk":"1","timestamp":"0","payload":"<base64>"}}
 *   {"event":"dtmf","sequence_number","stream_id","occurred_at","dtmf":{"digit":"1"}}
 *   {"event":"mark","sequence_number","stream_id","mark":{"name":"…"}}    (the echo of one of ours)
 *   {"event":"error","sequence_number","stream_id","error":{"title","code","detail"}}
 *   {"event":"stop","sequence_number","stream_id","stop":{"user_id","call_control_id"}}
 * `sequence_number` counts every frame from the start (1); `chunk` counts media frames (1…);
 * `timestamp` is ms of audio sent (virtual time), so a test sends seconds of audio at once unless
 * it asks for `paceMs`. Telnyx does not promise frame order: `sendAudio(…, {order})` sends the
 * numbered frames in another order.
 *
 * What we may send back in rtp mode, and what this client holds against it (`errors`):
 *   {"event":"media","media":{"payload":"<base64 PCMU>"}}  20 ms to 30 s of audio per message
 *   {"event":"mark","mark":{"name":"…"}}
 *   {"event":"clear"}
 * Anything else is listed: binary or non-JSON messages, unknown events, fields Telnyx's frames do
 * not have (a Twilio `streamSid`, a `stream_id`, anything beside the ones above), payloads that
 * are not base64 or hold less than 20 ms (160 bytes) or more than 30 s of μ-law, and anything
 * sent before our `start`.
 *
 * Playback mirrors Telnyx: `media` joins a play queue, a `mark` comes back (same name) once the
 * audio queued before it has played (at once when nothing is queued), and `clear` empties the
 * queue and sends every queued mark back. When audio "plays" depends on `marks`, as with the
 * Twilio client: "immediate" (default), "manual" (`play(ms)` / `play()`), or "realtime" (8000
 * bytes per wall-clock second); the play queue and the waiting helpers are shared with it
 * (./playback).
 */

/** `url` is the `stream_url` we gave Telnyx. */
export interface TelnyxMediaClientOptions extends CarrierSocketOptions {
  /** The call's call_control_id (what `start.call_control_id` says). */
  callControlId: string;
  callSessionId?: string;
  streamId?: string;
  from?: string;
  to?: string;
  clientState?: string | null;
  /** `start.media_format` as sent; PCMU 8000 mono unless a test wants another. */
  mediaFormat?: Record<string, unknown>;
  /** `media.track` of the caller's audio; Telnyx says `inbound`. */
  track?: string;
  marks?: MarkMode;
}

export type TelnyxServerMessage = CarrierServerMessage;

export interface TelnyxReceived {
  /** Date.now() at arrival. */
  at: number;
  message: TelnyxServerMessage;
}

/** The fields each message Telnyx accepts may have (top level, then inside its object). */
const ALLOWED: Record<string, { top: string[]; inner?: [string, string[]] }> = {
  media: { top: ["event", "media"], inner: ["media", ["payload"]] },
  mark: { top: ["event", "mark"], inner: ["mark", ["name"]] },
  clear: { top: ["event"] },
};

/** Telnyx takes 20 ms to 30 s of audio per RTP `media` message: at 8 kHz μ-law, bytes. */
const MIN_CHUNK_BYTES = (SAMPLE_RATE * 20) / 1000;
const MAX_CHUNK_BYTES = SAMPLE_RATE * 30;

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export class TelnyxMediaClient extends CarrierPlaybackClient<TelnyxServerMessage> {
  readonly streamId: string;
  readonly callControlId: string;
  readonly callSessionId: string;
  readonly userId = crypto.randomUUID();

  private started = false;
  private readonly options: TelnyxMediaClientOptions;

  private constructor(ws: WebSocket, options: TelnyxMediaClientOptions) {
    // Telnyx sends a mark back at once when no audio is queued before it.
    super(ws, options.marks ?? "immediate", { lonelyMarksAtOnce: true });
    this.options = options;
    this.callControlId = options.callControlId;
    this.callSessionId = options.callSessionId ?? crypto.randomUUID();
    this.streamId = options.streamId ?? crypto.randomUUID();
  }

  /** Opens the stream (the handshake only; `begin()` sends `connected` and `start`). */
  static async connect(options: TelnyxMediaClientOptions): Promise<TelnyxMediaClient> {
    return new TelnyxMediaClient(await CarrierPlaybackClient.openSocket(options), options);
  }

  // ---- What Telnyx sends ----

  connected() {
    this.send({ event: "connected", version: "1.0.0" });
  }

  start() {
    this.started = true;
    this.send({
      event: "start",
      sequence_number: this.nextSequence(),
      start: {
        user_id: this.userId,
        call_control_id: this.callControlId,
        call_session_id: this.callSessionId,
        from: this.options.from ?? "+13122010094",
        to: this.options.to ?? "+13122123456",
        tags: [],
        client_state: this.options.clientState ?? null,
        custom_parameters: {},
        media_format: this.options.mediaFormat ?? { encoding: "PCMU", sample_rate: 8000, channels: 1 },
      },
      stream_id: this.streamId,
    });
  }

  /** `connected` then `start`, as Telnyx opens every stream. */
  begin() {
    this.connected();
    this.start();
  }

  /**
   * Sends μ-law audio as 20 ms `media` frames (re-cut into 160-byte frames), numbered in order.
   * `order` maps each frame's index to the position it is sent at (a permutation), to play
   * Telnyx's unordered delivery.
   */
  async sendAudio(audio: Uint8Array | Uint8Array[], options: { paceMs?: number; order?: (count: number) => number[] } = {}) {
    const frames = toFrames(Array.isArray(audio) ? concatBytes(audio) : audio, FRAME_BYTES);
    const messages = frames.map((frame) => {
      const message = {
        event: "media",
        sequence_number: this.nextSequence(),
        media: { track: this.options.track ?? "inbound", ...this.nextMedia(frame) },
        stream_id: this.streamId,
      };
      return message;
    });
    const order = options.order ? options.order(messages.length) : messages.map((_, i) => i);
    if ([...order].sort((a, b) => a - b).some((v, i) => v !== i)) throw new Error(`order is not a permutation of 0…${messages.length - 1}`);
    for (const index of order) {
      this.send(messages[index]);
      if (options.paceMs) await new Promise((resolve) => setTimeout(resolve, options.paceMs));
    }
  }

  dtmf(digit: string) {
    this.send(this.dtmfMessage(digit));
  }

  /** Presses `keys` one after another; `order` sends their messages in another order (numbered as pressed), as Telnyx may deliver them. */
  pressKeys(keys: string, options: { order?: number[] } = {}) {
    const messages = [...keys].map((key) => this.dtmfMessage(key));
    for (const index of options.order ?? messages.map((_, i) => i)) this.send(messages[index]);
  }

  private dtmfMessage(digit: string) {
    return { event: "dtmf", stream_id: this.streamId, occurred_at: new Date().toISOString(), sequence_number: this.nextSequence(), dtmf: { digit } };
  }

  /** Telnyx telling us it could not take something we sent (codes 100002–100005). */
  streamError(code = "100003", title = "malformed_frame", detail = "The frame could not be parsed") {
    this.send({ stream_id: this.streamId, event: "error", sequence_number: this.nextSequence(), error: { title, code, detail } });
  }

  /** The stream ended (the call hung up, or streaming_stop): Telnyx's last message. */
  stop() {
    this.send({ event: "stop", sequence_number: this.nextSequence(), stop: { user_id: this.userId, call_control_id: this.callControlId }, stream_id: this.streamId });
  }

  // ---- What the server sends ----

  protected onMessage(data: string | ArrayBuffer) {
    const at = Date.now();
    if (typeof data !== "string") {
      this.errors.push("binary message (Telnyx takes JSON text frames)");
      return this.notify();
    }
    const message = this.parseJson<TelnyxServerMessage | null>(data);
    if (message === undefined) return this.notify();
    if (typeof message !== "object" || message === null || Array.isArray(message)) {
      this.errors.push(`not a JSON object: ${data.slice(0, 80)}`);
      return this.notify();
    }
    this.received.push({ at, message });
    if (!this.started) this.errors.push(`${message.event}: sent before the stream's start`);
    const allowed = ALLOWED[message.event];
    if (!allowed) {
      this.errors.push(`unknown event ${JSON.stringify(message.event)}`);
      return this.notify();
    }
    for (const key of Object.keys(message)) if (!allowed.top.includes(key)) this.errors.push(`${message.event}: unexpected field ${key}`);
    if (allowed.inner) {
      const [name, fields] = allowed.inner;
      const inner = message[name];
      if (typeof inner !== "object" || inner === null || Array.isArray(inner)) this.errors.push(`${message.event}: no ${name} object`);
      else for (const key of Object.keys(inner)) if (!fields.includes(key)) this.errors.push(`${message.event}: unexpected field ${name}.${key}`);
    }
    switch (message.event) {
      case "media": {
        const payload = message.media?.payload;
        if (typeof payload !== "string" || !STRICT_BASE64.test(payload)) {
          this.errors.push("media: payload is not base64");
          break;
        }
        const audio = fromBase64(payload);
        if (audio.length < MIN_CHUNK_BYTES || audio.length > MAX_CHUNK_BYTES) this.errors.push(`media: ${mulawMs(audio.length)} ms of audio (Telnyx takes 20 ms to 30 s a message)`);
        else this.playback.enqueueAudio(audio);
        break;
      }
      case "mark":
        if (typeof message.mark?.name !== "string" || message.mark.name === "") this.errors.push("mark: no mark.name");
        else this.playback.enqueueMark(message.mark.name);
        break;
      case "clear":
        // Telnyx's `clear`: stop playback, drop the queued audio, send the queued marks back.
        this.playback.clear();
        break;
    }
    this.notify();
  }

  protected sendMark(name: string) {
    this.send({ event: "mark", sequence_number: this.nextSequence(), stream_id: this.streamId, mark: { name } });
  }
}
