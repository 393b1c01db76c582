import { describe, expect, it } from "vitest";
import { FRAME_BYTES, fromBase64, mulawTone, toBase64 } from "../fakes/audio";
import type { MarkMode } from "../fakes/media-client";
import { TelnyxMediaClient } from "../fakes/telnyx-media-client";

/**
 * The Telnyx media client against a bare socket of our own (a WebSocketPair handed back by a
 * stand-in fetcher): what it sends is Telnyx's frames, what it holds against the server is what
 * Telnyx would not take, and it plays and echoes marks as Telnyx does.
 */
async function pair(marks: MarkMode = "immediate") {
  const sockets = new WebSocketPair();
  const server = sockets[1];
  server.accept();
  const seen: any[] = [];
  server.addEventListener("message", (event) => seen.push(typeof event.data === "string" ? JSON.parse(event.data) : event.data));
  const telnyx = await TelnyxMediaClient.connect({
    url: "wss://truedy.test/telephony/telnyx/media/call_1",
    fetcher: { fetch: async () => new Response(null, { status: 101, webSocket: sockets[0] }) },
    callControlId: "v3:abc",
    marks,
  });
  const settle = () => new Promise((resolve) => setTimeout(resolve, 10));
  const arrived = async (n: number) => {
    for (let i = 0; i < 300 && seen.length < n; i++) await settle();
    expect(seen.length).toBeGreaterThanOrEqual(n);
  };
  return { telnyx, server, seen, arrived, settle };
}

describe("Telnyx media client", () => {
  it("sends Telnyx's frames: connected, start with PCMU 8000 mono, numbered 20 ms media, dtmf, error, stop", async () => {
    const { telnyx, seen, arrived } = await pair();
    telnyx.begin();
    await telnyx.speak(60);
    await telnyx.sendAudio(mulawTone(80), { order: () => [1, 0, 3, 2] });
    telnyx.dtmf("#");
    telnyx.streamError();
    telnyx.stop();
    await arrived(12);
    expect(seen.map((m) => m.event)).toEqual(["connected", "start", ...Array(7).fill("media"), "dtmf", "error", "stop"]);
    expect(seen[0]).toEqual({ event: "connected", version: "1.0.0" });
    expect(seen[1]).toMatchObject({
      event: "start",
      sequence_number: "1",
      stream_id: telnyx.streamId,
      start: { call_control_id: "v3:abc", media_format: { encoding: "PCMU", sample_rate: 8000, channels: 1 } },
    });
    expect(seen[1]).not.toHaveProperty("streamSid");
    const media = seen.filter((m) => m.event === "media");
    expect(media.map((m) => [m.sequence_number, m.media.chunk, m.media.timestamp])).toEqual([
      ["2", "1", "0"],
      ["3", "2", "20"],
      ["4", "3", "40"],
      ["6", "5", "80"],
      ["5", "4", "60"],
      ["8", "7", "120"],
      ["7", "6", "100"],
    ]);
    expect(media.every((m) => m.media.track === "inbound" && m.stream_id === telnyx.streamId && fromBase64(m.media.payload).length === FRAME_BYTES)).toBe(true);
    expect(seen[9]).toMatchObject({ event: "dtmf", sequence_number: "9", dtmf: { digit: "#" } });
    expect(seen[10]).toMatchObject({ event: "error", error: { code: "100003", title: "malformed_frame" } });
    expect(seen[11]).toMatchObject({ event: "stop", sequence_number: "11", stop: { call_control_id: "v3:abc" } });
    telnyx.close();
  });

  it("lists what Telnyx would not take: Twilio's streamSid, a stream id, stray fields, bad base64, chunks under 20 ms, binary, unknown events, anything before start", async () => {
    const { telnyx, server } = await pair();
    const frame = toBase64(mulawTone(20));
    server.send(JSON.stringify({ event: "media", media: { payload: frame } })); // before start
    await telnyx.until(() => telnyx.errors.length === 1 || undefined, "the early frame");
    telnyx.begin();
    const sends = [
      { event: "media", streamSid: "MZ1", media: { payload: frame } },
      { event: "clear", stream_id: telnyx.streamId },
      { event: "mark", mark: { name: "m", extra: 1 } },
      { event: "media", media: { payload: "@@not base64" } },
      { event: "media", media: { payload: toBase64(mulawTone(10)) } },
      { event: "play", media: { payload: frame } },
    ];
    for (const message of sends) server.send(JSON.stringify(message));
    server.send(new Uint8Array([1, 2, 3]));
    await telnyx.until(() => telnyx.errors.length >= 8 || undefined, "every error");
    expect(telnyx.errors).toEqual([
      "media: sent before the stream's start",
      "media: unexpected field streamSid",
      "clear: unexpected field stream_id",
      "mark: unexpected field mark.extra",
      "media: payload is not base64",
      "media: 10 ms of audio (Telnyx takes 20 ms to 30 s a message)",
      'unknown event "play"',
      "binary message (Telnyx takes JSON text frames)",
    ]);
    telnyx.close();
  });

  it("plays like Telnyx: a mark comes back once the audio before it has played, at once when nothing is queued; clear drops the audio and sends queued marks back", async () => {
    const { telnyx, server, seen, arrived } = await pair("manual");
    telnyx.begin();
    await arrived(2);
    const tone = toBase64(mulawTone(100));
    for (const message of [
      { event: "media", media: { payload: tone } },
      { event: "mark", mark: { name: "m1" } },
      { event: "media", media: { payload: tone } },
      { event: "mark", mark: { name: "m2" } },
    ])
      server.send(JSON.stringify(message));
    await telnyx.waitFor((m) => m.mark?.name === "m2");
    expect(telnyx.play(60)).toBe(60);
    expect(telnyx.echoedMarks).toEqual([]);
    expect(telnyx.play(40)).toBe(40);
    expect(telnyx.echoedMarks).toEqual(["m1"]);
    server.send(JSON.stringify({ event: "clear" }));
    await telnyx.waitForEvent("clear");
    expect(telnyx.echoedMarks).toEqual(["m1", "m2"]);
    expect(telnyx.clearedMs).toBe(100);
    server.send(JSON.stringify({ event: "mark", mark: { name: "m3" } }));
    await telnyx.waitFor((m) => m.mark?.name === "m3");
    expect(telnyx.echoedMarks).toEqual(["m1", "m2", "m3"]);
    await arrived(5);
    expect(seen.slice(2).map((m) => [m.event, m.mark.name, m.stream_id === telnyx.streamId, m.sequence_number])).toEqual([
      ["mark", "m1", true, "2"],
      ["mark", "m2", true, "3"],
      ["mark", "m3", true, "4"],
    ]);
    expect(telnyx.errors).toEqual([]);
    telnyx.close();
  });
});
