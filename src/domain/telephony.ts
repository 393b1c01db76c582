// The max metadata, as src/domain/phone.ts uses, so the worker bundles one copy.
import { isPossiblePhoneNumber } from "libphonenumber-js/max";

/**
 * Telephony rules with no I/O: number types and their carrier spellings, E.164 checks, which
 * carrier serves a request, how carrier failures map to API errors, search pagination and the
 * URLs carriers call back.
 */

/** Carriers we talk to over an API. `custom_sip` numbers are only stored, so they are not here. */
export const CARRIER_PROVIDERS = ["twilio", "telnyx", "simulator"] as const;
export type CarrierProvider = (typeof CARRIER_PROVIDERS)[number];

export const NUMBER_PROVIDERS = ["twilio", "telnyx", "custom_sip", "simulator"] as const;
export type NumberProvider = (typeof NUMBER_PROVIDERS)[number];

export const NUMBER_TYPES = ["local", "toll_free", "mobile", "national"] as const;
export type NumberType = (typeof NUMBER_TYPES)[number];

/** The spellings clients send: the guide writes `toll-free`, the reference `toll_free`. */
export const NUMBER_TYPE_INPUTS = ["local", "toll_free", "toll-free", "mobile", "national"] as const;
export type NumberTypeInput = (typeof NUMBER_TYPE_INPUTS)[number];

export function normalizeNumberType(input: NumberTypeInput): NumberType {
  return input === "toll-free" ? "toll_free" : input;
}

const TWILIO_NUMBER_TYPE: Record<NumberType, string> = {
  local: "Local",
  toll_free: "TollFree",
  mobile: "Mobile",
  national: "National",
};

/** The AvailablePhoneNumbers sub-resource Twilio serves each type from. */
export function twilioNumberTypePath(type: NumberType): string {
  return TWILIO_NUMBER_TYPE[type];
}

const E164_PATTERN = /^\+[1-9]\d{1,14}$/;

/** Strict E.164 whose length is possible for its country (libphonenumber's length rules). */
export function isE164(value: string): boolean {
  return E164_PATTERN.test(value) && isPossiblePhoneNumber(value);
}

/** The countries sharing +1, where area codes (NPA) exist and the simulator can invent numbers. */
export const NANP_COUNTRIES = ["US", "CA"] as const;

export function isNanpCountry(countryCode: string): boolean {
  return (NANP_COUNTRIES as readonly string[]).includes(countryCode);
}

export interface PlatformCarrierConfig {
  simulatorEnabled: boolean;
  twilioConfigured: boolean;
  telnyxConfigured: boolean;
}

export type ProviderChoice =
  | { ok: true; provider: CarrierProvider }
  | { ok: false; code: "validation_error" | "provider_not_configured"; field: string; message: string };

/**
 * Which carrier searches and buys a managed number. An explicit `provider` wins; a Telnyx
 * `api_key` means Telnyx; otherwise the simulator when enabled (dev and tests never reach a
 * real carrier by accident), then Twilio, then Telnyx, whichever has platform credentials.
 */
export function chooseSearchProvider(
  request: { provider?: CarrierProvider; hasApiKey: boolean },
  config: PlatformCarrierConfig,
): ProviderChoice {
  if (request.hasApiKey) {
    if (request.provider && request.provider !== "telnyx") {
      return { ok: false, code: "validation_error", field: "api_key", message: "api_key is a Telnyx API key; it only applies with provider telnyx" };
    }
    return { ok: true, provider: "telnyx" };
  }
  const provider = request.provider ?? defaultProvider(config);
  if (!provider) {
    return {
      ok: false,
      code: "provider_not_configured",
      field: "provider",
      message: "No carrier is configured: set TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN or TELNYX_API_KEY, or pass a Telnyx api_key",
    };
  }
  return checkConfigured(provider, config);
}

function defaultProvider(config: PlatformCarrierConfig): CarrierProvider | undefined {
  if (config.simulatorEnabled) return "simulator";
  if (config.twilioConfigured) return "twilio";
  if (config.telnyxConfigured) return "telnyx";
  return undefined;
}

function checkConfigured(provider: CarrierProvider, config: PlatformCarrierConfig): ProviderChoice {
  if (provider === "simulator" && !config.simulatorEnabled) {
    return { ok: false, code: "validation_error", field: "provider", message: "The simulator carrier is not enabled on this deployment" };
  }
  if (provider === "twilio" && !config.twilioConfigured) {
    return { ok: false, code: "provider_not_configured", field: "provider", message: "Twilio is not configured: TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are not set" };
  }
  if (provider === "telnyx" && !config.telnyxConfigured) {
    return { ok: false, code: "provider_not_configured", field: "provider", message: "Telnyx is not configured: TELNYX_API_KEY is not set" };
  }
  return { ok: true, provider };
}

export interface ImportFields {
  account_sid?: string;
  auth_token?: string;
  api_key?: string;
  sip_username?: string;
  sip_password?: string;
  sip_server?: string;
}

const IMPORT_REQUIRED: Record<NumberProvider, (keyof ImportFields)[]> = {
  twilio: ["account_sid", "auth_token"],
  telnyx: ["api_key"],
  custom_sip: ["sip_username", "sip_password", "sip_server"],
  simulator: [],
};

/** The credential fields a BYOC import of this provider still lacks, in documentation order. */
export function missingImportFields(provider: NumberProvider, fields: ImportFields): (keyof ImportFields)[] {
  return IMPORT_REQUIRED[provider].filter((name) => !fields[name]);
}

export type CarrierOperation = "search" | "purchase" | "lookup" | "configure" | "release" | "dial" | "answer" | "hangup" | "transfer" | "dtmf";

export type CarrierFailure = { kind: "timeout" } | { kind: "network" } | { kind: "http"; status: number };

export type CarrierErrorCode = "number_unavailable" | "provider_not_configured" | "provider_error";

/**
 * How a carrier failure reaches our client: rejected credentials are a configuration problem the
 * customer can fix (422), a 4xx while searching or buying means the number cannot be had (422),
 * and anything the carrier could not answer (5xx, throttling, network, timeout) is a 502. A 4xx
 * on any other operation means our request no longer matches the carrier's state, also a 502.
 */
export function classifyCarrierFailure(failure: CarrierFailure, operation: CarrierOperation): CarrierErrorCode {
  if (failure.kind !== "http") return "provider_error";
  const { status } = failure;
  if (status === 401 || status === 403) return "provider_not_configured";
  if (status === 429 || status >= 500 || status < 400) return "provider_error";
  return operation === "search" || operation === "purchase" ? "number_unavailable" : "provider_error";
}

/** Carriers have no search cursor, so page N is cut from the first N pages plus one probe. */
export const MAX_SEARCH_WINDOW = 1000;

export function searchWindow(page: number, pageSize: number): number {
  return Math.min(page * pageSize + 1, MAX_SEARCH_WINDOW);
}

export interface SearchPagination {
  page: number;
  page_size: number;
  total_results: number;
  total_pages: number;
  has_more: boolean;
}

/**
 * Slices one page out of what the carrier returned. `reportedTotal` is the carrier's own count
 * when it gives one (Telnyx); without it (Twilio) the total is what we saw, a lower bound.
 */
export function paginateSearch<T>(
  results: T[],
  reportedTotal: number | undefined,
  page: number,
  pageSize: number,
): { items: T[]; pagination: SearchPagination } {
  const start = (page - 1) * pageSize;
  const items = results.slice(start, start + pageSize);
  const total = Math.max(reportedTotal ?? 0, results.length);
  return {
    items,
    pagination: {
      page,
      page_size: pageSize,
      total_results: total,
      total_pages: Math.ceil(total / pageSize),
      has_more: start + pageSize < total,
    },
  };
}

function trimBase(publicBaseUrl: string): string {
  return publicBaseUrl.replace(/\/+$/, "");
}

/**
 * The URL to paste into an external provider for calls to this agent. It is derived from the
 * agent id alone, so it never changes when the agent is edited.
 */
export function agentInboundWebhookUrl(publicBaseUrl: string, agentId: string): string {
  return `${trimBase(publicBaseUrl)}/telephony/inbound/${agentId}`;
}

/**
 * Where a carrier sends calls for the numbers we configure (purchase and import). One URL per
 * carrier: the number's assigned agent is found from the dialled number when a call arrives,
 * so reassigning agents never has to touch the carrier.
 */
export function carrierVoiceUrl(publicBaseUrl: string, provider: CarrierProvider): string {
  return `${trimBase(publicBaseUrl)}/telephony/voice/${provider}`;
}

/**
 * Where Twilio reports the progress of inbound calls to our numbers (the number's
 * `StatusCallback`). Outbound calls get per-call URLs instead (`twilioCallUrls`); an inbound call
 * only has a call id once its voice webhook has created it, so this one finds the call by its SID.
 */
export function twilioNumberStatusUrl(voiceUrl: string): string {
  return `${voiceUrl}/status`;
}

/** The public base as a WebSocket origin: https→wss (all Twilio accepts), http→ws for local runs. */
export function publicWebSocketBase(publicBaseUrl: string): string {
  return trimBase(publicBaseUrl).replace(/^http(s?):/i, (_, secure: string) => `ws${secure.toLowerCase()}:`);
}

/**
 * The URLs of one outbound Twilio call, each carrying our call id in the path: Twilio signs
 * the exact URL it requests, and a media stream URL may not carry a query string.
 */
export function twilioCallUrls(publicBaseUrl: string, callId: string) {
  const base = `${trimBase(publicBaseUrl)}/telephony/twilio`;
  const id = encodeURIComponent(callId);
  return {
    twiml: `${base}/twiml/${id}`,
    status: `${base}/status/${id}`,
    amd: `${base}/amd/${id}`,
    recording: `${base}/recording/${id}`,
    /** Where Twilio goes once the media stream drops (the `<Redirect>` after `<Connect>`). */
    reconnect: `${base}/reconnect/${id}`,
    media: `${publicWebSocketBase(publicBaseUrl)}/telephony/twilio/media/${id}`,
  };
}

/** The media WebSocket Telnyx streams one call's audio to. */
export function telnyxMediaUrl(publicBaseUrl: string, callId: string): string {
  return `${publicWebSocketBase(publicBaseUrl)}/telephony/telnyx/media/${encodeURIComponent(callId)}`;
}

export function lastFour(value: string): string {
  return value.slice(-4);
}
