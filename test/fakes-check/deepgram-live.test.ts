import { describe, expect, it } from "vitest";
import { concatBytes, silenceAudio, speechAudio } from "../fakes/audio";
import { FAKE_DEEPGRAM_API_KEY } from "../fakes/keys";
import { FAKES, SocketLog, control, recorded, sleep, uniqueTag } from "./helpers";

/** Deepgram's live transcription socket, opened the way the worker opens it (fetch + Upgrade). */
function listen(tag: string, params: Record<string, string> = {}, key = FAKE_DEEPGRAM_API_KEY) {
  const query = new URLSearchParams({
    model: "nova-3",
    encoding: "mulaw",
    sample_rate: "8000",
    channels: "1",
    interim_results: "true",
    endpointing: "100",
    utterance_end_ms: "1000",
    vad_events: "true",
    smart_format: "true",
    tag,
    ...params,
  });
  return fetch(`${FAKES}/v1/listen?${query}`, { headers: { Upgrade: "websocket", Authorization: `Token ${key}` } });
}

async function open(tag: string, params: Record<string, string> = {}) {
  const res = await listen(tag, params);
  expect(res.status).toBe(101);
  const ws = res.webSocket!;
  ws.accept();
  return { ws, log: new SocketLog(ws) };
}

/** Sends audio as binary messages of 100 ms (5 frames), as a client batching Twilio frames would. */
function sendAudio(ws: WebSocket, audio: Uint8Array) {
  for (let at = 0; at < audio.length; at += 800) ws.send(audio.slice(at, at + 800));
}

describe("fake Deepgram live transcription", () => {
  it("refuses a bad key with 401 before upgrading, and parameters it cannot honour with 400", async () => {
    const tag = uniqueTag("dg-auth");
    const bad = await listen(tag, {}, "wrong-key");
    expect(bad.status).toBe(401);
    expect(bad.webSocket).toBeNull();
    expect(await bad.json()).toMatchObject({ err_code: "INVALID_AUTH" });

    const noInterim = await listen(tag, { interim_results: "false" });
    expect(noInterim.status).toBe(400);
    expect((await noInterim.json<any>()).err_msg).toContain("utterance_end_ms requires interim_results=true");
    const linear = await listen(tag, { encoding: "linear16" });
    expect(linear.status).toBe(400);
    await linear.body?.cancel();

    const seen = await recorded("deepgram", { tag });
    expect(seen.map((r) => r.status)).toEqual([401, 400, 400]);
    expect(seen[0].query).toMatchObject({ encoding: "mulaw", sample_rate: "8000", interim_results: "true", endpointing: "100", utterance_end_ms: "1000" });
  });

  it("turns speech then silence into SpeechStarted, interim results, a speech_final result with the scripted line, then UtteranceEnd", async () => {
    const tag = uniqueTag("dg-turn");
    await control("/__fakes/deepgram/script", { tag, lines: ["Hello there, how are you?", "book me for tuesday"] });
    const { ws, log } = await open(tag);

    // 200 ms silence, 800 ms speech, 1.2 s silence: speech runs from 0.2 s to 1.0 s of stream time.
    sendAudio(ws, concatBytes([silenceAudio(200), speechAudio(800), silenceAudio(1200)]));
    await log.waitFor((m) => m.type === "UtteranceEnd", "UtteranceEnd");

    const types = log.messages.map((m) => (m.type === "Results" ? (m.is_final ? "final" : "interim") : m.type));
    expect(types[0]).toBe("SpeechStarted");
    expect(types.indexOf("final")).toBeGreaterThan(types.lastIndexOf("interim"));
    expect(types.at(-1)).toBe("UtteranceEnd");
    expect(log.messages[0]).toEqual({ type: "SpeechStarted", channel: [0, 1], timestamp: 0.2 });

    const interims = log.messages.filter((m) => m.type === "Results" && !m.is_final);
    expect(interims.length).toBeGreaterThanOrEqual(3);
    const words = ["Hello", "there,", "how", "are", "you?"];
    for (const interim of interims) {
      const transcript: string = interim.channel.alternatives[0].transcript;
      expect(words.join(" ").startsWith(transcript)).toBe(true);
      expect(interim.speech_final).toBe(false);
    }
    expect(interims[0].channel.alternatives[0].transcript).toBe("Hello");
    expect(interims.at(-1).channel.alternatives[0].words.length).toBeGreaterThan(interims[0].channel.alternatives[0].words.length);

    const final = log.messages.find((m) => m.type === "Results" && m.is_final);
    expect(final).toMatchObject({ type: "Results", channel_index: [0, 1], is_final: true, speech_final: true, from_finalize: false, start: 0 });
    // Endpointing fires after 100 ms of silence: at 1.1 s.
    expect(final.duration).toBeCloseTo(1.1, 3);
    const alternative = final.channel.alternatives[0];
    expect(alternative.transcript).toBe("Hello there, how are you?");
    expect(alternative.words.map((w: any) => w.punctuated_word)).toEqual(words);
    expect(alternative.words.map((w: any) => w.word)).toEqual(["hello", "there", "how", "are", "you"]);
    expect(alternative.words[0].start).toBeCloseTo(0.2, 3);
    expect(alternative.words.at(-1).end).toBeCloseTo(1.0, 3);
    for (let i = 1; i < alternative.words.length; i++) expect(alternative.words[i].start).toBeGreaterThanOrEqual(alternative.words[i - 1].end);
    expect(final.metadata).toMatchObject({ model_info: { arch: "nova-3" } });

    // UtteranceEnd comes once 1000 ms of audio followed the last word.
    expect(log.messages.at(-1)).toEqual({ type: "UtteranceEnd", channel: [0, 1], last_word_end: 1 });

    // The next utterance takes the next line; its times continue the stream.
    sendAudio(ws, concatBytes([speechAudio(400), silenceAudio(200)]));
    const second = await log.waitFor((m) => m.type === "Results" && m.is_final && m.channel.alternatives[0].transcript === "book me for tuesday", "the second final");
    expect(second.speech_final).toBe(true);
    expect(second.channel.alternatives[0].words[0].start).toBeCloseTo(2.2, 3);
    expect(second.start).toBeCloseTo(1.1, 3);

    ws.send(JSON.stringify({ type: "CloseStream" }));
    const closed = await log.waitForClose();
    expect(closed.code).toBe(1000);
    expect(log.messages.at(-1)).toMatchObject({ type: "Metadata", channels: 1, duration: 2.8 });

    const [connection] = await control(`/__fakes/deepgram/connections?tag=${tag}`);
    expect(connection).toMatchObject({ audio_ms: 2800, closed_by: "server", close_code: 1000, text_in: ['{"type":"CloseStream"}'] });
    const [request] = await recorded("deepgram", { tag });
    expect(request).toMatchObject({ status: 101, headers: { authorization: `Token ${FAKE_DEEPGRAM_API_KEY}` } });
    expect(request.websocket).toMatchObject({ binary_in: 28, text_in: 1 });
  });

  it("Finalize flushes the pending utterance with from_finalize, and an empty final when nothing is pending", async () => {
    const tag = uniqueTag("dg-finalize");
    await control("/__fakes/deepgram/script", { tag, lines: ["yes please"] });
    const { ws, log } = await open(tag, { endpointing: "500" });
    sendAudio(ws, speechAudio(300));
    ws.send(JSON.stringify({ type: "Finalize" }));
    const flushed = await log.waitFor((m) => m.type === "Results" && m.is_final, "the finalized result");
    expect(flushed).toMatchObject({ from_finalize: true, speech_final: false, channel: { alternatives: [{ transcript: "yes please" }] } });

    ws.send(JSON.stringify({ type: "Finalize" }));
    const empty = await log.waitFor((m) => m.type === "Results" && m.is_final && m !== flushed, "the empty final");
    expect(empty).toMatchObject({ from_finalize: true, channel: { alternatives: [{ transcript: "", words: [] }] } });

    // Lines used up: utterances read the fallback.
    sendAudio(ws, concatBytes([speechAudio(200), silenceAudio(600)]));
    const fallback = await log.waitFor((m) => m.type === "Results" && m.speech_final, "the fallback final");
    expect(fallback.channel.alternatives[0].transcript).toBe("hello");
    ws.close(1000);
  });

  it("closes 1011 with NET-0001 after the idle timeout, unless KeepAlive messages arrive", async () => {
    const tag = uniqueTag("dg-idle");
    await control("/__fakes/deepgram/script", { tag, lines: [], idle_timeout_ms: 300 });
    const { ws, log } = await open(tag);
    for (let i = 0; i < 6; i++) {
      ws.send(JSON.stringify({ type: "KeepAlive" }));
      await sleep(100);
    }
    expect(log.closed).toBeUndefined();
    const started = Date.now();
    const closed = await log.waitForClose(2000);
    expect(closed.code).toBe(1011);
    expect(closed.reason).toContain("NET-0001");
    expect(Date.now() - started).toBeLessThan(1000);
    const [connection] = await control(`/__fakes/deepgram/connections?tag=${tag}`);
    expect(connection.text_in).toHaveLength(6);
    expect(connection.close_code).toBe(1011);
  });

  it("fails the next upgrade on demand, and drops an open socket abruptly", async () => {
    const tag = uniqueTag("dg-fail");
    await control("/__fakes/deepgram/fail", { tag, status: 500 });
    const failed = await listen(tag);
    expect(failed.status).toBe(500);
    expect(failed.webSocket).toBeNull();
    await failed.body?.cancel();

    const { log } = await open(tag);
    expect(await control("/__fakes/deepgram/drop", { tag })).toEqual({ dropped: 1 });
    const closed = await log.waitForClose();
    expect(closed.code).toBe(1006);
    const connections = await control(`/__fakes/deepgram/connections?tag=${tag}`);
    expect(connections).toHaveLength(1);
    expect(connections[0].closed_by).toBe("drop");
  });
});
