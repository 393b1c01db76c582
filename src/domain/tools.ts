import { checkJsonSchema } from "./json-schema";
import { checkOutboundUrl, type UrlPolicy } from "./url-safety";

/**
 * HTTP tool definitions (the Ultravox-style `definition` of the Truedy API): normalisation of
 * the accepted spellings, PATCH merging, and the rules a definition must satisfy before it is
 * stored. Everything the call-time executor will rely on is checked here, so a stored tool is
 * always runnable.
 */

export const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export const PARAMETER_LOCATIONS = ["PARAMETER_LOCATION_BODY", "PARAMETER_LOCATION_QUERY", "PARAMETER_LOCATION_HEADER"] as const;
export type ParameterLocation = (typeof PARAMETER_LOCATIONS)[number];

export const MODEL_TOOL_NAME_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;
export const TOOL_TIMEOUT_SECONDS = { default: 10, min: 1, max: 60 } as const;
/** Longest key value of an API-key requirement (`auth_tokens`). */
export const AUTH_TOKEN_MAX_LENGTH = 4096;
/** Longest `filler_message`: one short sentence, said while a slow tool is awaited. */
export const FILLER_MESSAGE_MAX_LENGTH = 200;

export interface DynamicParameter {
  name: string;
  location: ParameterLocation;
  /** JSON Schema of the value the model fills in. */
  schema: Record<string, unknown>;
  required: boolean;
}

export interface StaticParameter {
  name: string;
  location: ParameterLocation;
  value: unknown;
  required: boolean;
}

export interface ApiKeyPlacement {
  name: string;
}

/** One way of authenticating; exactly one member is set. */
export interface SecurityRequirement {
  queryApiKey?: ApiKeyPlacement;
  headerApiKey?: ApiKeyPlacement;
  httpAuth?: { scheme: string };
}

/** Each option is a set of named requirements that together authenticate a request. */
export interface ToolRequirements {
  httpSecurityOptions?: { options: { requirements: Record<string, SecurityRequirement> }[] };
}

/** `http` as accepted: the reference's `{url, method}` or the guide's `{baseUrlPattern, httpMethod}`. */
export interface HttpInput {
  url?: string;
  method?: HttpMethod;
  baseUrlPattern?: string;
  httpMethod?: HttpMethod;
}

/** A definition as a request carries it: everything optional, aliases allowed. */
export interface ToolDefinitionInput {
  modelToolName?: string;
  type?: "http";
  description?: string;
  http?: HttpInput;
  dynamicParameters?: DynamicParameter[];
  staticParameters?: StaticParameter[];
  requirements?: ToolRequirements;
  timeout_seconds?: number;
  filler_message?: string;
}

/** A definition as stored and returned: one spelling, defaults applied. */
export interface ToolDefinition {
  modelToolName: string;
  type: "http";
  description?: string;
  /** Absent on a placeholder tool, which cannot be invoked until a URL is set. */
  http?: { url: string; method: HttpMethod };
  dynamicParameters: DynamicParameter[];
  staticParameters: StaticParameter[];
  requirements?: ToolRequirements;
  timeout_seconds: number;
  /** Said on a call when the endpoint has not answered within a second (a default line otherwise). */
  filler_message?: string;
}

export interface FieldProblem {
  field: string;
  reason: string;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; problem: FieldProblem };

const fail = (field: string, reason: string): { ok: false; problem: FieldProblem } => ({ ok: false, problem: { field, reason } });

/** `Check order status!` → `check_order_status_`: lowercase, anything outside the pattern → `_`, at most 64. */
export function deriveModelToolName(name: string): string {
  return Array.from(name.trim().toLowerCase(), (ch) => (/[a-z0-9_-]/.test(ch) ? ch : "_"))
    .join("")
    .slice(0, 64);
}

const HEADER_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Set by the runtime for every request; a tool that set them would break or smuggle requests. */
const RESERVED_HEADERS = new Set(["host", "content-length", "transfer-encoding", "connection", "upgrade", "te", "trailer", "keep-alive", "proxy-authorization", "proxy-connection"]);

function headerNameProblem(name: string): string | undefined {
  if (!HEADER_TOKEN.test(name)) return "Must be a valid HTTP header name (letters, digits and !#$%&'*+.^_`|~-)";
  if (RESERVED_HEADERS.has(name.toLowerCase())) return `"${name}" is set by the platform and cannot be a tool parameter`;
  return undefined;
}

/** Resolves the two spellings of `http` to `{url, method}`; refuses contradicting pairs. */
function normaliseHttp(http: HttpInput): Checked<{ url?: string; urlField: string; method?: HttpMethod }> {
  if (http.url !== undefined && http.baseUrlPattern !== undefined && http.url !== http.baseUrlPattern) {
    return fail("definition.http.baseUrlPattern", "Give either url or baseUrlPattern, not two different URLs");
  }
  if (http.method !== undefined && http.httpMethod !== undefined && http.method !== http.httpMethod) {
    return fail("definition.http.httpMethod", "Give either method or httpMethod, not two different methods");
  }
  return {
    ok: true,
    value: {
      url: http.url ?? http.baseUrlPattern,
      urlField: http.url === undefined && http.baseUrlPattern !== undefined ? "definition.http.baseUrlPattern" : "definition.http.url",
      method: http.method ?? http.httpMethod,
    },
  };
}

/**
 * Applies a PATCH's partial definition to the stored one: given top-level members replace the
 * stored ones (parameter lists are replaced whole), and `http` is merged member by member, so
 * `{http:{method:"POST"}}` keeps the URL.
 */
export function mergeToolDefinition(current: ToolDefinition, patch: ToolDefinitionInput): ToolDefinitionInput {
  const merged: ToolDefinitionInput = { ...current, ...patch };
  if (patch.http) {
    const resolved = normaliseHttp(patch.http);
    const url = resolved.ok ? resolved.value.url : undefined;
    const method = resolved.ok ? resolved.value.method : undefined;
    // A contradicting patch is passed through unmerged so validation reports it.
    merged.http = resolved.ok ? { ...current.http, ...(url !== undefined && { url }), ...(method !== undefined && { method }) } : patch.http;
  }
  return merged;
}

function checkParameters(definition: ToolDefinitionInput, method: HttpMethod | undefined): FieldProblem | undefined {
  const seen = new Map<string, string>();
  const lists = [
    ["dynamicParameters", definition.dynamicParameters ?? []],
    ["staticParameters", definition.staticParameters ?? []],
  ] as const;
  for (const [listName, list] of lists) {
    for (const [i, param] of list.entries()) {
      const path = `definition.${listName}.${i}`;
      const isHeader = param.location === "PARAMETER_LOCATION_HEADER";
      if (isHeader) {
        const reason = headerNameProblem(param.name);
        if (reason) return { field: `${path}.name`, reason };
      }
      if (param.location === "PARAMETER_LOCATION_BODY" && method === "GET") {
        return { field: `${path}.location`, reason: "A GET request has no body; use another method or PARAMETER_LOCATION_QUERY" };
      }
      // Header names are case-insensitive on the wire; body and query names are not.
      const key = `${param.location}:${isHeader ? param.name.toLowerCase() : param.name}`;
      const first = seen.get(key);
      if (first) return { field: `${path}.name`, reason: `Duplicate parameter "${param.name}" in ${param.location} (also at ${first})` };
      seen.set(key, path);
      if ("schema" in param) {
        const found = checkJsonSchema(param.schema, `${path}.schema`);
        if (found) return found;
      }
      if ("value" in param && isHeader && !["string", "number", "boolean"].includes(typeof param.value)) {
        return { field: `${path}.value`, reason: "A header value must be a string, number or boolean" };
      }
    }
  }
  return undefined;
}

function checkRequirements(requirements: ToolRequirements): FieldProblem | undefined {
  for (const [i, option] of (requirements.httpSecurityOptions?.options ?? []).entries()) {
    for (const [name, requirement] of Object.entries(option.requirements)) {
      const path = `definition.requirements.httpSecurityOptions.options.${i}.requirements.${name}`;
      const kinds = (["queryApiKey", "headerApiKey", "httpAuth"] as const).filter((k) => requirement[k] !== undefined);
      if (kinds.length !== 1) return { field: path, reason: "Must set exactly one of queryApiKey, headerApiKey or httpAuth" };
      if (requirement.headerApiKey) {
        const reason = headerNameProblem(requirement.headerApiKey.name);
        if (reason) return { field: `${path}.headerApiKey.name`, reason };
      }
    }
  }
  return undefined;
}

/**
 * Validates a whole definition (on create, or after a PATCH merge) and returns it in stored form.
 * `name` is the tool's display name, from which `modelToolName` is derived when absent.
 */
export function normaliseToolDefinition(input: ToolDefinitionInput, name: string, policy: UrlPolicy): Checked<ToolDefinition> {
  const modelToolName = input.modelToolName ?? deriveModelToolName(name);
  if (!MODEL_TOOL_NAME_PATTERN.test(modelToolName)) {
    return fail("definition.modelToolName", "Must be 1-64 letters, digits, _ or -");
  }

  let http: ToolDefinition["http"];
  if (input.http) {
    const resolved = normaliseHttp(input.http);
    if (!resolved.ok) return resolved;
    const { url, urlField, method = "GET" } = resolved.value;
    if (url === undefined) return fail("definition.http.url", "Required when http is given");
    const safe = checkOutboundUrl(url, policy);
    if (!safe.ok) return fail(urlField, safe.reason);
    http = { url: url.trim(), method };
  }

  const timeout = input.timeout_seconds ?? TOOL_TIMEOUT_SECONDS.default;
  if (!Number.isInteger(timeout) || timeout < TOOL_TIMEOUT_SECONDS.min || timeout > TOOL_TIMEOUT_SECONDS.max) {
    return fail("definition.timeout_seconds", `Must be a whole number of seconds from ${TOOL_TIMEOUT_SECONDS.min} to ${TOOL_TIMEOUT_SECONDS.max}`);
  }

  const filler = input.filler_message?.trim();
  if (filler !== undefined && (filler === "" || filler.length > FILLER_MESSAGE_MAX_LENGTH)) {
    return fail("definition.filler_message", `Must be 1 to ${FILLER_MESSAGE_MAX_LENGTH} characters`);
  }

  const parameterProblem = checkParameters(input, http?.method);
  if (parameterProblem) return { ok: false, problem: parameterProblem };
  const requirementProblem = input.requirements && checkRequirements(input.requirements);
  if (requirementProblem) return { ok: false, problem: requirementProblem };

  return {
    ok: true,
    value: {
      modelToolName,
      type: "http",
      ...(input.description !== undefined && { description: input.description }),
      ...(http && { http }),
      dynamicParameters: input.dynamicParameters ?? [],
      staticParameters: input.staticParameters ?? [],
      ...(input.requirements && { requirements: input.requirements }),
      timeout_seconds: timeout,
      ...(filler !== undefined && { filler_message: filler }),
    },
  };
}

/**
 * The display name of a new tool: the given one, or its `modelToolName` (the spec makes `name`
 * optional only in that case).
 */
export function resolveToolName(name: string | undefined, definition: ToolDefinitionInput | undefined): Checked<string> {
  const resolved = name ?? definition?.modelToolName;
  if (resolved === undefined) return fail("name", "Required unless definition.modelToolName is given");
  return { ok: true, value: resolved };
}

/** The requirement names of every security option of a definition, in order, each once. */
export function requirementNames(definition: Pick<ToolDefinition, "requirements">): string[] {
  const names = new Set<string>();
  for (const option of definition.requirements?.httpSecurityOptions?.options ?? []) {
    for (const name of Object.keys(option.requirements)) names.add(name);
  }
  return [...names];
}

/**
 * Checks a tool's `auth_tokens` against its (final) definition: each must name one of its
 * requirements, and a key must be sendable in a header or query (no control characters).
 */
export function checkAuthTokens(tokens: Record<string, string>, definition: ToolDefinition): FieldProblem | undefined {
  const declared = requirementNames(definition);
  for (const [name, value] of Object.entries(tokens)) {
    if (!declared.includes(name)) {
      const known = declared.length ? `one of: ${declared.join(", ")}` : "none: the definition has no requirements";
      return { field: `auth_tokens.${name}`, reason: `No requirement is named "${name}" in definition.requirements (${known})` };
    }
    // Tabs, newlines and other control characters would break (or smuggle) the header they go in.
    if (/[\u0000-\u001f\u007f]/.test(value)) return { field: `auth_tokens.${name}`, reason: "Must not contain control characters" };
  }
  return undefined;
}
