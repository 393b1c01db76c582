import { randomUUID } from "node:crypto";
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

async function handle(request: FakeRequest, key: string, path: string): Promise<FakeResponse | undefined> {
  if (path === "available_phone_numbers" && request.method === "GET") return searchAvailable(request);
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
};
