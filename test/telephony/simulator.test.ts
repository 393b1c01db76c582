import { describe, expect, it } from "vitest";
import { BASE, newOrg, rawFetch } from "../helpers/api";
import { storedNumber } from "./helpers";

describe("number search (simulator)", () => {
  it("defaults to the simulator and returns the fictional 555-01XX block of the area code", async () => {
    const org = await newOrg();
    const res = await org.post("/telephony/numbers/search", { area_code: "303", locality: "Denver", administrative_area: "CO" });
    expect(res.status).toBe(200);
    expect(res.body.data).toHaveLength(20);
    expect(res.body.data[0]).toEqual({
      phone_number: "+13035550100",
      phone_number_type: "local",
      region_information: [
        { region_type: "location", region_name: "Denver" },
        { region_type: "state", region_name: "CO" },
        { region_type: "country_code", region_name: "US" },
      ],
      features: [{ name: "voice" }, { name: "sms" }],
      cost_information: { upfront_cost: "0.00", monthly_cost: "0.00", currency: "USD" },
    });
    expect(res.body.pagination).toEqual({ page: 1, page_size: 20, total_results: 100, total_pages: 5, has_more: true });
  });

  it("pages through the block and stops at its end", async () => {
    const org = await newOrg();
    const second = await org.post("/telephony/numbers/search", { area_code: "303", page: 2, page_size: 30 });
    expect(second.body.data.map((n: { phone_number: string }) => n.phone_number).slice(0, 2)).toEqual(["+13035550130", "+13035550131"]);
    const last = await org.post("/telephony/numbers/search", { area_code: "303", page: 4, page_size: 30 });
    expect(last.body.data).toHaveLength(10);
    expect(last.body.pagination).toEqual({ page: 4, page_size: 30, total_results: 100, total_pages: 4, has_more: false });
  });

  it("accepts toll-free in either spelling and a lowercase country code", async () => {
    const org = await newOrg();
    for (const phone_number_type of ["toll-free", "toll_free"]) {
      const res = await org.post("/telephony/numbers/search", { phone_number_type, country_code: "us", page_size: 1 });
      expect(res.status).toBe(200);
      expect(res.body.data[0]).toMatchObject({ phone_number: "+18005550100", phone_number_type: "toll_free" });
    }
  });

  it("finds nothing outside North America", async () => {
    const org = await newOrg();
    const res = await org.post("/telephony/numbers/search", { country_code: "GB" });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual([]);
    expect(res.body.pagination).toMatchObject({ total_results: 0, has_more: false });
  });

  it("answers bad search input with a 422 naming the field", async () => {
    const org = await newOrg();
    const cases: [Record<string, unknown>, string][] = [
      [{ area_code: "41" }, "area_code"],
      [{ country_code: "USA" }, "country_code"],
      [{ country_code: "GB", area_code: "207" }, "area_code"],
      [{ phone_number_type: "premium" }, "phone_number_type"],
      [{ page_size: 101 }, "page_size"],
      [{ page: 0 }, "page"],
      [{ provider: "vonage" }, "provider"],
      [{ provider: "twilio", api_key: "KEYplatformtelnyx" }, "api_key"],
    ];
    for (const [body, field] of cases) {
      const res = await org.post("/telephony/numbers/search", body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.error.code).toBe("validation_error");
      expect(res.body.error.details.field, JSON.stringify(body)).toBe(field);
    }
  });
});

describe("managed numbers (simulator)", () => {
  it("purchases, reads, lists and releases a number", async () => {
    const org = await newOrg();
    const bought = await org.post("/telephony/numbers/purchase", { phone_number: "+17205550101", friendly_name: "Front desk" });
    expect(bought.status).toBe(201);
    const number = bought.body.data;
    expect(number).toMatchObject({
      phone_number: "+17205550101",
      provider: "simulator",
      provider_type: "simulator",
      ownership: "managed",
      friendly_name: "Front desk",
      capabilities: ["voice", "sms"],
      credentials: null,
      inbound_agent_id: null,
      outbound_agent_id: null,
      inbound_agent: null,
      outbound_agent: null,
    });
    expect((await storedNumber("+17205550101")).providerNumberId).toBe("SIM17205550101");

    const fetched = await org.get(`/telephony/numbers/${number.id}`);
    expect(fetched.status).toBe(200);
    expect(fetched.body.data).toEqual(number);

    const listed = await org.get("/telephony/numbers");
    expect(listed.body.data).toEqual([number]);
    expect(listed.body.pagination).toEqual({ total: 1, limit: 50, offset: 0, has_more: false });

    const released = await org.delete(`/telephony/numbers/${number.id}`);
    expect(released.status).toBe(200);
    expect(released.body.data).toEqual({ id: number.id, phone_number: "+17205550101", deleted: true, released_at_provider: true });
    expect((await org.get(`/telephony/numbers/${number.id}`)).status).toBe(404);
    expect(await storedNumber("+17205550101")).toBeUndefined();
  });

  it("refuses a number any organization already holds with 409, and frees it on release", async () => {
    const first = await newOrg();
    const second = await newOrg();
    const bought = await first.post("/telephony/numbers/purchase", { phone_number: "+17205550102" });
    expect(bought.status).toBe(201);
    for (const org of [first, second]) {
      const again = await org.post("/telephony/numbers/purchase", { phone_number: "+17205550102" });
      expect(again.status).toBe(409);
      expect(again.body.error).toMatchObject({ code: "conflict", details: { field: "phone_number" } });
      const imported = await org.post("/telephony/numbers/import", { phone_number: "+17205550102", provider_type: "simulator" });
      expect(imported.status).toBe(409);
    }
    await first.delete(`/telephony/numbers/${bought.body.data.id}`);
    expect((await second.post("/telephony/numbers/purchase", { phone_number: "+17205550102" })).status).toBe(201);
  });

  it("replays a purchase sent twice with the same idempotency key", async () => {
    const org = await newOrg();
    const headers = { "Idempotency-Key": "buy-7205550103" };
    const first = await org.post("/telephony/numbers/purchase", { phone_number: "+17205550103" }, headers);
    const replay = await org.post("/telephony/numbers/purchase", { phone_number: "+17205550103" }, headers);
    expect(first.status).toBe(201);
    expect(replay.status).toBe(201);
    expect(replay.headers.get("Idempotent-Replayed")).toBe("true");
    expect(replay.body.data.id).toBe(first.body.data.id);
    expect((await org.get("/telephony/numbers")).body.data).toHaveLength(1);
  });

  it("answers a malformed purchase with a 422 naming the field", async () => {
    const org = await newOrg();
    const cases: [Record<string, unknown>, string][] = [
      [{}, "phone_number"],
      [{ phone_number: "7205550104" }, "phone_number"],
      [{ phone_number: "+1 720 555 0104" }, "phone_number"],
      [{ phone_number: "+1720" }, "phone_number"],
      [{ phone_number: "+17205550104", provider: "custom_sip" }, "provider"],
    ];
    for (const [body, field] of cases) {
      const res = await org.post("/telephony/numbers/purchase", body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.error.details.field, JSON.stringify(body)).toBe(field);
    }
    expect((await org.get("/telephony/numbers")).body.data).toEqual([]);
  });
});

describe("BYOC numbers without a carrier API", () => {
  it("imports a simulator number and only removes it from the org on release", async () => {
    const org = await newOrg();
    const imported = await org.post("/telephony/numbers/import", { phone_number: "+17205550105", provider_type: "simulator" });
    expect(imported.status).toBe(201);
    expect(imported.body.data).toMatchObject({ provider: "simulator", ownership: "byoc", credentials: null });
    const released = await org.delete(`/telephony/numbers/${imported.body.data.id}`);
    expect(released.body.data.released_at_provider).toBe(false);
  });

  it("imports a custom SIP number with its credentials sealed and never shown", async () => {
    const org = await newOrg();
    const body = {
      phone_number: "+17205550106",
      provider_type: "custom_sip",
      sip_username: "trunk-user-7205550106",
      sip_password: "sip-secret-7205550106",
      sip_server: "sip.example.com:5060",
      friendly_name: "PBX",
    };
    const res = await org.post("/telephony/numbers/import", body);
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({
      provider: "custom_sip",
      provider_type: "custom_sip",
      ownership: "byoc",
      friendly_name: "PBX",
      capabilities: ["voice"],
      credentials: { sip_server: "sip.example.com:5060" },
    });
    const row = await storedNumber("+17205550106");
    expect(row.credentialsEncrypted).toMatch(/^v1\./);
    expect(row.credentialsEncrypted).not.toContain("sip-secret");
    expect(JSON.stringify(row)).not.toContain("sip-secret-7205550106");
    for (const read of [res, await org.get(`/telephony/numbers/${res.body.data.id}`), await org.get("/telephony/numbers")]) {
      expect(JSON.stringify(read.body)).not.toContain("sip-secret-7205550106");
      expect(JSON.stringify(read.body)).not.toContain("trunk-user-7205550106");
    }
  });

  it("names each credential a provider needs when it is missing", async () => {
    const org = await newOrg();
    const cases: [Record<string, unknown>, string][] = [
      [{ provider_type: "twilio", account_sid: "AC11111111111111111111111111111111" }, "auth_token"],
      [{ provider_type: "twilio", auth_token: "t" }, "account_sid"],
      [{ provider_type: "twilio", account_sid: "AC123", auth_token: "t" }, "account_sid"],
      [{ provider_type: "telnyx" }, "api_key"],
      [{ provider_type: "custom_sip", sip_username: "u", sip_server: "sip.example.com" }, "sip_password"],
      [{ provider_type: "custom_sip", sip_username: "u", sip_password: "p", sip_server: "http://x" }, "sip_server"],
      [{ provider_type: "vonage" }, "provider_type"],
    ];
    for (const [body, field] of cases) {
      const res = await org.post("/telephony/numbers/import", { phone_number: "+17205550107", ...body });
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.error.details.field, JSON.stringify(body)).toBe(field);
    }
  });
});

describe("number list", () => {
  it("pages newest first and filters by provider", async () => {
    const org = await newOrg();
    await org.post("/telephony/numbers/purchase", { phone_number: "+17205550110" });
    await org.post("/telephony/numbers/purchase", { phone_number: "+17205550111" });
    await org.post("/telephony/numbers/import", {
      phone_number: "+17205550112",
      provider_type: "custom_sip",
      sip_username: "u",
      sip_password: "p",
      sip_server: "sip.example.com",
    });
    const page = await org.get("/telephony/numbers?limit=2&offset=0");
    expect(page.body.data.map((n: { phone_number: string }) => n.phone_number)).toEqual(["+17205550112", "+17205550111"]);
    expect(page.body.pagination).toEqual({ total: 3, limit: 2, offset: 0, has_more: true });
    const sip = await org.get("/telephony/numbers?provider=custom_sip");
    expect(sip.body.data.map((n: { phone_number: string }) => n.phone_number)).toEqual(["+17205550112"]);
    const bad = await org.get("/telephony/numbers?direction=sideways");
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.field).toBe("direction");
  });
});

describe("OpenAPI", () => {
  it("documents the telephony routes under the Telephony tag, with idempotent creates", async () => {
    const doc = (await rawFetch(`${BASE}/openapi.json`)).body;
    const paths = [
      ["/api/public/v1/telephony/numbers", "get"],
      ["/api/public/v1/telephony/numbers/{id}", "get"],
      ["/api/public/v1/telephony/numbers/{id}", "delete"],
      ["/api/public/v1/telephony/numbers/search", "post"],
      ["/api/public/v1/telephony/numbers/purchase", "post"],
      ["/api/public/v1/telephony/numbers/import", "post"],
      ["/api/public/v1/telephony/numbers/assign", "post"],
      ["/api/public/v1/telephony/numbers/unassign", "post"],
      ["/api/public/v1/telephony/agents/{agent_id}/numbers", "get"],
      ["/api/public/v1/telephony/agents/{agent_id}/webhook-url", "get"],
    ];
    for (const [path, method] of paths) {
      const op = doc.paths[path]?.[method];
      expect(op, `${method} ${path}`).toBeDefined();
      expect(op.tags).toEqual(["Telephony"]);
    }
    expect(doc.paths["/api/public/v1/telephony/numbers/purchase"].post.responses["502"]).toBeDefined();
    expect(doc.components.schemas.PhoneNumber.properties).toHaveProperty("provider_type");
  });
});
