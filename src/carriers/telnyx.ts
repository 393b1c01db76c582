import type { CarrierOperation } from "../domain/telephony";
import { carrierFetch, carrierHttpError, readCarrierJson, readErrorBody } from "./http";
import { CarrierError, type AvailableNumber, type AvailableNumberQuery, type AvailableNumbers, type Carrier, type CarrierNumber, type NumberRef } from "./types";

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
}
