import { twilioCallUrls, twilioNumberStatusUrl, twilioNumberTypePath, type CarrierOperation } from "../domain/telephony";
import { toBase64 } from "../lib/crypto";
import { playDigitsTwiml, transferTwiml } from "../telephony-webhooks/twiml";
import { carrierFetch, carrierHttpError, readCarrierJson, readErrorBody } from "./http";
import {
  CarrierError,
  type AvailableNumber,
  type AvailableNumberQuery,
  type AvailableNumbers,
  type Carrier,
  type CarrierNumber,
  type DialRequest,
  type DtmfRequest,
  type NumberRef,
  type TransferRequest,
} from "./types";

export interface TwilioConfig {
  /** The host only (`https://api.twilio.com`); the REST version path is added here. */
  apiBaseUrl: string;
  accountSid: string;
  authToken: string;
  /** Defaults to CARRIER_TIMEOUT_MS; call control may want to give up sooner. */
  timeoutMs?: number;
}

/** The fields we read from Twilio's AvailablePhoneNumber resources. */
interface TwilioAvailableNumber {
  phone_number: string;
  locality?: string | null;
  region?: string | null;
  iso_country?: string | null;
  rate_center?: string | null;
  capabilities?: Record<string, boolean> | null;
}

interface TwilioIncomingNumber {
  sid: string;
  phone_number: string;
  capabilities?: Record<string, boolean> | null;
}

/** A form body; an array value repeats the field, as Twilio expects for `StatusCallbackEvent`. */
type TwilioForm = Record<string, string | string[]>;

/** Every call-progress event, so the CallDO hears ringing and answer as well as the end. */
const STATUS_CALLBACK_EVENTS = ["initiated", "ringing", "answered", "completed"];

/** A number's voice webhook plus the status callback that tells us when its inbound calls end. */
function inboundForm(voiceUrl: string): TwilioForm {
  return { VoiceUrl: voiceUrl, VoiceMethod: "POST", StatusCallback: twilioNumberStatusUrl(voiceUrl), StatusCallbackMethod: "POST" };
}

function encodeForm(form: TwilioForm): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(form)) {
    for (const item of Array.isArray(value) ? value : [value]) params.append(name, item);
  }
  return params.toString();
}

interface TwilioErrorBody {
  code?: number;
  message?: string;
}

/** Twilio spells capabilities `voice`, `SMS`, `MMS` (older) or `sms`, `mms` (newer); we say lowercase. */
function capabilityNames(capabilities: Record<string, boolean> | null | undefined): string[] {
  return Object.entries(capabilities ?? {})
    .filter(([, enabled]) => enabled)
    .map(([name]) => name.toLowerCase());
}

function toAvailableNumber(item: TwilioAvailableNumber, query: AvailableNumberQuery): AvailableNumber {
  const regions: [string, string | null | undefined][] = [
    ["location", item.locality],
    ["rate_center", item.rate_center],
    ["state", item.region],
    ["country_code", item.iso_country],
  ];
  return {
    phone_number: item.phone_number,
    phone_number_type: query.numberType,
    region_information: regions
      .filter((entry): entry is [string, string] => Boolean(entry[1]))
      .map(([region_type, region_name]) => ({ region_type, region_name })),
    features: capabilityNames(item.capabilities).map((name) => ({ name })),
    // Prices live in Twilio's separate Pricing API, not on available numbers.
    cost_information: null,
  };
}

function toCarrierNumber(item: TwilioIncomingNumber): CarrierNumber {
  return { phoneNumber: item.phone_number, providerNumberId: item.sid, capabilities: capabilityNames(item.capabilities) };
}

/** Twilio Programmable Voice numbers over the 2010-04-01 REST API: form bodies, Basic auth. */
export class TwilioCarrier implements Carrier {
  readonly provider = "twilio" as const;

  constructor(private readonly config: TwilioConfig) {}

  private url(resource: string, query: Record<string, string | number | undefined> = {}): string {
    const base = this.config.apiBaseUrl.replace(/\/+$/, "");
    const url = new URL(`${base}/2010-04-01/Accounts/${encodeURIComponent(this.config.accountSid)}/${resource}`);
    for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, String(value));
    return url.toString();
  }

  private async request<T>(operation: CarrierOperation, method: string, url: string, form?: TwilioForm): Promise<T | null> {
    const headers: Record<string, string> = {
      authorization: `Basic ${toBase64(new TextEncoder().encode(`${this.config.accountSid}:${this.config.authToken}`))}`,
      accept: "application/json",
    };
    if (form) headers["content-type"] = "application/x-www-form-urlencoded";
    const res = await carrierFetch(
      "twilio",
      operation,
      url,
      {
        method,
        headers,
        body: form ? encodeForm(form) : undefined,
      },
      this.config.timeoutMs,
    );
    // Releasing a number Twilio no longer has, or hanging up a call that already ended (20404),
    // is already done.
    if (res.status === 404 && (operation === "release" || operation === "hangup")) return null;
    if (!res.ok) {
      const body = (await readErrorBody(res)) as TwilioErrorBody | undefined;
      throw carrierHttpError("twilio", operation, res.status, { code: body?.code, message: body?.message });
    }
    if (res.status === 204) return null;
    return readCarrierJson<T>("twilio", operation, res);
  }

  async searchAvailableNumbers(query: AvailableNumberQuery): Promise<AvailableNumbers> {
    const url = this.url(
      `AvailablePhoneNumbers/${encodeURIComponent(query.countryCode)}/${twilioNumberTypePath(query.numberType)}.json`,
      { AreaCode: query.areaCode, InLocality: query.locality, InRegion: query.administrativeArea, PageSize: query.limit },
    );
    const body = await this.request<{ available_phone_numbers?: TwilioAvailableNumber[] }>("search", "GET", url);
    return { numbers: (body?.available_phone_numbers ?? []).map((item) => toAvailableNumber(item, query)) };
  }

  async purchaseNumber(phoneNumber: string, voiceUrl: string): Promise<CarrierNumber> {
    const body = await this.request<TwilioIncomingNumber>("purchase", "POST", this.url("IncomingPhoneNumbers.json"), {
      PhoneNumber: phoneNumber,
      ...inboundForm(voiceUrl),
    });
    if (!body?.sid) throw new CarrierError("provider_error", "twilio", "purchase", "Twilio's answer to the purchase carried no number SID");
    return toCarrierNumber(body);
  }

  findNumber(phoneNumber: string): Promise<CarrierNumber | null> {
    return this.lookup(phoneNumber, "lookup");
  }

  private async lookup(phoneNumber: string, operation: CarrierOperation): Promise<CarrierNumber | null> {
    const url = this.url("IncomingPhoneNumbers.json", { PhoneNumber: phoneNumber });
    const body = await this.request<{ incoming_phone_numbers?: TwilioIncomingNumber[] }>(operation, "GET", url);
    const match = body?.incoming_phone_numbers?.find((item) => item.phone_number === phoneNumber);
    return match ? toCarrierNumber(match) : null;
  }

  async configureInbound(number: CarrierNumber, voiceUrl: string): Promise<void> {
    const url = this.url(`IncomingPhoneNumbers/${encodeURIComponent(number.providerNumberId)}.json`);
    await this.request("configure", "POST", url, inboundForm(voiceUrl));
  }

  async releaseNumber(number: NumberRef): Promise<void> {
    const sid = number.providerNumberId ?? (await this.lookup(number.phoneNumber, "release"))?.providerNumberId;
    if (!sid) return;
    await this.request("release", "DELETE", this.url(`IncomingPhoneNumbers/${encodeURIComponent(sid)}.json`));
  }

  /**
   * Creates the call with our TwiML URL (Twilio fetches it on answer and we connect the media
   * stream there), every status callback, and asynchronous AMD so the call connects at once while
   * the machine verdict arrives separately.
   */
  async dial(request: DialRequest): Promise<{ providerCallId: string }> {
    const urls = twilioCallUrls(request.publicBaseUrl, request.callId);
    const form: TwilioForm = {
      To: request.to,
      From: request.from,
      Url: urls.twiml,
      Method: "POST",
      StatusCallback: urls.status,
      StatusCallbackMethod: "POST",
      StatusCallbackEvent: STATUS_CALLBACK_EVENTS,
      Timeout: String(request.timeoutSeconds),
      TimeLimit: String(request.timeLimitSeconds),
    };
    if (request.machineDetection) {
      // DetectMessageEnd: the verdict on a machine waits for the end of its greeting
      // (machine_end_beep / _silence / _other), which is when a voicemail message is recorded.
      Object.assign(form, {
        MachineDetection: request.detectMessageEnd ? "DetectMessageEnd" : "Enable",
        AsyncAmd: "true",
        AsyncAmdStatusCallback: urls.amd,
        AsyncAmdStatusCallbackMethod: "POST",
      });
    }
    if (request.record) {
      Object.assign(form, { Record: "true", RecordingChannels: "dual", RecordingStatusCallback: urls.recording, RecordingStatusCallbackMethod: "POST" });
    }
    const body = await this.request<{ sid?: string }>("dial", "POST", this.url("Calls.json"), form);
    if (!body?.sid) throw new CarrierError("provider_error", "twilio", "dial", "Twilio's answer to the new call carried no call SID");
    return { providerCallId: body.sid };
  }

  /** `Status=completed` ends a call whether it is ringing or in progress. */
  async hangup(providerCallId: string): Promise<void> {
    await this.request("hangup", "POST", this.url(`Calls/${encodeURIComponent(providerCallId)}.json`), { Status: "completed" });
  }

  /**
   * Redirects the live call to TwiML that `<Dial>`s the destination (realtime.md §1.3): our media
   * stream ends and the callee stays on the line with the new party.
   */
  async transfer(providerCallId: string, request: TransferRequest): Promise<void> {
    await this.request("transfer", "POST", this.url(`Calls/${encodeURIComponent(providerCallId)}.json`), { Twiml: transferTwiml(request.to, request.callerId) });
  }

  /**
   * A bidirectional `<Connect><Stream>` cannot carry DTMF, so the call is redirected to TwiML that
   * `<Play digits>` and then connects a new stream, which resumes the conversation.
   */
  async sendDtmf(providerCallId: string, request: DtmfRequest): Promise<{ restartsStream: boolean }> {
    const urls = twilioCallUrls(request.publicBaseUrl, request.callId);
    await this.request("dtmf", "POST", this.url(`Calls/${encodeURIComponent(providerCallId)}.json`), {
      Twiml: playDigitsTwiml(request.digits, { media: urls.media, reconnect: urls.reconnect }, request.callId),
    });
    return { restartsStream: true };
  }
}
