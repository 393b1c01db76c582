import { describe, expect, it } from "vitest";
import { manualClockPerTest } from "../helpers/clock";
import { answeredCall, askAfterGreeting, callStub, connectMedia, control, eventually, recorded, transcriptOf } from "./helpers";

/**
 * The caller's phone keypad (DTMF), as Twilio reports it on the media stream: the keys of one
 * entry make one caller turn, `[keypad: …]`, which the agent answers like words.
 */
const clock = manualClockPerTest(Date.UTC(2030, 1, 7, 15, 0, 0));

const chatRequests = async (marker: string) => (await recorded("openai", { contains: marker })).filter((r) => r.path === "/v1/chat/completions");

describe("voice loop: keypad", () => {
  it("makes the keys up to # one caller turn, answered by the LLM", async () => {
    const { callId, marker } = await answeredCall(clock, { greeting: "Hello {{first_name}}. Press 1 to confirm, then pound." });
    await control("/__fakes/openai/script", { match: marker, replies: [{ content: "Thank you, you are confirmed." }] });
    const twilio = await connectMedia(callId);
    await transcriptOf(callId, 1);
    await twilio.silence(twilio.audioMs);
    // The caller's line taken in before the keys (a loaded workerd can run a socket's messages out of order).
    await eventually(() => callStub(callId).mediaSession(), (m) => m?.framesIn === twilio.sentMs / 20, "the caller's line so far");
    for (const key of ["1", "2", "#"]) twilio.dtmf(key);

    const turns = await transcriptOf(callId, 3);
    expect(turns.map((t) => [t.speaker, t.text, t.interrupted])).toEqual([
      ["agent", "Hello Ana. Press 1 to confirm, then pound.", false],
      ["contact", "[keypad: 12#]", false],
      ["agent", "Thank you, you are confirmed.", false],
    ]);
    // Dated on the caller's stream where the first key came.
    expect(turns[1].start_ms).toBe(turns[0].end_ms);
    const chats = await chatRequests(marker);
    expect(chats).toHaveLength(1);
    expect(JSON.parse(chats[0].body).messages.at(-1)).toEqual({ role: "user", content: "[keypad: 12#]" });
    expect(twilio.errors).toEqual([]);
    twilio.stop();
    twilio.close();
  });

  it("ends an entry without # two seconds after its last key, and ignores what is not a key", async () => {
    const { callId, marker } = await answeredCall(clock, { greeting: "Hello {{first_name}}." });
    await control("/__fakes/openai/script", { match: marker, replies: [{ content: "Extension 42, connecting you." }] });
    const twilio = await connectMedia(callId);
    await transcriptOf(callId, 1);
    await twilio.silence(twilio.audioMs);
    twilio.dtmf("4");
    twilio.dtmf("x"); // not a keypad key: the frame is dropped
    twilio.dtmf("42"); // one key a frame
    twilio.dtmf("2");
    const pressedAt = Date.now();
    const turns = await transcriptOf(callId, 3, 10_000);
    expect(Date.now() - pressedAt).toBeGreaterThanOrEqual(2000);
    expect(turns.map((t) => [t.speaker, t.text])).toEqual([
      ["agent", "Hello Ana."],
      ["contact", "[keypad: 42]"],
      ["agent", "Extension 42, connecting you."],
    ]);
    twilio.stop();
    twilio.close();
  });

  it("stops the agent when the caller presses a key over it, and answers the entry", async () => {
    const FIRST = "Our opening hours are nine to five.";
    const LONG = `${FIRST} On Saturdays we open at ten. We are closed on Sundays and public holidays.`;
    const { callId, marker } = await answeredCall(clock, { greeting: "Hello {{first_name}}." });
    await control("/__fakes/deepgram/script", { tag: callId, lines: ["When are you open"] });
    await control("/__fakes/openai/script", { match: marker, replies: [{ content: LONG }, { content: "Connecting you to reception." }] });
    // A slow second clause: the agent is still speaking it when the caller presses keys.
    await control("/__fakes/elevenlabs/tts", { match: "On Saturdays", chunk_delay_ms: 60 });
    const twilio = await askAfterGreeting(callId);
    const firstMark = await twilio.waitFor((m) => m.event === "mark" && m.mark?.name?.endsWith("-c0") === true && m.mark.name !== twilio.marks[0], { what: "the answer's first mark" });
    twilio.play(); // the caller hears the first sentence, then presses 0 for reception
    expect(twilio.echoedMarks).toContain(firstMark.mark!.name);
    const before = twilio.received.length;
    twilio.dtmf("0");
    twilio.dtmf("#");
    await twilio.waitForEvent("clear", { from: before });
    await twilio.waitForUnplayedMark({ from: before, what: "the entry's answer's mark" });
    twilio.play();
    const turns = await transcriptOf(callId, 5);
    expect(turns.map((t) => [t.speaker, t.interrupted])).toEqual([
      ["agent", false],
      ["contact", false],
      ["agent", true],
      ["contact", false],
      ["agent", false],
    ]);
    // What the caller heard of the cut-off answer is kept, and only that.
    expect(turns[2].text.startsWith(FIRST)).toBe(true);
    expect(turns[2].text.length).toBeLessThan(LONG.length);
    expect(turns[3].text).toBe("[keypad: 0#]");
    expect(turns[4].text).toBe("Connecting you to reception.");
    const second = JSON.parse((await chatRequests(marker))[1].body).messages;
    expect(second.slice(-2)).toEqual([
      { role: "assistant", content: turns[2].text },
      { role: "user", content: "[keypad: 0#]" },
    ]);
    expect(twilio.errors).toEqual([]);
    twilio.stop();
    twilio.close();
  });
});
