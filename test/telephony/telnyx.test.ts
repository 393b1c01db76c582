import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { decryptSecret } from "../../src/lib/crypto";
import { fakeRequests, newOrg } from "../helpers/api";
import { storedNumber } from "./helpers";

const PLATFORM_AUTH = "Bearer KEYplatformtelnyx";
const CUSTOMER_KEY = "KEYcustomertelnyx";
const VOICE_URL = "https://truedy.test/telephony/voice/telnyx";

/** What the Telnyx fake received about one number: in a JSON body or a `filter[phone_number]` lookup. */
async function received(phoneNumber: string) {
  const all = await fakeRequests("telnyx");
  return all.filter((r) => r.body.includes(phoneNumber) || r.query["filter[phone_number]"] === phoneNumber.slice(1));
}

describe("Telnyx search", () => {
  it("queries available_phone_numbers with Bearer auth and passes Telnyx's fields through", async () => {
    const org = await newOrg();
    const res = await org.post("/telephony/numbers/search", {
      provider: "telnyx",
      area_code: "312",
      locality: "Chicago",
      administrative_area: "IL",
      page_size: 5,
    });
    expect(res.status).toBe(200);
    expect(res.body.data).toHaveLength(5);
    expect(res.body.data[0]).toEqual({
      phone_number: "+13125552000",
      phone_number_type: "local",
      region_information: [
        { region_type: "location", region_name: "Chicago" },
        { region_type: "rate_center", region_name: "CHICAGO" },
        { region_type: "state", region_name: "IL" },
        { region_type: "country_code", region_name: "US" },
      ],
      features: [{ name: "voice" }, { name: "sms" }, { name: "emergency" }],
      cost_information: { upfront_cost: "1.00", monthly_cost: "1.00", currency: "USD" },
    });
    // Telnyx reports its total, so the pagination spans all of it.
    expect(res.body.pagination).toEqual({ page: 1, page_size: 5, total_results: 40, total_pages: 8, has_more: true });

    const [request] = (await fakeRequests("telnyx", "/v2/available_phone_numbers")).filter((r) => r.query["filter[locality]"] === "Chicago");
    expect(request.method).toBe("GET");
    expect(request.headers.authorization).toBe(PLATFORM_AUTH);
    expect(request.query).toEqual({
      "filter[country_code]": "US",
      "filter[national_destination_code]": "312",
      "filter[locality]": "Chicago",
      "filter[administrative_area]": "IL",
      "filter[phone_number_type]": "local",
      "filter[limit]": "6",
    });
  });

  it("searches with the caller's own Telnyx api_key, and rejects an unknown one with 422", async () => {
    const org = await newOrg();
    const own = await org.post("/telephony/numbers/search", { api_key: CUSTOMER_KEY, area_code: "773", phone_number_type: "mobile" });
    expect(own.status).toBe(200);
    // The fake Telnyx is shared by every test file: this search is the one for 773 mobile numbers.
    const [request] = (await fakeRequests("telnyx", "/v2/available_phone_numbers")).filter(
      (r) => r.query["filter[national_destination_code]"] === "773" && r.query["filter[phone_number_type]"] === "mobile",
    );
    expect(request.headers.authorization).toBe(`Bearer ${CUSTOMER_KEY}`);
    expect(request.query["filter[phone_number_type]"]).toBe("mobile");

    const bad = await org.post("/telephony/numbers/search", { api_key: "KEYnotakey", area_code: "773" });
    expect(bad.status).toBe(422);
    expect(bad.body.error).toMatchObject({ code: "provider_not_configured", details: { provider: "telnyx", carrier_status: 401 } });
    expect(bad.body.error.message).toContain("Telnyx rejected the API key");
    expect(JSON.stringify(bad.body)).not.toContain("KEYnotakey");
  });

  it("answers Telnyx's 5xx with 502 provider_error", async () => {
    const org = await newOrg();
    const res = await org.post("/telephony/numbers/search", { provider: "telnyx", area_code: "500" });
    expect(res.status).toBe(502);
    expect(res.body.error).toMatchObject({ code: "provider_error", details: { provider: "telnyx", carrier_status: 500 } });
  });
});

describe("Telnyx managed numbers", () => {
  it("orders a number with JSON, on a Call Control Application whose webhook is Truedy's, created once", async () => {
    const org = await newOrg();
    const first = await org.post("/telephony/numbers/purchase", { phone_number: "+13125552000", provider: "telnyx" });
    expect(first.status).toBe(201);
    expect(first.body.data).toMatchObject({ provider: "telnyx", ownership: "managed", capabilities: ["voice"], credentials: null });
    const second = await org.post("/telephony/numbers/purchase", { phone_number: "+13125552001", provider: "telnyx" });
    expect(second.status).toBe(201);

    // The platform account's only: BYOC imports in other test files create applications on the customer account.
    const created = (await fakeRequests("telnyx", VOICE_URL)).filter(
      (r) => r.method === "POST" && r.path === "/v2/call_control_applications" && r.headers.authorization === PLATFORM_AUTH,
    );
    expect(created).toHaveLength(1);
    expect(created[0].headers.authorization).toBe(PLATFORM_AUTH);
    expect(created[0].headers["content-type"]).toMatch(/^application\/json/);
    expect(JSON.parse(created[0].body)).toEqual({
      application_name: "Truedy truedy.test",
      webhook_event_url: VOICE_URL,
      webhook_api_version: "2",
      active: true,
    });
    // Each purchase looked for the application first; only the first had to create it.
    const searches = (await fakeRequests("telnyx", "/v2/call_control_applications")).filter(
      (r) => r.method === "GET" && r.headers.authorization === PLATFORM_AUTH,
    );
    expect(searches.length).toBeGreaterThanOrEqual(2);

    const [order] = (await received("+13125552000")).filter((r) => r.path === "/v2/number_orders");
    expect(order.method).toBe("POST");
    expect(order.headers.authorization).toBe(PLATFORM_AUTH);
    expect(order.headers["content-type"]).toMatch(/^application\/json/);
    const orderBody = JSON.parse(order.body);
    expect(orderBody).toEqual({ phone_numbers: [{ phone_number: "+13125552000" }], connection_id: expect.any(String) });
    expect(JSON.parse((await received("+13125552001")).find((r) => r.path === "/v2/number_orders")!.body).connection_id).toBe(
      orderBody.connection_id,
    );
  });

  it("releases a managed number by finding it and deleting it", async () => {
    const org = await newOrg();
    const bought = await org.post("/telephony/numbers/purchase", { phone_number: "+13125552002", provider: "telnyx" });
    const released = await org.delete(`/telephony/numbers/${bought.body.data.id}`);
    expect(released.status).toBe(200);
    expect(released.body.data.released_at_provider).toBe(true);
    const requests = await received("+13125552002");
    const lookup = requests.find((r) => r.path === "/v2/phone_numbers");
    expect(lookup).toMatchObject({ method: "GET", headers: { authorization: PLATFORM_AUTH } });
    const deletes = (await fakeRequests("telnyx", "/v2/phone_numbers/")).filter((r) => r.method === "DELETE");
    expect(deletes.some((r) => r.headers.authorization === PLATFORM_AUTH)).toBe(true);
    expect(await storedNumber("+13125552002")).toBeUndefined();
  });

  it("keeps the number and answers 502 when Telnyx fails to release it", async () => {
    const org = await newOrg();
    const bought = await org.post("/telephony/numbers/purchase", { phone_number: "+13125555005", provider: "telnyx" });
    expect(bought.status).toBe(201);
    const res = await org.delete(`/telephony/numbers/${bought.body.data.id}`);
    expect(res.status).toBe(502);
    expect(res.body.error.details).toMatchObject({ provider: "telnyx", operation: "release" });
    expect((await org.get(`/telephony/numbers/${bought.body.data.id}`)).status).toBe(200);
  });

  it("maps Telnyx's 422 on an order to number_unavailable, with Telnyx's detail", async () => {
    const org = await newOrg();
    const res = await org.post("/telephony/numbers/purchase", { phone_number: "+13125559999", provider: "telnyx" });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({
      code: "number_unavailable",
      details: { carrier_code: "85001", carrier_message: "+13125559999 is no longer available for purchase" },
    });
    expect(await storedNumber("+13125559999")).toBeUndefined();
  });

  it("answers a failed order with 502, and keeps a number the order bought despite its error", async () => {
    const org = await newOrg();
    const failed = await org.post("/telephony/numbers/purchase", { phone_number: "+13125555000", provider: "telnyx" });
    expect(failed.status).toBe(502);
    expect(await storedNumber("+13125555000")).toBeUndefined();
    const recovered = await org.post("/telephony/numbers/purchase", { phone_number: "+13125555001", provider: "telnyx" });
    expect(recovered.status).toBe(201);
    expect(await storedNumber("+13125555001")).toBeDefined();
  });

  it("buys on the caller's own Telnyx account with api_key, and releases it there", async () => {
    const org = await newOrg();
    const bought = await org.post("/telephony/numbers/purchase", { phone_number: "+13125552003", api_key: CUSTOMER_KEY });
    expect(bought.status).toBe(201);
    expect(bought.body.data).toMatchObject({ provider: "telnyx", ownership: "managed", credentials: { api_key_last4: "lnyx" } });
    expect(JSON.stringify(bought.body)).not.toContain(CUSTOMER_KEY);
    expect((await received("+13125552003")).find((r) => r.path === "/v2/number_orders")?.headers.authorization).toBe(`Bearer ${CUSTOMER_KEY}`);
    await org.delete(`/telephony/numbers/${bought.body.data.id}`);
    const lookups = (await received("+13125552003")).filter((r) => r.path === "/v2/phone_numbers");
    expect(lookups.map((r) => r.headers.authorization)).toEqual([`Bearer ${CUSTOMER_KEY}`]);
  });
});

describe("Telnyx BYOC import", () => {
  it("verifies the number with the customer's key, attaches it to Truedy's application, and seals the key", async () => {
    const org = await newOrg();
    const res = await org.post("/telephony/numbers/import", { phone_number: "+13135550201", provider_type: "telnyx", api_key: CUSTOMER_KEY });
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({ provider: "telnyx", ownership: "byoc", credentials: { api_key_last4: "lnyx" } });

    const [lookup] = (await received("+13135550201")).filter((r) => r.path === "/v2/phone_numbers");
    expect(lookup).toMatchObject({ method: "GET", headers: { authorization: `Bearer ${CUSTOMER_KEY}` } });
    const row = await storedNumber("+13135550201");
    const [patch] = await fakeRequests("telnyx", `/v2/phone_numbers/${row.providerNumberId}`);
    expect(patch).toMatchObject({ method: "PATCH", headers: { authorization: `Bearer ${CUSTOMER_KEY}` } });
    expect(patch.headers["content-type"]).toMatch(/^application\/json/);
    expect(JSON.parse(patch.body)).toEqual({ connection_id: expect.any(String) });

    expect(JSON.stringify(row)).not.toContain(CUSTOMER_KEY);
    expect(JSON.parse(await decryptSecret(row.credentialsEncrypted!, env.ENCRYPTION_KEY))).toEqual({ kind: "telnyx", api_key: CUSTOMER_KEY });
    for (const read of [res, await org.get(`/telephony/numbers/${res.body.data.id}`), await org.get("/telephony/numbers")]) {
      expect(JSON.stringify(read.body)).not.toContain(CUSTOMER_KEY);
    }
  });

  it("answers a key Telnyx rejects with 422 provider_not_configured and stores nothing", async () => {
    const org = await newOrg();
    const res = await org.post("/telephony/numbers/import", { phone_number: "+13135550202", provider_type: "telnyx", api_key: "KEYwrong" });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: "provider_not_configured", details: { carrier_code: "10009" } });
    expect(await storedNumber("+13135550202")).toBeUndefined();
  });

  it("answers a number the account does not hold with 422 naming phone_number", async () => {
    const org = await newOrg();
    const res = await org.post("/telephony/numbers/import", { phone_number: "+13135551234", provider_type: "telnyx", api_key: CUSTOMER_KEY });
    expect(res.status).toBe(422);
    expect(res.body.error.details.field).toBe("phone_number");
    expect(res.body.error.message).toContain("not a number of this Telnyx account");
  });
});
