import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { decodeClientState, encodeClientState } from "../../src/carriers/telnyx";
import { CATALOGUE_VOICE_ID, fakeRequests, newOrg } from "../helpers/api";
import {
  callRecord,
  callView,
  carrierOrg,
  deliver,
  freshByocNumber,
  placeCall,
  telnyxInbound,
  telnyxPublicKey,
  telnyxSign,
  telnyxWebhooks,
  type TelnyxWebhook,
} from "./helpers";

/**
 * BYOC Telnyx numbers: Telnyx signs their webhooks with the customer account's key (the fake's
 * `KEYcustomertelnyx` account has a key pair of its own), which the number stores at import.
 */

const CUSTOMER_API_KEY = "KEYcustomertelnyx";

function pick(webhooks: TelnyxWebhook[], eventType: string): TelnyxWebhook {
  const found = webhooks.find((w) => w.event_type === eventType);
  if (!found) throw new Error(`no ${eventType} among ${webhooks.map((w) => w.event_type).join(", ")}`);
  return found;
}

async function commands(id: string, action: string) {
  return (await fakeRequests("telnyx", `/v2/calls/${encodeURIComponent(id)}/actions/${action}`)).map((r) => ({ ...r, json: JSON.parse(r.body) as Record<string, unknown> }));
}

async function callControlId(callId: string): Promise<string> {
  const id = (await callRecord(callId))?.provider_call_id;
  if (typeof id !== "string") throw new Error(`call ${callId} was not dialled`);
  return id;
}

/** Re-signs a webhook's (possibly edited) body now, as the given account. */
async function resigned(webhook: TelnyxWebhook, body: string, account: "platform" | "customer") {
  const timestamp = Math.floor(Date.now() / 1000);
  return deliver(webhook, { body, headers: { "telnyx-signature-ed25519": await telnyxSign(body, timestamp, account), "telnyx-timestamp": String(timestamp) } });
}

/** An org whose agent calls and answers on a number of the customer's own Telnyx account. */
async function byocOrg(options: { publicKey?: boolean; inbound?: boolean } = {}) {
  const org = await newOrg();
  const agent = await org.post("/agents", { name: "Caller", voice_id: CATALOGUE_VOICE_ID, system_prompt: "Hello.", join_timeout: 20, max_duration: 60 });
  const agentId = agent.body.data.id as string;
  const publicKey = await telnyxPublicKey("customer");
  const number = await org.post("/telephony/numbers/import", {
    provider_type: "telnyx",
    phone_number: freshByocNumber(),
    api_key: CUSTOMER_API_KEY,
    ...(options.publicKey === false ? {} : { public_key: publicKey }),
  });
  if (number.status !== 201) throw new Error(`import: ${number.status} ${JSON.stringify(number.body)}`);
  const numberId = number.body.data.id as string;
  for (const direction of options.inbound === false ? ["outbound"] : ["outbound", "inbound"]) {
    await org.post("/telephony/numbers/assign", { number_id: numberId, agent_id: agentId, assignment_type: direction });
  }
  return { org, agentId, numberId, ourNumber: number.body.data.phone_number as string, publicKey, number: number.body.data };
}

describe("Telnyx BYOC webhook key", () => {
  it("stores the customer's public key with the sealed credentials and shows it, never the API key", async () => {
    const { org, numberId, publicKey, number } = await byocOrg();
    expect(number.credentials).toEqual({ api_key_last4: CUSTOMER_API_KEY.slice(-4), public_key: publicKey });
    expect((await org.get(`/telephony/numbers/${numberId}`)).body.data.credentials).toEqual(number.credentials);
    const row = await env.DB.prepare("SELECT credentials_encrypted FROM phone_numbers WHERE id = ?").bind(numberId).first<{ credentials_encrypted: string }>();
    expect(row?.credentials_encrypted).not.toContain(publicKey);
    expect(row?.credentials_encrypted).not.toContain(CUSTOMER_API_KEY);
  });

  it("refuses a public_key that is not a base64 32-byte key, or sent for another carrier, with 422 naming public_key", async () => {
    const org = await newOrg();
    const phone = freshByocNumber();
    const bytes = (n: number) => btoa(String.fromCharCode(...new Uint8Array(n).fill(7)));
    for (const [providerFields, publicKey] of [
      [{ provider_type: "telnyx", api_key: CUSTOMER_API_KEY }, "not base64!"],
      [{ provider_type: "telnyx", api_key: CUSTOMER_API_KEY }, bytes(31)],
      [{ provider_type: "telnyx", api_key: CUSTOMER_API_KEY }, bytes(33)],
      [{ provider_type: "telnyx", api_key: CUSTOMER_API_KEY }, Buffer.from(new Uint8Array(32).fill(250)).toString("base64url")],
      [{ provider_type: "twilio", account_sid: "AC11111111111111111111111111111111", auth_token: "customer-twilio-token" }, bytes(32)],
    ] as const) {
      const res = await org.post("/telephony/numbers/import", { phone_number: phone, ...providerFields, public_key: publicKey });
      expect(res.status, publicKey).toBe(422);
      expect(res.body.error).toMatchObject({ code: "validation_error", details: { field: "public_key" } });
    }
    expect((await org.get("/telephony/numbers")).body.data).toEqual([]);
  });

  it("accepts an outbound BYOC call's webhooks signed with the customer key and follows the call", async () => {
    const { org, agentId } = await byocOrg();
    const callId = await placeCall(org, agentId, "+14155550001");
    const id = await callControlId(callId);
    const [dial] = (await fakeRequests("telnyx", callId)).filter((r) => r.path === "/v2/calls");
    expect(dial.headers.authorization).toBe(`Bearer ${CUSTOMER_API_KEY}`);

    for (const webhook of await telnyxWebhooks(id)) expect((await deliver(webhook)).status, webhook.event_type).toBe(200);
    expect(await callView(org, callId)).toMatchObject({ status: "completed", end_reason: "hangup_by_contact" });
  });

  it("answers an inbound call on a BYOC number through the customer's account", async () => {
    const { org, agentId, ourNumber } = await byocOrg();
    const { call_control_id: id } = await telnyxInbound("+14155556668", ourNumber);
    expect((await deliver(pick(await telnyxWebhooks(id), "call.initiated"))).status).toBe(200);
    const [answer] = await commands(id, "answer");
    expect(answer.headers.authorization).toBe(`Bearer ${CUSTOMER_API_KEY}`);
    const callId = (decodeClientState(answer.json.client_state as string) as { call_id: string }).call_id;
    expect(await callView(org, callId)).toMatchObject({ direction: "inbound", agent_id: agentId, to_number: ourNumber });
  });

  it("verifies an unassigned BYOC number's answer and speak steps with the customer key", async () => {
    const { ourNumber } = await byocOrg({ inbound: false });
    const { call_control_id: id } = await telnyxInbound("+14155556669", ourNumber);
    expect((await deliver(pick(await telnyxWebhooks(id), "call.initiated"))).status).toBe(200);
    expect((await commands(id, "answer"))[0].json).toEqual({ client_state: encodeClientState({ unassigned: true }) });
    expect((await deliver(pick(await telnyxWebhooks(id), "call.answered"))).status).toBe(200);
    expect(await commands(id, "speak")).toHaveLength(1);
  });

  it("refuses a BYOC number's webhooks when it was imported without its public key", async () => {
    const { org, agentId, ourNumber } = await byocOrg({ publicKey: false });
    const callId = await placeCall(org, agentId, "+14155550001");
    const answered = pick(await telnyxWebhooks(await callControlId(callId)), "call.answered");
    expect((await deliver(answered)).status).toBe(403);
    expect((await callView(org, callId)).status).toBe("queued");

    const { call_control_id: id } = await telnyxInbound("+14155556670", ourNumber);
    expect((await deliver(pick(await telnyxWebhooks(id), "call.initiated"))).status).toBe(403);
    expect(await commands(id, "answer")).toEqual([]);
  });

  it("refuses tampered, stale and unsigned customer-signed webhooks", async () => {
    const { org, agentId } = await byocOrg();
    const callId = await placeCall(org, agentId, "+14155550001");
    const webhooks = await telnyxWebhooks(await callControlId(callId));
    const hangup = pick(webhooks, "call.hangup");
    expect((await deliver(hangup, { body: hangup.body.replace("normal_clearing", "user_busy") })).status).toBe(403);
    const stale = Math.floor(Date.now() / 1000) - 301;
    const staleRes = await deliver(hangup, { headers: { "telnyx-signature-ed25519": await telnyxSign(hangup.body, stale, "customer"), "telnyx-timestamp": String(stale) } });
    expect(staleRes.status).toBe(403);
    expect(JSON.parse(staleRes.text).error.message).toMatch(/5 minutes/);
    const { "telnyx-signature-ed25519": _dropped, ...unsigned } = hangup.headers;
    expect((await deliver({ ...hangup, headers: unsigned })).status).toBe(403);
    // A body that does not even parse is refused, not reported as malformed, while unverified.
    expect((await resigned(hangup, "{not json", "customer")).status).toBe(403);
    expect(await callView(org, callId)).toMatchObject({ status: "queued", end_reason: null });
  });

  it("never lets a customer key vouch for an event about another number or call", async () => {
    const customer = await byocOrg();
    const platform = await carrierOrg("telnyx");
    const byocCall = await placeCall(customer.org, customer.agentId, "+14155550001");
    const platformCall = await placeCall(platform.org, platform.agentId, "+14155550001");

    // A platform number's call, signed by the customer account: the platform key is the only one for it.
    const answered = pick(await telnyxWebhooks(await callControlId(platformCall)), "call.answered");
    expect((await resigned(answered, answered.body, "customer")).status).toBe(403);
    expect((await callView(platform.org, platformCall)).status).toBe("queued");

    // An inbound call to the platform number, dressed in the customer's call state and signed by
    // the customer: the event is about the number it arrives on, whose key is not the customer's.
    const { call_control_id: id } = await telnyxInbound("+14155556671", platform.from);
    const initiated = pick(await telnyxWebhooks(id), "call.initiated");
    const envelope = JSON.parse(initiated.body);
    envelope.data.payload.client_state = encodeClientState({ call_id: byocCall, direction: "outbound" });
    expect((await resigned(initiated, JSON.stringify(envelope), "customer")).status).toBe(403);
    expect(await commands(id, "answer")).toEqual([]);
    expect((await platform.org.get("/calls?direction=inbound")).body.data).toEqual([]);

    // The same events still pass with the platform's signature.
    expect((await resigned(answered, answered.body, "platform")).status).toBe(200);
    expect((await callView(platform.org, platformCall)).status).toBe("in_progress");
  });
});
