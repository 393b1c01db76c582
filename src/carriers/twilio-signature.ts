import { sha256Hex, timingSafeEqual, toBase64 } from "../lib/crypto";

/**
 * `X-Twilio-Signature`, checked by hand on WebCrypto because the `twilio` package does not run
 * on Workers. The algorithm follows twilio-node's webhooks.ts: base64 HMAC-SHA1, keyed with the
 * account's auth token, over the full URL Twilio requested followed by the POST parameters
 * sorted by name, each appended as name+value.
 */

const encoder = new TextEncoder();

const DEFAULT_PORTS: Record<string, string> = { "https:": "443", "wss:": "443", "http:": "80", "ws:": "80" };

/**
 * The string Twilio signs. A repeated parameter contributes each distinct value once, in sorted
 * order, as twilio-node does; names compare by UTF-16 code units like JavaScript's default sort.
 */
export function twilioSignedPayload(url: string, params: URLSearchParams): string {
  const byName = new Map<string, Set<string>>();
  for (const [name, value] of params) {
    const values = byName.get(name) ?? new Set<string>();
    values.add(value);
    byName.set(name, values);
  }
  let payload = url;
  for (const name of [...byName.keys()].sort()) {
    for (const value of [...(byName.get(name) ?? [])].sort()) payload += name + value;
  }
  return payload;
}

export async function twilioSignature(authToken: string, url: string, params: URLSearchParams = new URLSearchParams()): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(authToken), { name: "HMAC", hash: "SHA-1" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(twilioSignedPayload(url, params)));
  return toBase64(new Uint8Array(mac));
}

/**
 * The URL as Twilio may have signed it: with the scheme's default port spelled out and without
 * any port. Twilio's own helper accepts either, because Twilio's signing is inconsistent about it.
 */
export function twilioUrlVariants(url: string): string[] {
  const parsed = new URL(url);
  const userinfo = parsed.username ? `${parsed.username}${parsed.password ? `:${parsed.password}` : ""}@` : "";
  const spell = (port: string) => `${parsed.protocol}//${userinfo}${parsed.hostname}${port ? `:${port}` : ""}${parsed.pathname}${parsed.search}${parsed.hash}`;
  const withPort = spell(parsed.port || (DEFAULT_PORTS[parsed.protocol] ?? ""));
  const withoutPort = spell("");
  return withPort === withoutPort ? [withoutPort] : [withoutPort, withPort];
}

/**
 * The URL Twilio requested, rebuilt from PUBLIC_BASE_URL: behind a custom domain or a proxy the
 * Worker's own `request.url` may differ in scheme or host from what Twilio called and signed.
 * WebSocket handshakes are signed with the ws(s) scheme Twilio connected with.
 */
export function twilioRequestUrl(publicBaseUrl: string, requestUrl: string, options: { webSocket?: boolean } = {}): string {
  const origin = new URL(publicBaseUrl).origin;
  const { pathname, search } = new URL(requestUrl);
  const url = `${origin}${pathname}${search}`;
  return options.webSocket ? url.replace(/^http(s?):/, "ws$1:") : url;
}

export interface TwilioSignedRequest {
  /** The full URL as Twilio requested it (see `twilioRequestUrl`). */
  url: string;
  /** The `X-Twilio-Signature` header. */
  signature: string | null | undefined;
  /** Form parameters of a form-encoded POST; none for GETs and WebSocket handshakes. */
  form?: URLSearchParams;
  /** The raw body, checked against `bodySHA256` when Twilio sends JSON. */
  rawBody?: string;
}

/**
 * Whether Twilio signed this request with `authToken`. A JSON body is covered by the
 * `bodySHA256` query parameter (hex SHA-256 of the raw body) and the signature then covers only
 * the URL. Comparisons are constant-time.
 */
export async function verifyTwilioSignature(authToken: string, request: TwilioSignedRequest): Promise<boolean> {
  if (!authToken || !request.signature) return false;
  const bodyHash = new URL(request.url).searchParams.get("bodySHA256");
  let params = request.form ?? new URLSearchParams();
  if (bodyHash !== null) {
    if (!timingSafeEqual(await sha256Hex(request.rawBody ?? ""), bodyHash.toLowerCase())) return false;
    params = new URLSearchParams();
  }
  for (const url of twilioUrlVariants(request.url)) {
    if (timingSafeEqual(await twilioSignature(authToken, url, params), request.signature)) return true;
  }
  return false;
}
