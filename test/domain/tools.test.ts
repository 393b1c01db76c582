import { describe, expect, it } from "vitest";
import {
  deriveModelToolName,
  mergeToolDefinition,
  normaliseToolDefinition,
  resolveToolName,
  type ToolDefinition,
  type ToolDefinitionInput,
} from "../../src/domain/tools";

const strict = { allowLoopback: false };

function normalised(input: ToolDefinitionInput, name = "Tool", policy = strict): ToolDefinition {
  const result = normaliseToolDefinition(input, name, policy);
  if (!result.ok) throw new Error(`${result.problem.field}: ${result.problem.reason}`);
  return result.value;
}

function problemField(input: ToolDefinitionInput, policy = strict) {
  const result = normaliseToolDefinition(input, "Tool", policy);
  return result.ok ? undefined : result.problem.field;
}

describe("deriveModelToolName", () => {
  it("lowercases, replaces characters outside the pattern with _ and keeps at most 64", () => {
    expect(deriveModelToolName("Check Order Status")).toBe("check_order_status");
    expect(deriveModelToolName("  get-weather_v2  ")).toBe("get-weather_v2");
    expect(deriveModelToolName("Réserver une table!")).toBe("r_server_une_table_");
    expect(deriveModelToolName("📞 call")).toBe("__call");
    expect(deriveModelToolName("x".repeat(100))).toHaveLength(64);
  });
});

describe("resolveToolName", () => {
  it("falls back to modelToolName and otherwise reports name", () => {
    expect(resolveToolName("Given", { modelToolName: "other" })).toEqual({ ok: true, value: "Given" });
    expect(resolveToolName(undefined, { modelToolName: "lookup" })).toEqual({ ok: true, value: "lookup" });
    expect(resolveToolName(undefined, {})).toMatchObject({ ok: false, problem: { field: "name" } });
  });
});

describe("normaliseToolDefinition", () => {
  it("applies defaults and resolves the guide's spelling", () => {
    expect(normalised({ http: { baseUrlPattern: "https://api.example.com/x", httpMethod: "PATCH" } }, "My Tool")).toEqual({
      modelToolName: "my_tool",
      type: "http",
      http: { url: "https://api.example.com/x", method: "PATCH" },
      dynamicParameters: [],
      staticParameters: [],
      timeout_seconds: 10,
    });
    expect(normalised({ http: { url: "https://api.example.com/x" } }).http?.method).toBe("GET");
    expect(normalised({ http: { url: " https://api.example.com/x ", method: "GET", httpMethod: "GET" } }).http).toEqual({
      url: "https://api.example.com/x",
      method: "GET",
    });
  });

  it("reports contradicting spellings and a missing URL", () => {
    expect(problemField({ http: { method: "GET", httpMethod: "POST", url: "https://a.example.com" } })).toBe("definition.http.httpMethod");
    expect(problemField({ http: { method: "POST" } })).toBe("definition.http.url");
  });

  it("applies the URL policy and names the spelling the URL came in", () => {
    expect(problemField({ http: { url: "http://127.0.0.1/x" } })).toBe("definition.http.url");
    expect(problemField({ http: { url: "http://127.0.0.1/x" } }, { allowLoopback: true })).toBeUndefined();
    expect(problemField({ http: { baseUrlPattern: "https://10.0.0.1/x" } })).toBe("definition.http.baseUrlPattern");
  });

  it("checks parameters: schemas, duplicates per location, header names and GET bodies", () => {
    const http = { url: "https://api.example.com/x", method: "POST" as const };
    const param = (name: string, location: "PARAMETER_LOCATION_BODY" | "PARAMETER_LOCATION_QUERY" | "PARAMETER_LOCATION_HEADER") => ({
      name,
      location,
      schema: { type: "string" },
      required: false,
    });
    expect(problemField({ http, dynamicParameters: [param("a", "PARAMETER_LOCATION_BODY"), param("a", "PARAMETER_LOCATION_QUERY")] })).toBeUndefined();
    expect(problemField({ http, dynamicParameters: [param("a", "PARAMETER_LOCATION_BODY"), param("a", "PARAMETER_LOCATION_BODY")] })).toBe(
      "definition.dynamicParameters.1.name",
    );
    expect(problemField({ http, dynamicParameters: [param("A", "PARAMETER_LOCATION_QUERY"), param("a", "PARAMETER_LOCATION_QUERY")] })).toBeUndefined();
    expect(problemField({ http, dynamicParameters: [param("Host", "PARAMETER_LOCATION_HEADER")] })).toBe("definition.dynamicParameters.0.name");
    expect(problemField({ http, dynamicParameters: [{ ...param("a", "PARAMETER_LOCATION_BODY"), schema: { type: "nope" } }] })).toBe(
      "definition.dynamicParameters.0.schema.type",
    );
    expect(problemField({ http: { ...http, method: "GET" }, staticParameters: [{ name: "a", location: "PARAMETER_LOCATION_BODY", value: 1, required: false }] })).toBe(
      "definition.staticParameters.0.location",
    );
    expect(problemField({ dynamicParameters: [param("a", "PARAMETER_LOCATION_BODY")] })).toBeUndefined();
  });

  it("checks timeouts, model tool names and security requirements", () => {
    expect(problemField({ timeout_seconds: 0 })).toBe("definition.timeout_seconds");
    expect(problemField({ timeout_seconds: 2.5 })).toBe("definition.timeout_seconds");
    expect(problemField({ modelToolName: "bad name" })).toBe("definition.modelToolName");
    const option = (requirement: object) => ({ httpSecurityOptions: { options: [{ requirements: { key: requirement } }] } });
    expect(problemField({ requirements: option({ queryApiKey: { name: "api_key" } }) })).toBeUndefined();
    expect(problemField({ requirements: option({ queryApiKey: { name: "k" }, headerApiKey: { name: "K" } }) })).toBe(
      "definition.requirements.httpSecurityOptions.options.0.requirements.key",
    );
    expect(problemField({ requirements: option({ headerApiKey: { name: "Bad Header" } }) })).toBe(
      "definition.requirements.httpSecurityOptions.options.0.requirements.key.headerApiKey.name",
    );
  });
});

describe("mergeToolDefinition", () => {
  const current = normalised(
    {
      description: "Original",
      http: { url: "https://api.example.com/a", method: "POST" },
      dynamicParameters: [{ name: "x", location: "PARAMETER_LOCATION_BODY", schema: { type: "string" }, required: true }],
      timeout_seconds: 15,
    },
    "Original tool",
  );

  it("replaces given members, keeps the rest and merges http member by member", () => {
    const merged = normalised(mergeToolDefinition(current, { http: { httpMethod: "PUT" }, description: "New" }), "Renamed");
    expect(merged).toMatchObject({
      modelToolName: "original_tool",
      description: "New",
      http: { url: "https://api.example.com/a", method: "PUT" },
      timeout_seconds: 15,
    });
    expect(merged.dynamicParameters).toHaveLength(1);
    expect(normalised(mergeToolDefinition(current, { dynamicParameters: [] })).dynamicParameters).toEqual([]);
    expect(normalised(mergeToolDefinition(current, { http: { baseUrlPattern: "https://api.example.com/b" } })).http).toEqual({
      url: "https://api.example.com/b",
      method: "POST",
    });
  });

  it("leaves a contradicting http patch for validation to report", () => {
    const merged = mergeToolDefinition(current, { http: { url: "https://a.example.com", baseUrlPattern: "https://b.example.com" } });
    expect(normaliseToolDefinition(merged, "x", strict)).toMatchObject({ ok: false, problem: { field: "definition.http.baseUrlPattern" } });
  });
});
