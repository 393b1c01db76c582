import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { carrierFor, CarrierError, openCredentials, platformCarrierConfig, sealCredentials } from "../../src/carriers";
import { TelnyxCarrier } from "../../src/carriers/telnyx";
import { TwilioCarrier } from "../../src/carriers/twilio";
import { ApiError } from "../../src/lib/errors";

const query = { countryCode: "US", numberType: "local" as const, areaCode: "504", limit: 5 };

describe("carrier selection", () => {
  it("reads which platform carriers are configured from env strings", () => {
    expect(platformCarrierConfig(env)).toEqual({ simulatorEnabled: true, twilioConfigured: true, telnyxConfigured: true });
    const bare = { ...env, SIMULATOR_ENABLED: "false", TWILIO_AUTH_TOKEN: "", TELNYX_API_KEY: "" };
    expect(platformCarrierConfig(bare)).toEqual({ simulatorEnabled: false, twilioConfigured: false, telnyxConfigured: false });
  });

  it("needs platform credentials unless the number brings its own", () => {
    const bare = { ...env, TWILIO_ACCOUNT_SID: "", TWILIO_AUTH_TOKEN: "", TELNYX_API_KEY: "" };
    for (const provider of ["twilio", "telnyx"] as const) {
      let thrown: unknown;
      try {
        carrierFor(bare, provider);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ApiError);
      expect((thrown as ApiError).code).toBe("provider_not_configured");
    }
    expect(carrierFor(bare, "telnyx", { kind: "telnyx", api_key: "KEYcustomertelnyx" }).provider).toBe("telnyx");
    expect(carrierFor(bare, "twilio", { kind: "twilio", account_sid: "AC1", auth_token: "t" }).provider).toBe("twilio");
    expect(() => carrierFor(env, "twilio", { kind: "telnyx", api_key: "k" })).toThrow(/cannot reach/);
  });

  it("keeps serving existing simulator numbers after the simulator is switched off", () => {
    expect(carrierFor({ ...env, SIMULATOR_ENABLED: "false" }, "simulator").provider).toBe("simulator");
  });
});

describe("carrier transport failures", () => {
  async function failure(promise: Promise<unknown>): Promise<CarrierError> {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CarrierError);
    return error as CarrierError;
  }

  it("gives up on a carrier that does not answer in time, as provider_error", async () => {
    const twilio = new TwilioCarrier({
      apiBaseUrl: env.TWILIO_API_BASE_URL,
      accountSid: env.TWILIO_ACCOUNT_SID,
      authToken: env.TWILIO_AUTH_TOKEN,
      timeoutMs: 300,
    });
    const slowTwilio = await failure(twilio.searchAvailableNumbers(query));
    expect(slowTwilio).toMatchObject({ code: "provider_error", status: 502, provider: "twilio", operation: "search" });
    expect(slowTwilio.message).toBe("Twilio did not answer within 0.3 s while searching for numbers");

    const telnyx = new TelnyxCarrier({ apiBaseUrl: env.TELNYX_API_BASE_URL, apiKey: env.TELNYX_API_KEY, timeoutMs: 300 });
    const slowTelnyx = await failure(telnyx.searchAvailableNumbers(query));
    expect(slowTelnyx).toMatchObject({ code: "provider_error", provider: "telnyx" });
    expect(slowTelnyx.message).toContain("did not answer within 0.3 s");
  });
});

describe("credential sealing", () => {
  it("round-trips through AES-GCM with a fresh IV each time", async () => {
    const credentials = { kind: "twilio" as const, account_sid: "AC11111111111111111111111111111111", auth_token: "secret-token" };
    const first = await sealCredentials(env, credentials);
    const second = await sealCredentials(env, credentials);
    expect(first).not.toBe(second);
    expect(first).not.toContain("secret-token");
    expect(await openCredentials(env, first)).toEqual(credentials);
    expect(await openCredentials(env, null)).toBeNull();
  });
});
