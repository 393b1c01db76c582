import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { manualClockPerTest } from "../helpers/clock";
import { answeredCall, callStub, connectMedia, control, eventData, eventually, tick, transcriptOf } from "./helpers";

const START = Date.UTC(2030, 1, 6, 15, 0, 0);
const clock = manualClockPerTest(START);

/** The call's pending inactivity timer (due time on the test clock), if any. */
const inactivityTimer = (callId: string) =>
  runInDurableObject(callStub(callId), async (_instance, state) => {
    const stored = await state.storage.get<{ timers: { kind: string; at: number }[] }>("call");
    return stored?.timers.find((t) => t.kind === "inactivity")?.at ?? null;
  });

describe("voice loop: inactivity", () => {
  it("re-prompts after the agent's inactivity timeout of silence, then hangs up with end_reason inactivity", async () => {
    const { org, callId } = await answeredCall(clock, { inactivity_timeout: 3, inactivity_message: "Are you still there, {{first_name}}?" });
    const twilio = await connectMedia(callId);
    await transcriptOf(callId, 1);
    // Timed from the end of the greeting's audio (its mark came back at this clock reading).
    expect(await inactivityTimer(callId)).toBe(clock.now() + 3000);

    clock.advance(2999);
    await tick(callId);
    expect((await callStub(callId).transcript()).length).toBe(1);
    clock.advance(1);
    await tick(callId);
    const turns = await transcriptOf(callId, 2);
    expect(turns[1]).toMatchObject({ speaker: "agent", text: "Are you still there, Ana?", interrupted: false });
    expect(await inactivityTimer(callId)).toBe(clock.now() + 3000);

    clock.advance(3000);
    await tick(callId);
    expect((await org.get(`/calls/${callId}`)).body.data).toMatchObject({ status: "completed", end_reason: "inactivity", duration_seconds: 6 });
    expect((await eventData(org.orgId, callId, "call.ended"))[0]).toMatchObject({ end_reason: "inactivity", latency: null });
    // Our side closed the stream (Twilio then hangs up); STT was closed too.
    await twilio.waitForClose();
    const [listen] = await eventually(() => control<any[]>(`/__fakes/deepgram/connections?tag=${callId}`), (c) => c[0]?.closed_at !== undefined, "the STT socket to close");
    expect(listen).toMatchObject({ close_code: 1000, text_in: ['{"type":"CloseStream"}'] });
  });

  it("counts silence again from scratch once the caller speaks", async () => {
    const { callId, marker } = await answeredCall(clock, { inactivity_timeout: 3 });
    await control("/__fakes/deepgram/script", { tag: callId, lines: ["Is anybody there"] });
    await control("/__fakes/openai/script", { match: marker, replies: [{ content: "Yes, I am here." }] });
    const twilio = await connectMedia(callId);
    await transcriptOf(callId, 1);
    expect(await inactivityTimer(callId)).toBe(clock.now() + 3000);

    clock.advance(2000);
    await twilio.speak(800); // caller speech cancels the timer…
    await eventually(() => inactivityTimer(callId), (at) => at === null, "the timer to be cancelled");
    await twilio.silence(600);
    await transcriptOf(callId, 3);
    // …and the agent's answer arms it anew, from the end of that answer.
    expect(await inactivityTimer(callId)).toBe(clock.now() + 3000);
    clock.advance(3000);
    await tick(callId);
    const turns = await transcriptOf(callId, 4);
    expect(turns[3]).toMatchObject({ speaker: "agent", text: "Are you still there?" }); // the default message
    twilio.stop();
    twilio.close();
  });
});
