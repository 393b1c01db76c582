import { z } from "zod";
import { carrierVoiceUrl, telnyxMediaUrl, type CarrierOperation } from "../domain/telephony";
import { fromBase64, toBase64 } from "../lib/crypto";
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

export interface TelnyxConfig {
  /** The host only (`https://api.telnyx.com`); `/v2/…` is added here. */
  apiBaseUrl: string;
  apiKey: string;
  /** Defaults to CARRIER_TIMEOUT_MS; call control may want to give up sooner. */
  timeoutMs?: number;
}

interface TelnyxAvailableNumber {
  phone_number: string;
  features?: { name: string }[];
  region_information?: { region_type: string; region_name: string }[];
  cost_information?: { upfront_cost: string; monthly_cost: string; currency: string } | null;
}

interface TelnyxPhoneNumber {
  id: string;
  phone_number: string;
}

interface TelnyxNumberOrder {
  id: string;
  status: string;
  phone_numbers: { id: string; phone_number: string; status: string }[];
}

interface TelnyxApplication {
  id: string;
  webhook_event_url?: string | null;
}

interface TelnyxErrorBody {
  errors?: { code?: string; title?: string; detail?: string }[];
}

/**
 * What we ask Telnyx to echo on every webhook of a call (`client_state`, base64 JSON): our call
 * id, and the direction, which turns `hangup_source` (caller/callee) into who hung up. A call to
 * a number with no inbound agent is answered only to be told so, then hung up.
 */
const ClientState = z.union([
  z.object({ call_id: z.string().min(1), direction: z.enum(["outbound", "inbound"]) }),
  z.object({ unassigned: z.literal(true) }),
]);
export type TelnyxClientState = z.infer<typeof ClientState>;

export function encodeClientState(state: TelnyxClientState): string {
  return toBase64(new TextEncoder().encode(JSON.stringify(state)));
}

/** The state we set, or null for a webhook that carries none (or someone else's). */
export function decodeClientState(value: string | null | undefined): TelnyxClientState | null {
  if (!value) return null;
  try {
    const parsed = ClientState.safeParse(JSON.parse(new TextDecoder().decode(fromBase64(value))));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/**
 * The media stream of a call: bidirectional RTP (the default mp3 mode silently drops audio we
 * send back), μ-law 8 kHz both ways, the caller's track only, to our per-call WebSocket.
 */
function mediaStream(publicBaseUrl: string, callId: string) {
  return {
    stream_url: telnyxMediaUrl(publicBaseUrl, callId),
    stream_track: "inbound_track",
    stream_codec: "PCMU",
    stream_bidirectional_mode: "rtp",
    stream_bidirectional_codec: "PCMU",
  };
}

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

/** How long each DTMF tone lasts (Telnyx accepts 100-500 ms). */
const DTMF_DURATION_MS = 250;

/** Telnyx's code for a command on a call that has already ended. */
const CALL_ALREADY_ENDED = "90018";

/** Telnyx numbers on a Telnyx account carry voice; the API does not list per-number features. */
const TELNYX_NUMBER_CAPABILITIES = ["voice"];

/**
 * Prefix of the Call Control Applications we create: Telnyx routes a number's calls through the
 * application it is attached to, whose webhook URL is our voice URL.
 */
const APPLICATION_PREFIX = "Truedy";

/** Telnyx API v2: JSON bodies, Bearer auth, `{data, meta}` answers, `{errors:[…]}` failures. */
export class TelnyxCarrier implements Carrier {
  readonly provider = "telnyx" as const;

  constructor(private readonly config: TelnyxConfig) {}

  private url(path: string, query: Record<string, string | number | undefined> = {}): string {
    const url = new URL(`${this.config.apiBaseUrl.replace(/\/+$/, "")}/v2/${path}`);
    for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, String(value));
    return url.toString();
  }

  private async request<T>(operation: CarrierOperation, method: string, url: string, json?: unknown): Promise<T | null> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.config.apiKey}`, accept: "application/json" };
    if (json !== undefined) headers["content-type"] = "application/json";
    const res = await carrierFetch(
      "telnyx",
      operation,
      url,
      {
        method,
        headers,
        body: json === undefined ? undefined : JSON.stringify(json),
      },
      this.config.timeoutMs,
    );
    if (res.status === 404 && operation === "release") return null;
    if (!res.ok) {
      const first = ((await readErrorBody(res)) as TelnyxErrorBody | undefined)?.errors?.[0];
      // Hanging up a call that already ended (90018), or that Telnyx no longer knows, is already done.
      if (operation === "hangup" && (res.status === 404 || (res.status === 422 && first?.code === CALL_ALREADY_ENDED))) return null;
      throw carrierHttpError("telnyx", operation, res.status, { code: first?.code, message: first?.detail ?? first?.title });
    }
    if (res.status === 204) return null;
    return readCarrierJson<T>("telnyx", operation, res);
  }

  async searchAvailableNumbers(query: AvailableNumberQuery): Promise<AvailableNumbers> {
    const url = this.url("available_phone_numbers", {
      "filter[country_code]": query.countryCode,
      "filter[national_destination_code]": query.areaCode,
      "filter[locality]": query.locality,
      "filter[administrative_area]": query.administrativeArea,
      "filter[phone_number_type]": query.numberType,
      "filter[limit]": query.limit,
    });
    const body = await this.request<{ data?: TelnyxAvailableNumber[]; meta?: { total_results?: number } }>("search", "GET", url);
    const numbers = (body?.data ?? []).map(
      (item): AvailableNumber => ({
        phone_number: item.phone_number,
        phone_number_type: query.numberType,
        region_information: item.region_information ?? [],
        features: item.features ?? [],
        cost_information: item.cost_information ?? null,
      }),
    );
    return { numbers, totalResults: body?.meta?.total_results };
  }

  async purchaseNumber(phoneNumber: string, voiceUrl: string): Promise<CarrierNumber> {
    const connectionId = await this.ensureApplication(voiceUrl, "purchase");
    const body = await this.request<{ data: TelnyxNumberOrder }>("purchase", "POST", this.url("number_orders"), {
      phone_numbers: [{ phone_number: phoneNumber }],
      connection_id: connectionId,
    });
    const order = body?.data;
    const ordered = order?.phone_numbers.find((item) => item.phone_number === phoneNumber);
    if (!order || !ordered) {
      throw new CarrierError("provider_error", "telnyx", "purchase", "Telnyx's number order did not include the number");
    }
    if (ordered.status === "failed") {
      throw new CarrierError("number_unavailable", "telnyx", "purchase", `Telnyx could not order ${phoneNumber}`, { carrier_order_id: order.id });
    }
    // The phone-number resource may only appear once the order completes; release finds the
    // number by its E.164, so the order id is kept as the reference.
    return { phoneNumber, providerNumberId: order.id, capabilities: TELNYX_NUMBER_CAPABILITIES };
  }

  findNumber(phoneNumber: string): Promise<CarrierNumber | null> {
    return this.lookup(phoneNumber, "lookup");
  }

  private async lookup(phoneNumber: string, operation: CarrierOperation): Promise<CarrierNumber | null> {
    // Telnyx matches digits only: a "+" in the filter returns nothing.
    const url = this.url("phone_numbers", { "filter[phone_number]": phoneNumber.replace(/\D/g, "") });
    const body = await this.request<{ data?: TelnyxPhoneNumber[] }>(operation, "GET", url);
    const match = body?.data?.find((item) => item.phone_number === phoneNumber);
    return match ? { phoneNumber, providerNumberId: match.id, capabilities: TELNYX_NUMBER_CAPABILITIES } : null;
  }

  async configureInbound(number: CarrierNumber, voiceUrl: string): Promise<void> {
    const connectionId = await this.ensureApplication(voiceUrl, "configure");
    await this.request("configure", "PATCH", this.url(`phone_numbers/${encodeURIComponent(number.providerNumberId)}`), {
      connection_id: connectionId,
    });
  }

  async releaseNumber(number: NumberRef): Promise<void> {
    const held = await this.lookup(number.phoneNumber, "release");
    if (!held) return;
    await this.request("release", "DELETE", this.url(`phone_numbers/${encodeURIComponent(held.providerNumberId)}`));
  }

  /**
   * The id of this account's Call Control Application whose webhook is `voiceUrl`, created on
   * first use. Found by URL rather than remembered, so deployments sharing an account (each with
   * its own PUBLIC_BASE_URL) keep their own application and a retry never creates a second one.
   */
  private async ensureApplication(voiceUrl: string, operation: CarrierOperation): Promise<string> {
    const name = `${APPLICATION_PREFIX} ${new URL(voiceUrl).host}`;
    const listed = await this.request<{ data?: TelnyxApplication[] }>(
      operation,
      "GET",
      this.url("call_control_applications", { "filter[application_name][contains]": APPLICATION_PREFIX, "page[size]": 250 }),
    );
    const existing = listed?.data?.find((app) => app.webhook_event_url === voiceUrl);
    if (existing) return existing.id;
    const created = await this.request<{ data: TelnyxApplication }>(operation, "POST", this.url("call_control_applications"), {
      application_name: name,
      webhook_event_url: voiceUrl,
      webhook_api_version: "2",
      active: true,
    });
    if (!created?.data?.id) throw new CarrierError("provider_error", "telnyx", operation, "Telnyx did not return the new Call Control Application's id");
    return created.data.id;
  }

  /**
   * Dials through the account's Call Control Application for this deployment (the one inbound
   * calls use), with the media stream started on answer. `command_id` is our call id, so a dial
   * retried after a lost answer does not place a second call.
   */
  async dial(request: DialRequest): Promise<{ providerCallId: string }> {
    const voiceUrl = carrierVoiceUrl(request.publicBaseUrl, "telnyx");
    const connectionId = await this.ensureApplication(voiceUrl, "dial");
    const body = await this.request<{ data?: { call_control_id?: string } }>("dial", "POST", this.url("calls"), {
      connection_id: connectionId,
      to: request.to,
      from: request.from,
      webhook_url: voiceUrl,
      webhook_url_method: "POST",
      client_state: encodeClientState({ call_id: request.callId, direction: "outbound" }),
      command_id: request.callId,
      // Kept within the ranges Telnyx accepts; the CallDO enforces the exact limits itself.
      timeout_secs: clamp(request.timeoutSeconds, 5, 600),
      time_limit_secs: clamp(request.timeLimitSeconds, 30, 14_400),
      // greeting_end: after call.machine.detection.ended, call.machine.greeting.ended at the beep or silence.
      ...(request.machineDetection ? { answering_machine_detection: request.detectMessageEnd ? "greeting_end" : "detect" } : {}),
      ...mediaStream(request.publicBaseUrl, request.callId),
    });
    const providerCallId = body?.data?.call_control_id;
    if (!providerCallId) throw new CarrierError("provider_error", "telnyx", "dial", "Telnyx's answer to the new call carried no call_control_id");
    return { providerCallId };
  }

  async hangup(providerCallId: string): Promise<void> {
    await this.request("hangup", "POST", this.url(`calls/${encodeURIComponent(providerCallId)}/actions/hangup`), {});
  }

  /** Call Control `transfer`: Telnyx dials `to` and bridges the callee to it. */
  async transfer(providerCallId: string, request: TransferRequest): Promise<void> {
    await this.request("transfer", "POST", this.url(`calls/${encodeURIComponent(providerCallId)}/actions/transfer`), {
      to: request.to,
      from: request.callerId,
    });
  }

  /** Call Control `send_dtmf`: played into the call while the media stream goes on. */
  async sendDtmf(providerCallId: string, request: DtmfRequest): Promise<{ restartsStream: boolean }> {
    await this.request("dtmf", "POST", this.url(`calls/${encodeURIComponent(providerCallId)}/actions/send_dtmf`), {
      digits: request.digits,
      duration_millis: DTMF_DURATION_MS,
    });
    return { restartsStream: false };
  }

  /** Answers an inbound call for our call `callId`, starting its media stream the way `dial` does. */
  async answer(providerCallId: string, callId: string, publicBaseUrl: string): Promise<void> {
    await this.request("answer", "POST", this.url(`calls/${encodeURIComponent(providerCallId)}/actions/answer`), {
      client_state: encodeClientState({ call_id: callId, direction: "inbound" }),
      command_id: `answer-${callId}`,
      ...mediaStream(publicBaseUrl, callId),
    });
  }

  /** Answers a call to a number with no inbound agent, so the caller can be told before hanging up. */
  async answerUnassigned(providerCallId: string): Promise<void> {
    await this.request("answer", "POST", this.url(`calls/${encodeURIComponent(providerCallId)}/actions/answer`), {
      client_state: encodeClientState({ unassigned: true }),
    });
  }

  /** Part of answering an unassigned number, hence reported as the answer if it fails. */
  async speak(providerCallId: string, text: string): Promise<void> {
    await this.request("answer", "POST", this.url(`calls/${encodeURIComponent(providerCallId)}/actions/speak`), {
      payload: text,
      voice: "female",
      language: "en-US",
    });
  }
}
