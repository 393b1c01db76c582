import { generateKeyPairSync, randomBytes, randomUUID, sign } from "node:crypto";
import type { Fake, FakeRequest, FakeResponse } from "./server";

/**
 * Fake of Telnyx API v2 for numbers, checking what the real one checks: `Authorization: Bearer`
 * with a known key, JSON bodies, and Telnyx's answers (`{data, meta}` lists, `available_phone_number`
 * records with `features`, `cost_information`, `region_information`, number orders, Call Control
 * Applications) and its `{errors:[{code, title, detail}]}` failures.
 *
 * Keys:
 * - `KEYplatformtelnyx`: the platform account.
 * - `KEYcustomertelnyx`: a customer's own account, which already holds every number
 *   `+1{area}55502NN` (the BYOC range tests import).
 *
 * Calls (Call Control v2): `POST /v2/calls` checks what Telnyx checks (a Call Control Application
 * of the account, a `from` the account holds, base64 `client_state`, the `stream_*` and AMD
 * options; a repeated `command_id` returns the same call) and scripts the call's outcome by the
 * destination's last four digits, like the simulator: …0002 rings out, …0003 is busy, …0004 is
 * answered by a machine (with `greeting_end`/`detect_beep`/`detect_words` AMD its
 * `call.machine.greeting.ended` follows the verdict), …0005 fails, anything else is answered by a person. The worker under
 * test has no port the fake could call, so the webhooks Telnyx would send are handed to the test
 * to replay, `GET /__fakes/telnyx/webhooks?call=<call_control_id>`, signed at that moment with
 * the Ed25519 key of the call's account the way Telnyx signs them (public keys:
 * `GET /__fakes/telnyx/public-key`, the platform's also exported for the test configuration, and
 * `?account=customer` for the customer account's).
 * `actions/answer`, `actions/speak`, `actions/hangup` and `actions/transfer` (`to` E.164 or SIP)
 * add the webhooks they cause, `actions/send_dtmf` (digits 0-9 A-D * # w W, `duration_millis`
 * 100-500) is checked and recorded; a command on a call that ended is 422 code 90018. `POST /__fakes/telnyx/inbound {from, to}` places a call
 * to a held number (its `call.initiated` goes to the number's application), and
 * `POST /__fakes/telnyx/sign?account=platform|customer {body, timestamp}` signs anything, e.g.
 * stale or forged webhooks.
 *
 * Scripted failures, chosen by the number so concurrent test files never disturb each other:
 * - search with `filter[national_destination_code]=500` → 500; with `504` → an answer only after
 *   2 s (timeouts).
 * - order of a number ending `9999` → 422 (not available).
 * - order ending `5000` → 500, nothing bought; ending `5001` → 500 after the number WAS bought.
 * - DELETE of a number ending `5005` → 500.
 */

const KEYS = new Set(["KEYplatformtelnyx", "KEYcustomertelnyx"]);
const BYOC_KEY = "KEYcustomertelnyx";
const BYOC_RANGE = /^\+1\d{3}55502\d{2}$/;

const INVENTORY_SIZE = 40;
const NUMBER_TYPES = ["local", "toll_free", "mobile", "national", "shared_cost"];

interface HeldNumber {
  id: string;
  key: string;
  phoneNumber: string;
  connectionId: string | null;
  created: string;
  updated: string;
}

interface Application {
  id: string;
  key: string;
  name: string;
  webhookEventUrl: string;
  created: string;
}

const held = new Map<string, HeldNumber>();
const applications = new Map<string, Application>();

function errors(status: number, code: string, title: string, detail: string, source?: Record<string, string>): FakeResponse {
  return { status, body: { errors: [{ code, title, detail, ...(source ? { source } : {}) }] } };
}

const unexpected = () => errors(500, "10007", "Unexpected error", "An unexpected error occurred.");

function phoneNumberRecord(number: HeldNumber) {
  const app = number.connectionId ? applications.get(number.connectionId) : undefined;
  return {
    id: number.id,
    record_type: "phone_number",
    phone_number: number.phoneNumber,
    status: "active",
    tags: [],
    connection_id: number.connectionId,
    connection_name: app?.name ?? null,
    customer_reference: null,
    external_pin: null,
    billing_group_id: null,
    messaging_profile_id: null,
    emergency_enabled: false,
    call_forwarding_enabled: true,
    cnam_listing_enabled: false,
    caller_id_name_enabled: false,
    call_recording_enabled: false,
    t38_fax_gateway_enabled: false,
    phone_number_type: "local",
    purchased_at: number.created,
    created_at: number.created,
    updated_at: number.updated,
  };
}

function applicationRecord(app: Application) {
  return {
    id: app.id,
    record_type: "call_control_application",
    application_name: app.name,
    webhook_event_url: app.webhookEventUrl,
    webhook_event_failover_url: "",
    webhook_api_version: "2",
    webhook_timeout_secs: null,
    active: true,
    anchorsite_override: "Latency",
    dtmf_type: "RFC 2833",
    first_command_timeout: false,
    first_command_timeout_secs: 30,
    created_at: app.created,
    updated_at: app.created,
  };
}

function hold(key: string, phoneNumber: string, connectionId: string | null): HeldNumber {
  const now = new Date().toISOString();
  const number = { id: randomUUID(), key, phoneNumber, connectionId, created: now, updated: now };
  held.set(phoneNumber, number);
  return number;
}

/** The key's numbers whose digits contain `digits`, materialising the BYOC range on first sight. */
function numbersOf(key: string, digits: string | null): HeldNumber[] {
  if (digits && key === BYOC_KEY && BYOC_RANGE.test(`+${digits}`) && !held.has(`+${digits}`)) hold(key, `+${digits}`, null);
  return [...held.values()].filter((n) => n.key === key && (!digits || n.phoneNumber.replace(/\D/g, "").includes(digits)));
}

function listMeta(total: number) {
  return { page_number: 1, page_size: 250, total_pages: total === 0 ? 0 : 1, total_results: total };
}

/** Telnyx reads JSON only; anything else is a 400 before any field is looked at. */
function jsonBody(request: FakeRequest): Record<string, unknown> | undefined {
  if (!(request.headers["content-type"] ?? "").startsWith("application/json")) return undefined;
  try {
    const parsed = JSON.parse(request.body) as unknown;
    return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const notJson = () => errors(400, "10015", "Bad Request", "The request body must be a JSON object sent as application/json.");

const SLOW_ANSWER_MS = 2000;

async function searchAvailable(request: FakeRequest): Promise<FakeResponse> {
  const q = request.url.searchParams;
  const country = q.get("filter[country_code]");
  if (!country) {
    return errors(422, "10015", "Invalid value", "filter[country_code] is required", { parameter: "filter[country_code]" });
  }
  const type = q.get("filter[phone_number_type]") ?? "local";
  if (!NUMBER_TYPES.includes(type)) {
    return errors(422, "10015", "Invalid value", `Unknown phone_number_type ${type}`, { parameter: "filter[phone_number_type]" });
  }
  const ndc = q.get("filter[national_destination_code]") ?? (type === "toll_free" ? "888" : "312");
  if (ndc === "500") return unexpected();
  if (ndc === "504") await new Promise((resolve) => setTimeout(resolve, SLOW_ANSWER_MS));
  const limit = Number(q.get("filter[limit]") ?? "50");
  if (!Number.isInteger(limit) || limit < 1) return errors(422, "10015", "Invalid value", "filter[limit] must be a positive integer");
  if (country !== "US" && country !== "CA") return { status: 200, body: { data: [], meta: { total_results: 0, best_effort_results: 0 } } };
  const locality = q.get("filter[locality]") ?? "Chicago";
  const state = q.get("filter[administrative_area]") ?? "IL";
  const data = Array.from({ length: Math.min(limit, INVENTORY_SIZE) }, (_, i) => `+1${ndc}555${2000 + i}`)
    .filter((e164) => !held.has(e164))
    .map((e164) => ({
      record_type: "available_phone_number",
      phone_number: e164,
      vanity_format: "",
      best_effort: false,
      quickship: true,
      reservable: true,
      region_information: [
        { region_type: "location", region_name: locality },
        { region_type: "rate_center", region_name: locality.toUpperCase() },
        { region_type: "state", region_name: state },
        { region_type: "country_code", region_name: country },
      ],
      cost_information: { upfront_cost: "1.00", monthly_cost: "1.00", currency: "USD" },
      features: [{ name: "voice" }, { name: "sms" }, { name: "emergency" }],
    }));
  return { status: 200, body: { data, meta: { total_results: INVENTORY_SIZE, best_effort_results: 0 } } };
}

function order(request: FakeRequest, key: string): FakeResponse {
  const body = jsonBody(request);
  if (!body) return notJson();
  const requested = body.phone_numbers;
  if (!Array.isArray(requested) || requested.length === 0 || requested.some((n) => typeof n?.phone_number !== "string")) {
    return errors(422, "10015", "Invalid value", "phone_numbers must be a non-empty array of {phone_number}", { pointer: "/phone_numbers" });
  }
  const connectionId = typeof body.connection_id === "string" ? body.connection_id : null;
  if (connectionId && applications.get(connectionId)?.key !== key) {
    return errors(422, "10015", "Invalid value", "connection_id does not belong to this account", { pointer: "/connection_id" });
  }
  const phoneNumbers = requested.map((n: { phone_number: string }) => n.phone_number);
  for (const e164 of phoneNumbers) {
    if (e164.endsWith("5000")) return unexpected();
    if (e164.endsWith("9999") || held.has(e164) || BYOC_RANGE.test(e164)) {
      return errors(422, "85001", "Number not available", `${e164} is no longer available for purchase`, { pointer: "/phone_numbers" });
    }
  }
  const numbers = phoneNumbers.map((e164) => hold(key, e164, connectionId));
  if (phoneNumbers.some((e164) => e164.endsWith("5001"))) return unexpected();
  const now = new Date().toISOString();
  return {
    status: 200,
    body: {
      data: {
        id: randomUUID(),
        record_type: "number_order",
        status: "success",
        phone_numbers_count: numbers.length,
        connection_id: connectionId,
        messaging_profile_id: null,
        billing_group_id: null,
        customer_reference: null,
        requirements_met: true,
        sub_number_orders_ids: [],
        created_at: now,
        updated_at: now,
        phone_numbers: numbers.map((n) => ({
          id: randomUUID(),
          record_type: "number_order_phone_number",
          phone_number: n.phoneNumber,
          status: "success",
          regulatory_requirements: [],
          requirements_met: true,
        })),
      },
    },
  };
}


// ---- Call Control ----

/** Telnyx signs each account's webhooks with that account's own key pair. */
const signingKeys = { platform: generateKeyPairSync("ed25519"), customer: generateKeyPairSync("ed25519") };
type Account = keyof typeof signingKeys;
const accountOf = (key: string): Account => (key === BYOC_KEY ? "customer" : "platform");

/** An account's public key as Telnyx shows it: base64 of the raw 32 bytes. */
const publicKeyOf = (account: Account) => Buffer.from(signingKeys[account].publicKey.export({ format: "jwk" }).x ?? "", "base64url").toString("base64");
export const TELNYX_PUBLIC_KEY = publicKeyOf("platform");

/** Telnyx's signature: Ed25519 over `${timestamp}|${body}`, base64, with the account's key. */
export function telnyxSign(body: string, timestamp: number, account: Account = "platform"): string {
  return sign(null, Buffer.from(`${timestamp}|${body}`, "utf8"), signingKeys[account].privateKey).toString("base64");
}

/** A webhook Telnyx would send to the worker, ready for the test to replay. */
export interface ScriptedWebhook {
  event_type: string;
  url: string;
  method: "POST";
  headers: Record<string, string>;
  body: string;
}

interface PendingWebhook {
  url: string;
  envelope: { data: Record<string, unknown>; meta: Record<string, unknown> };
}

interface FakeCall {
  callControlId: string;
  callLegId: string;
  callSessionId: string;
  key: string;
  connectionId: string;
  from: string;
  to: string;
  direction: "outgoing" | "incoming";
  webhookUrl: string;
  clientState: string | null;
  answered: boolean;
  ended: boolean;
  /** Scripted to be answered (by a person or a machine). */
  answers: boolean;
  machineDetection: boolean;
  /** `greeting_end`, `detect_beep` or `detect_words`: a machine's verdict is followed by `call.machine.greeting.ended`. */
  greetingEnd: boolean;
  streamUrl: string | null;
  created: number;
  commandIds: Set<string>;
  webhooks: PendingWebhook[];
}

const fakeCalls = new Map<string, FakeCall>();
/** Dial `command_id`s per key, so a repeated dial returns the call it created. */
const dialCommands = new Map<string, string>();

const RING_MS = 1000;
const ANSWER_MS = 3000;
const TALK_MS = 5000;
const CODECS = ["PCMU", "PCMA", "G722", "OPUS", "AMR-WB", "L16", "default"];
const AMD_MODES = ["detect", "detect_beep", "detect_words", "greeting_end", "premium", "disabled"];

function addWebhook(call: FakeCall, eventType: string, afterMs: number, extra: Record<string, unknown> = {}) {
  const occurredAt = new Date(call.created + afterMs).toISOString();
  call.webhooks.push({
    url: call.webhookUrl,
    envelope: {
      data: {
        record_type: "event",
        event_type: eventType,
        id: randomUUID(),
        occurred_at: occurredAt,
        payload: {
          call_control_id: call.callControlId,
          call_leg_id: call.callLegId,
          call_session_id: call.callSessionId,
          client_state: call.clientState,
          connection_id: call.connectionId,
          from: call.from,
          to: call.to,
          direction: call.direction,
          ...extra,
        },
      },
      meta: { attempt: 1, delivered_to: call.webhookUrl },
    },
  });
}

function addHangup(call: FakeCall, afterMs: number, cause: string, source: "caller" | "callee" | "unknown") {
  addWebhook(call, "call.hangup", afterMs, {
    state: "hangup",
    hangup_cause: cause,
    hangup_source: source,
    sip_hangup_cause: cause === "normal_clearing" ? "200" : cause === "user_busy" ? "486" : cause === "timeout" ? "487" : "503",
    start_time: new Date(call.created).toISOString(),
    end_time: new Date(call.created + afterMs).toISOString(),
  });
}

/** The answer, the media stream starting and (when asked) the AMD verdict. */
function addAnswer(call: FakeCall, afterMs: number, result: "human" | "machine") {
  call.answered = true;
  addWebhook(call, "call.answered", afterMs, { state: "answered", start_time: new Date(call.created).toISOString() });
  if (call.streamUrl) addWebhook(call, "streaming.started", afterMs + 100, { stream_url: call.streamUrl });
  if (call.machineDetection) addWebhook(call, "call.machine.detection.ended", afterMs + 2000, { result });
  // The machine's greeting ends with a beep a few seconds after the verdict.
  if (call.greetingEnd && result === "machine") addWebhook(call, "call.machine.greeting.ended", afterMs + 4000, { result: "beep_detected" });
}

function scriptOutbound(call: FakeCall, timeoutSecs: number) {
  addWebhook(call, "call.initiated", 0, { state: "bridging" });
  switch (call.to.slice(-4)) {
    case "0002":
      return addHangup(call, timeoutSecs * 1000, "timeout", "unknown");
    case "0003":
      return addHangup(call, RING_MS, "user_busy", "callee");
    case "0005":
      return addHangup(call, RING_MS, "unspecified", "unknown");
    default:
      addAnswer(call, ANSWER_MS, call.to.endsWith("0004") ? "machine" : "human");
      return addHangup(call, ANSWER_MS + TALK_MS, "normal_clearing", "callee");
  }
}

function callRecord(call: FakeCall) {
  return {
    record_type: "call",
    call_control_id: call.callControlId,
    call_leg_id: call.callLegId,
    call_session_id: call.callSessionId,
    client_state: call.clientState,
    is_alive: !call.ended,
    call_duration: 0,
    start_time: new Date(call.created).toISOString(),
    end_time: null,
  };
}

const invalid = (pointer: string, detail: string) => errors(422, "10015", "Invalid value", detail, { pointer });

function isBase64(value: unknown): boolean {
  return typeof value === "string" && value.length > 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(value) && value.length % 4 === 0;
}

/** The `stream_*` options shared by dial and answer. */
function checkStream(body: Record<string, unknown>): FakeResponse | undefined {
  if (body.stream_url !== undefined && (typeof body.stream_url !== "string" || !/^wss?:\/\/[^\s?]+$/.test(body.stream_url))) {
    return invalid("/stream_url", "stream_url must be a ws:// or wss:// URL");
  }
  if (body.stream_track !== undefined && !["inbound_track", "outbound_track", "both_tracks"].includes(String(body.stream_track))) {
    return invalid("/stream_track", "stream_track must be inbound_track, outbound_track or both_tracks");
  }
  if (body.stream_bidirectional_mode !== undefined && !["mp3", "rtp"].includes(String(body.stream_bidirectional_mode))) {
    return invalid("/stream_bidirectional_mode", "stream_bidirectional_mode must be mp3 or rtp");
  }
  for (const field of ["stream_codec", "stream_bidirectional_codec"]) {
    if (body[field] !== undefined && !CODECS.includes(String(body[field]))) return invalid(`/${field}`, `${field} is not a supported codec`);
  }
  if (body.client_state !== undefined && !isBase64(body.client_state)) return invalid("/client_state", "client_state must be base64");
  return undefined;
}

function dial(request: FakeRequest, key: string): FakeResponse {
  const body = jsonBody(request);
  if (!body) return notJson();
  const app = typeof body.connection_id === "string" ? applications.get(body.connection_id) : undefined;
  if (!app || app.key !== key) return invalid("/connection_id", "connection_id must be a Call Control Application of this account");
  if (typeof body.to !== "string" || !/^\+[1-9]\d{1,14}$/.test(body.to)) return invalid("/to", "to must be an E.164 number");
  if (typeof body.from !== "string" || !/^\+[1-9]\d{1,14}$/.test(body.from)) return invalid("/from", "from must be an E.164 number");
  if (numbersOf(key, body.from.slice(1)).every((n) => n.phoneNumber !== body.from)) {
    return invalid("/from", `from ${body.from} must be a number on this account or a verified number`);
  }
  if (body.webhook_url !== undefined && (typeof body.webhook_url !== "string" || !/^https?:\/\//.test(body.webhook_url))) return invalid("/webhook_url", "webhook_url must be a URL");
  for (const field of ["timeout_secs", "time_limit_secs"]) {
    if (body[field] !== undefined && (!Number.isInteger(body[field]) || (body[field] as number) < 1)) return invalid(`/${field}`, `${field} must be a positive integer`);
  }
  if (body.answering_machine_detection !== undefined && !AMD_MODES.includes(String(body.answering_machine_detection))) {
    return invalid("/answering_machine_detection", "answering_machine_detection is not a supported mode");
  }
  const streamProblem = checkStream(body);
  if (streamProblem) return streamProblem;

  const commandKey = typeof body.command_id === "string" ? `${key}:${body.command_id}` : null;
  const repeated = commandKey ? fakeCalls.get(dialCommands.get(commandKey) ?? "") : undefined;
  if (repeated) return { status: 200, body: { data: callRecord(repeated) } };

  const outcome = body.to.slice(-4);
  const call: FakeCall = {
    callControlId: `v3:${randomBytes(24).toString("base64url")}`,
    callLegId: randomUUID(),
    callSessionId: randomUUID(),
    key,
    connectionId: app.id,
    from: body.from,
    to: body.to,
    direction: "outgoing",
    webhookUrl: typeof body.webhook_url === "string" ? body.webhook_url : app.webhookEventUrl,
    clientState: typeof body.client_state === "string" ? body.client_state : null,
    answered: false,
    ended: false,
    answers: !["0002", "0003", "0005"].includes(outcome),
    machineDetection: body.answering_machine_detection !== undefined && body.answering_machine_detection !== "disabled",
    greetingEnd: ["greeting_end", "detect_beep", "detect_words"].includes(String(body.answering_machine_detection)),
    streamUrl: typeof body.stream_url === "string" ? body.stream_url : null,
    created: Date.now(),
    commandIds: new Set(),
    webhooks: [],
  };
  fakeCalls.set(call.callControlId, call);
  if (commandKey) dialCommands.set(commandKey, call.callControlId);
  scriptOutbound(call, typeof body.timeout_secs === "number" ? body.timeout_secs : 30);
  return { status: 200, body: { data: callRecord(call) } };
}

const alreadyEnded = () => errors(422, "90018", "Call has already ended", "This call is no longer active and can't receive commands.");

/** Drops the scripted end of the call (and anything after it), which a command replaces. */
function dropScriptedEnd(call: FakeCall) {
  const index = call.webhooks.findIndex((w) => w.envelope.data.event_type === "call.hangup");
  if (index >= 0) call.webhooks.splice(index);
}

function command(request: FakeRequest, key: string, callControlId: string, action: string): FakeResponse | undefined {
  const call = fakeCalls.get(callControlId);
  if (!call || call.key !== key) return errors(404, "10005", "Resource not found", "The requested resource or URL could not be found.");
  const body = jsonBody(request);
  if (!body) return notJson();
  if (call.ended) return alreadyEnded();
  if (typeof body.command_id === "string") {
    if (call.commandIds.has(`${action}:${body.command_id}`)) return { status: 200, body: { data: { result: "ok" } } };
    call.commandIds.add(`${action}:${body.command_id}`);
  }
  const lastAt = () => Math.max(0, ...call.webhooks.map((w) => Date.parse(String(w.envelope.data.occurred_at)) - call.created));
  switch (action) {
    case "hangup": {
      dropScriptedEnd(call);
      call.ended = true;
      // We are the caller on our outbound calls and the callee on inbound ones.
      const us = call.direction === "outgoing" ? "caller" : "callee";
      addHangup(call, lastAt() + 1000, call.answered ? "normal_clearing" : "originator_cancel", us);
      break;
    }
    case "answer": {
      if (call.direction !== "incoming" || call.answered) return errors(422, "90015", "Invalid call state", "Only a ringing incoming call can be answered.");
      const streamProblem = checkStream(body);
      if (streamProblem) return streamProblem;
      if (typeof body.client_state === "string") call.clientState = body.client_state;
      call.streamUrl = typeof body.stream_url === "string" ? body.stream_url : null;
      dropScriptedEnd(call);
      addAnswer(call, lastAt() + 500, "human");
      addHangup(call, lastAt() + TALK_MS, "normal_clearing", "caller");
      break;
    }
    case "speak": {
      if (!call.answered) return errors(422, "90015", "Invalid call state", "Speak needs an answered call.");
      if (typeof body.payload !== "string" || !body.payload) return invalid("/payload", "payload is required");
      if (typeof body.voice !== "string" || !body.voice) return invalid("/voice", "voice is required");
      dropScriptedEnd(call);
      addWebhook(call, "call.speak.started", lastAt() + 100);
      addWebhook(call, "call.speak.ended", lastAt() + 3000, { status: "completed" });
      break;
    }
    case "transfer": {
      if (!call.answered) return errors(422, "90015", "Invalid call state", "Only an answered call can be transferred.");
      if (typeof body.to !== "string" || !(/^\+[1-9]\d{1,14}$/.test(body.to) || /^sips?:[^\s@]+@[^\s]+$|^sips?:[^\s@]+$/.test(body.to))) {
        return invalid("/to", "to must be an E.164 number or a SIP URI");
      }
      if (body.from !== undefined && (typeof body.from !== "string" || !/^\+[1-9]\d{1,14}$/.test(body.from))) return invalid("/from", "from must be an E.164 number");
      // The callee now talks to the new party; the call ends when they hang up.
      dropScriptedEnd(call);
      addWebhook(call, "call.bridged", lastAt() + 2000, { state: "bridged", to: body.to });
      addHangup(call, lastAt() + TALK_MS, "normal_clearing", "callee");
      break;
    }
    case "send_dtmf": {
      if (!call.answered) return errors(422, "90015", "Invalid call state", "DTMF needs an answered call.");
      if (typeof body.digits !== "string" || !/^[0-9A-D*#wW]+$/.test(body.digits)) return invalid("/digits", "digits may hold 0-9, A-D, *, #, w and W only");
      if (body.duration_millis !== undefined && (!Number.isInteger(body.duration_millis) || (body.duration_millis as number) < 100 || (body.duration_millis as number) > 500)) {
        return invalid("/duration_millis", "duration_millis must be an integer from 100 to 500");
      }
      break;
    }
    default:
      return undefined;
  }
  return { status: 200, body: { data: { result: "ok" } } };
}

/** A caller dialling one of the held numbers: Telnyx tells the number's application. */
function inboundCall(request: FakeRequest): FakeResponse {
  const { from, to } = JSON.parse(request.body || "{}") as { from?: string; to?: string };
  const number = to ? held.get(to) : undefined;
  const app = number?.connectionId ? applications.get(number.connectionId) : undefined;
  if (!from || !number || !app) return { status: 404, body: { error: `no held number ${to} on a Call Control Application` } };
  const call: FakeCall = {
    callControlId: `v3:${randomBytes(24).toString("base64url")}`,
    callLegId: randomUUID(),
    callSessionId: randomUUID(),
    key: number.key,
    connectionId: app.id,
    from,
    to: number.phoneNumber,
    direction: "incoming",
    webhookUrl: app.webhookEventUrl,
    clientState: null,
    answered: false,
    ended: false,
    answers: true,
    machineDetection: false,
    greetingEnd: false,
    streamUrl: null,
    created: Date.now(),
    commandIds: new Set(),
    webhooks: [],
  };
  fakeCalls.set(call.callControlId, call);
  addWebhook(call, "call.initiated", 0, { state: "parked", start_time: new Date(call.created).toISOString() });
  return { status: 201, body: { call_control_id: call.callControlId } };
}

/** The call's webhooks as Telnyx would deliver them now: signed with a current timestamp. */
function deliveries(call: FakeCall): ScriptedWebhook[] {
  const timestamp = Math.floor(Date.now() / 1000);
  return call.webhooks.map((w) => {
    const body = JSON.stringify(w.envelope);
    return {
      event_type: String(w.envelope.data.event_type),
      url: w.url,
      method: "POST",
      headers: {
        "content-type": "application/json",
        "telnyx-signature-ed25519": telnyxSign(body, timestamp, accountOf(call.key)),
        "telnyx-timestamp": String(timestamp),
      },
      body,
    };
  });
}

async function handle(request: FakeRequest, key: string, path: string): Promise<FakeResponse | undefined> {
  if (path === "available_phone_numbers" && request.method === "GET") return searchAvailable(request);
  if (path === "calls" && request.method === "POST") return dial(request, key);
  const action = /^calls\/([^/]+)\/actions\/([a-z_]+)$/.exec(path);
  if (action && request.method === "POST") return command(request, key, decodeURIComponent(action[1]), action[2]);
  if (path === "number_orders" && request.method === "POST") return order(request, key);

  if (path === "phone_numbers" && request.method === "GET") {
    const filter = request.url.searchParams.get("filter[phone_number]");
    if (filter !== null && !/^\d+$/.test(filter)) return { status: 200, body: { data: [], meta: listMeta(0) } };
    const data = numbersOf(key, filter).map(phoneNumberRecord);
    return { status: 200, body: { data, meta: listMeta(data.length) } };
  }

  const single = /^phone_numbers\/([0-9a-f-]{36})$/.exec(path);
  if (single) {
    const number = [...held.values()].find((n) => n.id === single[1] && n.key === key);
    if (!number) return errors(404, "10005", "Resource not found", "The requested resource or URL could not be found.");
    if (request.method === "GET") return { status: 200, body: { data: phoneNumberRecord(number) } };
    if (request.method === "PATCH") {
      const body = jsonBody(request);
      if (!body) return notJson();
      if (typeof body.connection_id === "string") {
        if (applications.get(body.connection_id)?.key !== key) {
          return errors(422, "10015", "Invalid value", "connection_id does not belong to this account", { pointer: "/connection_id" });
        }
        number.connectionId = body.connection_id;
      }
      number.updated = new Date().toISOString();
      return { status: 200, body: { data: phoneNumberRecord(number) } };
    }
    if (request.method === "DELETE") {
      if (number.phoneNumber.endsWith("5005")) return unexpected();
      held.delete(number.phoneNumber);
      return { status: 200, body: { data: { ...phoneNumberRecord(number), status: "deleted" } } };
    }
  }

  if (path === "call_control_applications") {
    if (request.method === "GET") {
      const contains = request.url.searchParams.get("filter[application_name][contains]") ?? "";
      const data = [...applications.values()].filter((a) => a.key === key && a.name.includes(contains)).map(applicationRecord);
      return { status: 200, body: { data, meta: listMeta(data.length) } };
    }
    if (request.method === "POST") {
      const body = jsonBody(request);
      if (!body) return notJson();
      if (typeof body.application_name !== "string" || !body.application_name) {
        return errors(422, "10015", "Invalid value", "application_name is required", { pointer: "/application_name" });
      }
      if (typeof body.webhook_event_url !== "string" || !/^https?:\/\//.test(body.webhook_event_url)) {
        return errors(422, "10015", "Invalid value", "webhook_event_url must be a URL", { pointer: "/webhook_event_url" });
      }
      const app = { id: String(Date.now()) + String(applications.size), key, name: body.application_name, webhookEventUrl: body.webhook_event_url, created: new Date().toISOString() };
      applications.set(app.id, app);
      return { status: 201, body: { data: applicationRecord(app) } };
    }
  }
  return undefined;
}

export const telnyxFake: Fake = {
  service: "telnyx",
  handle(request) {
    const match = /^\/v2\/(.+)$/.exec(request.url.pathname);
    if (!match) return undefined;
    const token = /^Bearer\s+(\S+)$/.exec(request.headers.authorization ?? "")?.[1];
    if (!token || !KEYS.has(token)) {
      return errors(401, "10009", "Authentication failed", "The API key provided is invalid or missing. Send it as Authorization: Bearer <key>.");
    }
    return handle(request, token, match[1]);
  },
  control(request) {
    const path = request.url.pathname;
    const account: Account = request.url.searchParams.get("account") === "customer" ? "customer" : "platform";
    if (path === "/__fakes/telnyx/public-key" && request.method === "GET") return { status: 200, body: { public_key: publicKeyOf(account) } };
    if (path === "/__fakes/telnyx/webhooks" && request.method === "GET") {
      const call = fakeCalls.get(request.url.searchParams.get("call") ?? "");
      return call ? { status: 200, body: deliveries(call) } : { status: 404, body: { error: "no such call" } };
    }
    if (path === "/__fakes/telnyx/inbound" && request.method === "POST") return inboundCall(request);
    if (path === "/__fakes/telnyx/sign" && request.method === "POST") {
      const { body, timestamp } = JSON.parse(request.body || "{}") as { body?: string; timestamp?: number };
      if (typeof body !== "string" || !Number.isInteger(timestamp)) return { status: 400, body: { error: "body (string) and timestamp (unix seconds) are required" } };
      return { status: 200, body: { signature: telnyxSign(body, timestamp as number, account) } };
    }
    return undefined;
  },
};
