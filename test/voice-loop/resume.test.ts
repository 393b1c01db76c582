import { describe, expect, it } from "vitest";
import { manualClockPerTest } from "../helpers/clock";
import { FAKE_DEEPGRAM_API_KEY } from "../fakes/keys";
import { DeepgramLive } from "../../src/voice/providers/deepgram-live";
import { FAKES, answeredCall, callStub, connectMedia, control, eventually, recorded, transcriptOf, uniqueTag } from "./helpers";

const START = Date.UTC(2030, 1, 9, 15, 0, 0);
const clock = manualClockPerTest(START);

const connections = (tag: string) => control<any[]>(`/__fakes/deepgram/connections?tag=${tag}`);

describe("voice loop: the media stream reconnects", () => {
  it("resumes the conversation on a new stream without greeting again (a deploy drops every socket)", async () => {
    const { callId, marker } = await answeredCall(clock);
    await control("/__fakes/deepgram/script", { tag: callId, lines: ["Sorry the line dropped"] });
    await control("/__fakes/openai/script", { match: marker, replies: [{ content: "No problem, I am still here." }] });
    const first = await connectMedia(callId);
    await transcriptOf(callId, 1);
    first.close(1001, "going away");
    await eventually(async () => (await callStub(callId).mediaSession())?.voice, (v) => v === null, "the first stream's loop to stop");

    clock.advance(5000);
    const second = await connectMedia(callId);
    await second.speak(800);
    await second.silence(600);
    const turns = await transcriptOf(callId, 3);
    expect(turns.map((t) => [t.speaker, t.text, t.start_ms])).toEqual([
      ["agent", "Hello Ana, this is Maya.", 0],
      // The new stream began 5 s after the answer.
      ["contact", "Sorry the line dropped", 5000],
      ["agent", "No problem, I am still here.", turns[2].start_ms],
    ]);
    expect(second.marks).toHaveLength(1); // the answer only: no second greeting
    const chat = (await recorded("openai", { contains: marker })).filter((r) => r.path === "/v1/chat/completions");
    expect(JSON.parse(chat[0].body).messages.slice(1)).toEqual([
      { role: "assistant", content: "Hello Ana, this is Maya." },
      { role: "user", content: "Sorry the line dropped" },
    ]);
    const listens = await connections(callId);
    expect(listens).toHaveLength(2);
    expect(listens[0].text_in).toContain('{"type":"CloseStream"}');
    second.stop();
    second.close();
  });
});

describe("Deepgram live client", () => {
  it("sends KeepAlive while no audio goes out, and CloseStream when closed", async () => {
    const tag = uniqueTag("dg-keepalive");
    const failures: unknown[] = [];
    const live = new DeepgramLive({
      baseUrl: FAKES,
      apiKey: FAKE_DEEPGRAM_API_KEY,
      params: { model: "nova-3", encoding: "mulaw", sample_rate: "8000", channels: "1", tag },
      onMessage: () => {},
      onFailure: (error) => failures.push(error),
      keepAliveMs: 40,
    });
    live.send(new Uint8Array(160).fill(0xff)); // before the socket exists: buffered, then sent
    live.start();
    const [open] = await eventually(() => connections(tag), (c) => (c[0]?.text_in.length ?? 0) >= 2, "two KeepAlives");
    expect(open.audio_bytes).toBe(160);
    expect(open.text_in.slice(0, 2)).toEqual(['{"type":"KeepAlive"}', '{"type":"KeepAlive"}']);
    live.close();
    const [closed] = await eventually(() => connections(tag), (c) => c[0]?.closed_at !== undefined, "the socket to close");
    expect(closed.text_in.at(-1)).toBe('{"type":"CloseStream"}');
    expect(failures).toEqual([]);
  });
});
