import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { carrierFor } from "../../src/carriers";
import { decodeClientState, encodeClientState } from "../../src/carriers/telnyx";
import { toBase64 } from "../../src/lib/crypto";
import { fakeRequests } from "../helpers/api";
import { callRecord, callView, carrierOrg, deliver, placeCall, telnyxInbound, telnyxSign, telnyxWebhooks, type TelnyxWebhook } from "./helpers";

const BASE = "https://truedy.test";
const VOICE_URL = `${BASE}/telephony/voice/telnyx`;
const PLATFORM_AUTH = "Bearer KEYplatformtelnyx";

async function callControlId(callId: string): Promise<string> {
  const id = (await callRecord(callId))?.provider_call_id;
  if (typeof id !== "string") throw new Error(`call ${callId} was not dialled`);
  return id;
}

function pick(webhooks: TelnyxWebhook[], eventType: string): TelnyxWebhook {
  const found = webhooks.find((w) => w.event_type === eventType);
  if (!found) throw new Error(`no ${eventType} among ${webhooks.map((w) => w.event_type).join(", ")}`);
  return found;
}

/** The Call Control command the fake received for a call, parsed. */
async function commands(id: string, action: string) {
  return (await fakeRequests("telnyx", `/v2/calls/${encodeURIComponent(id)}/actions/${action}`)).map((r) => ({ ...r, json: JSON.parse(r.body) as Record<string, unknown> }));
}

async function eventTypes(orgId: string, callId: string) {
  const rows = await env.DB.prepare("SELECT type, data FROM events WHERE org_id = ? ORDER BY created_at, rowid").bind(orgId).all<{ type: string; data: string }>();
  return rows.results.filter((r) => JSON.parse(r.data).call_id === callId).map((r) => r.type);
}

function openMediaStream(callId: string) {
  return exports.default.fetch(new Request(`${BASE}/telephony/telnyx/media/${callId}`, { headers: { Upgrade: "websocket" } }));
}

const STREAM = {
  stream_track: "inbound_track",
  stream_codec: "PCMU",
  stream_bidirectional_mode: "rtp",
  stream_bidirectional_codec: "PCMU",
};

describe("Telnyx outbound calls", () => {
  it("dials through the deployment's Call Control Application with bidirectional RTP media and our call in client_state", async () => {
    const { org, agentId, from } = await carrierOrg("telnyx");
    const callId = await placeCall(org, agentId, "+14155550001", { machine_detection: true });

    const [order] = await fakeRequests("telnyx", from.slice(1));
    const connectionId = JSON.parse(order.body).connection_id;
    expect(connectionId).toEqual(expect.any(String));
    const [dial] = (await fakeRequests("telnyx", callId)).filter((r) => r.path === "/v2/calls");
    expect(dial.method).toBe("POST");
    expect(dial.headers.authorization).toBe(PLATFORM_AUTH);
    expect(dial.headers["content-type"]).toMatch(/^application\/json/);
    const body = JSON.parse(dial.body);
    expect(body).toEqual({
      connection_id: connectionId,
      to: "+14155550001",
      from,
      webhook_url: VOICE_URL,
      webhook_url_method: "POST",
      client_state: expect.any(String),
      command_id: callId,
      timeout_secs: 20,
      time_limit_secs: 60,
      answering_machine_detection: "detect",
      stream_url: `wss://truedy.test/telephony/telnyx/media/${callId}`,
      ...STREAM,
    });
    expect(decodeClientState(body.client_state)).toEqual({ call_id: callId, direction: "outbound" });
    expect(await callControlId(callId)).toMatch(/^v3:/);

    const plain = await placeCall(org, agentId, "+14155550001");
    const [withoutAmd] = (await fakeRequests("telnyx", plain)).filter((r) => r.path === "/v2/calls");
    expect(JSON.parse(withoutAmd.body)).not.toHaveProperty("answering_machine_detection");
  });

  it("asks for greeting_end when the agent leaves voicemail messages, and reads call.machine.greeting.ended", async () => {
    const { org, agentId } = await carrierOrg("telnyx");
    expect((await org.patch(`/agents/${agentId}`, { voicemail: { action: "leave_message", message: "Please call us back." } })).status).toBe(200);
    const callId = await placeCall(org, agentId, "+14155550004");
    const [dial] = (await fakeRequests("telnyx", callId)).filter((r) => r.path === "/v2/calls");
    expect(JSON.parse(dial.body)).toMatchObject({ answering_machine_detection: "greeting_end" });
    const webhooks = await telnyxWebhooks(await callControlId(callId));
    expect(webhooks.map((w) => w.event_type)).toEqual(["call.initiated", "call.answered", "streaming.started", "call.machine.detection.ended", "call.machine.greeting.ended", "call.hangup"]);
    for (const webhook of webhooks.slice(0, 4)) expect((await deliver(webhook)).status).toBe(200);
    // A machine, its greeting still playing: the agent waits for the beep (no stream here to speak on).
    expect(await callView(org, callId)).toMatchObject({ status: "in_progress", answered_by: "machine" });
    expect((await deliver(pick(webhooks, "call.machine.greeting.ended"))).status).toBe(200);
    expect(await callView(org, callId)).toMatchObject({ status: "in_progress", answered_by: "machine" });
    await deliver(pick(webhooks, "call.hangup"));
    expect(await callView(org, callId)).toMatchObject({ status: "completed", end_reason: "voicemail", answered_by: "machine" });
  });

  it("follows an answered call through its signed webhooks and media stream", async () => {
    const { org, agentId } = await carrierOrg("telnyx");
    const callId = await placeCall(org, agentId, "+14155550001", { machine_detection: true });
    const id = await callControlId(callId);
    const webhooks = await telnyxWebhooks(id);
    expect(webhooks.map((w) => w.event_type)).toEqual(["call.initiated", "call.answered", "streaming.started", "call.machine.detection.ended", "call.hangup"]);

    const initiated = await deliver(pick(webhooks, "call.initiated"));
    expect(initiated.status).toBe(200);
    expect((await callView(org, callId)).status).toBe("queued");
    const answered = pick(webhooks, "call.answered");
    await deliver(answered);
    expect(await callView(org, callId)).toMatchObject({
      status: "in_progress",
      started_at: JSON.parse(answered.body).data.occurred_at,
    });
    await deliver(pick(webhooks, "streaming.started"));
    await deliver(pick(webhooks, "call.machine.detection.ended"));
    expect((await callView(org, callId)).answered_by).toBe("human");

    const stream = await openMediaStream(callId);
    expect(stream.status).toBe(101);
    const socket = stream.webSocket!;
    socket.accept();
    socket.send(JSON.stringify({ event: "connected", version: "1.0.0" }));
    socket.send(
      JSON.stringify({
        event: "start",
        sequence_number: "1",
        stream_id: "st-1",
        start: { call_control_id: id, media_format: { encoding: "PCMU", sample_rate: 8000, channels: 1 } },
      }),
    );
    const call = env.CALL.get(env.CALL.idFromName(callId));
    await expect.poll(async () => (await call.mediaSession())?.streamSid).toBe("st-1");
    socket.close(1000, "done");

    await deliver(pick(webhooks, "call.hangup"));
    expect(await callView(org, callId)).toMatchObject({ status: "completed", end_reason: "hangup_by_contact", duration_seconds: 5 });
    expect(await eventTypes(org.orgId, callId)).toEqual(["call.started", "call.ringing", "call.answered", "call.ended"]);
    expect((await openMediaStream(callId)).status).toBe(404);
  });

  it.each([
    ["+14155550002", { status: "failed", end_reason: "no_answer" }],
    ["+14155550003", { status: "failed", end_reason: "busy" }],
    ["+14155550004", { status: "completed", end_reason: "voicemail", answered_by: "machine" }],
    ["+14155550005", { status: "failed", end_reason: "carrier_error" }],
  ])("ends a call to %s as Telnyx reports it", async (to, outcome) => {
    const { org, agentId } = await carrierOrg("telnyx");
    const callId = await placeCall(org, agentId, to, { machine_detection: true });
    for (const webhook of await telnyxWebhooks(await callControlId(callId))) expect((await deliver(webhook)).status).toBe(200);
    expect(await callView(org, callId)).toMatchObject(outcome);
  });

  it("rejects forged, re-keyed, stale and unsigned webhooks with 403 and changes nothing", async () => {
    const { org, agentId } = await carrierOrg("telnyx");
    const callId = await placeCall(org, agentId, "+14155550001");
    const webhooks = await telnyxWebhooks(await callControlId(callId));
    const answered = pick(webhooks, "call.answered");
    const hangup = pick(webhooks, "call.hangup");
    const now = Math.floor(Date.now() / 1000);

    const tampered = await deliver(hangup, { body: hangup.body.replace("normal_clearing", "user_busy") });
    expect(tampered.status).toBe(403);
    expect(JSON.parse(tampered.text).error).toMatchObject({ code: "forbidden" });
    // Someone else's key.
    const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
    const foreign = await crypto.subtle.sign({ name: "Ed25519" }, pair.privateKey, new TextEncoder().encode(`${now}|${answered.body}`));
    const reKeyed = { "telnyx-signature-ed25519": toBase64(new Uint8Array(foreign)), "telnyx-timestamp": String(now) };
    expect((await deliver(answered, { headers: reKeyed })).status).toBe(403);
    // Signed by the account, but more than 5 minutes ago, or from too far in the future. A minute
    // past the bound, read afresh: on a loaded machine this test's earlier steps take seconds.
    for (const offset of [-360, 360]) {
      const timestamp = Math.floor(Date.now() / 1000) + offset;
      const headers = { "telnyx-signature-ed25519": await telnyxSign(answered.body, timestamp), "telnyx-timestamp": String(timestamp) };
      const stale = await deliver(answered, { headers });
      expect(stale.status).toBe(403);
      expect(JSON.parse(stale.text).error.message).toMatch(/5 minutes/);
    }
    // A valid signature with another timestamp than the one it covers.
    expect((await deliver(answered, { headers: { "telnyx-timestamp": String(now - 1) } })).status).toBe(403);
    const { "telnyx-signature-ed25519": _dropped, ...unsigned } = answered.headers;
    expect((await deliver({ ...answered, headers: unsigned })).status).toBe(403);

    expect(await callView(org, callId)).toMatchObject({ status: "queued", end_reason: null });
    expect(await eventTypes(org.orgId, callId)).toEqual(["call.started"]);
  });

  it("ignores signed webhooks that carry no client_state of ours", async () => {
    const { org, agentId } = await carrierOrg("telnyx");
    const callId = await placeCall(org, agentId, "+14155550001");
    const answered = pick(await telnyxWebhooks(await callControlId(callId)), "call.answered");
    const envelope = JSON.parse(answered.body);
    envelope.data.payload.client_state = toBase64(new TextEncoder().encode("someone else's state"));
    const body = JSON.stringify(envelope);
    const timestamp = Math.floor(Date.now() / 1000);
    const res = await deliver(answered, { body, headers: { "telnyx-signature-ed25519": await telnyxSign(body, timestamp), "telnyx-timestamp": String(timestamp) } });
    expect(res.status).toBe(200);
    expect((await callView(org, callId)).status).toBe("queued");
  });

  it("places one call however often the dial is retried with the same command_id", async () => {
    const { from } = await carrierOrg("telnyx");
    const request = {
      callId: `retry-${crypto.randomUUID()}`,
      to: "+14155550001",
      from,
      timeoutSeconds: 20,
      timeLimitSeconds: 60,
      machineDetection: false,
      record: false,
      publicBaseUrl: BASE,
    };
    const telnyx = carrierFor(env, "telnyx");
    const first = await telnyx.dial(request);
    expect(await telnyx.dial(request)).toEqual(first);
  });

  it("hangs up a live call through Telnyx, and counts a call Telnyx already ended as hung up", async () => {
    const { org, agentId } = await carrierOrg("telnyx");
    const callId = await placeCall(org, agentId, "+14155550001");
    const id = await callControlId(callId);
    for (const type of ["call.initiated", "call.answered"]) await deliver(pick(await telnyxWebhooks(id), type));

    expect((await org.post(`/calls/${callId}/hangup`)).status).toBe(200);
    const [hangup] = await commands(id, "hangup");
    expect(hangup).toMatchObject({ method: "POST", headers: { authorization: PLATFORM_AUTH } });

    const webhooks = await telnyxWebhooks(id);
    const ended = pick(webhooks, "call.hangup");
    expect(JSON.parse(ended.body).data.payload).toMatchObject({ hangup_cause: "normal_clearing", hangup_source: "caller" });
    await deliver(ended);
    expect(await callView(org, callId)).toMatchObject({ status: "completed", end_reason: "hangup_by_api" });

    // 422 code 90018 (already ended) and 404 (unknown call) both count as hung up.
    const telnyx = carrierFor(env, "telnyx");
    await expect(telnyx.hangup(id)).resolves.toBeUndefined();
    await expect(telnyx.hangup("v3:no-such-call")).resolves.toBeUndefined();
    expect(await commands(id, "hangup")).toHaveLength(2);
    await expect(carrierFor(env, "telnyx", { kind: "telnyx", api_key: "KEYwrong" }).hangup(id)).rejects.toMatchObject({
      code: "provider_not_configured",
      details: { provider: "telnyx", operation: "hangup" },
    });
  });

  it("refuses the media stream of calls that are not live Telnyx calls of ours", async () => {
    expect((await openMediaStream("no-such-call")).status).toBe(404);
    const twilio = await carrierOrg("twilio");
    const twilioCall = await placeCall(twilio.org, twilio.agentId, "+14155550001");
    expect((await openMediaStream(twilioCall)).status).toBe(404);
  });
});

describe("Telnyx inbound calls", () => {
  it("answers a call to an assigned number with the agent's media stream and ends it when the caller hangs up", async () => {
    const { org, agentId, from: ourNumber } = await carrierOrg("telnyx", { outbound: false });
    const { call_control_id: id } = await telnyxInbound("+14155556666", ourNumber);
    const [initiated] = await telnyxWebhooks(id);
    expect(initiated).toMatchObject({ event_type: "call.initiated", url: VOICE_URL });
    expect(JSON.parse(initiated.body).data.payload).toMatchObject({ direction: "incoming", to: ourNumber });

    expect((await deliver(initiated)).status).toBe(200);
    const [answer] = await commands(id, "answer");
    expect(answer.headers.authorization).toBe(PLATFORM_AUTH);
    const state = decodeClientState(answer.json.client_state as string);
    expect(state).toEqual({ call_id: expect.any(String), direction: "inbound" });
    const callId = (state as { call_id: string }).call_id;
    expect(answer.json).toEqual({
      client_state: encodeClientState({ call_id: callId, direction: "inbound" }),
      command_id: `answer-${callId}`,
      stream_url: `wss://truedy.test/telephony/telnyx/media/${callId}`,
      ...STREAM,
    });
    expect(await callView(org, callId)).toMatchObject({ direction: "inbound", agent_id: agentId, status: "in_progress", from_number: "+14155556666", to_number: ourNumber });
    expect((await callRecord(callId))?.provider_call_id).toBe(id);

    // A duplicated call.initiated neither creates a second call nor answers twice.
    expect((await deliver(initiated)).status).toBe(200);
    expect((await org.get("/calls?direction=inbound")).body.data).toHaveLength(1);

    const webhooks = await telnyxWebhooks(id);
    expect(webhooks.map((w) => w.event_type)).toEqual(["call.initiated", "call.answered", "streaming.started", "call.hangup"]);
    for (const webhook of webhooks.slice(1)) await deliver(webhook);
    expect(await callView(org, callId)).toMatchObject({ status: "completed", end_reason: "hangup_by_contact" });
  });

  it("tells callers of a number without an inbound agent that it takes no calls, then hangs up", async () => {
    const { org, from: ourNumber } = await carrierOrg("telnyx", { inbound: false });
    const { call_control_id: id } = await telnyxInbound("+14155556667", ourNumber);
    await deliver(pick(await telnyxWebhooks(id), "call.initiated"));
    const [answer] = await commands(id, "answer");
    expect(answer.json).toEqual({ client_state: encodeClientState({ unassigned: true }) });

    await deliver(pick(await telnyxWebhooks(id), "call.answered"));
    const [speak] = await commands(id, "speak");
    expect(speak.json).toMatchObject({ payload: expect.stringMatching(/^Sorry, /), voice: "female", language: "en-US" });

    await deliver(pick(await telnyxWebhooks(id), "call.speak.ended"));
    expect(await commands(id, "hangup")).toHaveLength(1);
    expect((await org.get("/calls?direction=inbound")).body.data).toEqual([]);
  });
});
