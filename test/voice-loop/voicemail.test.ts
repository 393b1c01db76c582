import { describe, expect, it } from "vitest";
import { TTS_MS_PER_CHAR } from "../fakes/audio";
import { manualClockPerTest } from "../helpers/clock";
import { splitClauses } from "../../src/voice/sentences";
import { answeredCall, connectMedia, control, eventData, eventually, recorded, transcript, transcriptOf } from "./helpers";

// Far in the future so real alarms never fire on their own: tests move this clock and run the alarm.
const START = Date.UTC(2030, 1, 11, 15, 0, 0);
const clock = manualClockPerTest(START);

const MESSAGE = "Hi {{first_name}}, this is Maya from the clinic. Please call us back today.";
const SAID = "Hi Ana, this is Maya from the clinic. Please call us back today.";
/** The fake TTS speaks TTS_MS_PER_CHAR per character of each clause. */
const messageMs = splitClauses(SAID).reduce((ms, clause) => ms + clause.length * TTS_MS_PER_CHAR, 0);
const GREETING = "Hi, you've reached Ana. I'm not available right now, please leave a message after the tone.";

const callOf = async (org: { get: (path: string) => Promise<any> }, callId: string) => (await org.get(`/calls/${callId}`)).body.data;

describe("voicemail: the callee's first words read as a voicemail greeting (no carrier detection)", () => {
  it("leave_message: stops, waits for the pause after the greeting, says the message and hangs up once it has played", async () => {
    const { org, callId, marker } = await answeredCall(clock, { voicemail: { action: "leave_message", message: MESSAGE } }, { call_settings: { machine_detection: false } });
    await control("/__fakes/deepgram/script", { tag: callId, lines: [GREETING] });
    const twilio = await connectMedia(callId);
    await transcriptOf(callId, 1);
    const greetingMs = twilio.audioMs;

    await twilio.silence(greetingMs);
    await twilio.speak(2500);
    await twilio.silence(400);
    const [, heard] = await transcriptOf(callId, 2);
    expect(heard).toMatchObject({ speaker: "contact", text: GREETING });
    // The call is now known to be answered by a machine; nothing is said into its greeting.
    await eventually(() => callOf(org, callId), (c) => c.answered_by === "machine", "answered_by machine");
    expect(twilio.audioMs).toBe(greetingMs);

    // The beep's pause: 1.5 s of silence after the greeting, then the message.
    await twilio.silence(2000);
    const turns = await transcriptOf(callId, 3);
    expect(turns.map((t) => [t.speaker, t.text, t.interrupted])).toEqual([
      ["agent", "Hello Ana, this is Maya.", false],
      ["contact", GREETING, false],
      ["agent", SAID, false],
    ]);
    expect(turns[2].start_ms - turns[1].end_ms).toBeGreaterThanOrEqual(1500);
    expect(twilio.audioMs - greetingMs).toBe(messageMs);

    const ended = await eventually(() => callOf(org, callId), (c) => c.status !== "in_progress", "the call to end");
    expect(ended).toMatchObject({ status: "completed", end_reason: "voicemail", answered_by: "machine", analysis: { status: "skipped", skip_reason: "voicemail" } });
    expect((await eventData(org.orgId, callId, "call.ended"))[0]).toMatchObject({ end_reason: "voicemail", answered_by: "machine" });
    await twilio.waitForClose();
    // The machine's greeting never reached the LLM.
    expect((await recorded("openai", { contains: marker })).filter((r) => r.path === "/v1/chat/completions")).toEqual([]);
  });

  it("hangup: ends the call at once, end_reason voicemail, without another word", async () => {
    const { org, callId } = await answeredCall(clock, { voicemail: { action: "hangup" } }, { call_settings: { machine_detection: false } });
    await control("/__fakes/deepgram/script", { tag: callId, lines: ["This is the voicemail of Ana Lopez."] });
    const twilio = await connectMedia(callId);
    await transcriptOf(callId, 1);
    const greetingMs = twilio.audioMs;
    await twilio.silence(greetingMs);
    await twilio.speak(1500);
    await twilio.silence(400);

    const ended = await eventually(() => callOf(org, callId), (c) => c.status !== "in_progress", "the call to end");
    expect(ended).toMatchObject({ status: "completed", end_reason: "voicemail", answered_by: "machine" });
    await twilio.waitForClose();
    expect(twilio.audioMs).toBe(greetingMs);
    expect((await transcript(callId)).map((t) => [t.speaker, t.text])).toEqual([
      ["agent", "Hello Ana, this is Maya."],
      ["contact", "This is the voicemail of Ana Lopez."],
    ]);
  });

  it("takes a person's first words for a person: the conversation goes on", async () => {
    const { org, callId, marker } = await answeredCall(clock, { voicemail: { action: "hangup" } }, { call_settings: { machine_detection: false } });
    await control("/__fakes/deepgram/script", { tag: callId, lines: ["Yes, this is Ana, who is calling?"] });
    await control("/__fakes/openai/script", { match: marker, replies: [{ content: "This is Maya from the clinic." }] });
    const twilio = await connectMedia(callId);
    await transcriptOf(callId, 1);
    await twilio.silence(twilio.audioMs);
    await twilio.speak(1200);
    await twilio.silence(400);
    const turns = await transcriptOf(callId, 3);
    expect(turns[2]).toMatchObject({ speaker: "agent", text: "This is Maya from the clinic." });
    expect(await callOf(org, callId)).toMatchObject({ status: "in_progress", answered_by: "human" });
    twilio.stop();
    twilio.close();
  });
});

describe("voicemail: the carrier's detection came before the media stream", () => {
  it("leave_message: no greeting to a machine; the message follows its greeting's pause", async () => {
    // The simulator answers …0004 with a machine (answered_by machine on the answer itself).
    const { org, callId } = await answeredCall(clock, { voicemail: { action: "leave_message", message: MESSAGE } }, { phone_number: "+14155550004" });
    expect(await callOf(org, callId)).toMatchObject({ answered_by: "machine", status: "in_progress" });
    await control("/__fakes/deepgram/script", { tag: callId, lines: [GREETING] });
    const twilio = await connectMedia(callId);
    // The machine's greeting plays; the agent says nothing over it.
    await twilio.speak(3000);
    await twilio.silence(1000);
    expect(twilio.audioMs).toBe(0);
    await twilio.silence(1000);
    const [greeting, message] = await transcriptOf(callId, 2);
    expect(greeting).toMatchObject({ speaker: "contact", text: GREETING });
    expect(message).toMatchObject({ speaker: "agent", text: SAID, interrupted: false });
    expect(message.start_ms).toBeGreaterThanOrEqual(greeting.end_ms + 1500);
    expect(twilio.audioMs).toBe(messageMs);
    const ended = await eventually(() => callOf(org, callId), (c) => c.status !== "in_progress", "the call to end");
    expect(ended).toMatchObject({ status: "completed", end_reason: "voicemail", answered_by: "machine" });
    await twilio.waitForClose();
  });
});
