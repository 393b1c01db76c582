import { classifyCarrierFailure, type CarrierOperation } from "../domain/telephony";
import { CarrierError } from "./types";

/** Long enough for a slow number order, short enough that a client's request is not left hanging. */
export const CARRIER_TIMEOUT_MS = 10_000;

export type HttpCarrier = "twilio" | "telnyx";

const LABEL: Record<HttpCarrier, string> = { twilio: "Twilio", telnyx: "Telnyx" };

const DOING: Record<CarrierOperation, string> = {
  search: "searching for numbers",
  purchase: "buying the number",
  lookup: "looking up the number",
  configure: "pointing the number's calls at Truedy",
  release: "releasing the number",
  dial: "placing the call",
  answer: "answering the call",
  hangup: "hanging up the call",
  transfer: "transferring the call",
  dtmf: "sending DTMF on the call",
};

const CREDENTIALS: Record<HttpCarrier, string> = {
  twilio: "account SID and auth token",
  telnyx: "API key",
};

/** `fetch` with a timeout; network failures and timeouts become 502 `provider_error`. */
export async function carrierFetch(
  provider: HttpCarrier,
  operation: CarrierOperation,
  url: string,
  init: RequestInit,
  timeoutMs: number = CARRIER_TIMEOUT_MS,
): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const name = (error as { name?: string } | null)?.name;
    const timedOut = name === "TimeoutError" || name === "AbortError";
    const code = classifyCarrierFailure({ kind: timedOut ? "timeout" : "network" }, operation);
    const message = timedOut
      ? `${LABEL[provider]} did not answer within ${timeoutMs / 1000} s while ${DOING[operation]}`
      : `${LABEL[provider]} could not be reached while ${DOING[operation]}`;
    // A request that timed out may well have reached the carrier and done its work (a call
    // placed, a number bought): callers that must not do it twice read `timed_out`.
    throw new CarrierError(code, provider, operation, message, timedOut ? { timed_out: true } : {});
  }
}

/** A 2xx whose body is not JSON is the carrier's fault, not ours or the client's. */
export async function readCarrierJson<T>(provider: HttpCarrier, operation: CarrierOperation, res: Response): Promise<T> {
  try {
    return (await res.json()) as T;
  } catch {
    throw new CarrierError("provider_error", provider, operation, `${LABEL[provider]} answered ${DOING[operation]} with a body that is not JSON`);
  }
}

/** The body of an error response, whatever it is, without failing on a non-JSON one. */
export async function readErrorBody(res: Response): Promise<unknown> {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Builds the API error for a carrier's non-2xx answer. The carrier's own message is passed on
 * for 4xx answers, which are about the customer's request or account; a 5xx says only that the
 * carrier failed.
 */
export function carrierHttpError(
  provider: HttpCarrier,
  operation: CarrierOperation,
  status: number,
  carrier: { code?: string | number; message?: string } = {},
): CarrierError {
  const code = classifyCarrierFailure({ kind: "http", status }, operation);
  const label = LABEL[provider];
  const said = carrier.message ? `: ${carrier.message}` : "";
  const message =
    code === "provider_not_configured"
      ? `${label} rejected the ${CREDENTIALS[provider]} (HTTP ${status})${said}`
      : code === "number_unavailable"
        ? operation === "search"
          ? `${label} has no numbers for this search${said}`
          : `${label} cannot provide this number${said}`
        : `${label} failed while ${DOING[operation]} (HTTP ${status})`;
  return new CarrierError(code, provider, operation, message, {
    carrier_status: status,
    ...(carrier.code === undefined ? {} : { carrier_code: carrier.code }),
    ...(code !== "provider_error" && carrier.message ? { carrier_message: carrier.message } : {}),
  });
}
