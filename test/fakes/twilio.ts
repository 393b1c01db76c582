import { createHash, createHmac, randomBytes, randomUUID } from "node:crypto";
import type { Fake, FakeRequest, FakeResponse } from "./server";

/**
 * Fake of Twilio's 2010-04-01 REST API for phone numbers and calls, checking what the real one
 * checks: HTTP Basic auth of a known account whose SID matches the path, form-encoded write
 * bodies, and Twilio's JSON answers (AvailablePhoneNumber lists, IncomingPhoneNumber resources
 * with `PN…` SIDs, Call resources with `CA…` SIDs, `{code, message, more_info, status}` errors).
 *
 * Calls: `POST …/Calls.json` checks the parameters the way Twilio does (a `From` the account
 * holds, `StatusCallbackEvent` values, AMD and recording options) and scripts the call's
 * outcome by the destination's last four digits, like the simulator: …0002 rings out, …0003 is
 * busy, …0004 is answered by a machine (AnsweredBy `machine_start`, or `machine_end_beep` with
 * `MachineDetection=DetectMessageEnd`), …0005 fails, anything else is answered by a person.
 * The worker under test has no port the fake could call, so the requests Twilio would send (the
 * TwiML fetch, status, AMD and recording callbacks), signed with the account's auth token the
 * way Twilio signs them, are handed to the test to replay: `GET /__fakes/twilio/callbacks?call=CA…`.
 * `POST …/Calls/{sid}.json` with `Status=completed` ends the call (its scripted end becomes a
 * hang-up from our side); with `Twiml` (checked: ≤ 4000 characters, the verbs Truedy sends) it
 * redirects the live call, e.g. a `<Dial>` transfer or `<Play digits>` before a new stream; a call
 * that already ended, or never existed, is 404 code 20404.
 *
 * Inbound calls: `POST /__fakes/twilio/inbound {from, to}` places a call to a held number and
 * scripts its voice webhook request and, when the number has a StatusCallback, the `completed`
 * callback of the caller hanging up. `POST /__fakes/twilio/sign {account_sid, url, params?}`
 * signs any request the way Twilio does, e.g. a media stream handshake.
 *
 * Accounts:
 * - `AC00000000000000000000000000000000` / `platform-twilio-token`: the platform account.
 * - `AC11111111111111111111111111111111` / `customer-twilio-token`: a customer's own account, which
 *   already holds every number `+1{area}55502NN` (the BYOC range tests import).
 *
 * Scripted failures, chosen by the number so concurrent test files never disturb each other:
 * - search with `AreaCode=500` → 500; with `AreaCode=504` → an answer only after 2 s (timeouts).
 * - purchase of a number ending `9999` → 400 code 21422 (not available).
 * - purchase ending `5000` → 500, nothing bought; ending `5001` → 500 after the number WAS bought.
 * - DELETE of a number ending `5005` → 500.
 * - `POST /__fakes/twilio/fail-calls {to, status?, count?, delay_ms?, create?}`: the next `count`
 *   (default 1) call creations to `to` answer `status` (default 503) after `delay_ms`, creating no
 *   call (an outage, or with a delay past the client's timeout, a carrier that never answers).
 *   With `create: true` the call IS created, and answered 201 only after `delay_ms` (a carrier
 *   slower than the client's timeout); `GET /__fakes/twilio/callbacks?to=` then finds its callbacks.
 */

const ACCOUNTS: Record<string, string> = {
  AC00000000000000000000000000000000: "platform-twilio-token",
  AC11111111111111111111111111111111: "customer-twilio-token",
};
const BYOC_ACCOUNT = "AC11111111111111111111111111111111";
const BYOC_RANGE = /^\+1\d{3}55502\d{2}$/;

const INVENTORY_SIZE = 40;
const NUMBER_TYPES = ["Local", "TollFree", "Mobile", "National"];

interface IncomingNumber {
  sid: string;
  accountSid: string;
  phoneNumber: string;
  voiceUrl: string | null;
  voiceMethod: string;
  statusCallback: string | null;
  created: string;
  updated: string;
}

/** Every number held by any account, by E.164. */
const held = new Map<string, IncomingNumber>();

function twilioError(status: number, code: number, message: string, headers?: Record<string, string>): FakeResponse {
  return { status, headers, body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status } };
}

const unauthorized = () => twilioError(401, 20003, "Authenticate", { "www-authenticate": 'Basic realm="Twilio API"' });

function friendlyName(e164: string): string {
  const d = e164.slice(2);
  return `(${d.slice(0, 3)}) ${d.slice(3, 6)}-${d.slice(6)}`;
}

function rfc2822(date: Date): string {
  return date.toUTCString().replace("GMT", "+0000");
}

function pnSid(accountSid: string, phoneNumber: string): string {
  return `PN${createHash("md5").update(`${accountSid}:${phoneNumber}`).digest("hex")}`;
}

function resource(number: IncomingNumber) {
  return {
    account_sid: number.accountSid,
    address_requirements: "none",
    address_sid: null,
    api_version: "2010-04-01",
    beta: false,
    capabilities: { fax: false, mms: true, sms: true, voice: true },
    date_created: number.created,
    date_updated: number.updated,
    emergency_status: "Active",
    friendly_name: friendlyName(number.phoneNumber),
    origin: "twilio",
    phone_number: number.phoneNumber,
    sid: number.sid,
    sms_method: "POST",
    sms_url: "",
    status: "in-use",
    status_callback: number.statusCallback ?? "",
    status_callback_method: "POST",
    trunk_sid: null,
    uri: `/2010-04-01/Accounts/${number.accountSid}/IncomingPhoneNumbers/${number.sid}.json`,
    voice_caller_id_lookup: false,
    voice_method: number.voiceMethod,
    voice_url: number.voiceUrl,
  };
}

function hold(accountSid: string, phoneNumber: string, voiceUrl: string | null, voiceMethod: string, statusCallback: string | null = null): IncomingNumber {
  const now = rfc2822(new Date());
  const number = { sid: pnSid(accountSid, phoneNumber), accountSid, phoneNumber, voiceUrl, voiceMethod, statusCallback, created: now, updated: now };
  held.set(phoneNumber, number);
  return number;
}

/** The account's number, materialising the BYOC account's pre-held range on first sight. */
function numberOf(accountSid: string, phoneNumber: string): IncomingNumber | undefined {
  const existing = held.get(phoneNumber);
  if (existing) return existing.accountSid === accountSid ? existing : undefined;
  if (accountSid === BYOC_ACCOUNT && BYOC_RANGE.test(phoneNumber)) return hold(accountSid, phoneNumber, "https://demo.twilio.com/welcome/voice/", "POST");
  return undefined;
}

function page(uri: string, key: string, items: unknown[], pageSize: number) {
  return {
    [key]: items,
    end: Math.max(items.length - 1, 0),
    first_page_uri: uri,
    next_page_uri: null,
    page: 0,
    page_size: pageSize,
    previous_page_uri: null,
    start: 0,
    uri,
  };
}

function authenticate(request: FakeRequest, accountSid: string): boolean {
  const match = /^Basic\s+(\S+)$/i.exec(request.headers.authorization ?? "");
  if (!match) return false;
  const [user, ...rest] = Buffer.from(match[1], "base64").toString("utf8").split(":");
  return user === accountSid && ACCOUNTS[user] !== undefined && ACCOUNTS[user] === rest.join(":");
}

/** Twilio reads write parameters from a form body only. */
function formBody(request: FakeRequest): URLSearchParams | undefined {
  const type = request.headers["content-type"] ?? "";
  return type.startsWith("application/x-www-form-urlencoded") ? new URLSearchParams(request.body) : undefined;
}

const SLOW_ANSWER_MS = 2000;

async function searchAvailable(request: FakeRequest, country: string, type: string): Promise<FakeResponse> {
  if (!NUMBER_TYPES.includes(type)) return twilioError(404, 20404, `The requested resource ${request.url.pathname} was not found`);
  if (country !== "US" && country !== "CA") return twilioError(404, 20404, `The requested resource ${request.url.pathname} was not found`);
  const query = request.url.searchParams;
  const areaCode = query.get("AreaCode") ?? (type === "TollFree" ? "800" : "415");
  if (!/^\d{3}$/.test(areaCode)) return twilioError(400, 21422, "Invalid AreaCode");
  if (areaCode === "500") return twilioError(500, 20500, "Internal Server Error");
  if (areaCode === "504") await new Promise((resolve) => setTimeout(resolve, SLOW_ANSWER_MS));
  const pageSize = Number(query.get("PageSize") ?? "50");
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) return twilioError(400, 20001, "Invalid PageSize");
  const numbers = Array.from({ length: Math.min(pageSize, INVENTORY_SIZE) }, (_, i) => `+1${areaCode}555${1000 + i}`)
    .filter((e164) => !held.has(e164))
    .map((e164) => ({
      address_requirements: "none",
      beta: false,
      capabilities: { voice: true, SMS: true, MMS: type !== "TollFree" },
      friendly_name: friendlyName(e164),
      iso_country: country,
      lata: "722",
      latitude: "37.770000",
      locality: query.get("InLocality") ?? "San Francisco",
      longitude: "-122.420000",
      phone_number: e164,
      postal_code: "94103",
      rate_center: "SNFC CNTRL",
      region: query.get("InRegion") ?? "CA",
    }));
  return { status: 200, body: page(`${request.url.pathname}${request.url.search}`, "available_phone_numbers", numbers, pageSize) };
}

function purchase(request: FakeRequest, accountSid: string): FakeResponse {
  const form = formBody(request);
  const phoneNumber = form?.get("PhoneNumber");
  if (!form || !phoneNumber) return twilioError(400, 21452, "A 'PhoneNumber' or 'AreaCode' is required, form-encoded");
  if (!/^\+[1-9]\d{1,14}$/.test(phoneNumber)) return twilioError(400, 21421, "PhoneNumber is invalid");
  const voiceMethod = form.get("VoiceMethod") ?? "POST";
  if (voiceMethod !== "GET" && voiceMethod !== "POST") return twilioError(400, 21219, "VoiceMethod must be GET or POST");
  if (phoneNumber.endsWith("5000")) return twilioError(500, 20500, "Internal Server Error");
  if (phoneNumber.endsWith("9999") || held.has(phoneNumber) || BYOC_RANGE.test(phoneNumber)) {
    return twilioError(400, 21422, `PhoneNumber ${phoneNumber} is not available`);
  }
  const number = hold(accountSid, phoneNumber, form.get("VoiceUrl"), voiceMethod, form.get("StatusCallback"));
  if (phoneNumber.endsWith("5001")) return twilioError(500, 20500, "Internal Server Error");
  return { status: 201, body: resource(number) };
}


// ---- Calls ----

/** A request Twilio would send to the worker, ready for the test to replay. */
export interface ScriptedRequest {
  kind: "voice" | "twiml" | "status" | "amd" | "recording";
  url: string;
  method: "POST";
  headers: Record<string, string>;
  body: string;
}

interface FakeCall {
  sid: string;
  accountSid: string;
  to: string;
  from: string;
  direction: "outbound-api" | "inbound";
  /** Scripted to be answered (by a person or a machine). */
  answers: boolean;
  ended: boolean;
  status: string;
  created: Date;
  /** The creation parameters (outbound) that decide which callbacks Twilio sends. */
  form: URLSearchParams;
  nextSequence: number;
  callbacks: ScriptedRequest[];
}

const fakeCalls = new Map<string, FakeCall>();

const CALL_STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"];
const RING_MS = 1000;
const ANSWER_MS = 3000;
const TALK_SECONDS = 5;

/** Twilio's algorithm (twilio-node webhooks.ts): URL, then sorted `name+value` pairs, HMAC-SHA1, base64. */
export function twilioSign(authToken: string, url: string, params: URLSearchParams): string {
  let data = url;
  for (const name of [...new Set(params.keys())].sort()) {
    for (const value of [...new Set(params.getAll(name))].sort()) data += name + value;
  }
  return createHmac("sha1", authToken).update(Buffer.from(data, "utf8")).digest("base64");
}

function signedRequest(kind: ScriptedRequest["kind"], accountSid: string, url: string, params: Record<string, string>): ScriptedRequest {
  const form = new URLSearchParams(params);
  return {
    kind,
    url,
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "x-twilio-signature": twilioSign(ACCOUNTS[accountSid], url, form),
      "i-twilio-idempotency-token": randomUUID(),
    },
    body: form.toString(),
  };
}

/** The standard request fields Twilio sends about a call. */
function callFields(call: FakeCall, status: string): Record<string, string> {
  return {
    AccountSid: call.accountSid,
    ApiVersion: "2010-04-01",
    CallSid: call.sid,
    CallStatus: status,
    Called: call.to,
    Caller: call.from,
    Direction: call.direction,
    From: call.from,
    To: call.to,
  };
}

/** Adds a status callback if the call asked for this event (the final status is always sent). */
function addStatus(call: FakeCall, url: string | null, status: string, afterMs: number, extra: Record<string, string> = {}) {
  if (!url) return;
  const event = status === "in-progress" ? "answered" : ["initiated", "ringing"].includes(status) ? status : "completed";
  const asked = call.direction === "inbound" ? ["completed"] : call.form.getAll("StatusCallbackEvent");
  if (event !== "completed" && !asked.includes(event)) return;
  call.callbacks.push(
    signedRequest("status", call.accountSid, url, {
      ...callFields(call, status),
      CallbackSource: "call-progress-events",
      SequenceNumber: String(call.nextSequence++),
      Timestamp: rfc2822(new Date(call.created.getTime() + afterMs)),
      ...extra,
    }),
  );
}

/** The end of a call that was answered: `completed` with its duration, then its recording. */
function addAnsweredEnd(call: FakeCall, talkSeconds: number) {
  const form = call.form;
  addStatus(call, form.get("StatusCallback"), "completed", ANSWER_MS + talkSeconds * 1000, { CallDuration: String(talkSeconds) });
  const recordingCallback = form.get("RecordingStatusCallback");
  if (form.get("Record") === "true" && recordingCallback) {
    const recordingSid = `RE${randomBytes(16).toString("hex")}`;
    call.callbacks.push(
      signedRequest("recording", call.accountSid, recordingCallback, {
        AccountSid: call.accountSid,
        CallSid: call.sid,
        RecordingSid: recordingSid,
        RecordingUrl: `https://api.twilio.com/2010-04-01/Accounts/${call.accountSid}/Recordings/${recordingSid}`,
        RecordingStatus: "completed",
        RecordingDuration: String(talkSeconds),
        RecordingChannels: form.get("RecordingChannels") === "dual" ? "2" : "1",
        RecordingSource: "OutboundAPI",
        RecordingStartTime: rfc2822(new Date(call.created.getTime() + ANSWER_MS)),
      }),
    );
  }
}

/** What Twilio sends over the life of an outbound call, in the order it sends it. */
function scriptOutbound(call: FakeCall) {
  const form = call.form;
  const status = form.get("StatusCallback");
  addStatus(call, status, "initiated", 0);
  const outcome = call.to.slice(-4);
  if (outcome === "0003") return addStatus(call, status, "busy", RING_MS, { CallDuration: "0", SipResponseCode: "486" });
  if (outcome === "0005") return addStatus(call, status, "failed", RING_MS, { CallDuration: "0", SipResponseCode: "503" });
  addStatus(call, status, "ringing", RING_MS);
  if (outcome === "0002") {
    const timeout = Number(form.get("Timeout") ?? "60");
    return addStatus(call, status, "no-answer", RING_MS + timeout * 1000, { CallDuration: "0", SipResponseCode: "487" });
  }
  // With DetectMessageEnd Twilio holds a machine's verdict until its greeting ends (the beep).
  const answeredBy = outcome !== "0004" ? "human" : form.get("MachineDetection") === "DetectMessageEnd" ? "machine_end_beep" : "machine_start";
  const amd = form.get("MachineDetection") !== null;
  const asyncAmd = amd && form.get("AsyncAmd") === "true";
  // Synchronous AMD holds the TwiML fetch until it decides and reports AnsweredBy on it.
  const syncAnsweredBy: Record<string, string> = amd && !asyncAmd ? { AnsweredBy: answeredBy } : {};
  const twimlUrl = form.get("Url");
  if (twimlUrl) call.callbacks.push(signedRequest("twiml", call.accountSid, twimlUrl, { ...callFields(call, "in-progress"), ...syncAnsweredBy }));
  addStatus(call, status, "in-progress", ANSWER_MS, syncAnsweredBy);
  const amdCallback = form.get("AsyncAmdStatusCallback");
  if (asyncAmd && amdCallback) {
    call.callbacks.push(
      signedRequest("amd", call.accountSid, amdCallback, {
        AccountSid: call.accountSid,
        CallSid: call.sid,
        AnsweredBy: answeredBy,
        MachineDetectionDuration: "2750",
      }),
    );
  }
  addAnsweredEnd(call, TALK_SECONDS);
}

function callResource(call: FakeCall) {
  return {
    account_sid: call.accountSid,
    annotation: null,
    answered_by: null,
    api_version: "2010-04-01",
    caller_name: null,
    date_created: rfc2822(call.created),
    date_updated: rfc2822(new Date()),
    direction: call.direction,
    duration: null,
    end_time: null,
    forwarded_from: null,
    from: call.from,
    from_formatted: friendlyName(call.from),
    group_sid: null,
    parent_call_sid: null,
    phone_number_sid: null,
    price: null,
    price_unit: "USD",
    sid: call.sid,
    start_time: null,
    status: call.status,
    subresource_uris: {
      notifications: `/2010-04-01/Accounts/${call.accountSid}/Calls/${call.sid}/Notifications.json`,
      recordings: `/2010-04-01/Accounts/${call.accountSid}/Calls/${call.sid}/Recordings.json`,
    },
    to: call.to,
    to_formatted: friendlyName(call.to),
    trunk_sid: null,
    uri: `/2010-04-01/Accounts/${call.accountSid}/Calls/${call.sid}.json`,
    queue_time: "0",
  };
}

const isAbsoluteUrl = (value: string | null) => value !== null && /^https?:\/\/[^\s]+$/.test(value);

function createCall(request: FakeRequest, accountSid: string): FakeResponse {
  const form = formBody(request);
  if (!form) return twilioError(400, 20001, "Parameters must be form-encoded");
  const to = form.get("To");
  const from = form.get("From");
  if (!to) return twilioError(400, 21201, "No 'To' number is specified");
  if (!from) return twilioError(400, 21213, "No 'From' number is specified");
  if (!/^\+[1-9]\d{1,14}$/.test(to)) return twilioError(400, 21211, `Invalid 'To' Phone Number: ${to}`);
  if (!numberOf(accountSid, from)) return twilioError(400, 21210, `The source phone number provided, ${from}, is not yet verified for your account.`);
  if (!form.get("Url") && !form.get("Twiml") && !form.get("ApplicationSid")) return twilioError(400, 21205, "Url, Twiml or ApplicationSid is required");
  for (const name of ["Url", "StatusCallback", "AsyncAmdStatusCallback", "RecordingStatusCallback"]) {
    if (form.has(name) && !isAbsoluteUrl(form.get(name))) return twilioError(400, 21205, `${name} is not a valid URL`);
  }
  for (const name of ["Method", "StatusCallbackMethod", "AsyncAmdStatusCallbackMethod", "RecordingStatusCallbackMethod"]) {
    const method = form.get(name);
    if (method !== null && method !== "GET" && method !== "POST") return twilioError(400, 21219, `${name} must be GET or POST`);
  }
  const unknownEvent = form.getAll("StatusCallbackEvent").find((event) => !CALL_STATUS_EVENTS.includes(event));
  if (unknownEvent) return twilioError(400, 21626, `Invalid StatusCallbackEvent: ${unknownEvent}`);
  const timeout = form.get("Timeout");
  if (timeout !== null && (!/^\d+$/.test(timeout) || Number(timeout) < 1 || Number(timeout) > 600)) return twilioError(400, 21217, "Timeout must be between 1 and 600");
  const timeLimit = form.get("TimeLimit");
  if (timeLimit !== null && (!/^\d+$/.test(timeLimit) || Number(timeLimit) < 1 || Number(timeLimit) > 86400)) return twilioError(400, 21218, "TimeLimit must be between 1 and 86400");
  const amd = form.get("MachineDetection");
  if (amd !== null && amd !== "Enable" && amd !== "DetectMessageEnd") return twilioError(400, 21636, "MachineDetection must be Enable or DetectMessageEnd");
  const asyncAmd = form.get("AsyncAmd");
  if (asyncAmd !== null && asyncAmd !== "true" && asyncAmd !== "false") return twilioError(400, 21636, "AsyncAmd must be true or false");
  const channels = form.get("RecordingChannels");
  if (channels !== null && channels !== "mono" && channels !== "dual") return twilioError(400, 21626, "RecordingChannels must be mono or dual");
  const record = form.get("Record");
  if (record !== null && record !== "true" && record !== "false") return twilioError(400, 21626, "Record must be true or false");

  const outcome = to.slice(-4);
  const call: FakeCall = {
    sid: `CA${randomBytes(16).toString("hex")}`,
    accountSid,
    to,
    from,
    direction: "outbound-api",
    answers: !["0002", "0003", "0005"].includes(outcome),
    ended: false,
    status: "queued",
    created: new Date(),
    form,
    nextSequence: 0,
    callbacks: [],
  };
  fakeCalls.set(call.sid, call);
  scriptOutbound(call);
  return { status: 201, body: callResource(call) };
}

/**
 * `Status=completed|canceled` ends the call from our side: its scripted end is replaced by
 * `completed` (answered calls, after a short talk) or `canceled` (still ringing).
 */
function updateCall(request: FakeRequest, accountSid: string, sid: string): FakeResponse {
  const call = fakeCalls.get(sid);
  const form = formBody(request);
  if (!call || call.accountSid !== accountSid || call.ended) return twilioError(404, 20404, `The requested resource ${request.url.pathname} was not found`);
  if (!form) return twilioError(400, 20001, "Parameters must be form-encoded");
  if (form.has("Twiml") || form.has("Url")) return redirectCall(call, form);
  const status = form.get("Status");
  if (status !== "completed" && status !== "canceled") return twilioError(400, 21220, "Status must be completed or canceled");
  const endIndex = call.callbacks.findIndex((r) => {
    const callStatus = new URLSearchParams(r.body).get("CallStatus");
    return r.kind === "recording" || (r.kind === "status" && ["completed", "busy", "no-answer", "failed"].includes(callStatus ?? ""));
  });
  if (endIndex >= 0) call.callbacks.splice(endIndex);
  call.ended = true;
  if (call.answers) {
    call.status = "completed";
    addAnsweredEnd(call, 2);
  } else {
    call.status = "canceled";
    addStatus(call, call.form.get("StatusCallback"), "canceled", RING_MS + 500, { CallDuration: "0" });
  }
  return { status: 200, body: callResource(call) };
}

const MAX_TWIML_CHARS = 4000;
const E164 = /^\+[1-9]\d{1,14}$/;

/**
 * Checks inline TwiML the way a call would run it, for the verbs Truedy sends: one `<Response>`
 * holding `<Dial>` (`<Number>` E.164 or `<Sip>` sip: URI, optional E.164 `callerId`), `<Play
 * digits>` (0-9, *, #, w), `<Connect><Stream url="wss://…">` with `<Parameter>`s, `<Redirect>`,
 * `<Say>`, `<Hangup/>`. Twilio reports a broken document as error 12100 when it runs it; the fake
 * refuses it at once so a test sees it.
 */
function twimlProblem(twiml: string): string | undefined {
  const body = twiml.replace(/^<\?xml[^>]*\?>/, "").trim();
  const response = /^<Response>([\s\S]*)<\/Response>$/.exec(body);
  if (!response) return "the document is not one <Response> element";
  let rest = response[1];
  const verbs: [RegExp, (m: RegExpExecArray) => string | undefined][] = [
    [
      /^<Dial(?:\s+callerId="([^"]*)")?\s*>\s*(?:<Number>([^<]*)<\/Number>|<Sip>([^<]*)<\/Sip>)\s*<\/Dial>/,
      (m) => (m[1] !== undefined && !E164.test(m[1]) ? "Dial callerId must be E.164" : m[2] !== undefined && !E164.test(m[2]) ? "Dial Number must be E.164" : m[3] !== undefined && !/^sips?:[^\s]+$/.test(m[3]) ? "Dial Sip must be a sip: URI" : undefined),
    ],
    [/^<Play\s+digits="([^"]*)"\s*\/>/, (m) => (/^[0-9*#w]+$/.test(m[1]) ? undefined : "Play digits may hold 0-9, *, # and w only")],
    [
      /^<Connect><Stream\s+url="([^"]*)">(?:<Parameter\s+name="[^"]+"\s+value="[^"]*"\/>)*<\/Stream><\/Connect>/,
      (m) => (/^wss:\/\/[^\s?]+$/.test(m[1]) ? undefined : "Stream url must be wss:// without a query string"),
    ],
    [/^<Redirect(?:\s+method="(?:GET|POST)")?>https?:\/\/[^<\s]+<\/Redirect>/, () => undefined],
    [/^<Say>[^<]*<\/Say>/, () => undefined],
    [/^<Hangup\/>/, () => undefined],
  ];
  while ((rest = rest.trim())) {
    const verb = verbs.map(([pattern, check]) => [pattern.exec(rest), check] as const).find(([m]) => m !== null);
    if (!verb) return `unexpected content at ${JSON.stringify(rest.slice(0, 40))}`;
    const [match, check] = verb;
    const problem = check(match!);
    if (problem) return problem;
    rest = rest.slice(match![0].length);
  }
  return undefined;
}

/**
 * `Twiml` (or `Url`) redirects the live call to new TwiML (spec §1.3; `Twiml` is ignored when
 * `Url` is also given). A `<Dial>` transfers the callee: its scripted end becomes the end of the
 * new conversation. Anything else (e.g. `<Play digits>` then a new `<Connect><Stream>`) leaves the
 * call up; the test plays the stream switch itself.
 */
function redirectCall(call: FakeCall, form: URLSearchParams): FakeResponse {
  const url = form.get("Url");
  if (url !== null) {
    if (!isAbsoluteUrl(url)) return twilioError(400, 21205, "Url is not a valid URL");
    return { status: 200, body: callResource(call) };
  }
  const twiml = form.get("Twiml") ?? "";
  if (twiml.length > MAX_TWIML_CHARS) return twilioError(400, 21219, `Twiml is longer than ${MAX_TWIML_CHARS} characters`);
  const problem = twimlProblem(twiml);
  if (problem) return twilioError(400, 12100, `Document parse failure: ${problem}`);
  if (twiml.includes("<Dial")) {
    const endIndex = call.callbacks.findIndex((r) => r.kind === "recording" || (r.kind === "status" && new URLSearchParams(r.body).get("CallStatus") === "completed"));
    if (endIndex >= 0) call.callbacks.splice(endIndex);
    addAnsweredEnd(call, TALK_SECONDS + 30);
  }
  return { status: 200, body: callResource(call) };
}

/** A caller dialling one of the held numbers: its voice webhook, then the caller's hang-up. */
function inboundCall(request: FakeRequest): FakeResponse {
  const { from, to } = JSON.parse(request.body || "{}") as { from?: string; to?: string };
  const number = to ? held.get(to) : undefined;
  if (!from || !number?.voiceUrl) return { status: 404, body: { error: `no held number ${to} with a voice URL` } };
  const call: FakeCall = {
    sid: `CA${randomBytes(16).toString("hex")}`,
    accountSid: number.accountSid,
    to: number.phoneNumber,
    from,
    direction: "inbound",
    answers: true,
    ended: false,
    status: "ringing",
    created: new Date(),
    form: new URLSearchParams(),
    nextSequence: 0,
    callbacks: [],
  };
  fakeCalls.set(call.sid, call);
  call.callbacks.push(signedRequest("voice", call.accountSid, number.voiceUrl, { ...callFields(call, "ringing"), CallToken: randomUUID() }));
  addStatus(call, number.statusCallback, "completed", ANSWER_MS + TALK_SECONDS * 1000, { CallDuration: String(TALK_SECONDS) });
  return { status: 201, body: { sid: call.sid, callbacks: call.callbacks } };
}

/** Outages scripted per destination by `POST /__fakes/twilio/fail-calls`. */
const callRefusals = new Map<string, { status: number; count: number; delayMs: number; create: boolean }>();

async function scriptedCallRefusal(request: FakeRequest, accountSid: string): Promise<FakeResponse | undefined> {
  const to = formBody(request)?.get("To");
  const refusal = to ? callRefusals.get(to) : undefined;
  if (!to || !refusal) return undefined;
  if (--refusal.count <= 0) callRefusals.delete(to);
  if (refusal.create) {
    const created = createCall(request, accountSid);
    await new Promise((resolve) => setTimeout(resolve, refusal.delayMs));
    return created;
  }
  if (refusal.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, refusal.delayMs));
  return twilioError(refusal.status, 20500, "Service Unavailable");
}

async function handleAccount(request: FakeRequest, accountSid: string, rest: string): Promise<FakeResponse | undefined> {
  if (!authenticate(request, accountSid)) return unauthorized();

  const available = /^AvailablePhoneNumbers\/([^/]+)\/([^/]+)\.json$/.exec(rest);
  if (available && request.method === "GET") return searchAvailable(request, available[1], available[2]);

  if (rest === "IncomingPhoneNumbers.json") {
    if (request.method === "POST") return purchase(request, accountSid);
    if (request.method === "GET") {
      const filter = request.url.searchParams.get("PhoneNumber");
      const mine = filter
        ? [numberOf(accountSid, filter)].filter((n) => n !== undefined)
        : [...held.values()].filter((n) => n.accountSid === accountSid);
      return { status: 200, body: page(`${request.url.pathname}${request.url.search}`, "incoming_phone_numbers", mine.map(resource), 50) };
    }
  }

  if (rest === "Calls.json" && request.method === "POST") return (await scriptedCallRefusal(request, accountSid)) ?? createCall(request, accountSid);
  const callSid = /^Calls\/(CA[0-9a-f]{32})\.json$/.exec(rest)?.[1];
  if (callSid && request.method === "POST") return updateCall(request, accountSid, callSid);

  const single = /^IncomingPhoneNumbers\/(PN[0-9a-f]{32})\.json$/.exec(rest);
  if (single) {
    const number = [...held.values()].find((n) => n.sid === single[1] && n.accountSid === accountSid);
    if (!number) return twilioError(404, 20404, `The requested resource ${request.url.pathname} was not found`);
    if (request.method === "GET") return { status: 200, body: resource(number) };
    if (request.method === "POST") {
      const form = formBody(request);
      if (!form) return twilioError(400, 20001, "Parameters must be form-encoded");
      if (form.has("VoiceUrl")) number.voiceUrl = form.get("VoiceUrl");
      if (form.has("VoiceMethod")) number.voiceMethod = form.get("VoiceMethod") ?? "POST";
      if (form.has("StatusCallback")) number.statusCallback = form.get("StatusCallback");
      number.updated = rfc2822(new Date());
      return { status: 200, body: resource(number) };
    }
    if (request.method === "DELETE") {
      if (number.phoneNumber.endsWith("5005")) return twilioError(500, 20500, "Internal Server Error");
      held.delete(number.phoneNumber);
      return { status: 204 };
    }
  }
  return undefined;
}

export const twilioFake: Fake = {
  service: "twilio",
  handle(request) {
    const match = /^\/2010-04-01\/Accounts\/([^/]+)\/(.+)$/.exec(request.url.pathname);
    if (!match) return undefined;
    return handleAccount(request, decodeURIComponent(match[1]), match[2]);
  },
  control(request) {
    const path = request.url.pathname;
    if (path === "/__fakes/twilio/callbacks" && request.method === "GET") {
      const to = request.url.searchParams.get("to");
      const call = to ? [...fakeCalls.values()].reverse().find((c) => c.to === to) : fakeCalls.get(request.url.searchParams.get("call") ?? "");
      return call ? { status: 200, body: call.callbacks } : { status: 404, body: { error: "no such call" } };
    }
    if (path === "/__fakes/twilio/inbound" && request.method === "POST") return inboundCall(request);
    if (path === "/__fakes/twilio/fail-calls" && request.method === "POST") {
      const { to, status = 503, count = 1, delay_ms: delayMs = 0, create = false } = JSON.parse(request.body || "{}") as { to?: string; status?: number; count?: number; delay_ms?: number; create?: boolean };
      if (!to) return { status: 400, body: { error: "to is required" } };
      callRefusals.set(to, { status, count, delayMs, create });
      return { status: 204 };
    }
    if (path === "/__fakes/twilio/sign" && request.method === "POST") {
      const { account_sid: accountSid, url, params } = JSON.parse(request.body || "{}") as { account_sid?: string; url?: string; params?: Record<string, string> };
      const token = accountSid ? ACCOUNTS[accountSid] : undefined;
      if (!token || !url) return { status: 400, body: { error: "account_sid of a known account and url are required" } };
      return { status: 200, body: { signature: twilioSign(token, url, new URLSearchParams(params ?? {})) } };
    }
    return undefined;
  },
};
