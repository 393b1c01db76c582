import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { carrierFor } from "../../src/carriers";
import { fakeRequests } from "../helpers/api";
import {
  BYOC_TWILIO,
  callRecord,
  callView,
  carrierOrg,
  deliver,
  fields,
  placeCall,
  twilioCallbacks,
  twilioInbound,
  twilioSign,
  type TwilioCallback,
} from "./helpers";

const PLATFORM_SID = "AC00000000000000000000000000000000";
const PLATFORM_AUTH = `Basic ${btoa(`${PLATFORM_SID}:platform-twilio-token`)}`;
const BASE = "https://truedy.test";

async function providerCallId(callId: string): Promise<string> {
  const sid = (await callRecord(callId))?.provider_call_id;
  if (typeof sid !== "string") throw new Error(`call ${callId} was not dialled`);
  return sid;
}

/** The scripted callback whose status (or kind) is the given one. */
function pick(callbacks: TwilioCallback[], status: string): TwilioCallback {
  const found = callbacks.find((c) => (c.kind === "status" ? fields(c).CallStatus === status : c.kind === status));
  if (!found) throw new Error(`no ${status} callback among ${callbacks.map((c) => `${c.kind}:${fields(c).CallStatus ?? ""}`).join(", ")}`);
  return found;
}

async function eventTypes(orgId: string, callId: string) {
  const rows = await env.DB.prepare("SELECT type, data FROM events WHERE org_id = ? ORDER BY created_at, rowid").bind(orgId).all<{ type: string; data: string }>();
  return rows.results.filter((r) => JSON.parse(r.data).call_id === callId).map((r) => r.type);
}

async function openMediaStream(callId: string, signature: string | null) {
  const headers: Record<string, string> = { Upgrade: "websocket" };
  if (signature !== null) headers["X-Twilio-Signature"] = signature;
  return exports.default.fetch(new Request(`${BASE}/telephony/twilio/media/${callId}`, { headers }));
}

/** The call-creation request Twilio received for our call. */
async function dialRequest(callId: string) {
  const [dial] = (await fakeRequests("twilio", callId)).filter((r) => r.path.endsWith("/Calls.json"));
  return dial;
}

/** Its form as an object, once its repeated StatusCallbackEvent is checked: every status we act on. */
function dialForm(dial: { body: string }) {
  const form = new URLSearchParams(dial.body);
  expect(form.getAll("StatusCallbackEvent")).toEqual(["initiated", "ringing", "answered", "completed"]);
  form.delete("StatusCallbackEvent");
  return Object.fromEntries(form);
}

/** The fields every dial of our test agent (20 s join timeout, 60 s max duration) carries. */
const dialBasics = (callId: string, from: string) => ({
  To: "+14155550001",
  From: from,
  Url: `${BASE}/telephony/twilio/twiml/${callId}`,
  Method: "POST",
  StatusCallback: `${BASE}/telephony/twilio/status/${callId}`,
  StatusCallbackMethod: "POST",
  Timeout: "20",
  TimeLimit: "60",
});

describe("Twilio outbound calls", () => {
  it("dials with our TwiML URL, every status callback event, async AMD and dual-channel recording", async () => {
    const { org, agentId, from } = await carrierOrg("twilio");
    const callId = await placeCall(org, agentId, "+14155550001", { machine_detection: true, recording_enabled: true });

    const dial = await dialRequest(callId);
    expect(dial).toMatchObject({ method: "POST", path: `/2010-04-01/Accounts/${PLATFORM_SID}/Calls.json` });
    expect(dial.headers.authorization).toBe(PLATFORM_AUTH);
    expect(dial.headers["content-type"]).toMatch(/^application\/x-www-form-urlencoded/);
    expect(dialForm(dial)).toEqual({
      ...dialBasics(callId, from),
      MachineDetection: "Enable",
      AsyncAmd: "true",
      AsyncAmdStatusCallback: `${BASE}/telephony/twilio/amd/${callId}`,
      AsyncAmdStatusCallbackMethod: "POST",
      Record: "true",
      RecordingChannels: "dual",
      RecordingStatusCallback: `${BASE}/telephony/twilio/recording/${callId}`,
      RecordingStatusCallbackMethod: "POST",
    });
    expect(await providerCallId(callId)).toMatch(/^CA[0-9a-f]{32}$/);
  });

  it("asks for DetectMessageEnd when the agent leaves voicemail messages, plain AMD when it hangs up, none when the call turns it off", async () => {
    const { org, agentId, from } = await carrierOrg("twilio");
    expect((await org.patch(`/agents/${agentId}`, { voicemail: { action: "leave_message", message: "Please call us back, {{first_name}}." } })).status).toBe(200);
    const callId = await placeCall(org, agentId, "+14155550001");
    expect(dialForm(await dialRequest(callId))).toEqual({
      ...dialBasics(callId, from),
      MachineDetection: "DetectMessageEnd",
      AsyncAmd: "true",
      AsyncAmdStatusCallback: `${BASE}/telephony/twilio/amd/${callId}`,
      AsyncAmdStatusCallbackMethod: "POST",
    });

    expect((await org.patch(`/agents/${agentId}`, { voicemail: { action: "hangup" } })).status).toBe(200);
    const hangupCall = await placeCall(org, agentId, "+14155550001");
    expect(dialForm(await dialRequest(hangupCall))).toMatchObject({ MachineDetection: "Enable", AsyncAmd: "true" });

    const off = await placeCall(org, agentId, "+14155550001", { machine_detection: false });
    expect(Object.keys(dialForm(await dialRequest(off)))).not.toContain("MachineDetection");
  });

  it("hangs up at once on a machine when the agent's voicemail action is hangup: end_reason voicemail before Twilio's own end", async () => {
    const { org, agentId } = await carrierOrg("twilio");
    await org.patch(`/agents/${agentId}`, { voicemail: { action: "hangup" } });
    const callId = await placeCall(org, agentId, "+14155550004");
    const sid = await providerCallId(callId);
    const callbacks = await twilioCallbacks(sid);
    for (const status of ["initiated", "ringing", "in-progress"]) await deliver(pick(callbacks, status));
    expect(await callView(org, callId)).toMatchObject({ status: "in_progress" });
    const amd = pick(callbacks, "amd");
    expect(fields(amd).AnsweredBy).toBe("machine_start");
    expect((await deliver(amd)).status).toBe(204);
    expect(await callView(org, callId)).toMatchObject({ status: "completed", end_reason: "voicemail", answered_by: "machine" });
    const hangups = (await fakeRequests("twilio", sid)).filter((r) => r.method === "POST" && r.path.endsWith(`/Calls/${sid}.json`));
    expect(hangups.map((r) => new URLSearchParams(r.body).get("Status"))).toEqual(["completed"]);
    expect(await eventTypes(org.orgId, callId)).toEqual(["call.started", "call.ringing", "call.answered", "call.ended"]);
  });

  it("leaves AMD and recording out unless they are asked for", async () => {
    const { org, agentId } = await carrierOrg("twilio");
    const callId = await placeCall(org, agentId, "+14155550001", { recording_enabled: false });
    const [dial] = (await fakeRequests("twilio", callId)).filter((r) => r.path.endsWith("/Calls.json"));
    const names = [...new URLSearchParams(dial.body).keys()];
    for (const name of ["MachineDetection", "AsyncAmd", "AsyncAmdStatusCallback", "Record", "RecordingChannels", "RecordingStatusCallback"]) {
      expect(names).not.toContain(name);
    }
  });

  it("follows an answered call through its signed TwiML fetch, status, AMD and recording callbacks, and its media stream", async () => {
    const { org, agentId } = await carrierOrg("twilio");
    const callId = await placeCall(org, agentId, "+14155550001", { machine_detection: true, recording_enabled: true });
    const sid = await providerCallId(callId);
    const callbacks = await twilioCallbacks(sid);
    expect(callbacks.map((c) => (c.kind === "status" ? fields(c).CallStatus : c.kind))).toEqual([
      "initiated",
      "ringing",
      "twiml",
      "in-progress",
      "amd",
      "completed",
      "recording",
    ]);

    expect((await deliver(pick(callbacks, "initiated"))).status).toBe(204);
    expect(await callView(org, callId)).toMatchObject({ status: "queued" });
    await deliver(pick(callbacks, "ringing"));
    expect(await callView(org, callId)).toMatchObject({ status: "ringing" });

    const twiml = await deliver(pick(callbacks, "twiml"));
    expect(twiml.status).toBe(200);
    expect(twiml.contentType).toMatch(/^text\/xml/);
    expect(twiml.text).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Connect>' +
        `<Stream url="wss://truedy.test/telephony/twilio/media/${callId}"><Parameter name="callId" value="${callId}"/></Stream>` +
        `</Connect><Redirect method="POST">${BASE}/telephony/twilio/reconnect/${callId}</Redirect></Response>`,
    );

    const answered = pick(callbacks, "in-progress");
    await deliver(answered);
    expect(await callView(org, callId)).toMatchObject({ status: "in_progress", started_at: new Date(Date.parse(fields(answered).Timestamp)).toISOString() });
    expect((await deliver(pick(callbacks, "amd"))).status).toBe(204);
    expect(await callView(org, callId)).toMatchObject({ answered_by: "human" });

    // The stream handshake is signed over the wss:// URL Twilio connects to.
    const signature = await twilioSign(PLATFORM_SID, `wss://truedy.test/telephony/twilio/media/${callId}`);
    const stream = await openMediaStream(callId, signature);
    expect(stream.status).toBe(101);
    const socket = stream.webSocket!;
    socket.accept();
    socket.send(JSON.stringify({ event: "connected", protocol: "Call", version: "1.0.0" }));
    socket.send(JSON.stringify({ event: "start", sequenceNumber: "1", streamSid: "MZ1", start: { streamSid: "MZ1", callSid: sid, customParameters: { callId } } }));
    const call = env.CALL.get(env.CALL.idFromName(callId));
    await expect.poll(async () => (await call.mediaSession())?.streamSid).toBe("MZ1");
    socket.close(1000, "done");

    await deliver(pick(callbacks, "completed"));
    expect(await callView(org, callId)).toMatchObject({ status: "completed", end_reason: "hangup_by_contact", duration_seconds: 5 });
    const recording = pick(callbacks, "recording");
    expect((await deliver(recording)).status).toBe(204);
    expect((await callRecord(callId))?.recording_url).toBe(fields(recording).RecordingUrl);
    expect(await eventTypes(org.orgId, callId)).toEqual(["call.started", "call.ringing", "call.answered", "call.ended"]);
  });

  it.each([
    ["+14155550002", { status: "failed", end_reason: "no_answer" }, ["initiated", "ringing", "no-answer"]],
    ["+14155550003", { status: "failed", end_reason: "busy" }, ["initiated", "busy"]],
    ["+14155550004", { status: "completed", end_reason: "voicemail", answered_by: "machine" }, ["initiated", "ringing", "twiml", "in-progress", "amd", "completed"]],
    ["+14155550005", { status: "failed", end_reason: "carrier_error" }, ["initiated", "failed"]],
  ])("ends a call to %s as Twilio reports it", async (to, outcome, script) => {
    const { org, agentId } = await carrierOrg("twilio");
    const callId = await placeCall(org, agentId, to, { machine_detection: true });
    const callbacks = await twilioCallbacks(await providerCallId(callId));
    expect(callbacks.map((c) => (c.kind === "status" ? fields(c).CallStatus : c.kind))).toEqual(script);
    for (const callback of callbacks) expect((await deliver(callback)).status).toBeLessThan(300);
    expect(await callView(org, callId)).toMatchObject(outcome);
  });

  it("takes duplicated and late callbacks without changing the outcome", async () => {
    const { org, agentId } = await carrierOrg("twilio");
    const callId = await placeCall(org, agentId, "+14155550001");
    const callbacks = (await twilioCallbacks(await providerCallId(callId))).filter((c) => c.kind === "status");
    for (const callback of callbacks) {
      await deliver(callback);
      await deliver(callback);
    }
    await deliver(pick(callbacks, "ringing"));
    expect(await callView(org, callId)).toMatchObject({ status: "completed", end_reason: "hangup_by_contact", duration_seconds: 5 });
    expect(await eventTypes(org.orgId, callId)).toEqual(["call.started", "call.ringing", "call.answered", "call.ended"]);
  });

  it("rejects forged, unsigned and wrongly keyed callbacks with 403 and changes nothing", async () => {
    const { org, agentId } = await carrierOrg("twilio");
    const callId = await placeCall(org, agentId, "+14155550001", { machine_detection: true, recording_enabled: true });
    const callbacks = await twilioCallbacks(await providerCallId(callId));
    const ringing = pick(callbacks, "ringing");
    const completed = pick(callbacks, "completed");

    const tampered = await deliver(ringing, { body: ringing.body.replace("CallStatus=ringing", "CallStatus=completed") });
    expect(tampered.status).toBe(403);
    expect(JSON.parse(tampered.text).error).toMatchObject({ code: "forbidden" });
    expect((await deliver(completed, { headers: { "x-twilio-signature": "" } })).status).toBe(403);
    const { "x-twilio-signature": _dropped, ...unsigned } = completed.headers;
    expect((await deliver({ ...completed, headers: unsigned })).status).toBe(403);
    // Signed correctly, but by an account that is not the one that placed this call.
    const otherAccount = await twilioSign(BYOC_TWILIO.account_sid, completed.url, fields(completed));
    expect((await deliver(completed, { headers: { "x-twilio-signature": otherAccount } })).status).toBe(403);
    // A real callback replayed against another call's URL.
    expect((await deliver({ ...completed, url: completed.url.replace(callId, `${callId}x`) })).status).toBe(403);
    for (const kind of ["twiml", "amd", "recording"]) {
      const callback = pick(callbacks, kind);
      expect((await deliver(callback, { body: `${callback.body}&Extra=1` })).status).toBe(403);
    }

    expect(await callView(org, callId)).toMatchObject({ status: "queued", end_reason: null, answered_by: null });
    expect((await callRecord(callId))?.recording_url).toBeNull();
    expect(await eventTypes(org.orgId, callId)).toEqual(["call.started"]);
  });

  it("answers callbacks for a call it does not have only when Twilio signed them", async () => {
    const url = `${BASE}/telephony/twilio/status/no-such-call`;
    const params = { CallSid: `CA${"0".repeat(32)}`, CallStatus: "completed", AccountSid: PLATFORM_SID };
    const request = { url, method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(params).toString() };
    expect((await deliver(request, { headers: { "x-twilio-signature": await twilioSign(PLATFORM_SID, url, params) } })).status).toBe(204);
    expect((await deliver(request, { headers: { "x-twilio-signature": "bm90IGEgc2lnbmF0dXJl" } })).status).toBe(403);

    const twimlUrl = `${BASE}/telephony/twilio/twiml/no-such-call`;
    const twiml = await deliver(
      { ...request, url: twimlUrl },
      { headers: { "x-twilio-signature": await twilioSign(PLATFORM_SID, twimlUrl, params) } },
    );
    expect(twiml.text).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>');
  });

  it("verifies the media stream handshake and hands only our live calls to their object", async () => {
    const { org, agentId } = await carrierOrg("twilio");
    const callId = await placeCall(org, agentId, "+14155550001");
    const wss = `wss://truedy.test/telephony/twilio/media/${callId}`;
    expect((await openMediaStream(callId, null)).status).toBe(403);
    // Signed over the https:// URL the Worker sees instead of the wss:// one Twilio connects to.
    expect((await openMediaStream(callId, await twilioSign(PLATFORM_SID, `${BASE}/telephony/twilio/media/${callId}`))).status).toBe(403);
    expect((await openMediaStream(callId, await twilioSign(BYOC_TWILIO.account_sid, wss))).status).toBe(403);
    expect((await openMediaStream("no-such-call", await twilioSign(PLATFORM_SID, "wss://truedy.test/telephony/twilio/media/no-such-call"))).status).toBe(404);

    const open = await openMediaStream(callId, await twilioSign(PLATFORM_SID, wss));
    expect(open.status).toBe(101);
    open.webSocket!.accept();
    open.webSocket!.close(1000, "done");

    // Once the call is over there is nothing left to stream to.
    for (const callback of await twilioCallbacks(await providerCallId(callId))) await deliver(callback);
    expect((await openMediaStream(callId, await twilioSign(PLATFORM_SID, wss))).status).toBe(404);
    expect((await callView(org, callId)).status).toBe("completed");
  });

  it("hangs up a live call through Twilio, and counts a call Twilio already ended as hung up", async () => {
    const { org, agentId } = await carrierOrg("twilio");
    const callId = await placeCall(org, agentId, "+14155550001");
    const sid = await providerCallId(callId);
    for (const status of ["initiated", "ringing", "in-progress"]) await deliver(pick(await twilioCallbacks(sid), status));

    expect((await org.post(`/calls/${callId}/hangup`)).status).toBe(200);
    const hangups = (await fakeRequests("twilio", `/Calls/${sid}.json`)).filter((r) => r.method === "POST");
    expect(hangups).toHaveLength(1);
    expect(hangups[0].headers.authorization).toBe(PLATFORM_AUTH);
    expect(Object.fromEntries(new URLSearchParams(hangups[0].body))).toEqual({ Status: "completed" });

    // Twilio confirms with `completed`, which ends the call as ours.
    const ended = pick(await twilioCallbacks(sid), "completed");
    expect(fields(ended).CallDuration).toBe("2");
    await deliver(ended);
    expect(await callView(org, callId)).toMatchObject({ status: "completed", end_reason: "hangup_by_api", duration_seconds: 2 });

    // Twilio answers 404 (20404) for a call that already ended, or that it never had.
    const twilio = carrierFor(env, "twilio");
    await expect(twilio.hangup(sid)).resolves.toBeUndefined();
    await expect(twilio.hangup(`CA${"f".repeat(32)}`)).resolves.toBeUndefined();
    const repeated = (await fakeRequests("twilio", `/Calls/${sid}.json`)).filter((r) => r.method === "POST");
    expect(repeated).toHaveLength(2);
  });

  it("reconnects a dropped media stream through the <Redirect> after <Connect>, a few times, then ends the call", async () => {
    const { org, agentId } = await carrierOrg("twilio");
    const callId = await placeCall(org, agentId, "+14155550001");
    const sid = await providerCallId(callId);
    const callbacks = await twilioCallbacks(sid);
    for (const status of ["initiated", "ringing", "in-progress"]) await deliver(pick(callbacks, status));
    const answer = await deliver(pick(callbacks, "twiml"));
    const reconnectUrl = /<Redirect method="POST">([^<]+)<\/Redirect>/.exec(answer.text)?.[1];
    expect(reconnectUrl).toBe(`${BASE}/telephony/twilio/reconnect/${callId}`);

    // What Twilio POSTs when it reaches the <Redirect>: the call's usual form, signed over that URL.
    const params = { ...fields(pick(callbacks, "twiml")), CallStatus: "in-progress" };
    const redirect = async (signer = PLATFORM_SID) =>
      deliver(
        { url: reconnectUrl!, method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(params).toString() },
        { headers: { "x-twilio-signature": await twilioSign(signer, reconnectUrl!, params) } },
      );
    expect((await redirect(BYOC_TWILIO.account_sid)).status).toBe(403);
    for (let drop = 1; drop <= 5; drop++) {
      const again = await redirect();
      expect(again.status).toBe(200);
      expect(again.text).toBe(answer.text);
      expect((await callView(org, callId)).status).toBe("in_progress");
    }
    // The sixth drop in one call is a fault: the call ends through Twilio and the caller hears no more silence.
    const refused = await redirect();
    expect(refused.text).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>');
    expect(await callView(org, callId)).toMatchObject({ status: "completed", end_reason: "provider_error" });
    expect((await fakeRequests("twilio", `/Calls/${sid}.json`)).filter((r) => r.method === "POST")).toHaveLength(1);
    // Once the call is over, a late redirect only hangs up.
    expect((await redirect()).text).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>');
  });

  it("cancels a call that is still ringing: Twilio reports it canceled", async () => {
    const { org, agentId } = await carrierOrg("twilio");
    const callId = await placeCall(org, agentId, "+14155550002");
    const sid = await providerCallId(callId);
    for (const status of ["initiated", "ringing"]) await deliver(pick(await twilioCallbacks(sid), status));
    expect((await org.post(`/calls/${callId}/hangup`)).status).toBe(200);
    const callbacks = await twilioCallbacks(sid);
    expect(callbacks.map((c) => fields(c).CallStatus)).toEqual(["initiated", "ringing", "canceled"]);
    await deliver(pick(callbacks, "canceled"));
    expect(await callView(org, callId)).toMatchObject({ status: "cancelled", end_reason: "hangup_by_api" });
  });

  it("turns Twilio's refusals into classified carrier errors", async () => {
    const request = {
      callId: "c-refused",
      to: "+14155550001",
      from: "+16285550000",
      timeoutSeconds: 20,
      timeLimitSeconds: 60,
      machineDetection: false,
      record: false,
      publicBaseUrl: BASE,
    };
    // A caller ID the account does not hold (Twilio 21210) is Twilio refusing the call: a 502.
    await expect(carrierFor(env, "twilio").dial(request)).rejects.toMatchObject({
      code: "provider_error",
      status: 502,
      details: { provider: "twilio", operation: "dial", carrier_status: 400, carrier_code: 21210 },
    });
    // Credentials Twilio does not know are the customer's to fix: a 422.
    const wrong = carrierFor(env, "twilio", { kind: "twilio", account_sid: PLATFORM_SID, auth_token: "wrong" });
    await expect(wrong.dial(request)).rejects.toMatchObject({ code: "provider_not_configured", status: 422 });
    await expect(wrong.hangup(`CA${"f".repeat(32)}`)).rejects.toMatchObject({ code: "provider_not_configured", details: { operation: "hangup" } });
  });

  it("dials a BYOC number through the customer's account and checks its callbacks with the customer's token", async () => {
    const { org, agentId, from } = await carrierOrg("twilio", { byoc: true });
    const callId = await placeCall(org, agentId, "+14155550001");
    const [dial] = (await fakeRequests("twilio", callId)).filter((r) => r.path.endsWith("/Calls.json"));
    expect(dial.path).toBe(`/2010-04-01/Accounts/${BYOC_TWILIO.account_sid}/Calls.json`);
    expect(dial.headers.authorization).toBe(`Basic ${btoa(`${BYOC_TWILIO.account_sid}:${BYOC_TWILIO.auth_token}`)}`);
    expect(new URLSearchParams(dial.body).get("From")).toBe(from);

    const callbacks = await twilioCallbacks(await providerCallId(callId));
    const ringing = pick(callbacks, "ringing");
    const platformSigned = await twilioSign(PLATFORM_SID, ringing.url, fields(ringing));
    expect((await deliver(ringing, { headers: { "x-twilio-signature": platformSigned } })).status).toBe(403);
    expect((await deliver(ringing)).status).toBe(204);
    expect((await callView(org, callId)).status).toBe("ringing");
    const twiml = await deliver(pick(callbacks, "twiml"));
    expect(twiml.text).toContain(`<Stream url="wss://truedy.test/telephony/twilio/media/${callId}">`);
  });
});

describe("Twilio inbound calls", () => {
  it("connects a call to an assigned number to its agent and ends it on the number's status callback", async () => {
    const { org, from: ourNumber, agentId } = await carrierOrg("twilio", { outbound: false });
    const { sid, callbacks } = await twilioInbound("+14155557777", ourNumber);
    expect(callbacks.map((c) => c.kind)).toEqual(["voice", "status"]);
    const voice = pick(callbacks, "voice");
    expect(voice.url).toBe(`${BASE}/telephony/voice/twilio`);

    const answer = await deliver(voice);
    expect(answer.status).toBe(200);
    expect(answer.contentType).toMatch(/^text\/xml/);
    const callId = /<Parameter name="callId" value="([^"]+)"\/>/.exec(answer.text)?.[1];
    expect(callId).toBeDefined();
    expect(answer.text).toContain(`<Connect><Stream url="wss://truedy.test/telephony/twilio/media/${callId}">`);
    expect(await callView(org, callId!)).toMatchObject({
      direction: "inbound",
      agent_id: agentId,
      status: "in_progress",
      from_number: "+14155557777",
      to_number: ourNumber,
      provider: "twilio",
    });
    expect((await callRecord(callId!))?.provider_call_id).toBe(sid);

    // Twilio may retry the voice webhook: the same call answers again.
    expect((await deliver(voice)).text).toBe(answer.text);

    const completed = pick(callbacks, "completed");
    expect(completed.url).toBe(`${BASE}/telephony/voice/twilio/status`);
    expect((await deliver(completed)).status).toBe(204);
    expect(await callView(org, callId!)).toMatchObject({ status: "completed", end_reason: "hangup_by_contact", duration_seconds: 5 });
  });

  it("tells callers of a number without an inbound agent that it takes no calls, and creates no call", async () => {
    const { org, from: ourNumber } = await carrierOrg("twilio", { inbound: false });
    const { callbacks } = await twilioInbound("+14155557778", ourNumber);
    const answer = await deliver(pick(callbacks, "voice"));
    expect(answer.status).toBe(200);
    expect(answer.text).toMatch(/<Response><Say>Sorry, [^<]+<\/Say><Hangup\/><\/Response>$/);
    expect((await org.get("/calls?direction=inbound")).body.data).toEqual([]);
    expect((await deliver(pick(callbacks, "completed"))).status).toBe(204);
  });

  it("rejects a voice webhook that Twilio did not sign with the number's account", async () => {
    const { org, from: ourNumber } = await carrierOrg("twilio");
    const { callbacks } = await twilioInbound("+14155557779", ourNumber);
    const voice = pick(callbacks, "voice");
    expect((await deliver(voice, { body: voice.body.replace("%2B14155557779", "%2B14155550000") })).status).toBe(403);
    const otherAccount = await twilioSign(BYOC_TWILIO.account_sid, voice.url, fields(voice));
    expect((await deliver(voice, { headers: { "x-twilio-signature": otherAccount } })).status).toBe(403);
    expect((await org.get("/calls?direction=inbound")).body.data).toEqual([]);
  });

  it("answers a call to a number no org has with the polite message when the platform account signed it", async () => {
    const url = `${BASE}/telephony/voice/twilio`;
    const params = { CallSid: `CA${"1".repeat(32)}`, From: "+14155550100", To: "+16285559998", AccountSid: PLATFORM_SID, Direction: "inbound" };
    const request = { url, method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(params).toString() };
    const answer = await deliver(request, { headers: { "x-twilio-signature": await twilioSign(PLATFORM_SID, url, params) } });
    expect(answer.status).toBe(200);
    expect(answer.text).toContain("<Say>Sorry, ");
    expect((await deliver(request, { headers: { "x-twilio-signature": await twilioSign(BYOC_TWILIO.account_sid, url, params) } })).status).toBe(403);
  });
});
