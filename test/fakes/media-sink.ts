import type { WebSocket } from "ws";
import type { Fake } from "./server";
import { parseJson } from "./streaming";

/**
 * A stand-in for OUR media endpoint, used only to check the Twilio Media Streams client
 * (./media-client) on the wire: a WebSocket at `/media-sink/<tag>` that records every message
 * the client sends and checks it against Twilio's message shapes (spec §1.6: string
 * `sequenceNumber`s counting up from 1 after `connected`, `start` with its `mediaFormat`, media
 * `chunk`s counting from 1 with `timestamp`s advancing by the audio sent, base64 payloads, …).
 *
 * - `GET /__fakes/media-sink/session?tag=…` → `{open, messages, errors, close_code?}`.
 * - `POST /__fakes/media-sink/send {tag, messages: object[]}` sends messages to the client, as
 *   our server would (`media`, `mark`, `clear`).
 * - `POST /__fakes/media-sink/close {tag, code?, reason?}` closes the socket from the server side.
 */

interface SinkSession {
  ws: WebSocket;
  open: boolean;
  messages: Record<string, unknown>[];
  errors: string[];
  close_code?: number;
  /** Next expected values. */
  sequence: number;
  chunk: number;
  timestamp: number;
  streamSid?: string;
}

const sessions = new Map<string, SinkSession>();

const isDigits = (v: unknown) => typeof v === "string" && /^\d+$/.test(v);

function check(session: SinkSession, message: Record<string, unknown>) {
  const error = (text: string) => session.errors.push(`#${session.messages.length} ${String(message.event)}: ${text}`);
  const index = session.messages.length - 1;
  if (index === 0) {
    if (message.event !== "connected" || message.protocol !== "Call" || message.version !== "1.0.0") error("the first message must be connected {protocol: Call, version: 1.0.0}");
    return;
  }
  if (message.sequenceNumber !== String(session.sequence)) error(`sequenceNumber ${JSON.stringify(message.sequenceNumber)}, expected "${session.sequence}"`);
  session.sequence++;
  if (message.event === "start") {
    const start = message.start as Record<string, unknown> | undefined;
    const format = start?.mediaFormat as Record<string, unknown> | undefined;
    session.streamSid = message.streamSid as string;
    if (!/^MZ[0-9a-f]{32}$/.test(String(message.streamSid))) error("streamSid must be MZ + 32 hex");
    if (start?.streamSid !== message.streamSid) error("start.streamSid must equal streamSid");
    if (!/^AC[0-9a-f]{32}$/.test(String(start?.accountSid))) error("start.accountSid must be AC + 32 hex");
    if (!/^CA[0-9a-f]{32}$/.test(String(start?.callSid))) error("start.callSid must be CA + 32 hex");
    if (JSON.stringify(start?.tracks) !== '["inbound"]') error('start.tracks must be ["inbound"]');
    if (typeof start?.customParameters !== "object" || start.customParameters === null) error("start.customParameters must be an object");
    if (format?.encoding !== "audio/x-mulaw" || format.sampleRate !== 8000 || format.channels !== 1) error("start.mediaFormat must be audio/x-mulaw, 8000, 1");
    return;
  }
  if (message.streamSid !== session.streamSid) error("streamSid differs from the start's");
  if (message.event === "media") {
    const media = message.media as Record<string, unknown> | undefined;
    if (media?.track !== "inbound") error("media.track must be inbound");
    if (media?.chunk !== String(session.chunk)) error(`media.chunk ${JSON.stringify(media?.chunk)}, expected "${session.chunk}"`);
    if (!isDigits(media?.timestamp) || Number(media?.timestamp) !== session.timestamp) error(`media.timestamp ${JSON.stringify(media?.timestamp)}, expected "${session.timestamp}"`);
    const payload = typeof media?.payload === "string" ? Buffer.from(media.payload, "base64") : undefined;
    if (!payload || payload.length === 0 || payload.toString("base64") !== media?.payload) error("media.payload must be non-empty base64");
    session.chunk++;
    session.timestamp += Math.round((payload?.length ?? 0) / 8);
    return;
  }
  if (message.event === "mark") {
    if (typeof (message.mark as { name?: unknown } | undefined)?.name !== "string") error("mark.name must be a string");
    return;
  }
  if (message.event === "dtmf") {
    const dtmf = message.dtmf as Record<string, unknown> | undefined;
    if (dtmf?.track !== "inbound_track" || typeof dtmf.digit !== "string" || !/^[0-9*#A-D]$/.test(dtmf.digit)) error("dtmf must be {track: inbound_track, digit}");
    return;
  }
  if (message.event === "stop") {
    const stop = message.stop as Record<string, unknown> | undefined;
    if (typeof stop?.accountSid !== "string" || typeof stop.callSid !== "string") error("stop must carry accountSid and callSid");
    return;
  }
  error("unknown event");
}

export const mediaSinkFake: Fake = {
  service: "media-sink",
  handle: () => undefined,
  upgrade(request) {
    const tag = /^\/media-sink\/([^/]+)$/.exec(request.url.pathname)?.[1];
    if (!tag) return undefined;
    return {
      accept(ws) {
        const session: SinkSession = { ws, open: true, messages: [], errors: [], sequence: 1, chunk: 1, timestamp: 0 };
        sessions.set(tag, session);
        ws.on("message", (data, isBinary) => {
          const message = isBinary ? undefined : (parseJson(String(data)) as Record<string, unknown> | undefined);
          if (!message || typeof message !== "object") {
            session.errors.push(`#${session.messages.length + 1}: not a JSON text message`);
            return;
          }
          session.messages.push(message);
          check(session, message);
        });
        ws.on("close", (code) => {
          session.open = false;
          session.close_code = code;
        });
      },
    };
  },
  control(request) {
    const path = request.url.pathname;
    const body = (parseJson(request.body) ?? {}) as { tag?: string; messages?: unknown[]; code?: number; reason?: string };
    if (path === "/__fakes/media-sink/session" && request.method === "GET") {
      const session = sessions.get(request.url.searchParams.get("tag") ?? "");
      if (!session) return { status: 404, body: { error: "no such session" } };
      const { ws: _ws, sequence: _s, chunk: _c, timestamp: _t, ...view } = session;
      return { status: 200, body: view };
    }
    const session = sessions.get(body.tag ?? "");
    if (path === "/__fakes/media-sink/send" && request.method === "POST") {
      if (!session?.open) return { status: 404, body: { error: "no open session" } };
      for (const message of body.messages ?? []) session.ws.send(JSON.stringify(message));
      return { status: 200, body: { sent: body.messages?.length ?? 0 } };
    }
    if (path === "/__fakes/media-sink/close" && request.method === "POST") {
      if (!session?.open) return { status: 404, body: { error: "no open session" } };
      session.ws.close(body.code ?? 1000, body.reason ?? "");
      return { status: 200, body: {} };
    }
    return undefined;
  },
};
