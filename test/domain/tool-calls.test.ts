import { describe, expect, it } from "vitest";
import {
  MAX_TOOL_RESULT_CHARS,
  buildToolRequest,
  callActionTools,
  checkDtmfDigits,
  checkTransferDestination,
  functionToolOf,
  normalizeTransferDestination,
  redirectTarget,
  toolResultForModel,
  truncateUtf8,
} from "../../src/domain/tool-calls";
import { checkAuthTokens, requirementNames, type ToolDefinition } from "../../src/domain/tools";
import { wellFormedHistory } from "../../src/voice/session-store";
import type { ChatMessage } from "../../src/voice/providers/llm";

const strict = { allowLoopback: false };

const orderTool: ToolDefinition = {
  modelToolName: "check_order",
  type: "http",
  description: "Looks up an order",
  http: { url: "https://api.example.com/orders/{{account}}/status?lang=en", method: "POST" },
  dynamicParameters: [
    { name: "order_id", location: "PARAMETER_LOCATION_BODY", schema: { type: "string" }, required: true },
    { name: "verbose", location: "PARAMETER_LOCATION_QUERY", schema: { type: "boolean" }, required: false },
    { name: "X-Trace", location: "PARAMETER_LOCATION_HEADER", schema: { type: "string" }, required: false },
    { name: "source", location: "PARAMETER_LOCATION_BODY", schema: { type: "string" }, required: false },
  ],
  staticParameters: [
    { name: "source", location: "PARAMETER_LOCATION_BODY", value: "truedy", required: false },
    { name: "customer", location: "PARAMETER_LOCATION_BODY", value: { name: "{{first_name}}", tags: ["{{tier}}", 3] }, required: false },
    { name: "X-Campaign", location: "PARAMETER_LOCATION_HEADER", value: "c-{{tier}}", required: false },
  ],
  requirements: {
    httpSecurityOptions: {
      options: [
        { requirements: { bearer: { httpAuth: { scheme: "Bearer" } } } },
        { requirements: { apiKey: { queryApiKey: { name: "api_key" } } } },
      ],
    },
  },
  timeout_seconds: 10,
};

const context = (authTokens: Record<string, string>, variables: Record<string, string> = { account: "acme co/1", first_name: "Ana", tier: "gold" }) => ({
  variables,
  authTokens,
  policy: strict,
});

function built(definition: ToolDefinition, args: unknown, ctx = context({ bearer: "tok-1" })) {
  const result = buildToolRequest(definition, args, ctx);
  if (!result.ok) throw new Error(result.error);
  return result.value;
}

describe("function schemas", () => {
  it("offers an HTTP tool's dynamic parameters as one object, required ones listed, a repeated name once", () => {
    const twice: ToolDefinition = {
      ...orderTool,
      dynamicParameters: [...orderTool.dynamicParameters, { name: "order_id", location: "PARAMETER_LOCATION_QUERY", schema: { type: "integer" }, required: false }],
    };
    expect(functionToolOf(twice)).toEqual({
      type: "function",
      function: {
        name: "check_order",
        description: "Looks up an order",
        parameters: {
          type: "object",
          properties: { order_id: { type: "string" }, verbose: { type: "boolean" }, "X-Trace": { type: "string" }, source: { type: "string" } },
          required: ["order_id"],
        },
      },
    });
    expect(functionToolOf({ ...orderTool, description: undefined, dynamicParameters: [] }).function).toEqual({ name: "check_order", parameters: { type: "object", properties: {} } });
  });

  it("offers end_call, send_dtmf and opt_out always, and transfer_call naming the agent's destinations when it has any", () => {
    const names = (tools: { function: { name: string; parameters: Record<string, unknown> } }[]) => tools.map((t) => [t.function.name, t.function.parameters.required ?? []]);
    expect(names(callActionTools([]))).toEqual([
      ["end_call", []],
      ["send_dtmf", ["digits"]],
      ["opt_out", []],
    ]);
    const tools = callActionTools([
      { destination: "+14155552671", description: "Sales, for pricing" },
      { destination: "sip:desk@pbx.example.com", description: null },
    ]);
    expect(names(tools)).toEqual([
      ["end_call", []],
      ["transfer_call", ["destination"]],
      ["send_dtmf", ["digits"]],
      ["opt_out", []],
    ]);
    const transfer = tools[1].function;
    expect(transfer.parameters).toMatchObject({ properties: { destination: { enum: ["+14155552671", "sip:desk@pbx.example.com"] } } });
    expect(transfer.description).toContain("+14155552671: Sales, for pricing; sip:desk@pbx.example.com");
  });
});

describe("buildToolRequest", () => {
  it("puts parameters where the definition says, fills variables (URL-encoded in the URL) and lets static values win", () => {
    const request = built(orderTool, { order_id: "A-17", verbose: true, "X-Trace": "t1", source: "model" });
    expect(request.method).toBe("POST");
    expect(request.url).toBe("https://api.example.com/orders/acme%20co%2F1/status?lang=en&verbose=true");
    expect(request.headers).toEqual({
      accept: "application/json",
      "content-type": "application/json",
      "x-trace": "t1",
      "x-campaign": "c-gold",
      authorization: "Bearer tok-1",
    });
    expect(JSON.parse(request.body!)).toEqual({ order_id: "A-17", source: "truedy", customer: { name: "Ana", tags: ["gold", 3] } });
    expect(request.shownUrl).toBe(request.url);
  });

  it("uses the first security option that has all its keys, and masks a query key in what is logged", () => {
    const request = built(orderTool, { order_id: "1" }, context({ apiKey: "secret-key" }));
    expect(new URL(request.url).searchParams.get("api_key")).toBe("secret-key");
    expect(request.headers.authorization).toBeUndefined();
    expect(request.shownUrl).not.toContain("secret-key");
    expect(new URL(request.shownUrl).searchParams.get("api_key")).toBe("***");
    const header: ToolDefinition = { ...orderTool, requirements: { httpSecurityOptions: { options: [{ requirements: { k: { headerApiKey: { name: "X-API-Key" } } } }] } } };
    expect(built(header, { order_id: "1" }, context({ k: "v" })).headers["x-api-key"]).toBe("v");
  });

  it("answers problems instead of requests: no key, a missing argument, a placeholder, unknown variables, unsafe URLs, header line breaks", () => {
    const problem = (definition: ToolDefinition, args: unknown, ctx = context({ bearer: "t" })) => {
      const result = buildToolRequest(definition, args, ctx);
      return result.ok ? undefined : result.error;
    };
    expect(problem(orderTool, { order_id: "1" }, context({}))).toBe("The tool's API key is not set (auth_tokens: bearer, apiKey)");
    expect(problem(orderTool, {})).toBe("Missing required argument: order_id");
    expect(problem(orderTool, { order_id: null })).toBe("Missing required argument: order_id");
    expect(problem(orderTool, "order 1")).toBe("The arguments must be a JSON object");
    expect(problem(orderTool, { order_id: 17, verbose: "yes" })).toMatch(/^Invalid arguments: arguments\.order_id: .*string.*; arguments\.verbose: .*boolean/);
    const bounded: ToolDefinition = {
      ...orderTool,
      requirements: undefined,
      dynamicParameters: [{ name: "party", location: "PARAMETER_LOCATION_BODY", schema: { type: "integer", minimum: 1, maximum: 12 }, required: true }],
    };
    expect(problem(bounded, { party: 40 })).toMatch(/^Invalid arguments: arguments\.party: .*12/);
    expect(problem(bounded, { party: 4 })).toBeUndefined();
    expect(problem({ ...orderTool, http: undefined }, { order_id: "1" })).toBe("This tool has no URL yet; it cannot be called");
    expect(problem(orderTool, { order_id: "1" }, context({ bearer: "t" }, {}))).toBe("The tool's URL uses {{account}}, which this call has no variable for");
    for (const url of ["http://169.254.169.254/latest/meta-data", "https://10.0.0.1/orders", "https://[::ffff:127.0.0.1]/x", "https://metadata.internal/x", "http://api.example.com/x"]) {
      expect(problem({ ...orderTool, http: { url, method: "GET" }, dynamicParameters: [] }, {})).toMatch(/^The tool's URL is refused: /);
    }
    expect(problem({ ...orderTool, requirements: undefined }, { order_id: "1", "X-Trace": "a\r\nHost: evil" })).toBe('The value of header "X-Trace" must not contain line breaks');
  });

  it("sends no body on a GET without body parameters, and {} on a POST without any", () => {
    const get = built({ ...orderTool, http: { url: "https://api.example.com/x", method: "GET" }, dynamicParameters: [], staticParameters: [], requirements: undefined }, {});
    expect([get.body, get.headers["content-type"]]).toEqual([null, undefined]);
    const post = built({ ...orderTool, http: { url: "https://api.example.com/x", method: "POST" }, dynamicParameters: [], staticParameters: [], requirements: undefined }, undefined);
    expect(post.body).toBe("{}");
  });
});

describe("results for the model", () => {
  it("passes a 2xx JSON answer on as sent and wraps everything else with an error", () => {
    expect(toolResultForModel({ status: 200, body: '{"status":"shipped"}' })).toBe('{"status":"shipped"}');
    expect(JSON.parse(toolResultForModel({ status: 200, body: "shipped" }))).toEqual({ status: 200, body: "shipped" });
    expect(JSON.parse(toolResultForModel({ status: 204, body: "" }))).toEqual({ status: 204, body: "" });
    expect(JSON.parse(toolResultForModel({ status: 500, body: '{"message":"db down"}' }))).toEqual({
      error: "The tool's endpoint answered HTTP 500",
      status: 500,
      body: { message: "db down" },
    });
    expect(JSON.parse(toolResultForModel({ error: "The tool did not answer within 1 s" }))).toEqual({ error: "The tool did not answer within 1 s" });
    const long = JSON.parse(toolResultForModel({ status: 200, body: JSON.stringify("x".repeat(MAX_TOOL_RESULT_CHARS * 2)) }));
    expect(long).toMatchObject({ status: 200, truncated: true });
    expect(long.body).toHaveLength(MAX_TOOL_RESULT_CHARS);
  });

  it("cuts logged text on a character boundary", () => {
    expect(truncateUtf8("abc", 2)).toBe("ab");
    expect(truncateUtf8("é€x", 4)).toBe("é"); // 2 + 3 bytes: the euro sign does not fit
    expect(truncateUtf8("short", 2048)).toBe("short");
  });

  it("re-checks every redirect target", () => {
    expect(redirectTarget("/next", "https://api.example.com/a", strict)).toMatchObject({ ok: true });
    expect(redirectTarget("http://169.254.169.254/latest", "https://api.example.com/a", strict)).toEqual({
      ok: false,
      error: "The tool's endpoint redirected to a refused URL: Must use https",
    });
    expect(redirectTarget("https://10.0.0.1/", "https://api.example.com/a", strict)).toMatchObject({ ok: false });
    expect(redirectTarget(null, "https://api.example.com/a", strict)).toMatchObject({ ok: false });
  });
});

describe("call action arguments", () => {
  it("takes DTMF digits 0-9 * # w W only", () => {
    expect(checkDtmfDigits({ digits: "1w2#*W9" })).toEqual({ ok: true, value: "1w2#*W9" });
    for (const digits of ["", "12a", "1 2", 5, undefined]) expect(checkDtmfDigits({ digits }).ok).toBe(false);
  });

  it("takes E.164 numbers of real plans and public SIP URIs as transfer destinations", () => {
    expect(normalizeTransferDestination("+1 415 555 2671")).toEqual({ ok: true, value: "+14155552671" });
    expect(normalizeTransferDestination("sip:desk@pbx.example.com;transport=tls")).toEqual({ ok: true, value: "sip:desk@pbx.example.com;transport=tls" });
    const refused = (destination: string) => {
      const result = normalizeTransferDestination(destination);
      return result.ok ? undefined : result.error;
    };
    expect(refused("4155552671")).toMatch(/E\.164/);
    expect(refused("+1555")).toBe("Is not a valid phone number");
    expect(refused("+19005550123")).toBe("Is a premium-rate number");
    expect(refused("sip:admin@10.0.0.1")).toMatch(/SIP host is refused/);
    expect(refused("sip:x@localhost")).toMatch(/SIP host is refused/);
    expect(refused("sip:x@[::1]")).toMatch(/SIP host is refused/);
    expect(refused("sip:not a uri")).toMatch(/not a valid sip: URI/);
    expect(refused("  ")).toMatch(/E\.164/);
  });

  it("lets the model transfer only to the agent's own destinations, however it writes them", () => {
    const allowed = [
      { destination: "+14155552671", description: "Sales" },
      { destination: "sip:desk@pbx.example.com", description: null },
    ];
    expect(checkTransferDestination({ destination: "+1 (415) 555-2671" }, allowed)).toEqual({ ok: true, value: "+14155552671" });
    expect(checkTransferDestination({ destination: "sip:desk@pbx.example.com" }, allowed)).toEqual({ ok: true, value: "sip:desk@pbx.example.com" });
    const outside = checkTransferDestination({ destination: "+442071838750" }, allowed);
    expect(outside).toEqual({ ok: false, error: "destination must be one of: +14155552671, sip:desk@pbx.example.com" });
    expect(checkTransferDestination({}, allowed).ok).toBe(false);
    expect(checkTransferDestination({ destination: "+14155552671" }, [])).toEqual({ ok: false, error: "This agent has no transfer destinations: transfer_call is not available" });
  });
});

describe("tool keys", () => {
  it("lists requirement names and accepts keys only for them", () => {
    expect(requirementNames(orderTool)).toEqual(["bearer", "apiKey"]);
    expect(checkAuthTokens({ bearer: "t" }, orderTool)).toBeUndefined();
    expect(checkAuthTokens({ other: "t" }, orderTool)).toEqual({ field: "auth_tokens.other", reason: 'No requirement is named "other" in definition.requirements (one of: bearer, apiKey)' });
    expect(checkAuthTokens({ bearer: "a\nb" }, orderTool)?.reason).toBe("Must not contain control characters");
  });
});

describe("history with tool rounds", () => {
  const call = (id: string) => ({ id, type: "function" as const, function: { name: "check_order", arguments: "{}" } });
  it("keeps complete rounds and drops answers without their call or calls without all answers", () => {
    const complete: ChatMessage[] = [
      { role: "user", content: "Where is my order?" },
      { role: "assistant", content: null, tool_calls: [call("a"), call("b")] },
      { role: "tool", tool_call_id: "a", content: "{}" },
      { role: "tool", tool_call_id: "b", content: "{}" },
      { role: "assistant", content: "It shipped." },
    ];
    expect(wellFormedHistory(complete)).toEqual(complete);
    // The window cut the round: its answers lead the history.
    expect(wellFormedHistory(complete.slice(2))).toEqual([{ role: "assistant", content: "It shipped." }]);
    // A round cut off before its answers were all written.
    expect(
      wellFormedHistory([
        { role: "user", content: "Hi" },
        { role: "assistant", content: "Let me see.", tool_calls: [call("a"), call("b")] },
        { role: "tool", tool_call_id: "a", content: "{}" },
        { role: "user", content: "Hello?" },
      ]),
    ).toEqual([
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Let me see." },
      { role: "user", content: "Hello?" },
    ]);
  });
});
