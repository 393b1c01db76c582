import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { decryptSecret } from "../../src/lib/crypto";
import { fakeRequests, newOrg } from "../helpers/api";
import { storedNumber } from "./helpers";

const PLATFORM_SID = "AC00000000000000000000000000000000";
const CUSTOMER_SID = "AC11111111111111111111111111111111";
const CUSTOMER_TOKEN = "customer-twilio-token";
const basic = (sid: string, token: string) => `Basic ${btoa(`${sid}:${token}`)}`;
const PLATFORM_AUTH = basic(PLATFORM_SID, "platform-twilio-token");
const VOICE_URL = "https://truedy.test/telephony/voice/twilio";
/** Where Twilio reports the end of inbound calls to the number. */
const STATUS_URL = "https://truedy.test/telephony/voice/twilio/status";

/** What the Twilio fake received about one number: in a form body (as %2B…) or a lookup query. */
async function received(phoneNumber: string) {
  const all = await fakeRequests("twilio");
  return all.filter((r) => r.body.includes(phoneNumber.slice(1)) || r.query.PhoneNumber === phoneNumber);
}

describe("Twilio search", () => {
  it("queries AvailablePhoneNumbers with Basic auth and maps Twilio's answer", async () => {
    const org = await newOrg();
    const res = await org.post("/telephony/numbers/search", {
      provider: "twilio",
      area_code: "212",
      locality: "New York",
      administrative_area: "NY",
      page_size: 5,
    });
    expect(res.status).toBe(200);
    expect(res.body.data).toHaveLength(5);
    expect(res.body.data[0]).toEqual({
      phone_number: "+12125551000",
      phone_number_type: "local",
      region_information: [
        { region_type: "location", region_name: "New York" },
        { region_type: "rate_center", region_name: "SNFC CNTRL" },
        { region_type: "state", region_name: "NY" },
        { region_type: "country_code", region_name: "US" },
      ],
      features: [{ name: "voice" }, { name: "sms" }, { name: "mms" }],
      cost_information: null,
    });
    expect(res.body.pagination).toEqual({ page: 1, page_size: 5, total_results: 6, total_pages: 2, has_more: true });

    const [request] = (await fakeRequests("twilio", "/AvailablePhoneNumbers/US/Local.json")).filter((r) => r.query.InLocality === "New York");
    expect(request.method).toBe("GET");
    expect(request.path).toBe(`/2010-04-01/Accounts/${PLATFORM_SID}/AvailablePhoneNumbers/US/Local.json`);
    expect(request.query).toEqual({ AreaCode: "212", InLocality: "New York", InRegion: "NY", PageSize: "6" });
    expect(request.headers.authorization).toBe(PLATFORM_AUTH);
  });

  it("searches toll-free numbers on Twilio's TollFree list", async () => {
    const org = await newOrg();
    const res = await org.post("/telephony/numbers/search", { provider: "twilio", phone_number_type: "toll-free", area_code: "888", page_size: 3 });
    expect(res.status).toBe(200);
    expect(res.body.data[0]).toMatchObject({ phone_number: "+18885551000", phone_number_type: "toll_free" });
    const requests = (await fakeRequests("twilio", "/AvailablePhoneNumbers/US/TollFree.json")).filter((r) => r.query.AreaCode === "888");
    expect(requests.length).toBeGreaterThan(0);
  });

  it("answers Twilio's 5xx with 502 provider_error and hides Twilio's message", async () => {
    const org = await newOrg();
    const res = await org.post("/telephony/numbers/search", { provider: "twilio", area_code: "500" });
    expect(res.status).toBe(502);
    expect(res.body.error).toMatchObject({ code: "provider_error", details: { provider: "twilio", operation: "search", carrier_status: 500 } });
    expect(res.body.error.details.carrier_message).toBeUndefined();
  });
});

describe("Twilio managed numbers", () => {
  it("buys a number with a form-encoded POST that points its voice URL at Truedy", async () => {
    const org = await newOrg();
    const res = await org.post("/telephony/numbers/purchase", { phone_number: "+12135551000", provider: "twilio" });
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({
      phone_number: "+12135551000",
      provider: "twilio",
      ownership: "managed",
      capabilities: ["mms", "sms", "voice"],
      credentials: null,
    });
    expect((await storedNumber("+12135551000")).providerNumberId).toMatch(/^PN[0-9a-f]{32}$/);

    const [request] = (await received("+12135551000")).filter((r) => r.method === "POST");
    expect(request.path).toBe(`/2010-04-01/Accounts/${PLATFORM_SID}/IncomingPhoneNumbers.json`);
    expect(request.headers.authorization).toBe(PLATFORM_AUTH);
    expect(request.headers["content-type"]).toMatch(/^application\/x-www-form-urlencoded/);
    expect(Object.fromEntries(new URLSearchParams(request.body))).toEqual({
      PhoneNumber: "+12135551000",
      VoiceUrl: VOICE_URL,
      VoiceMethod: "POST",
      StatusCallback: STATUS_URL,
      StatusCallbackMethod: "POST",
    });
  });

  it("releases a managed number at Twilio with DELETE on its PN SID", async () => {
    const org = await newOrg();
    const bought = await org.post("/telephony/numbers/purchase", { phone_number: "+12135551001", provider: "twilio" });
    const sid = (await storedNumber("+12135551001")).providerNumberId;
    const released = await org.delete(`/telephony/numbers/${bought.body.data.id}`);
    expect(released.status).toBe(200);
    expect(released.body.data).toMatchObject({ deleted: true, released_at_provider: true });
    const deletes = (await fakeRequests("twilio", `/IncomingPhoneNumbers/${sid}.json`)).filter((r) => r.method === "DELETE");
    expect(deletes).toHaveLength(1);
    expect(deletes[0].headers.authorization).toBe(PLATFORM_AUTH);
  });

  it("keeps the number and answers 502 when Twilio fails to release it", async () => {
    const org = await newOrg();
    const bought = await org.post("/telephony/numbers/purchase", { phone_number: "+12135555005", provider: "twilio" });
    expect(bought.status).toBe(201);
    const res = await org.delete(`/telephony/numbers/${bought.body.data.id}`);
    expect(res.status).toBe(502);
    expect(res.body.error).toMatchObject({ code: "provider_error", details: { operation: "release" } });
    expect((await org.get(`/telephony/numbers/${bought.body.data.id}`)).status).toBe(200);
  });

  it("answers a number Twilio will not sell with 422 number_unavailable and stores nothing", async () => {
    const org = await newOrg();
    const res = await org.post("/telephony/numbers/purchase", { phone_number: "+12135559999", provider: "twilio" });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: "number_unavailable", details: { carrier_code: 21422, carrier_status: 400 } });
    expect(res.body.error.message).toContain("not available");
    expect(await storedNumber("+12135559999")).toBeUndefined();
  });

  it("answers a failed purchase with 502 and leaves nothing behind, so it can be retried", async () => {
    const org = await newOrg();
    const res = await org.post("/telephony/numbers/purchase", { phone_number: "+12135555000", provider: "twilio" });
    expect(res.status).toBe(502);
    expect(res.body.error.code).toBe("provider_error");
    expect(await storedNumber("+12135555000")).toBeUndefined();
    // The failure made us ask Twilio whether the number was bought anyway.
    expect((await received("+12135555000")).map((r) => r.method)).toEqual(["POST", "GET"]);
  });

  it("keeps a number Twilio bought even though its answer was an error", async () => {
    const org = await newOrg();
    const res = await org.post("/telephony/numbers/purchase", { phone_number: "+12135555001", provider: "twilio" });
    expect(res.status).toBe(201);
    expect((await storedNumber("+12135555001")).providerNumberId).toMatch(/^PN/);
  });
});

describe("Twilio BYOC import", () => {
  const twilioImport = (phone_number: string, auth_token = CUSTOMER_TOKEN) => ({
    phone_number,
    provider_type: "twilio",
    account_sid: CUSTOMER_SID,
    auth_token,
    friendly_name: "Customer line",
  });

  it("verifies the number on the customer's account, reroutes it, and seals the token", async () => {
    const org = await newOrg();
    const res = await org.post("/telephony/numbers/import", twilioImport("+12145550201"));
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({
      phone_number: "+12145550201",
      provider: "twilio",
      ownership: "byoc",
      friendly_name: "Customer line",
      credentials: { account_sid_last4: "1111" },
    });
    expect(JSON.stringify(res.body)).not.toContain(CUSTOMER_TOKEN);

    const customerAuth = basic(CUSTOMER_SID, CUSTOMER_TOKEN);
    const [lookup] = (await fakeRequests("twilio", `/Accounts/${CUSTOMER_SID}/IncomingPhoneNumbers.json`)).filter(
      (r) => r.query.PhoneNumber === "+12145550201",
    );
    expect(lookup).toMatchObject({ method: "GET", headers: { authorization: customerAuth } });
    const row = await storedNumber("+12145550201");
    const [configure] = await fakeRequests("twilio", `/IncomingPhoneNumbers/${row.providerNumberId}.json`);
    expect(configure).toMatchObject({ method: "POST", headers: { authorization: customerAuth } });
    expect(configure.headers["content-type"]).toMatch(/^application\/x-www-form-urlencoded/);
    expect(Object.fromEntries(new URLSearchParams(configure.body))).toEqual({
      VoiceUrl: VOICE_URL,
      VoiceMethod: "POST",
      StatusCallback: STATUS_URL,
      StatusCallbackMethod: "POST",
    });

    // At rest: only the AES-GCM envelope, which opens to the credentials with ENCRYPTION_KEY.
    expect(row.credentialsEncrypted).toMatch(/^v1\./);
    expect(JSON.stringify(row)).not.toContain(CUSTOMER_TOKEN);
    expect(JSON.stringify(row)).not.toContain(CUSTOMER_SID);
    expect(JSON.parse(await decryptSecret(row.credentialsEncrypted!, env.ENCRYPTION_KEY))).toEqual({
      kind: "twilio",
      account_sid: CUSTOMER_SID,
      auth_token: CUSTOMER_TOKEN,
    });
    for (const read of [await org.get(`/telephony/numbers/${res.body.data.id}`), await org.get("/telephony/numbers")]) {
      expect(JSON.stringify(read.body)).not.toContain(CUSTOMER_TOKEN);
    }
  });

  it("answers credentials Twilio rejects with 422 provider_not_configured and stores nothing", async () => {
    const org = await newOrg();
    const res = await org.post("/telephony/numbers/import", twilioImport("+12145550202", "wrong-token"));
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("provider_not_configured");
    expect(res.body.error.message).toContain("Twilio rejected the account SID and auth token");
    expect(res.body.error.details).toMatchObject({ carrier_status: 401, carrier_code: 20003 });
    expect(await storedNumber("+12145550202")).toBeUndefined();
  });

  it("answers a number the account does not hold with 422 naming phone_number", async () => {
    const org = await newOrg();
    const res = await org.post("/telephony/numbers/import", twilioImport("+12145551234"));
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: "validation_error", details: { field: "phone_number" } });
    expect(await storedNumber("+12145551234")).toBeUndefined();
  });

  it("refuses a number another organization imported before asking Twilio anything", async () => {
    const holder = await newOrg();
    const other = await newOrg();
    expect((await holder.post("/telephony/numbers/import", twilioImport("+12145550203"))).status).toBe(201);
    const before = (await received("+12145550203")).length;
    const res = await other.post("/telephony/numbers/import", twilioImport("+12145550203"));
    expect(res.status).toBe(409);
    expect((await received("+12145550203")).length).toBe(before);
  });

  it("removes a BYOC number from the org without releasing it at Twilio", async () => {
    const org = await newOrg();
    const res = await org.post("/telephony/numbers/import", twilioImport("+12145550204"));
    const sid = (await storedNumber("+12145550204")).providerNumberId;
    const released = await org.delete(`/telephony/numbers/${res.body.data.id}`);
    expect(released.body.data).toMatchObject({ deleted: true, released_at_provider: false });
    expect((await fakeRequests("twilio", `/IncomingPhoneNumbers/${sid}.json`)).filter((r) => r.method === "DELETE")).toEqual([]);
  });
});
