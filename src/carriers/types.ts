import type { CarrierErrorCode, CarrierOperation, CarrierProvider, NumberType } from "../domain/telephony";
import { ApiError } from "../lib/errors";

/**
 * The one interface every carrier implements. Number management lives here now; the call engine
 * adds call control (create, hang up) to the same interface, so a number's row is all it takes
 * to reach the right carrier with the right credentials (see `carrierFor` in ./index.ts).
 */
export interface Carrier {
  readonly provider: CarrierProvider;
  searchAvailableNumbers(query: AvailableNumberQuery): Promise<AvailableNumbers>;
  /** Buys the number and points its voice webhook at `voiceUrl` in the same step. */
  purchaseNumber(phoneNumber: string, voiceUrl: string): Promise<CarrierNumber>;
  /** The number as held by this account, or null when the account does not hold it. */
  findNumber(phoneNumber: string): Promise<CarrierNumber | null>;
  /** Points the number's incoming calls at `voiceUrl`. */
  configureInbound(number: CarrierNumber, voiceUrl: string): Promise<void>;
  /** Gives the number back; a number the carrier no longer has counts as released. */
  releaseNumber(number: NumberRef): Promise<void>;
  /** Places an outbound call; progress then arrives through the carrier's callbacks. */
  dial(request: DialRequest): Promise<{ providerCallId: string }>;
  /** Ends a live call or cancels a ringing one; a call the carrier already ended counts as done. */
  hangup(providerCallId: string): Promise<void>;
  /** Cold transfer of a live call: the callee is connected to `to` and our part of the call ends. */
  transfer(providerCallId: string, request: TransferRequest): Promise<void>;
  /**
   * Plays DTMF on a live call. `restartsStream`: the carrier replaces our media stream to do it
   * (Twilio plays digits from new TwiML, then connects a new stream).
   */
  sendDtmf(providerCallId: string, request: DtmfRequest): Promise<{ restartsStream: boolean }>;
}

export interface TransferRequest {
  /** E.164 number or sip: URI (checked by src/domain/tool-calls.ts). */
  to: string;
  /** Caller id shown to `to`: our number on the call. */
  callerId: string;
}

export interface DtmfRequest {
  /** 0-9, *, #, w (half a second), W (a second). */
  digits: string;
  /** Our call id and PUBLIC_BASE_URL, for a carrier that must connect the media stream again. */
  callId: string;
  publicBaseUrl: string;
}

/** Everything a carrier needs to place one outbound call for the call engine. */
export interface DialRequest {
  /** Our call id: travels back to us in callback URLs (Twilio) or `client_state` (Telnyx). */
  callId: string;
  to: string;
  from: string;
  /** Seconds to ring before giving up (`join_timeout`). */
  timeoutSeconds: number;
  /** Hard cap on the call's length (`max_duration`); the CallDO also enforces it. */
  timeLimitSeconds: number;
  /** Ask the carrier for answering-machine detection. */
  machineDetection: boolean;
  /**
   * With machineDetection: also report when a machine's greeting ends (the beep or the silence
   * after it), so a voicemail message can be left then (Twilio `DetectMessageEnd`, Telnyx `greeting_end`).
   */
  detectMessageEnd?: boolean;
  /** Ask the carrier to record (Twilio dual-channel recording with a status callback). */
  record: boolean;
  /** `PUBLIC_BASE_URL`, from which each carrier builds its callback and media URLs. */
  publicBaseUrl: string;
}

export interface AvailableNumberQuery {
  countryCode: string;
  numberType: NumberType;
  areaCode?: string;
  locality?: string;
  administrativeArea?: string;
  /** How many numbers to ask the carrier for. */
  limit: number;
}

/** One purchasable number, in the public API's (Telnyx-derived) field names. */
export interface AvailableNumber {
  phone_number: string;
  phone_number_type: NumberType;
  region_information: { region_type: string; region_name: string }[];
  features: { name: string }[];
  cost_information: { upfront_cost: string; monthly_cost: string; currency: string } | null;
}

export interface AvailableNumbers {
  numbers: AvailableNumber[];
  /** The carrier's own count of matches, when it reports one. */
  totalResults?: number;
}

/** A number held by a carrier account. */
export interface CarrierNumber {
  phoneNumber: string;
  /** Twilio's PN… SID, Telnyx's phone number id, or the simulator's id. */
  providerNumberId: string;
  capabilities: string[];
}

/** What we store about a number, enough to find it at its carrier again. */
export interface NumberRef {
  phoneNumber: string;
  providerNumberId: string | null;
}

/** BYOC credentials as sealed into `phone_numbers.credentials_encrypted`. */
export type CarrierCredentials =
  | { kind: "twilio"; account_sid: string; auth_token: string }
  /**
   * `public_key`: the customer account's webhook signing key (base64 of the raw 32 Ed25519 bytes).
   * Telnyx signs a BYOC number's webhooks with it rather than with the platform account's key.
   */
  | { kind: "telnyx"; api_key: string; public_key?: string }
  | { kind: "custom_sip"; sip_username: string; sip_password: string };

/**
 * A carrier failure, already classified into the API's error codes, so a handler can let it
 * propagate and the call engine can branch on `code` without knowing the carrier's formats.
 */
export class CarrierError extends ApiError {
  readonly provider: CarrierProvider;
  readonly operation: CarrierOperation;

  constructor(
    code: CarrierErrorCode,
    provider: CarrierProvider,
    operation: CarrierOperation,
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super(code, message, { details: { provider, operation, ...details } });
    this.name = "CarrierError";
    this.provider = provider;
    this.operation = operation;
  }
}
