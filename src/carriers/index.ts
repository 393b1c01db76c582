import type { CarrierProvider, NumberProvider, PlatformCarrierConfig } from "../domain/telephony";
import { decryptSecret, encryptSecret } from "../lib/crypto";
import { ApiError } from "../lib/errors";
import { SimulatorCarrier } from "./simulator";
import { TelnyxCarrier } from "./telnyx";
import { TwilioCarrier } from "./twilio";
import type { Carrier, CarrierCredentials } from "./types";

export type { Carrier, CarrierCredentials } from "./types";
export { CarrierError } from "./types";

/** Env vars are strings and may be absent on a deployment that does not use that carrier. */
const isSet = (value: string | undefined) => typeof value === "string" && value.length > 0;

export function platformCarrierConfig(env: Env): PlatformCarrierConfig {
  return {
    simulatorEnabled: env.SIMULATOR_ENABLED === "true",
    twilioConfigured: isSet(env.TWILIO_ACCOUNT_SID) && isSet(env.TWILIO_AUTH_TOKEN),
    telnyxConfigured: isSet(env.TELNYX_API_KEY),
  };
}

/**
 * The carrier for a provider: with the number's own (BYOC) credentials when it has them,
 * otherwise the platform account from env. Existing simulator numbers keep working when the
 * simulator is later disabled, since nothing of theirs lives at a carrier; the SIMULATOR_ENABLED
 * gate applies where numbers are chosen (search, purchase, import). Telnyx comes back as its own
 * class, whose inbound-call commands (answer, speak) are not part of the shared interface.
 */
export function carrierFor(env: Env, provider: "telnyx", credentials?: CarrierCredentials | null): TelnyxCarrier;
export function carrierFor(env: Env, provider: CarrierProvider, credentials?: CarrierCredentials | null): Carrier;
export function carrierFor(env: Env, provider: CarrierProvider, credentials: CarrierCredentials | null = null): Carrier {
  if (credentials && credentials.kind !== provider) {
    throw new Error(`${credentials.kind} credentials cannot reach the ${provider} carrier`);
  }
  switch (provider) {
    case "simulator":
      return new SimulatorCarrier();
    case "twilio": {
      const own = credentials?.kind === "twilio" ? credentials : null;
      if (!own && !platformCarrierConfig(env).twilioConfigured) {
        throw new ApiError("provider_not_configured", "Twilio is not configured: TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are not set", {
          details: { provider },
        });
      }
      return new TwilioCarrier({
        apiBaseUrl: env.TWILIO_API_BASE_URL,
        accountSid: own?.account_sid ?? env.TWILIO_ACCOUNT_SID,
        authToken: own?.auth_token ?? env.TWILIO_AUTH_TOKEN,
      });
    }
    case "telnyx": {
      const own = credentials?.kind === "telnyx" ? credentials : null;
      if (!own && !platformCarrierConfig(env).telnyxConfigured) {
        throw new ApiError("provider_not_configured", "Telnyx is not configured: TELNYX_API_KEY is not set", { details: { provider } });
      }
      return new TelnyxCarrier({ apiBaseUrl: env.TELNYX_API_BASE_URL, apiKey: own?.api_key ?? env.TELNYX_API_KEY });
    }
  }
}

/** The carrier behind a stored number, or null for custom SIP numbers, which have no carrier API. */
export async function carrierForNumber(
  env: Env,
  number: { provider: NumberProvider; credentialsEncrypted: string | null },
): Promise<Carrier | null> {
  if (number.provider === "custom_sip") return null;
  return carrierFor(env, number.provider, await openCredentials(env, number.credentialsEncrypted));
}

/** AES-GCM under ENCRYPTION_KEY; the plaintext never reaches D1 or a response. */
export function sealCredentials(env: Env, credentials: CarrierCredentials): Promise<string> {
  return encryptSecret(JSON.stringify(credentials), env.ENCRYPTION_KEY);
}

export async function openCredentials(env: Env, sealed: string | null): Promise<CarrierCredentials | null> {
  if (!sealed) return null;
  return JSON.parse(await decryptSecret(sealed, env.ENCRYPTION_KEY)) as CarrierCredentials;
}
