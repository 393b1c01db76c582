import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { TTS_MS_PER_CHAR } from "../fakes/audio";
import { adminFetch, fakeRequests, newOrg } from "../helpers/api";
import { splitClauses } from "../../src/voice/sentences";
import { callRecord, deliver, fields, twilioCallbacks, type TwilioCallback } from "../call-carriers/helpers";
import { callStub, connectMedia, eventData, eventually, transcriptOf, VOICES } from "./helpers";

// The real clock: Twilio's callbacks carry real timestamps (alarms due at once may fire by themselves).

/** A number no other test file buys (the fake Twilio account holds each number once). */
const ownNumber = () => `+1919555${2000 + Math.floor(Math.random() * 2900)}`;

const MESSAGE = "Hi {{first_name}}, this is Maya from Bright Smile Dental. Please call us back today.";
const SAID = "Hi Ana, this is Maya from Bright Smile Dental. Please call us back today.";

function pick(callbacks: TwilioCallback[], status: string): TwilioCallback {
  const found = callbacks.find((c) => (c.kind === "status" ? fields(c).CallStatus === status : c.kind === status));
  if (!found) throw new Error(`no ${status} callback among ${callbacks.map((c) => c.kind).join(", ")}`);
  return found;
}

describe("voicemail: Twilio answering-machine detection", () => {
  it("dials with DetectMessageEnd; on machine_end_beep the agent stops, says its message after the beep and hangs up once it has played", async () => {
    const org = await newOrg();
    await adminFetch(`/organizations/${org.orgId}`, { method: "PATCH", body: { rate_limit_per_minute: 100_000 } });
    const agent = await org.post("/agents", {
      name: "Reminders",
      voice_id: VOICES.elevenlabs,
      system_prompt: "You are Maya from Bright Smile Dental calling {{first_name}}.",
      greeting: "Hello {{first_name}}, this is Maya.",
      stt: { provider: "deepgram", model: "nova-3", endpointing_ms: 300 },
      voicemail: { action: "leave_message", message: MESSAGE },
    });
    expect(agent.status).toBe(201);
    const agentId = agent.body.data.id as string;
    const number = await org.post("/telephony/numbers/purchase", { provider: "twilio", phone_number: ownNumber() });
    expect(number.status).toBe(201);
    expect((await org.post("/telephony/numbers/assign", { number_id: number.body.data.id, agent_id: agentId, assignment_type: "outbound" })).status).toBe(200);

    // …0004 is answered by a machine at Twilio's fake.
    const placed = await org.post("/calls", { agent_id: agentId, phone_number: "+14155550004", variables: { first_name: "Ana" } });
    expect(placed.status).toBe(201);
    const callId = placed.body.data.id as string;
    const sid = await eventually(
      async () => {
        await runDurableObjectAlarm(callStub(callId));
        return (await callRecord(callId))?.provider_call_id;
      },
      (value) => typeof value === "string",
      "the dial",
    );
    const [dial] = (await fakeRequests("twilio", callId)).filter((r: any) => r.path.endsWith("/Calls.json"));
    expect(Object.fromEntries(new URLSearchParams(dial.body))).toMatchObject({ MachineDetection: "DetectMessageEnd", AsyncAmd: "true" });

    const callbacks = await twilioCallbacks(sid as string);
    for (const status of ["initiated", "ringing", "in-progress"]) expect((await deliver(pick(callbacks, status))).status).toBe(204);
    const twilio = await connectMedia(callId);
    const [greeting] = await transcriptOf(callId, 1);
    expect(greeting).toMatchObject({ speaker: "agent", text: "Hello Ana, this is Maya." });
    const before = twilio.audioMs;

    // DetectMessageEnd: Twilio's verdict on a machine comes at the end of its greeting, with the beep.
    const amd = pick(callbacks, "amd");
    expect(fields(amd).AnsweredBy).toBe("machine_end_beep");
    expect((await deliver(amd)).status).toBe(204);

    const turns = await transcriptOf(callId, 2);
    expect(turns[1]).toMatchObject({ speaker: "agent", text: SAID, interrupted: false });
    const view = await eventually(async () => (await org.get(`/calls/${callId}`)).body.data, (c) => c.status !== "in_progress", "the call to end");
    expect(view).toMatchObject({ status: "completed", end_reason: "voicemail", answered_by: "machine", analysis: { status: "skipped", skip_reason: "voicemail" }, summary: null });
    // All of the message went out (the fake TTS speaks each clause TTS_MS_PER_CHAR per character)…
    expect(twilio.audioMs - before).toBe(splitClauses(SAID).reduce((ms, clause) => ms + clause.length * TTS_MS_PER_CHAR, 0));
    // …and then our side hung up at Twilio and closed the stream.
    const hangups = (await fakeRequests("twilio", sid as string)).filter((r: any) => r.path.endsWith(`/Calls/${sid}.json`) && r.method === "POST");
    expect(hangups.map((r: any) => new URLSearchParams(r.body).get("Status"))).toEqual(["completed"]);
    await twilio.waitForClose();

    const [ended] = await eventData(org.orgId, callId, "call.ended");
    expect(ended).toMatchObject({ status: "completed", end_reason: "voicemail", answered_by: "machine" });
    expect(await eventData(org.orgId, callId, "call.analyzed")).toEqual([]);
    // Twilio's own completed callback, arriving after, changes nothing.
    await deliver(pick(callbacks, "completed"));
    expect((await org.get(`/calls/${callId}`)).body.data).toMatchObject({ status: "completed", end_reason: "voicemail" });
  });
});
