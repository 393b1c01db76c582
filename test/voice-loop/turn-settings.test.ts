import { describe, expect, it } from "vitest";
import { manualClockPerTest } from "../helpers/clock";
import { answeredCall, askAfterGreeting, callStub, control, eventData, eventually, recorded, tick, transcript, transcriptOf } from "./helpers";

const START = Date.UTC(2030, 1, 6, 15, 0, 0);
const clock = manualClockPerTest(START);

const LONG_REPLY =
  "Our clinic opens at eight every weekday. Parking is free behind the building. Bring your insurance card and a photo ID. The first visit takes about an hour.";

/** What the caller said over an agent that finishes first, waiting to be answered. */
const heldText = (callId: string, text: string) =>
  eventually(() => callStub(callId).mediaSession(), (m) => m?.voice?.held === text, `"${text}" to be held`);

const chatRequests = async (marker: string) => (await recorded("openai", { contains: marker })).filter((r) => r.path === "/v1/chat/completions");

describe("voice loop: interruption settings", () => {
  it("with interruption disabled the agent finishes, then answers what the caller said meanwhile", async () => {
    const { callId, marker } = await answeredCall(clock, { greeting: "Hello {{first_name}}.", interruption: { enabled: false } });
    await control("/__fakes/deepgram/script", { tag: callId, lines: ["Where do I park", "wait can I bring my dog"] });
    await control("/__fakes/openai/script", { match: marker, replies: [{ content: LONG_REPLY }, { content: "Dogs are welcome on a leash." }] });
    const twilio = await askAfterGreeting(callId, 800);
    await twilio.waitFor((m) => m.event === "mark" && m.mark?.name?.endsWith("-c3") === true, { what: "the long reply's last mark" });
    // "wait" would stop an interruptible agent at once; this one keeps its audio queued.
    await twilio.speak(1200);
    await twilio.silence(700);
    await heldText(callId, "wait can I bring my dog");
    expect(twilio.clears).toBe(0);
    expect(await chatRequests(marker)).toHaveLength(1);

    twilio.play(); // the long reply plays out; only then is the held question answered
    const answerMark = await twilio.waitForUnplayedMark({ what: "the answer's mark" });
    expect(answerMark.mark!.name).toMatch(/-c0$/);
    twilio.play();
    const turns = await transcriptOf(callId, 5);
    expect(turns.map((t) => [t.speaker, t.text, t.interrupted])).toEqual([
      ["agent", "Hello Ana.", false],
      ["contact", "Where do I park", false],
      ["agent", LONG_REPLY, false],
      ["contact", "wait can I bring my dog", false],
      ["agent", "Dogs are welcome on a leash.", false],
    ]);
    // The question was said while the agent spoke: its times say so.
    expect(turns[3].start_ms).toBeLessThan(turns[2].end_ms);
    const second = JSON.parse((await chatRequests(marker))[1].body).messages.slice(-2);
    expect(second).toEqual([
      { role: "assistant", content: LONG_REPLY },
      { role: "user", content: "wait can I bring my dog" },
    ]);
    twilio.stop();
    twilio.close();
  });

  it("honours the agent's min_words: fewer words wait for the agent to finish, enough words stop it", async () => {
    // 5 s of speech never decides it here: only the words do.
    const { callId, marker } = await answeredCall(clock, { greeting: "Hello {{first_name}}.", interruption: { min_words: 4, min_speech_ms: 5000 } });
    await control("/__fakes/deepgram/script", { tag: callId, lines: ["What should I bring", "Thursday works", "could you repeat the address please"] });
    await control("/__fakes/openai/script", {
      match: marker,
      replies: [{ content: LONG_REPLY }, { content: "Thursday it is." }, { content: "We are at 12 Main Street." }],
    });
    const twilio = await askAfterGreeting(callId, 800);
    await twilio.waitFor((m) => m.event === "mark" && m.mark?.name?.endsWith("-c3") === true, { what: "the long reply's last mark" });
    await twilio.speak(600); // "Thursday works": two words, under min_words
    await twilio.silence(700);
    await heldText(callId, "Thursday works");
    twilio.play();
    await twilio.waitForUnplayedMark({ what: "the held answer's mark" });
    expect(twilio.clears).toBe(0);
    // While "Thursday it is." waits to play, five words stop it.
    const before = twilio.received.length;
    await twilio.speak(1500);
    await twilio.waitForEvent("clear", { from: before });
    await twilio.silence(700);
    await twilio.waitForUnplayedMark({ from: before, what: "the address answer's mark" });
    twilio.play();
    // (The transcript is in stream-time order, which this test's caller, silent while the agent
    // plays, does not keep for the agent's turns: each speaker's turns are checked in order.)
    const turns = await eventually(() => transcript(callId), (t) => t.some((turn) => turn.text === "We are at 12 Main Street."), "the last answer");
    const of = (speaker: string) => turns.filter((t) => t.speaker === speaker).map((t) => [t.text, t.interrupted]);
    expect(of("contact")).toEqual([
      ["What should I bring", false],
      ["Thursday works", false],
      ["could you repeat the address please", false],
    ]);
    // "Thursday it is." was cut: the transcript keeps what had played by then (estimated from
    // time, so maybe nothing, and then no turn at all).
    const agent = of("agent");
    const cut = agent.filter(([, interrupted]) => interrupted);
    expect(agent.filter(([, interrupted]) => !interrupted)).toEqual([
      ["Hello Ana.", false],
      [LONG_REPLY, false],
      ["We are at 12 Main Street.", false],
    ]);
    expect(cut.length).toBeLessThanOrEqual(1);
    for (const [text] of cut) expect("Thursday it is.".startsWith(text as string)).toBe(true);
    expect(twilio.clears).toBe(1);
    twilio.stop();
    twilio.close();
  });

  it("rejects interruption settings out of range, and keeps unsent fields on update", async () => {
    const { org, agentId } = await answeredCall(clock);
    const bad = await org.patch(`/agents/${agentId}`, { interruption: { min_words: 0 } });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.field).toBe("interruption.min_words");
    expect((await org.patch(`/agents/${agentId}`, { interruption: { min_speech_ms: 99_999 } })).status).toBe(422);
    expect((await org.patch(`/agents/${agentId}`, { max_duration_message: "   " })).status).toBe(422);

    expect((await org.get(`/agents/${agentId}`)).body.data).toMatchObject({
      interruption: { enabled: true, min_words: 2, min_speech_ms: 400 },
      max_duration_message: null,
    });
    await org.patch(`/agents/${agentId}`, { interruption: { min_words: 3 } });
    const updated = await org.patch(`/agents/${agentId}`, { interruption: { enabled: false }, max_duration_message: "Time is up. Bye!" });
    expect(updated.body.data).toMatchObject({ interruption: { enabled: false, min_words: 3, min_speech_ms: 400 }, max_duration_message: "Time is up. Bye!" });
  });
});

describe("voice loop: max_duration", () => {
  it("cuts the agent off 10 s before max_duration, says the goodbye, and ends the call with max_duration once it has played", async () => {
    const { org, callId, marker } = await answeredCall(
      clock,
      { greeting: "Hello {{first_name}}.", max_duration: 25, max_duration_message: "We are out of time, {{first_name}}. Goodbye!" },
    );
    await control("/__fakes/deepgram/script", { tag: callId, lines: ["Tell me everything", "hold on one more thing"] });
    await control("/__fakes/openai/script", { match: marker, replies: [{ content: LONG_REPLY }] });
    const twilio = await askAfterGreeting(callId, 800);
    await twilio.waitFor((m) => m.event === "mark" && m.mark?.name?.endsWith("-c1") === true, { what: "part of the long reply" });
    twilio.play(2600); // the first sentence (2.4 s) plays and its mark goes back

    // The answer came 2 s after START: the wrap-up is due at 17 s, the hard stop at 27 s (the
    // simulator's callee would hang up at 32 s).
    clock.advance(14_000);
    await tick(callId);
    expect(twilio.clears).toBe(0);
    clock.advance(1_000);
    const before = twilio.received.length;
    await tick(callId);
    await twilio.waitForEvent("clear", { from: before });
    await twilio.waitForUnplayedMark({ from: before, what: "the goodbye's mark" });
    // The caller talks over the goodbye: heard, not answered, and the goodbye is not cut.
    await twilio.speak(1200);
    await twilio.silence(700);
    await eventually(() => transcriptOf(callId, 4), (t) => t.some((turn) => turn.text === "hold on one more thing"), "the caller's words in the transcript");
    expect(twilio.clears).toBe(1);
    expect((await org.get(`/calls/${callId}`)).body.data.status).toBe("in_progress");
    twilio.play();

    const ended = await eventually(() => org.get(`/calls/${callId}`).then((r) => r.body.data), (c) => c.status === "completed", "the call to end");
    expect(ended).toMatchObject({ end_reason: "max_duration", duration_seconds: 15 });
    const turns = await transcriptOf(callId, 5);
    expect(turns.filter((t) => t.speaker === "agent").map((t) => [t.text, t.interrupted])).toEqual([
      ["Hello Ana.", false],
      [expect.stringMatching(/^Our clinic opens at eight every weekday\./), true],
      ["We are out of time, Ana. Goodbye!", false],
    ]);
    expect(turns.find((t) => t.text === "hold on one more thing")).toBeDefined();
    expect(await chatRequests(marker)).toHaveLength(1);
    expect((await eventData(org.orgId, callId, "call.ended"))[0]).toMatchObject({ end_reason: "max_duration" });
    expect(await callStub(callId).mediaSession()).toMatchObject({ voice: null });
  });

  it("ends a silent call at max_duration without a goodbye when no conversation is live", async () => {
    const { org, callId } = await answeredCall(clock, { max_duration: 25 });
    clock.advance(15_000);
    await tick(callId); // wrap-up: nothing to wrap up
    expect((await org.get(`/calls/${callId}`)).body.data.status).toBe("in_progress");
    clock.advance(10_000);
    await tick(callId);
    expect((await org.get(`/calls/${callId}`)).body.data).toMatchObject({ status: "completed", end_reason: "max_duration", duration_seconds: 25 });
  });
});
