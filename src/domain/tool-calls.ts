import { parsePhoneNumberFromString } from "libphonenumber-js/max";
import { fillTemplate, templateVariables } from "./templating";
import type { HttpMethod, ToolDefinition } from "./tools";
import { schemaErrors } from "./json-schema";
import { checkOutboundUrl, type UrlPolicy } from "./url-safety";

/**
 * What a voice call does with tools, free of I/O: the function schemas the LLM is offered (the
 * agent's HTTP tools and the built-in call actions), the HTTP request one tool call becomes, the
 * text the model gets back, and the checks on a call action's arguments.
 */

/** Tool rounds (model asks, tools answer, model continues) per agent turn; the next round may only speak. */
export const MAX_TOOL_ROUNDS = 5;
/** A tool on a live call never holds the caller longer than this, whatever its own timeout. */
export const CALL_TOOL_TIMEOUT_CAP_MS = 15_000;
/** The filler line is said when a tool has not answered within this. */
export const TOOL_FILLER_AFTER_MS = 1000;
export const DEFAULT_TOOL_FILLER = "One moment while I check that.";
/** Said when the callee opts out and the model said nothing itself, before the call ends. */
export const OPT_OUT_CONFIRMATION = "Understood. We will not call you again. Goodbye.";
/** Bytes of a tool's response read at most; a larger one is refused. */
export const MAX_TOOL_RESPONSE_BYTES = 256 * 1024;
/** Characters of a response passed to the model; the rest is cut (and said to be). */
export const MAX_TOOL_RESULT_CHARS = 8000;
/** Bytes of a response kept in the call's tool-call log. */
export const MAX_LOGGED_RESPONSE_BYTES = 2048;
/** Redirects followed (each re-checked against the URL rules) before giving up. */
export const MAX_TOOL_REDIRECTS = 3;

/** An OpenAI Chat Completions tool (realtime.md §3). */
export interface FunctionTool {
  type: "function";
  function: { name: string; description?: string; parameters: Record<string, unknown> };
}

// ---- Built-in call actions ----

export const CALL_ACTIONS = ["end_call", "transfer_call", "send_dtmf", "opt_out"] as const;
export type CallAction = (typeof CALL_ACTIONS)[number];

export const isCallAction = (name: string): name is CallAction => (CALL_ACTIONS as readonly string[]).includes(name);

const DTMF_PATTERN = /^[0-9*#wW]{1,64}$/;

/** Offered on every call, next to the agent's own tools (transfer_call too when the agent has destinations). */
const ALWAYS_OFFERED_ACTIONS: FunctionTool[] = [
  {
    type: "function",
    function: {
      name: "end_call",
      description:
        "Hang up. Use it when the conversation is over or the callee wants to end it. Say your goodbye in the same reply: the call ends once it has been heard.",
      parameters: { type: "object", properties: {}, additionalProperties: false },
    },
  },
  {
    type: "function",
    function: {
      name: "send_dtmf",
      description: "Press keys on the phone keypad, e.g. to choose an option in an automated menu. w waits half a second, W a second.",
      parameters: {
        type: "object",
        properties: { digits: { type: "string", pattern: DTMF_PATTERN.source, description: "Keys to press: 0-9, * and #" } },
        required: ["digits"],
        additionalProperties: false,
      },
    },
  },
  {
    type: "function",
    function: {
      name: "opt_out",
      description:
        "The callee asks not to be called again: their number goes on the do-not-call list, they hear a short confirmation and the call ends.",
      parameters: { type: "object", properties: {}, additionalProperties: false },
    },
  },
];

/** A number or SIP address an agent may transfer calls to, with what it is for (the model picks by it). */
export interface TransferDestination {
  destination: string;
  description: string | null;
}

/** At most this many transfer destinations per agent: the model reads them all on every turn. */
export const MAX_TRANSFER_DESTINATIONS = 20;

/**
 * The call actions offered on a call. transfer_call only names the agent's own destinations: a
 * caller talking the model into dialling an arbitrary (premium, international) number is toll
 * fraud, so the customer decides where calls may go, and the model only chooses among those.
 */
export function callActionTools(destinations: readonly TransferDestination[]): FunctionTool[] {
  if (destinations.length === 0) return ALWAYS_OFFERED_ACTIONS;
  const listed = destinations.map((d) => `${d.destination}${d.description ? `: ${d.description}` : ""}`).join("; ");
  const transfer: FunctionTool = {
    type: "function",
    function: {
      name: "transfer_call",
      description: `Transfer the callee to one of these destinations (a cold transfer: your part of the call ends). Tell them first, in the same reply. Destinations: ${listed}`,
      parameters: {
        type: "object",
        properties: { destination: { type: "string", enum: destinations.map((d) => d.destination), description: "One of the listed destinations, exactly as written" } },
        required: ["destination"],
        additionalProperties: false,
      },
    },
  };
  return [ALWAYS_OFFERED_ACTIONS[0], transfer, ...ALWAYS_OFFERED_ACTIONS.slice(1)];
}

export type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

const argumentOf = (args: unknown, name: string): unknown => (isRecord(args) ? args[name] : undefined);

export function checkDtmfDigits(args: unknown): Checked<string> {
  const digits = argumentOf(args, "digits");
  if (typeof digits !== "string" || !DTMF_PATTERN.test(digits)) {
    return { ok: false, error: "digits must be 1 to 64 of 0-9, *, #, w (half-second pause) and W (one-second pause)" };
  }
  return { ok: true, value: digits };
}

/** `sip:user@host[:port][;params]`: the host must be a public name or address, as for any URL we reach. */
const SIP_URI = /^sips?:(?:([^@\s;:]+)@)?(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?(;[^\s]*)?$/;

/**
 * A transfer destination as saved on an agent: an E.164 number of a real numbering plan (no
 * premium-rate numbers), normalized, or a SIP URI whose host is public (no private, loopback or
 * link-local addresses, no internal names).
 */
export function normalizeTransferDestination(raw: string): Checked<string> {
  const destination = raw.trim();
  if (destination === "") return { ok: false, error: "Must be an E.164 number or a sip: URI" };
  if (destination.length > 256) return { ok: false, error: "Must be at most 256 characters" };
  if (/^sips?:/i.test(destination)) {
    const sip = SIP_URI.exec(destination);
    if (!sip) return { ok: false, error: "Is not a valid sip: URI (sip:user@host)" };
    const host = checkOutboundUrl(`https://${sip[2]}/`, { allowLoopback: false });
    if (!host.ok) return { ok: false, error: `Its SIP host is refused: ${host.reason}` };
    return { ok: true, value: destination };
  }
  if (!destination.startsWith("+")) return { ok: false, error: "Must be an E.164 number (+ and country code) or a sip: URI" };
  const phone = parsePhoneNumberFromString(destination);
  if (!phone?.isValid()) return { ok: false, error: "Is not a valid phone number" };
  if (phone.getType() === "PREMIUM_RATE") return { ok: false, error: "Is a premium-rate number" };
  return { ok: true, value: phone.number };
}

/** The model's transfer_call argument: one of the agent's destinations (compared normalized). */
export function checkTransferDestination(args: unknown, allowed: readonly TransferDestination[]): Checked<string> {
  if (allowed.length === 0) return { ok: false, error: "This agent has no transfer destinations: transfer_call is not available" };
  const raw = argumentOf(args, "destination");
  if (typeof raw !== "string" || raw.trim() === "") return { ok: false, error: "destination is required: one of the listed destinations" };
  const normalized = normalizeTransferDestination(raw);
  const match = normalized.ok ? allowed.find((d) => d.destination === normalized.value) : undefined;
  if (!match) return { ok: false, error: `destination must be one of: ${allowed.map((d) => d.destination).join(", ")}` };
  return { ok: true, value: match.destination };
}

// ---- HTTP tools ----

/**
 * The function the model sees for an HTTP tool: its dynamic parameters as the properties of one
 * object (a name used in two locations is one property, filling both).
 */
export function functionToolOf(definition: ToolDefinition): FunctionTool {
  const properties: Record<string, unknown> = {};
  const required: string[] = [];
  for (const param of definition.dynamicParameters) {
    if (param.name in properties) continue;
    properties[param.name] = param.schema;
    if (param.required) required.push(param.name);
  }
  return {
    type: "function",
    function: {
      name: definition.modelToolName,
      ...(definition.description ? { description: definition.description } : {}),
      parameters: { type: "object", properties, ...(required.length ? { required } : {}) },
    },
  };
}

export interface ToolRequest {
  method: HttpMethod;
  url: string;
  headers: Record<string, string>;
  body: string | null;
  /** The URL as it may be logged: an API key sent in the query is masked. */
  shownUrl: string;
}

export interface ToolRequestContext {
  /** The call's variables, filled into the URL and into static parameter strings. */
  variables: Record<string, string>;
  /** The tool's keys, by requirement name. */
  authTokens: Record<string, string>;
  policy: UrlPolicy;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Fills `{{variables}}` in every string of a static value (objects and arrays included). */
function fillValue(value: unknown, variables: Record<string, string>): unknown {
  if (typeof value === "string") return fillTemplate(value, variables);
  if (Array.isArray(value)) return value.map((item) => fillValue(item, variables));
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillValue(v, variables)]));
  return value;
}

const asText = (value: unknown): string => (typeof value === "string" ? value : JSON.stringify(value));

const MASK = "***";

/**
 * The request one call of an HTTP tool becomes: the definition's method and URL (its
 * `{{variables}}` filled, URL-encoded), static and dynamic parameters in the body (JSON), query or
 * headers (a static parameter wins over a dynamic one of the same name and place, so the model
 * cannot override what the customer fixed), and the key of the first security option whose
 * requirements all have one. The URL is checked again as filled, against the same rules as when
 * the tool was saved, and the arguments against the parameters' schemas. Problems are answered,
 * not thrown: they go back to the model.
 */
export function buildToolRequest(definition: ToolDefinition, args: unknown, context: ToolRequestContext): Checked<ToolRequest> {
  if (!definition.http) return { ok: false, error: "This tool has no URL yet; it cannot be called" };
  if (args !== undefined && args !== null && !isRecord(args)) return { ok: false, error: "The arguments must be a JSON object" };
  const given = isRecord(args) ? args : {};
  const missing = definition.dynamicParameters.filter((p) => p.required && (given[p.name] === undefined || given[p.name] === null)).map((p) => p.name);
  if (missing.length) return { ok: false, error: `Missing required argument${missing.length > 1 ? "s" : ""}: ${[...new Set(missing)].join(", ")}` };
  // The model does not always keep to the schema it was given; the endpoint must not pay for that.
  const invalid = schemaErrors(functionToolOf(definition).function.parameters, given, "arguments");
  if (invalid.length) return { ok: false, error: `Invalid arguments: ${invalid.join("; ")}` };

  const unknown = templateVariables(definition.http.url).filter((name) => !(name in context.variables));
  if (unknown.length) return { ok: false, error: `The tool's URL uses {{${unknown[0]}}}, which this call has no variable for` };
  const encoded = Object.fromEntries(Object.entries(context.variables).map(([k, v]) => [k, encodeURIComponent(v)]));
  const checked = checkOutboundUrl(fillTemplate(definition.http.url, encoded), context.policy);
  if (!checked.ok) return { ok: false, error: `The tool's URL is refused: ${checked.reason}` };
  const url = checked.url;

  const headers: Record<string, string> = { accept: "application/json" };
  const body: Record<string, unknown> = {};
  let hasBody = false;
  const place = (location: string, name: string, value: unknown): string | undefined => {
    if (location === "PARAMETER_LOCATION_QUERY") url.searchParams.set(name, asText(value));
    else if (location === "PARAMETER_LOCATION_HEADER") {
      const text = asText(value);
      if (/[\r\n\0]/.test(text)) return `The value of header "${name}" must not contain line breaks`;
      headers[name.toLowerCase()] = text;
    } else {
      body[name] = value;
      hasBody = true;
    }
    return undefined;
  };
  for (const param of definition.dynamicParameters) {
    const value = given[param.name];
    if (value === undefined) continue;
    const problem = place(param.location, param.name, value);
    if (problem) return { ok: false, error: problem };
  }
  for (const param of definition.staticParameters) {
    const problem = place(param.location, param.name, fillValue(param.value, context.variables));
    if (problem) return { ok: false, error: problem };
  }

  let maskedQuery: string | undefined;
  const options = definition.requirements?.httpSecurityOptions?.options ?? [];
  if (options.length) {
    const usable = options.find((option) => Object.keys(option.requirements).every((name) => context.authTokens[name] !== undefined));
    if (!usable) {
      const names = [...new Set(options.flatMap((o) => Object.keys(o.requirements)))];
      return { ok: false, error: `The tool's API key is not set (auth_tokens: ${names.join(", ")})` };
    }
    for (const [name, requirement] of Object.entries(usable.requirements)) {
      const key = context.authTokens[name];
      if (requirement.queryApiKey) {
        url.searchParams.set(requirement.queryApiKey.name, key);
        maskedQuery = requirement.queryApiKey.name;
      } else if (requirement.headerApiKey) headers[requirement.headerApiKey.name.toLowerCase()] = key;
      else if (requirement.httpAuth) headers.authorization = `${requirement.httpAuth.scheme} ${key}`;
    }
  }

  const method = definition.http.method;
  const sendsBody = hasBody || method === "POST" || method === "PUT" || method === "PATCH";
  if (sendsBody) headers["content-type"] = "application/json";
  const shown = new URL(url);
  if (maskedQuery) shown.searchParams.set(maskedQuery, MASK);
  return {
    ok: true,
    value: { method, url: url.toString(), headers, body: sendsBody ? JSON.stringify(body) : null, shownUrl: shown.toString() },
  };
}

/** What an HTTP tool call came to, as the executor saw it. */
export type ToolOutcome = { status: number; body: string } | { error: string };

/**
 * The `tool` message content for the model: a 2xx JSON answer as the endpoint sent it, anything
 * else as JSON with `error` (and the status and body when there was an answer), cut to
 * MAX_TOOL_RESULT_CHARS.
 */
export function toolResultForModel(outcome: ToolOutcome): string {
  if ("error" in outcome) return JSON.stringify({ error: outcome.error });
  const { status, body } = outcome;
  const cut = body.length > MAX_TOOL_RESULT_CHARS;
  const text = cut ? body.slice(0, MAX_TOOL_RESULT_CHARS) : body;
  let parsed: unknown;
  let json = false;
  try {
    parsed = JSON.parse(body);
    json = true;
  } catch {
    parsed = undefined;
  }
  if (status >= 200 && status < 300) {
    if (json && !cut) return body.trim() === "" ? JSON.stringify({ status }) : body;
    return JSON.stringify({ status, body: text, ...(cut ? { truncated: true } : {}) });
  }
  return JSON.stringify({
    error: `The tool's endpoint answered HTTP ${status}`,
    status,
    body: json && !cut ? parsed : text,
    ...(cut ? { truncated: true } : {}),
  });
}

/** `text` cut to at most `maxBytes` of UTF-8, on a character boundary. */
export function truncateUtf8(text: string, maxBytes: number): string {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes;
  // Back off continuation bytes (10xxxxxx) so no character is split.
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return new TextDecoder().decode(bytes.subarray(0, end));
}

/** Where a redirect goes, checked like the URL it came from; null with the reason when refused. */
export function redirectTarget(location: string | null, from: string, policy: UrlPolicy): Checked<URL> {
  if (!location) return { ok: false, error: "The tool's endpoint redirected without a Location" };
  let target: URL;
  try {
    target = new URL(location, from);
  } catch {
    return { ok: false, error: "The tool's endpoint redirected to an invalid URL" };
  }
  const checked = checkOutboundUrl(target.toString(), policy);
  if (!checked.ok) return { ok: false, error: `The tool's endpoint redirected to a refused URL: ${checked.reason}` };
  return { ok: true, value: checked.url };
}
