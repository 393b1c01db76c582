import { describe, expect, it } from "vitest";
import {
  agentInboundWebhookUrl,
  carrierVoiceUrl,
  chooseSearchProvider,
  classifyCarrierFailure,
  isE164,
  missingImportFields,
  normalizeNumberType,
  paginateSearch,
  searchWindow,
  twilioNumberTypePath,
  type PlatformCarrierConfig,
} from "../../src/domain/telephony";

const all: PlatformCarrierConfig = { simulatorEnabled: true, twilioConfigured: true, telnyxConfigured: true };
const none: PlatformCarrierConfig = { simulatorEnabled: false, twilioConfigured: false, telnyxConfigured: false };

describe("number types", () => {
  it("accepts the guide's toll-free spelling and maps each type to Twilio's sub-resource", () => {
    expect(normalizeNumberType("toll-free")).toBe("toll_free");
    expect(normalizeNumberType("mobile")).toBe("mobile");
    expect(twilioNumberTypePath("local")).toBe("Local");
    expect(twilioNumberTypePath("toll_free")).toBe("TollFree");
    expect(twilioNumberTypePath("mobile")).toBe("Mobile");
    expect(twilioNumberTypePath("national")).toBe("National");
  });
});

describe("E.164", () => {
  it("takes only + and a possible length for the country", () => {
    expect(isE164("+14155550100")).toBe(true);
    expect(isE164("+442071838750")).toBe(true);
    expect(isE164("14155550100")).toBe(false);
    expect(isE164("+1 415 555 0100")).toBe(false);
    expect(isE164("+1415555")).toBe(false);
    expect(isE164("+0123456789")).toBe(false);
  });
});

describe("carrier choice", () => {
  it("defaults to the simulator when enabled, then Twilio, then Telnyx", () => {
    expect(chooseSearchProvider({ hasApiKey: false }, all)).toEqual({ ok: true, provider: "simulator" });
    expect(chooseSearchProvider({ hasApiKey: false }, { ...all, simulatorEnabled: false })).toEqual({ ok: true, provider: "twilio" });
    expect(chooseSearchProvider({ hasApiKey: false }, { ...none, telnyxConfigured: true })).toEqual({ ok: true, provider: "telnyx" });
  });

  it("honours an explicit provider only when it is available", () => {
    expect(chooseSearchProvider({ provider: "telnyx", hasApiKey: false }, all)).toEqual({ ok: true, provider: "telnyx" });
    expect(chooseSearchProvider({ provider: "simulator", hasApiKey: false }, none)).toMatchObject({
      ok: false,
      code: "validation_error",
      field: "provider",
    });
    expect(chooseSearchProvider({ provider: "twilio", hasApiKey: false }, none)).toMatchObject({ ok: false, code: "provider_not_configured" });
    expect(chooseSearchProvider({ hasApiKey: false }, none)).toMatchObject({ ok: false, code: "provider_not_configured" });
  });

  it("takes a Telnyx api_key as choosing Telnyx, even with no platform carrier", () => {
    expect(chooseSearchProvider({ hasApiKey: true }, none)).toEqual({ ok: true, provider: "telnyx" });
    expect(chooseSearchProvider({ provider: "twilio", hasApiKey: true }, all)).toMatchObject({ ok: false, field: "api_key" });
  });
});

describe("BYOC import fields", () => {
  it("names what each provider still needs", () => {
    expect(missingImportFields("twilio", { account_sid: "AC1" })).toEqual(["auth_token"]);
    expect(missingImportFields("telnyx", {})).toEqual(["api_key"]);
    expect(missingImportFields("custom_sip", { sip_server: "sip.example.com" })).toEqual(["sip_username", "sip_password"]);
    expect(missingImportFields("simulator", {})).toEqual([]);
  });
});

describe("carrier failures", () => {
  it("maps rejected credentials to provider_not_configured, whatever the operation", () => {
    for (const operation of ["search", "purchase", "lookup", "configure", "release"] as const) {
      expect(classifyCarrierFailure({ kind: "http", status: 401 }, operation)).toBe("provider_not_configured");
      expect(classifyCarrierFailure({ kind: "http", status: 403 }, operation)).toBe("provider_not_configured");
    }
  });

  it("maps a 4xx while searching or buying to number_unavailable, elsewhere to provider_error", () => {
    expect(classifyCarrierFailure({ kind: "http", status: 400 }, "purchase")).toBe("number_unavailable");
    expect(classifyCarrierFailure({ kind: "http", status: 422 }, "purchase")).toBe("number_unavailable");
    expect(classifyCarrierFailure({ kind: "http", status: 404 }, "search")).toBe("number_unavailable");
    expect(classifyCarrierFailure({ kind: "http", status: 400 }, "configure")).toBe("provider_error");
    expect(classifyCarrierFailure({ kind: "http", status: 422 }, "release")).toBe("provider_error");
  });

  it("maps 5xx, throttling, network failures and timeouts to provider_error", () => {
    expect(classifyCarrierFailure({ kind: "http", status: 500 }, "purchase")).toBe("provider_error");
    expect(classifyCarrierFailure({ kind: "http", status: 503 }, "search")).toBe("provider_error");
    expect(classifyCarrierFailure({ kind: "http", status: 429 }, "purchase")).toBe("provider_error");
    expect(classifyCarrierFailure({ kind: "timeout" }, "purchase")).toBe("provider_error");
    expect(classifyCarrierFailure({ kind: "network" }, "release")).toBe("provider_error");
  });
});

describe("search pagination", () => {
  it("asks the carrier for the pages up to this one plus one probe, capped", () => {
    expect(searchWindow(1, 20)).toBe(21);
    expect(searchWindow(3, 10)).toBe(31);
    expect(searchWindow(50, 100)).toBe(1000);
  });

  it("cuts the page and prefers the carrier's own total", () => {
    const results = Array.from({ length: 21 }, (_, i) => i);
    expect(paginateSearch(results, 100, 1, 20)).toEqual({
      items: results.slice(0, 20),
      pagination: { page: 1, page_size: 20, total_results: 100, total_pages: 5, has_more: true },
    });
  });

  it("without a carrier total, counts what it saw, so the probe reveals another page", () => {
    const results = Array.from({ length: 21 }, (_, i) => i);
    expect(paginateSearch(results, undefined, 2, 10).pagination).toEqual({
      page: 2,
      page_size: 10,
      total_results: 21,
      total_pages: 3,
      has_more: true,
    });
    expect(paginateSearch(results.slice(0, 15), undefined, 2, 10)).toEqual({
      items: results.slice(10, 15),
      pagination: { page: 2, page_size: 10, total_results: 15, total_pages: 2, has_more: false },
    });
    expect(paginateSearch([], undefined, 1, 20).pagination).toMatchObject({ total_results: 0, total_pages: 0, has_more: false });
  });
});

describe("callback URLs", () => {
  it("derives the agent webhook from the agent id alone", () => {
    expect(agentInboundWebhookUrl("https://api.example.com/", "a1")).toBe("https://api.example.com/telephony/inbound/a1");
    expect(carrierVoiceUrl("https://api.example.com", "twilio")).toBe("https://api.example.com/telephony/voice/twilio");
  });
});
