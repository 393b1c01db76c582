import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { manualClock, useClock } from "../../src/lib/clock";
import { newOrg, type ApiClient } from "../helpers/api";
import { deleteAgentRow, insertAgentRow } from "../helpers/agent-rows";

let restoreClock = () => {};
afterEach(() => restoreClock());

const orderStatusTool = {
  name: "Check order status",
  definition: {
    description: "Looks up an order by its number",
    http: { url: "https://api.example.com/orders/status", method: "POST" },
    dynamicParameters: [
      {
        name: "order_id",
        location: "PARAMETER_LOCATION_BODY",
        schema: { type: "object", properties: { number: { type: "string", pattern: "^[0-9]+$" } }, required: ["number"] },
        required: true,
      },
    ],
    staticParameters: [{ name: "X-Source", location: "PARAMETER_LOCATION_HEADER", value: "truedy" }],
    requirements: { httpSecurityOptions: { options: [{ requirements: { apiKey: { headerApiKey: { name: "X-API-Key" } } } }] } },
  },
};

async function expectFieldError(client: ApiClient, method: "post" | "patch", path: string, body: unknown, field: string) {
  const res = await client[method](path, body);
  expect(res.status, `${JSON.stringify(body)} → ${JSON.stringify(res.body)}`).toBe(422);
  expect(res.body.error.code).toBe("validation_error");
  expect(res.body.error.details.field, JSON.stringify(res.body.error)).toBe(field);
  return res;
}

describe("POST /tools", () => {
  it("creates an HTTP tool and returns the normalised definition with the spec's convenience fields", async () => {
    const org = await newOrg();
    const res = await org.post("/tools", orderStatusTool);
    expect(res.status).toBe(201);
    const tool = res.body.data;
    expect(tool).toMatchObject({
      name: "Check order status",
      model_tool_name: "check_order_status",
      description: "Looks up an order by its number",
      type: "http",
      url: "https://api.example.com/orders/status",
      method: "POST",
      timeout_seconds: 10,
    });
    expect(tool.definition).toEqual({
      modelToolName: "check_order_status",
      type: "http",
      description: "Looks up an order by its number",
      http: { url: "https://api.example.com/orders/status", method: "POST" },
      dynamicParameters: [{ ...orderStatusTool.definition.dynamicParameters[0] }],
      staticParameters: [{ name: "X-Source", location: "PARAMETER_LOCATION_HEADER", value: "truedy", required: false }],
      requirements: orderStatusTool.definition.requirements,
      timeout_seconds: 10,
    });
    expect((await org.get(`/tools/${tool.id}`)).body.data).toEqual(tool);
  });

  it("derives modelToolName from the name and creates a placeholder without a definition", async () => {
    const org = await newOrg();
    const res = await org.post("/tools", { name: "Book a Table (v2)!" });
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({ model_tool_name: "book_a_table__v2__", url: null, method: null, timeout_seconds: 10 });
    expect(res.body.data.definition).toEqual({
      modelToolName: "book_a_table__v2__",
      type: "http",
      dynamicParameters: [],
      staticParameters: [],
      timeout_seconds: 10,
    });
  });

  it("takes the name from modelToolName when only that is given, and needs one of them", async () => {
    const org = await newOrg();
    const res = await org.post("/tools", { definition: { modelToolName: "lookupCustomer", http: { url: "https://crm.example.com/customers" } } });
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({ name: "lookupCustomer", model_tool_name: "lookupCustomer", method: "GET" });
    await expectFieldError(org, "post", "/tools", { definition: { description: "nameless" } }, "name");
  });

  it("accepts the guide's baseUrlPattern/httpMethod spelling and stores the reference spelling", async () => {
    const org = await newOrg();
    const res = await org.post("/tools", {
      name: "Weather",
      definition: { http: { baseUrlPattern: "https://weather.example.com/v1/forecast", httpMethod: "GET" }, timeout_seconds: 30 },
    });
    expect(res.status).toBe(201);
    expect(res.body.data.definition.http).toEqual({ url: "https://weather.example.com/v1/forecast", method: "GET" });
    expect(res.body.data.timeout_seconds).toBe(30);
    await expectFieldError(
      org,
      "post",
      "/tools",
      { name: "x", definition: { http: { url: "https://a.example.com", baseUrlPattern: "https://b.example.com" } } },
      "definition.http.baseUrlPattern",
    );
  });

  it("allows http to loopback while the simulator is enabled", async () => {
    const org = await newOrg();
    const res = await org.post("/tools", { name: "Local", definition: { http: { url: "http://127.0.0.1:9999/hook" } } });
    expect(res.status).toBe(201);
  });

  it("refuses unsafe URLs with 422 on definition.http.url", async () => {
    const org = await newOrg();
    const urls = [
      "http://api.example.com/orders",
      "ftp://api.example.com/orders",
      "not a url",
      "https://10.0.0.7/admin",
      "https://169.254.169.254/latest/meta-data/",
      "https://[fd00::1]/x",
      "https://[::ffff:192.168.1.1]/x",
      "https://metadata.google.internal/computeMetadata/v1/",
      "https://printer.local/status",
      "https://intranet/hr",
      "https://user:secret@api.example.com/orders",
      "https://api.example.com/orders?api_key=abc123",
      "https://api.example.com/orders?Token=abc123",
    ];
    for (const url of urls) {
      const res = await expectFieldError(org, "post", "/tools", { name: "Bad", definition: { http: { url } } }, "definition.http.url");
      expect(res.body.error.message).toContain("definition.http.url");
    }
    const secret = await org.post("/tools", { name: "Bad", definition: { http: { url: "https://api.example.com/?secret=1" } } });
    expect(secret.body.error.details.reason).toContain("Secrets must not be embedded in the URL");
    expect((await org.get("/tools")).body.pagination.total).toBe(0);
  });

  it("refuses implausible JSON Schemas with the path of the fault", async () => {
    const org = await newOrg();
    const withSchema = (schema: unknown) => ({
      name: "Schema test",
      definition: { http: { url: "https://api.example.com/x", method: "POST" }, dynamicParameters: [{ name: "p", location: "PARAMETER_LOCATION_BODY", schema }] },
    });
    const base = "definition.dynamicParameters.0.schema";
    await expectFieldError(org, "post", "/tools", withSchema({ type: "strin" }), `${base}.type`);
    await expectFieldError(org, "post", "/tools", withSchema({ description: "no type" }), base);
    await expectFieldError(org, "post", "/tools", withSchema("string"), base);
    await expectFieldError(org, "post", "/tools", withSchema({ type: "object", properties: { a: { type: "text" } } }), `${base}.properties.a.type`);
    await expectFieldError(org, "post", "/tools", withSchema({ type: "array", items: 42 }), `${base}.items`);
    await expectFieldError(org, "post", "/tools", withSchema({ type: "string", pattern: "([a-z" }), `${base}.pattern`);
    await expectFieldError(org, "post", "/tools", withSchema({ enum: [] }), `${base}.enum`);
    expect((await org.post("/tools", withSchema({ $ref: "#/definitions/order" }))).status).toBe(201);
    expect((await org.post("/tools", withSchema({ enum: ["a", "b"] }))).status).toBe(201);
  });

  it("validates the rest of the definition, naming the field", async () => {
    const org = await newOrg();
    const http = { url: "https://api.example.com/x", method: "POST" };
    const param = { name: "q", location: "PARAMETER_LOCATION_QUERY", schema: { type: "string" } };
    const cases: [unknown, string][] = [
      [{ name: "" }, "name"],
      [{ name: "x".repeat(256) }, "name"],
      [{ name: "x", definition: { modelToolName: "has spaces" } }, "definition.modelToolName"],
      [{ name: "x", definition: { modelToolName: "x".repeat(65) } }, "definition.modelToolName"],
      [{ name: "x", definition: { type: "grpc" } }, "definition.type"],
      [{ name: "x", definition: { http: { method: "POST" } } }, "definition.http.url"],
      [{ name: "x", definition: { http: { ...http, method: "FETCH" } } }, "definition.http.method"],
      [{ name: "x", definition: { http, timeout_seconds: 61 } }, "definition.timeout_seconds"],
      [{ name: "x", definition: { http, timeout_seconds: 0 } }, "definition.timeout_seconds"],
      [{ name: "x", definition: { http, dynamicParameters: [{ ...param, location: "PARAMETER_LOCATION_PATH" }] } }, "definition.dynamicParameters.0.location"],
      [{ name: "x", definition: { http, dynamicParameters: [{ ...param, name: "" }] } }, "definition.dynamicParameters.0.name"],
      [{ name: "x", definition: { http, dynamicParameters: [param, param] } }, "definition.dynamicParameters.1.name"],
      [
        { name: "x", definition: { http, dynamicParameters: [param], staticParameters: [{ name: "q", location: "PARAMETER_LOCATION_QUERY", value: "1" }] } },
        "definition.staticParameters.0.name",
      ],
      [
        {
          name: "x",
          definition: {
            http,
            staticParameters: [
              { name: "X-Key", location: "PARAMETER_LOCATION_HEADER", value: "1" },
              { name: "x-key", location: "PARAMETER_LOCATION_HEADER", value: "2" },
            ],
          },
        },
        "definition.staticParameters.1.name",
      ],
      [{ name: "x", definition: { http, staticParameters: [{ name: "Bad Header", location: "PARAMETER_LOCATION_HEADER", value: "1" }] } }, "definition.staticParameters.0.name"],
      [{ name: "x", definition: { http, staticParameters: [{ name: "X-A", location: "PARAMETER_LOCATION_HEADER", value: { a: 1 } }] } }, "definition.staticParameters.0.value"],
      [{ name: "x", definition: { http, staticParameters: [{ name: "s", location: "PARAMETER_LOCATION_BODY" }] } }, "definition.staticParameters.0.value"],
      [
        { name: "x", definition: { http: { url: http.url, method: "GET" }, dynamicParameters: [{ ...param, location: "PARAMETER_LOCATION_BODY" }] } },
        "definition.dynamicParameters.0.location",
      ],
      [
        { name: "x", definition: { http, requirements: { httpSecurityOptions: { options: [{ requirements: { k: {} } }] } } } },
        "definition.requirements.httpSecurityOptions.options.0.requirements.k",
      ],
      [
        { name: "x", definition: { http, requirements: { httpSecurityOptions: { options: [{ requirements: { k: { headerApiKey: { name: "" } } } }] } } } },
        "definition.requirements.httpSecurityOptions.options.0.requirements.k.headerApiKey.name",
      ],
    ];
    for (const [body, field] of cases) await expectFieldError(org, "post", "/tools", body, field);
    expect((await org.get("/tools")).body.pagination.total).toBe(0);
  });

  it("replays a create sent again with the same idempotency key", async () => {
    const org = await newOrg();
    const first = await org.post("/tools", orderStatusTool, { "X-Idempotency-Key": "tool-1" });
    const second = await org.post("/tools", orderStatusTool, { "X-Idempotency-Key": "tool-1" });
    expect(second.status).toBe(201);
    expect(second.body.data.id).toBe(first.body.data.id);
    expect((await org.get("/tools")).body.pagination.total).toBe(1);
    const reused = await org.post("/tools", { name: "Different" }, { "X-Idempotency-Key": "tool-1" });
    expect(reused.status).toBe(422);
    expect(reused.body.error.code).toBe("idempotency_key_reused");
  });
});

describe("GET /tools", () => {
  it("filters by a case-insensitive name substring and paginates newest first", async () => {
    // Creation times a second apart, so "newest first" does not hinge on same-millisecond ids.
    const clock = manualClock(Date.UTC(2026, 10, 25, 12, 0, 0));
    restoreClock = useClock(clock);
    const org = await newOrg();
    for (const name of ["Order lookup", "Refund ORDER", "Weather"]) {
      clock.advance(1000);
      expect((await org.post("/tools", { name })).status).toBe(201);
    }
    const orders = await org.get("/tools?name=order");
    expect(orders.body.data.map((t: any) => t.name)).toEqual(["Refund ORDER", "Order lookup"]);
    expect(orders.body.pagination).toEqual({ total: 2, limit: 50, offset: 0, has_more: false });

    const page = await org.get("/tools?limit=2");
    expect(page.body.data.map((t: any) => t.name)).toEqual(["Weather", "Refund ORDER"]);
    expect(page.body.pagination).toEqual({ total: 3, limit: 2, offset: 0, has_more: true });
    expect((await org.get("/tools?limit=2&offset=2")).body.data.map((t: any) => t.name)).toEqual(["Order lookup"]);
    expect((await org.get("/tools?limit=101")).status).toBe(422);
  });
});

describe("PATCH /tools/{id}", () => {
  it("renames without changing modelToolName and merges http member by member", async () => {
    const org = await newOrg();
    const { id } = (await org.post("/tools", orderStatusTool)).body.data;
    const renamed = await org.patch(`/tools/${id}`, { name: "Order status v2" });
    expect(renamed.status).toBe(200);
    expect(renamed.body.data).toMatchObject({ name: "Order status v2", model_tool_name: "check_order_status" });

    const patched = await org.patch(`/tools/${id}`, { definition: { http: { method: "PUT" }, timeout_seconds: 20 } });
    expect(patched.status).toBe(200);
    expect(patched.body.data).toMatchObject({ url: "https://api.example.com/orders/status", method: "PUT", timeout_seconds: 20 });
    expect(patched.body.data.definition.dynamicParameters).toHaveLength(1);
    expect(patched.body.data.definition.requirements).toEqual(orderStatusTool.definition.requirements);

    const moved = await org.patch(`/tools/${id}`, { definition: { http: { baseUrlPattern: "https://api.example.com/v2/orders" } } });
    expect(moved.body.data).toMatchObject({ url: "https://api.example.com/v2/orders", method: "PUT" });
  });

  it("validates the merged definition as a whole and changes nothing on failure", async () => {
    const org = await newOrg();
    const { id } = (await org.post("/tools", orderStatusTool)).body.data;
    await expectFieldError(org, "patch", `/tools/${id}`, { definition: { http: { url: "https://192.168.0.10/orders" } } }, "definition.http.url");
    // The stored body parameter makes GET invalid, though the patch itself only names a method.
    await expectFieldError(org, "patch", `/tools/${id}`, { definition: { http: { method: "GET" } } }, "definition.dynamicParameters.0.location");
    await expectFieldError(org, "patch", `/tools/${id}`, { name: "" }, "name");
    const tool = (await org.get(`/tools/${id}`)).body.data;
    expect(tool).toMatchObject({ name: "Check order status", url: "https://api.example.com/orders/status", method: "POST" });
    expect(tool.updated_at).toBe(tool.created_at);
  });

  it("replaces parameter lists whole", async () => {
    const org = await newOrg();
    const { id } = (await org.post("/tools", orderStatusTool)).body.data;
    const res = await org.patch(`/tools/${id}`, {
      definition: { dynamicParameters: [{ name: "email", location: "PARAMETER_LOCATION_QUERY", schema: { type: "string", format: "email" } }] },
    });
    expect(res.status).toBe(200);
    expect(res.body.data.definition.dynamicParameters.map((p: any) => p.name)).toEqual(["email"]);
  });
});

describe("tool keys (auth_tokens) and filler_message", () => {
  it("keeps the keys of the definition's requirements encrypted and write-only, listing only their names", async () => {
    const org = await newOrg();
    const res = await org.post("/tools", { ...orderStatusTool, auth_tokens: { apiKey: "sk-live-secret" } });
    expect(res.status).toBe(201);
    expect(res.body.data.auth_token_names).toEqual(["apiKey"]);
    const { id } = res.body.data;
    for (const shown of [res.body, (await org.get(`/tools/${id}`)).body, (await org.get("/tools")).body]) expect(JSON.stringify(shown)).not.toContain("sk-live-secret");
    const row = await env.DB.prepare("SELECT auth_tokens_encrypted FROM tools WHERE id = ?").bind(id).first<{ auth_tokens_encrypted: string }>();
    expect(row?.auth_tokens_encrypted).toMatch(/^v1\./);
    expect(row?.auth_tokens_encrypted).not.toContain("sk-live-secret");
    expect((await org.post("/tools", { name: "No keys" })).body.data.auth_token_names).toEqual([]);
  });

  it("refuses keys for requirements the definition does not have", async () => {
    const org = await newOrg();
    await expectFieldError(org, "post", "/tools", { ...orderStatusTool, auth_tokens: { bearer: "x" } }, "auth_tokens.bearer");
    await expectFieldError(org, "post", "/tools", { name: "Plain", auth_tokens: { apiKey: "x" } }, "auth_tokens.apiKey");
    await expectFieldError(org, "post", "/tools", { ...orderStatusTool, auth_tokens: { apiKey: "a\nb" } }, "auth_tokens.apiKey");
  });

  it("replaces keys on PATCH (null removes them) and drops the key of a requirement the patch removes", async () => {
    const org = await newOrg();
    const { id } = (await org.post("/tools", { ...orderStatusTool, auth_tokens: { apiKey: "one" } })).body.data;
    expect((await org.patch(`/tools/${id}`, { name: "Renamed" })).body.data.auth_token_names).toEqual(["apiKey"]);
    expect((await org.patch(`/tools/${id}`, { auth_tokens: null })).body.data.auth_token_names).toEqual([]);
    expect((await org.patch(`/tools/${id}`, { auth_tokens: { apiKey: "two" } })).body.data.auth_token_names).toEqual(["apiKey"]);
    const moved = await org.patch(`/tools/${id}`, { definition: { requirements: { httpSecurityOptions: { options: [{ requirements: { token: { httpAuth: { scheme: "Bearer" } } } }] } } } });
    expect(moved.status).toBe(200);
    expect(moved.body.data.auth_token_names).toEqual([]);
  });

  it("stores a filler line said while the tool is slow, 1 to 200 characters", async () => {
    const org = await newOrg();
    const res = await org.post("/tools", { name: "Slow", definition: { filler_message: "  Let me look that up.  " } });
    expect(res.body.data.definition.filler_message).toBe("Let me look that up.");
    for (const filler_message of ["", "x".repeat(201)]) {
      expect((await org.post("/tools", { name: "Slow", definition: { filler_message } })).status).toBe(422);
    }
  });
});

describe("DELETE /tools/{id}", () => {
  it("deletes a tool", async () => {
    const org = await newOrg();
    const { id } = (await org.post("/tools", { name: "Temp" })).body.data;
    const res = await org.delete(`/tools/${id}`);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ id, deleted: true });
    expect((await org.get(`/tools/${id}`)).status).toBe(404);
  });

  it("refuses a tool an agent uses with 409 naming the agents", async () => {
    const org = await newOrg();
    const { id } = (await org.post("/tools", { name: "Needed" })).body.data;
    const other = (await org.post("/tools", { name: "Other" })).body.data.id;
    const agentId = await insertAgentRow(org.orgId, { toolIds: [other, id] });
    const res = await org.delete(`/tools/${id}`);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("resource_in_use");
    expect(res.body.error.details.agent_ids).toEqual([agentId]);
    expect((await org.get(`/tools/${id}`)).status).toBe(200);
    await deleteAgentRow(agentId);
    expect((await org.delete(`/tools/${id}`)).status).toBe(200);
  });
});

describe("tools across organizations", () => {
  it("answers 404 on every /tools/{id} route for another organization's tool and leaves it unchanged", async () => {
    const [owner, intruder] = await Promise.all([newOrg(), newOrg()]);
    const created = (await owner.post("/tools", orderStatusTool)).body.data;
    const path = `/tools/${created.id}`;
    for (const res of [
      await intruder.get(path),
      await intruder.patch(path, { name: "Hijacked", definition: { http: { url: "https://evil.example.com" } } }),
      await intruder.delete(path),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe("not_found");
    }
    expect((await intruder.get("/tools")).body.pagination.total).toBe(0);
    expect((await owner.get(path)).body.data).toEqual(created);
  });

  it("ignores an org_id in the body: the key decides the organization", async () => {
    const [owner, other] = await Promise.all([newOrg(), newOrg()]);
    const res = await owner.post("/tools", { name: "Mine", org_id: other.orgId });
    expect(res.status).toBe(201);
    expect((await other.get(`/tools/${res.body.data.id}`)).status).toBe(404);
    expect((await owner.get(`/tools/${res.body.data.id}`)).status).toBe(200);
  });

  it("does not count another organization's agents as users of a tool", async () => {
    const [owner, other] = await Promise.all([newOrg(), newOrg()]);
    const { id } = (await owner.post("/tools", { name: "Shared id" })).body.data;
    const agentId = await insertAgentRow(other.orgId, { toolIds: [id] });
    expect((await owner.delete(`/tools/${id}`)).status).toBe(200);
    await deleteAgentRow(agentId);
  });
});
