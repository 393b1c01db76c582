import { describe, expect, it } from "vitest";
import { FRAME_BYTES, SPEECH_RMS_THRESHOLD, fromBase64, mulawRms, mulawTone, toBase64 } from "../fakes/audio";
import { MediaConnectError, TwilioMediaClient } from "../fakes/media-client";
import { FAKES, control, uniqueTag } from "./helpers";

/** What the media sink (test/fakes/media-sink.ts) saw of the client. */
const session = (tag: string) => control<{ open: boolean; messages: any[]; errors: string[]; close_code?: number }>(`/__fakes/media-sink/session?tag=${tag}`);

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const media = (streamSid: string, bytes: Uint8Array) => ({ event: "media", streamSid, media: { payload: toBase64(bytes) } });
const mark = (streamSid: string, name: string) => ({ event: "mark", streamSid, mark: { name } });

describe("Twilio Media Streams client", () => {
  it("speaks Twilio's side on the wire: connected, start, 20 ms media frames, dtmf, stop", async () => {
    const tag = uniqueTag("sink");
    const twilio = await TwilioMediaClient.connect({ url: `${FAKES}/media-sink/${tag}`, customParameters: { callId: "call_123" } });
    twilio.begin();
    await twilio.speak(100);
    await twilio.silence(60);
    twilio.dtmf("5");
    twilio.stop();
    const seen = await until(() => session(tag), (s) => s.messages.length === 12);
    expect(seen.errors).toEqual([]);
    expect(seen.messages.map((m) => m.event)).toEqual(["connected", "start", ...Array(8).fill("media"), "dtmf", "stop"]);
    expect(seen.messages[1]).toMatchObject({
      sequenceNumber: "1",
      streamSid: twilio.streamSid,
      start: { callSid: twilio.callSid, customParameters: { callId: "call_123" }, mediaFormat: { encoding: "audio/x-mulaw", sampleRate: 8000, channels: 1 } },
    });
    const frames = seen.messages.filter((m) => m.event === "media");
    expect(frames.map((m) => m.media.timestamp)).toEqual(["0", "20", "40", "60", "80", "100", "120", "140"]);
    const payloads = frames.map((m) => fromBase64(m.media.payload));
    expect(payloads.every((p) => p.length === FRAME_BYTES)).toBe(true);
    expect(payloads.slice(0, 5).every((p) => mulawRms(p) > SPEECH_RMS_THRESHOLD)).toBe(true);
    expect(payloads.slice(5).every((p) => mulawRms(p) === 0)).toBe(true);
    expect(twilio.sentMs).toBe(160);
    twilio.close();
  });

  it("plays what the server sends like Twilio: marks echo after their audio has played, clear drops the rest and echoes pending marks", async () => {
    const tag = uniqueTag("sink");
    const twilio = await TwilioMediaClient.connect({ url: `${FAKES}/media-sink/${tag}`, marks: "manual" });
    twilio.begin();
    const sid = twilio.streamSid;
    const tone = mulawTone(100, { freqs: [440] });
    await control("/__fakes/media-sink/send", { tag, messages: [media(sid, tone), mark(sid, "m1"), media(sid, tone), mark(sid, "m2")] });
    await twilio.waitFor((m) => m.event === "mark" && m.mark?.name === "m2");
    expect(twilio.audioMs).toBe(200);
    expect(twilio.echoedMarks).toEqual([]);

    expect(twilio.play(60)).toBe(60);
    expect(twilio.echoedMarks).toEqual([]);
    twilio.play(40);
    expect(twilio.echoedMarks).toEqual(["m1"]);
    expect(twilio.playedMs).toBe(100);

    await control("/__fakes/media-sink/send", { tag, messages: [{ event: "clear", streamSid: sid }] });
    await twilio.waitForEvent("clear");
    expect(twilio.echoedMarks).toEqual(["m1", "m2"]);
    expect(twilio.clearedMs).toBe(100);
    expect(twilio.queuedMs).toBe(0);

    const seen = await until(() => session(tag), (s) => s.messages.length === 4);
    expect(seen.errors).toEqual([]);
    expect(seen.messages.slice(2)).toEqual([
      { event: "mark", sequenceNumber: "2", streamSid: sid, mark: { name: "m1" } },
      { event: "mark", sequenceNumber: "3", streamSid: sid, mark: { name: "m2" } },
    ]);

    // A message for another stream is something Twilio would reject.
    await control("/__fakes/media-sink/send", { tag, messages: [media("MZwrong", tone)] });
    await twilio.waitFor((m) => m.streamSid === "MZwrong");
    expect(twilio.errors).toEqual([expect.stringContaining("streamSid")]);

    await control("/__fakes/media-sink/close", { tag, code: 1000 });
    expect((await twilio.waitForClose()).code).toBe(1000);
  });

  it("echoes marks at once by default or at phone speed, and reports a refused handshake", async () => {
    const tag = uniqueTag("sink");
    const twilio = await TwilioMediaClient.connect({ url: `${FAKES}/media-sink/${tag}` });
    twilio.begin();
    await control("/__fakes/media-sink/send", { tag, messages: [media(twilio.streamSid, mulawTone(40)), mark(twilio.streamSid, "t1-s1")] });
    await twilio.until(() => twilio.echoedMarks.length === 1, "the echo");
    expect(twilio.echoedMarks).toEqual(["t1-s1"]);
    expect(twilio.playedMs).toBe(40);
    twilio.close();

    // "realtime": the mark comes back once its audio has played at phone speed.
    const liveTag = uniqueTag("sink");
    const live = await TwilioMediaClient.connect({ url: `${FAKES}/media-sink/${liveTag}`, marks: "realtime" });
    live.begin();
    const sent = Date.now();
    await control("/__fakes/media-sink/send", { tag: liveTag, messages: [media(live.streamSid, mulawTone(200)), mark(live.streamSid, "rt")] });
    await live.until(() => live.echoedMarks.length === 1, "the realtime echo", 2000);
    expect(Date.now() - sent).toBeGreaterThanOrEqual(190);
    expect(live.playedMs).toBe(200);
    live.close();

    const refused = await TwilioMediaClient.connect({ url: `${FAKES}/not-a-socket` }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(MediaConnectError);
    expect((refused as MediaConnectError).status).toBe(404);
  });
});
