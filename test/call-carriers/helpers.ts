import { runDurableObjectAlarm } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { CATALOGUE_VOICE_ID, newOrg, type ApiClient } from "../helpers/api";

/**
 * An org with an active agent and a number bought (or imported) through the API, so the number
 * is really held by the fake carrier account, with the carrier's voice webhook pointed at us.
 */

export type Org = ApiClient & { orgId: string };

/**
 * Numbers no other test file buys: a rarely used area code and a random run per file among 3.2
 * million (the fake carriers hold every number bought in a run, and a run of 4,000 numbers had
 * two files collide). Lines 1000–4999 stay clear of the fakes' scripted endings (0002–0005,
 * 5000+, 9999) and of the BYOC range.
 */
const FRESH_NUMBERS = 800 * 4000;
let next = Math.floor(Math.random() * FRESH_NUMBERS);
export function freshNumber(): string {
  next = (next + 1) % FRESH_NUMBERS;
  return `+1628${200 + Math.floor(next / 4000)}${1000 + (next % 4000)}`;
}

/** Twilio's customer (BYOC) account in test/fakes/twilio.ts, which holds every +1{area}55502NN. */
export const BYOC_TWILIO = { account_sid: "AC11111111111111111111111111111111", auth_token: "customer-twilio-token" };
let byocNext = Math.floor(Math.random() * 90);
export function freshByocNumber(): string {
  byocNext = (byocNext + 1) % 100;
  return `+1${300 + Math.floor(Math.random() * 600)}55502${String(byocNext).padStart(2, "0")}`;
}

export async function carrierOrg(
  provider: "twilio" | "telnyx",
  options: { inbound?: boolean; outbound?: boolean; byoc?: boolean } = {},
) {
  const org = await newOrg();
  const agent = await org.post("/agents", {
    name: "Caller",
    voice_id: CATALOGUE_VOICE_ID,
    system_prompt: "You are calling {{first_name}}.",
    join_timeout: 20,
    max_duration: 60,
  });
  if (agent.status !== 201) throw new Error(`agent: ${agent.status} ${JSON.stringify(agent.body)}`);
  const agentId = agent.body.data.id as string;
  const number = options.byoc
    ? await org.post("/telephony/numbers/import", { provider_type: "twilio", phone_number: freshByocNumber(), ...BYOC_TWILIO })
    : await org.post("/telephony/numbers/purchase", { provider, phone_number: freshNumber() });
  if (number.status !== 201) throw new Error(`number: ${number.status} ${JSON.stringify(number.body)}`);
  const numberId = number.body.data.id as string;
  for (const direction of ["outbound", "inbound"] as const) {
    if (options[direction] === false) continue;
    const res = await org.post("/telephony/numbers/assign", { number_id: numberId, agent_id: agentId, assignment_type: direction });
    if (res.status !== 200) throw new Error(`assign: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return { org, agentId, numberId, from: number.body.data.phone_number as string };
}

/**
 * Creates a call through the API and waits for its object to dial the carrier. These tests run
 * on the real clock (carrier signatures and timestamps are real), so the dial alarm, due at
 * once, may fire by itself or be run here, whichever comes first.
 */
export async function placeCall(org: Org, agentId: string, to: string, callSettings: Record<string, unknown> = {}) {
  const created = await org.post("/calls", { agent_id: agentId, phone_number: to, call_settings: callSettings });
  if (created.status !== 201) throw new Error(`call: ${created.status} ${JSON.stringify(created.body)}`);
  const callId = created.body.data.id as string;
  const stub = env.CALL.get(env.CALL.idFromName(callId));
  for (let attempt = 0; attempt < 100; attempt++) {
    const row = await callRecord(callId);
    if (row?.provider_call_id || row?.status !== "queued") return callId;
    await runDurableObjectAlarm(stub);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`call ${callId} was never dialled`);
}

/** The D1 row as stored (the carrier's call id is not part of the public call object). */
export async function callRecord(callId: string) {
  return env.DB.prepare("SELECT * FROM calls WHERE id = ?").bind(callId).first<Record<string, unknown>>();
}

export async function callView(org: Org, callId: string) {
  return (await org.get(`/calls/${callId}`)).body.data;
}

export interface CarrierRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
}

/** Replays a request a fake carrier produced into the worker, as the carrier would send it. */
export async function deliver(request: CarrierRequest, changes: { body?: string; headers?: Record<string, string> } = {}) {
  const res = await exports.default.fetch(
    new Request(request.url, { method: request.method, headers: { ...request.headers, ...changes.headers }, body: changes.body ?? request.body }),
  );
  return { status: res.status, contentType: res.headers.get("content-type"), text: await res.text() };
}

async function control<T>(path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(new URL(path, env.FAKES_CONTROL_URL), init);
  if (!res.ok) throw new Error(`fake control ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export type TwilioCallback = CarrierRequest & { kind: "voice" | "twiml" | "status" | "amd" | "recording" };
export const twilioCallbacks = (sid: string) => control<TwilioCallback[]>(`/__fakes/twilio/callbacks?call=${encodeURIComponent(sid)}`);
export const twilioInbound = (from: string, to: string) =>
  control<{ sid: string; callbacks: TwilioCallback[] }>("/__fakes/twilio/inbound", { method: "POST", body: JSON.stringify({ from, to }) });
export const twilioSign = (accountSid: string, url: string, params?: Record<string, string>) =>
  control<{ signature: string }>("/__fakes/twilio/sign", { method: "POST", body: JSON.stringify({ account_sid: accountSid, url, params }) }).then((r) => r.signature);

export type TelnyxWebhook = CarrierRequest & { event_type: string };
export const telnyxWebhooks = (callControlId: string) => control<TelnyxWebhook[]>(`/__fakes/telnyx/webhooks?call=${encodeURIComponent(callControlId)}`);
export const telnyxInbound = (from: string, to: string) =>
  control<{ call_control_id: string }>("/__fakes/telnyx/inbound", { method: "POST", body: JSON.stringify({ from, to }) });
/** Signs as the platform Telnyx account, or as the customer (BYOC) account of `KEYcustomertelnyx`. */
export const telnyxSign = (body: string, timestamp: number, account: "platform" | "customer" = "platform") =>
  control<{ signature: string }>(`/__fakes/telnyx/sign?account=${account}`, { method: "POST", body: JSON.stringify({ body, timestamp }) }).then((r) => r.signature);
export const telnyxPublicKey = (account: "platform" | "customer") =>
  control<{ public_key: string }>(`/__fakes/telnyx/public-key?account=${account}`).then((r) => r.public_key);

/** A form callback's fields. */
export const fields = (request: CarrierRequest) => Object.fromEntries(new URLSearchParams(request.body));
