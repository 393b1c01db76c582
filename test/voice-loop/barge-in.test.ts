import { describe, expect, it } from "vitest";
import { manualClockPerTest } from "../helpers/clock";
import { answeredCall, askAfterGreeting, control, eventually, recorded, transcriptOf } from "./helpers";

const START = Date.UTC(2030, 1, 5, 15, 0, 0);
const clock = manualClockPerTest(START);

const FIRST = "Our restaurant opens at noon every day.";
const SECOND = "We have a lovely terrace.";
const REPLY = `${FIRST} ${SECOND} The kitchen serves seasonal dishes from local farms. Reservations are recommended on weekends.`;

describe("voice loop: barge-in", () => {
  it("stops the agent mid-sentence when the caller speaks: clear, LLM and TTS aborted, only what was heard kept", async () => {
    const { callId, marker } = await answeredCall(clock, { greeting: "Hello {{first_name}}." });
    await control("/__fakes/deepgram/script", { tag: callId, lines: ["What are your opening hours", "wait a moment please"] });
    // A slow LLM and a slow second clause: both are still streaming when the caller cuts in.
    await control("/__fakes/openai/script", { match: marker, replies: [{ content: REPLY, delay_ms_per_chunk: 20 }, { content: "Sure, take your time." }] });
    await control("/__fakes/elevenlabs/tts", { match: "lovely terrace", chunk_delay_ms: 60 });
    const twilio = await askAfterGreeting(callId);
    const firstReplyMark = await twilio.waitFor((m) => m.event === "mark" && m.mark?.name !== twilio.marks[0], { what: "the reply's first mark" });
    twilio.play(); // the caller hears the first sentence, and its mark goes back
    expect(twilio.echoedMarks).toContain(firstReplyMark.mark!.name);
    // The second sentence's audio is streaming in (slowly) while the LLM still writes the rest.
    await eventually(() => recorded("elevenlabs", { contains: "lovely terrace" }), (r) => r.length === 1, "the second sentence's TTS request");
    const cleared = twilio.received.length;

    await twilio.speak(600); // "wait…": an interrupt word in the interim results
    await twilio.waitForEvent("clear", { from: cleared });
    await twilio.silence(700);

    // The caller's second turn is answered; play it so it settles.
    await twilio.waitForUnplayedMark({ from: cleared, what: "the second reply's mark" });
    twilio.play();
    const turns = await transcriptOf(callId, 5);
    expect(turns.map((t) => [t.speaker, t.interrupted])).toEqual([
      ["agent", false],
      ["contact", false],
      ["agent", true],
      ["contact", false],
      ["agent", false],
    ]);
    const cut = turns[2];
    expect(cut.text.startsWith(FIRST)).toBe(true);
    expect(REPLY.startsWith(cut.text)).toBe(true);
    expect(cut.text.length).toBeLessThan(REPLY.length);
    expect(turns[3].text).toBe("wait a moment please");
    expect(turns[4].text).toBe("Sure, take your time.");
    expect(twilio.errors).toEqual([]);

    // The cut-off LLM stream and the TTS stream of the clause in progress were aborted.
    const chats = await eventually(
      async () => (await recorded("openai", { contains: marker })).filter((r) => r.path === "/v1/chat/completions"),
      (r) => r.length === 2 && r[0].stream?.aborted === true,
      "the first chat stream to be aborted",
    );
    expect(chats[0].stream.done).toBe(false);
    const terrace = await eventually(
      () => recorded("elevenlabs", { contains: "lovely terrace" }),
      (r) => r.length === 1 && r[0].stream?.aborted === true,
      "the second clause's TTS stream to be aborted",
    );
    expect(terrace[0].stream.done).toBe(false);
    // History keeps what the caller heard, so the LLM knows where it was cut off.
    const history = JSON.parse(chats[1].body).messages.slice(1);
    expect(history).toEqual([
      { role: "assistant", content: "Hello Ana." },
      { role: "user", content: "What are your opening hours" },
      { role: "assistant", content: cut.text },
      { role: "user", content: "wait a moment please" },
    ]);
    twilio.stop();
    twilio.close();
  });

  it("does not stop for a backchannel: the agent keeps talking and the filler is only kept in the transcript", async () => {
    const { callId, marker } = await answeredCall(clock, { greeting: "Hello {{first_name}}." });
    await control("/__fakes/deepgram/script", { tag: callId, lines: ["Tell me about the menu", "mm-hmm"] });
    await control("/__fakes/openai/script", { match: marker, replies: [{ content: "We cook with seasonal produce. Every dish is made to order." }] });
    const twilio = await askAfterGreeting(callId);
    // The whole reply has gone out, waiting to play; the caller murmurs along (300 ms: short of the VAD's 400).
    await twilio.waitFor((m) => m.event === "mark" && m.mark?.name?.endsWith("-c1") === true, { what: "the reply's last mark" });
    await twilio.silence(200);
    await twilio.speak(300);
    await twilio.silence(700);
    await transcriptOf(callId, 3);
    twilio.play();
    const turns = await transcriptOf(callId, 4);
    expect(twilio.clears).toBe(0);
    expect(turns.map((t) => [t.speaker, t.text, t.interrupted])).toEqual([
      ["agent", "Hello Ana.", false],
      ["contact", "Tell me about the menu", false],
      ["agent", "We cook with seasonal produce. Every dish is made to order.", false],
      ["contact", "mm-hmm", false],
    ]);
    // Only one reply: the filler was not answered.
    expect((await recorded("openai", { contains: marker })).filter((r) => r.path === "/v1/chat/completions")).toHaveLength(1);
    twilio.stop();
    twilio.close();
  });

  it("does not talk over a caller who starts speaking in a pause between clauses: the next clause waits until they stop, with no clear", async () => {
    // Only a long speech interrupts this agent: the murmur below is heard out, not acted on.
    const { callId, marker } = await answeredCall(clock, { greeting: "Hello {{first_name}}.", interruption: { enabled: true, min_words: 10, min_speech_ms: 5000 } });
    await control("/__fakes/deepgram/script", { tag: callId, lines: ["Tell me about the terrace", "mm-hmm"] });
    await control("/__fakes/openai/script", { match: marker, replies: [{ content: "It faces the harbour. It seats forty guests." }] });
    // A slow second clause: the line goes quiet after the first, and the caller murmurs into the pause.
    await control("/__fakes/elevenlabs/tts", { match: "seats forty", first_byte_delay_ms: 1200 });
    const twilio = await askAfterGreeting(callId);
    const first = await twilio.waitFor((m) => m.event === "mark" && m.mark?.name?.endsWith("-c0") === true && m.mark.name !== twilio.marks[0], { what: "the reply's first mark" });
    twilio.play(); // the first sentence has played: nothing is queued at Twilio
    const firstMarkAt = twilio.received.findIndex((r) => r.message === first);

    // The caller's line while the first sentence played; then, in real time, 1.6 s of "mm-hmm"
    // while the second clause's audio comes in.
    await twilio.silence(500);
    await twilio.speak(1600, { paceMs: 20 });
    const stoppedSpeakingAt = Date.now();
    await twilio.silence(1000, { paceMs: 20 });

    const second = await twilio.waitFor((m) => m.event === "mark" && m.mark?.name?.endsWith("-c1") === true, { what: "the second clause's mark", timeoutMs: 10_000 });
    const secondAudio = twilio.received.slice(firstMarkAt + 1).filter((r) => r.message.event === "media");
    expect(secondAudio.length).toBeGreaterThan(0);
    // Held while the caller spoke, sent once they had stopped.
    expect(secondAudio[0].at).toBeGreaterThanOrEqual(stoppedSpeakingAt);
    twilio.play();
    expect(twilio.echoedMarks).toContain(second.mark!.name);
    const turns = await transcriptOf(callId, 4);
    expect(turns.map((t) => [t.speaker, t.text, t.interrupted])).toEqual([
      ["agent", "Hello Ana.", false],
      ["contact", "Tell me about the terrace", false],
      ["agent", "It faces the harbour. It seats forty guests.", false],
      ["contact", "mm-hmm", false],
    ]);
    expect(twilio.clears).toBe(0);
    expect(twilio.errors).toEqual([]);
    twilio.stop();
    twilio.close();
  });
});
