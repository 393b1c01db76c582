// Twilio's side of one Media Streams WebSocket, played from Node: the part bench/voice.mjs's
// callers and the browser tests' phone call (test/browser) share. It opens the socket with
// `X-Twilio-Signature` as Twilio signs it, sends `connected` and `start` (the TwiML's
// <Parameter>s as customParameters), inbound `media` frames, mark echoes and `stop`, and hands
// every JSON message the platform sends to `onEvent`. What to say and when is the subclass's.
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import WebSocket from "ws";
import { FRAME_MS, twilioSignature } from "./voice-audio.mjs";

export class TwilioMediaStream {
  /**
   * `authToken` signs the handshake; without it none is sent (the echo baseline is no Twilio
   * route). `callSid` is the fake Twilio's call, `customParameters` the TwiML's <Parameter>s.
   */
  constructor({ url, authToken, accountSid, callSid, customParameters = {} }) {
    this.accountSid = accountSid;
    this.streamSid = `MZ${randomBytes(16).toString("hex")}`;
    this.callSid = callSid ?? `CA${randomBytes(16).toString("hex")}`;
    this.customParameters = customParameters;
    this.sequence = 0;
    this.chunk = 0;
    this.errors = [];
    /** Set when the platform closed the socket before stop(): {code, reason}. */
    this.closedBy = null;
    this.stopping = false;
    const headers = authToken ? { "X-Twilio-Signature": twilioSignature(authToken, url) } : {};
    this.ws = new WebSocket(url, { headers, perMessageDeflate: false });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once("open", resolve);
      this.ws.once("unexpected-response", (req, res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => {
          req.destroy();
          reject(new Error(`media stream handshake to ${url} answered ${res.statusCode}: ${body.slice(0, 300)}`));
        });
      });
      this.ws.once("error", reject);
    });
    this.ws.on("message", (data, isBinary) => {
      const at = performance.now();
      if (isBinary) return this.errors.push("a binary message (Twilio takes JSON text only)");
      let message;
      try {
        message = JSON.parse(data.toString("utf8"));
      } catch {
        return this.errors.push("a message that is not JSON");
      }
      this.onEvent(message, at);
    });
    this.ws.on("close", (code, reason) => {
      this.onClose();
      if (!this.stopping) this.closedBy = { code, reason: reason.toString() };
    });
    this.ws.on("error", (error) => this.errors.push(String(error)));
  }

  /** One JSON message from the platform (`media`, `mark`, `clear`), received at `at` (performance.now). */
  onEvent(_message, _at) {}

  /** The socket closed, whoever closed it. */
  onClose() {}

  send(message) {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  /** `connected` then `start`, as Twilio opens every stream. */
  sendStart() {
    this.send({ event: "connected", protocol: "Call", version: "1.0.0" });
    this.send({
      event: "start",
      sequenceNumber: String(++this.sequence),
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

  /** One inbound 20 ms frame (base64 μ-law). */
  sendMedia(payload) {
    this.send({
      event: "media",
      sequenceNumber: String(++this.sequence),
      streamSid: this.streamSid,
      media: { track: "inbound", chunk: String(++this.chunk), timestamp: String((this.chunk - 1) * FRAME_MS), payload },
    });
  }

  /** Twilio echoes a mark once the audio before it has played. */
  sendMark(name) {
    this.send({ event: "mark", sequenceNumber: String(++this.sequence), streamSid: this.streamSid, mark: { name } });
  }

  /** Twilio's `stop` (unless `sendStop` is false), then the socket closes. */
  async stop({ sendStop = true } = {}) {
    this.stopping = true;
    if (sendStop) this.send({ event: "stop", sequenceNumber: String(++this.sequence), streamSid: this.streamSid, stop: { accountSid: this.accountSid, callSid: this.callSid } });
    if (this.ws.readyState === WebSocket.OPEN) {
      const closed = new Promise((resolve) => this.ws.once("close", resolve));
      this.ws.close(1000);
      await Promise.race([closed, sleep(3000)]);
    }
    this.ws.terminate();
  }
}
