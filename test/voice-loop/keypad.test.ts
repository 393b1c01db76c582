import { describe, expect, it } from "vitest";
import { manualClockPerTest } from "../helpers/clock";
import { answeredCall, askAfterGreeting, connectMedia, control, recorded, transcriptOf } from "./helpers";

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
    for (const key of ["1", "2", "#"]) twilio.dtmf(key);
    await twilio.silence(200);

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
    const LONG = "Our opening hours are nine to five. On Saturdays we open at ten. We are closed on Sundays and public holidays.";
    const { callId, marker } = await answeredCall(clock, { greeting: "Hello {{first_name}}." });
    await control("/__fakes/deepgram/script", { tag: callId, lines: ["When are you open"] });
    await control("/__fakes/openai/script", { match: marker, replies: [{ content: LONG }, { content: "Connecting you to reception." }] });
    const twilio = await askAfterGreeting(callId);
    // The long answer is queued at Twilio, unplayed: the caller presses 0 for reception.
    await twilio.waitFor((m) => m.event === "mark" && m.mark?.name?.endsWith("-c2") === true, { what: "the long answer's last mark" });
    const before = twilio.received.length;
    twilio.dtmf("0");
    twilio.dtmf("#");
    await twilio.waitForEvent("clear", { from: before });
    await twilio.waitFor((m) => m.event === "mark" && !twilio.echoedMarks.includes(m.mark!.name!), { from: before, what: "the answer's mark" });
    twilio.play();
    const turns = await transcriptOf(callId, 4);
    expect(turns.map((t) => [t.speaker, t.interrupted])).toEqual([
      ["agent", false],
      ["contact", false],
      ["contact", false],
      ["agent", false],
    ]);
    expect(turns[2].text).toBe("[keypad: 0#]");
    expect(turns[3].text).toBe("Connecting you to reception.");
    // Nothing of the long answer was played, so nothing of it is kept (nor in the LLM's history).
    const second = JSON.parse((await chatRequests(marker))[1].body).messages;
    expect(second.at(-1)).toEqual({ role: "user", content: "[keypad: 0#]" });
    expect(second.map((m: { content: string }) => m.content)).not.toContain(LONG);
    expect(twilio.errors).toEqual([]);
    twilio.stop();
    twilio.close();
  });
});
