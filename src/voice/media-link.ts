/**
 * How the voice loop talks back on a media socket. The loop thinks in 20 ms μ-law frames, marks
 * (played-up-to acknowledgements) and `clear`; each kind of stream words them its own way.
 */
import { toBase64 } from "../lib/crypto";
import { decodeMulaw } from "./mulaw";
import { pcm16ToBytesLE, Resampler } from "./resample";
import { WEB_SAMPLE_RATE } from "./web-protocol";

export interface MediaLink {
  /** One 20 ms frame of agent audio (160 bytes of μ-law 8 kHz). */
  sendAudio(frame: Uint8Array): void;
  /** Asks to be told (a `mark` echo) once everything sent so far has played. */
  sendMark(name: string): void;
  /** Drops every frame queued for playout (barge-in). */
  clear(): void;
}

/** A socket whose peer may already be gone: its close handler ends the session, so a failed send is dropped. */
function trySend(socket: WebSocket, message: string | ArrayBuffer): void {
  try {
    socket.send(message);
  } catch {
    // The peer's socket is gone.
  }
}

/** Twilio Media Streams: JSON messages carrying the stream's sid (realtime.md §1.7). */
export function twilioLink(socket: WebSocket, streamSid: string | null): MediaLink {
  const send = (message: Record<string, unknown>) => trySend(socket, JSON.stringify({ ...message, streamSid }));
  return {
    sendAudio: (frame) => send({ event: "media", media: { payload: toBase64(frame) } }),
    sendMark: (name) => send({ event: "mark", mark: { name } }),
    clear: () => send({ event: "clear" }),
  };
}

/**
 * Telnyx bidirectional RTP streaming (`stream_bidirectional_mode: "rtp"`, PCMU): the same JSON
 * words without a stream id (realtime.md §2). Each `media` payload is one 20 ms frame, the
 * shortest chunk Telnyx takes (20 ms to 30 s). Telnyx echoes a `mark` once the audio before it
 * has played (at once when nothing is queued) and, on `clear`, sends every queued mark back, as
 * Twilio does; so the loop's played-audio bookkeeping needs no Telnyx-specific estimate.
 */
export function telnyxLink(socket: WebSocket): MediaLink {
  const send = (message: Record<string, unknown>) => trySend(socket, JSON.stringify(message));
  return {
    sendAudio: (frame) => send({ event: "media", media: { payload: toBase64(frame) } }),
    sendMark: (name) => send({ event: "mark", mark: { name } }),
    clear: () => send({ event: "clear" }),
  };
}

/**
 * A browser call's socket (src/voice/web-protocol.ts): agent audio as binary PCM16 little-endian
 * at 16 kHz, marks and clears as JSON. Each 160-byte μ-law frame becomes 320 samples (640 bytes);
 * the resampler keeps its state across frames so the joins stay smooth, and starts afresh after a
 * `clear` (the audio it still held was dropped with the rest).
 */
export function webLink(socket: WebSocket): MediaLink {
  const upsampler = new Resampler(8000, WEB_SAMPLE_RATE);
  return {
    sendAudio: (frame) => {
      const bytes = pcm16ToBytesLE(upsampler.push(decodeMulaw(frame)));
      trySend(socket, bytes.buffer as ArrayBuffer);
    },
    sendMark: (name) => trySend(socket, JSON.stringify({ type: "mark", name })),
    clear: () => {
      upsampler.flush();
      trySend(socket, JSON.stringify({ type: "clear" }));
    },
  };
}
