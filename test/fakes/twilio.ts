import { createHash } from "node:crypto";
import type { Fake, FakeRequest, FakeResponse } from "./server";

/**
 * Fake of Twilio's 2010-04-01 REST API for phone numbers, checking what the real one checks:
 * HTTP Basic auth of a known account whose SID matches the path, form-encoded write bodies, and
 * Twilio's JSON answers (AvailablePhoneNumber lists, IncomingPhoneNumber resources with `PN…`
 * SIDs, `{code, message, more_info, status}` errors).
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
    status_callback: "",
    status_callback_method: "POST",
    trunk_sid: null,
    uri: `/2010-04-01/Accounts/${number.accountSid}/IncomingPhoneNumbers/${number.sid}.json`,
    voice_caller_id_lookup: false,
    voice_method: number.voiceMethod,
    voice_url: number.voiceUrl,
  };
}

function hold(accountSid: string, phoneNumber: string, voiceUrl: string | null, voiceMethod: string): IncomingNumber {
  const now = rfc2822(new Date());
  const number = { sid: pnSid(accountSid, phoneNumber), accountSid, phoneNumber, voiceUrl, voiceMethod, created: now, updated: now };
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
  const number = hold(accountSid, phoneNumber, form.get("VoiceUrl"), voiceMethod);
  if (phoneNumber.endsWith("5001")) return twilioError(500, 20500, "Internal Server Error");
  return { status: 201, body: resource(number) };
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
};
