/**
 * The wire protocol of browser calls (POST /calls/web), on the socket at `websocket_url`:
 *
 * browser → server
 *   binary   PCM16 little-endian, mono, 16 kHz, any whole number of samples up to 1 s per message
 *            (20 ms = 640 bytes is typical); an odd length or more than 1 s is refused with an
 *            `error` message and dropped
 *   text     {"type":"mark","name":"…"}  echo of a server mark, once the audio before it played
 *            {"type":"dtmf","digit":"…"}  a keypad key: 0-9, *, #, A-D (the caller's keypad, as on a phone)
 *            {"type":"hangup"}            the user hung up (the call ends `hangup_by_contact`)
 * server → browser
 *   text     {"type":"ready","call_id":"…","sample_rate":16000}  on connect
 *   binary   agent audio, PCM16 little-endian mono 16 kHz
 *   text     {"type":"mark","name":"…"}   echo it once everything received before it has played
 *            {"type":"clear"}             drop all audio queued for playout (the user barged in)
 *            {"type":"error","code":"…","message":"…"}  a message was refused; the call goes on
 *            {"type":"ended","end_reason":"…"}  the call is over; the server then closes the socket
 * Closing the socket ends the call like a hangup.
 */
import { z } from "zod";
import { KEYPAD_KEY } from "./session-rules";

export const WEB_SAMPLE_RATE = 16_000;
/** One second of PCM16 at 16 kHz: the most audio one browser message may carry. */
export const MAX_WEB_AUDIO_BYTES = WEB_SAMPLE_RATE * 2;

export const WebClientMessage = z.discriminatedUnion("type", [
  z.object({ type: z.literal("mark"), name: z.string().min(1).max(200) }),
  z.object({ type: z.literal("dtmf"), digit: z.string().regex(KEYPAD_KEY) }),
  z.object({ type: z.literal("hangup") }),
]);
export type WebClientMessage = z.infer<typeof WebClientMessage>;

export type WebProtocolError = { code: "invalid_audio" | "audio_too_long" | "invalid_message"; message: string };

/** Why a binary message from the browser cannot be audio, or null when it can. */
export function webAudioProblem(byteLength: number): WebProtocolError | null {
  if (byteLength % 2 !== 0) return { code: "invalid_audio", message: `Audio must be whole 16-bit samples; got ${byteLength} bytes` };
  if (byteLength > MAX_WEB_AUDIO_BYTES) return { code: "audio_too_long", message: `At most 1 s of audio (${MAX_WEB_AUDIO_BYTES} bytes) per message; got ${byteLength} bytes` };
  return null;
}

/** A text message from the browser, parsed and checked, or the error to send back. */
export function parseWebClientMessage(text: string): { ok: true; message: WebClientMessage } | { ok: false; error: WebProtocolError } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, error: { code: "invalid_message", message: "Text messages must be JSON" } };
  }
  const parsed = WebClientMessage.safeParse(json);
  if (!parsed.success) {
    return { ok: false, error: { code: "invalid_message", message: 'Expected {"type":"mark","name":"…"}, {"type":"dtmf","digit":"0-9, *, #, A-D"} or {"type":"hangup"}' } };
  }
  return { ok: true, message: parsed.data };
}
