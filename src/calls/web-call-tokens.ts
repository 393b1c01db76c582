import { publicWebSocketBase } from "../domain/telephony";
import { fromBase64, toHex, timingSafeEqual } from "../lib/crypto";

/**
 * Connect tokens of browser calls (POST /calls/web). A browser cannot set headers on a
 * WebSocket handshake, so the socket URL carries a short-lived bearer token instead of the API
 * key: `wct1.<expires ms>.<hex HMAC-SHA256>`, signed over the call id, the organization and the
 * expiry with a key derived (HKDF-SHA256) from ENCRYPTION_KEY. It is single use: the call's
 * object takes the first connection only (see CallDO.fetch).
 */
export const WEB_CALL_TOKEN_TTL_MS = 60_000;
const VERSION = "wct1";
const encoder = new TextEncoder();

const keys = new Map<string, Promise<CryptoKey>>();

/** The HMAC key, derived once per ENCRYPTION_KEY: web-call tokens never share a key with anything else. */
function tokenKey(encryptionKey: string): Promise<CryptoKey> {
  let key = keys.get(encryptionKey);
  if (!key) {
    key = (async () => {
      const base = await crypto.subtle.importKey("raw", fromBase64(encryptionKey), "HKDF", false, ["deriveKey"]);
      return crypto.subtle.deriveKey(
        { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: encoder.encode("truedy web-call token v1") },
        base,
        { name: "HMAC", hash: "SHA-256", length: 256 },
        false,
        ["sign"],
      );
    })();
    keys.set(encryptionKey, key);
  }
  return key;
}

async function sign(env: Pick<Env, "ENCRYPTION_KEY">, callId: string, orgId: string, expiresMs: number): Promise<string> {
  const key = await tokenKey(env.ENCRYPTION_KEY);
  return toHex(await crypto.subtle.sign("HMAC", key, encoder.encode(`${VERSION}\n${callId}\n${orgId}\n${expiresMs}`)));
}

export async function issueWebCallToken(env: Pick<Env, "ENCRYPTION_KEY">, callId: string, orgId: string, expiresMs: number): Promise<string> {
  return `${VERSION}.${expiresMs}.${await sign(env, callId, orgId, expiresMs)}`;
}

export type TokenCheck = { ok: true; expiresMs: number } | { ok: false; reason: "malformed" | "bad_signature" | "expired" };

/**
 * Checks a token for this call of this org: well-formed, signed by us for exactly this call and
 * org (compared in constant time), and not expired (`now >= expires` is expired). Single use is
 * the call object's to enforce.
 */
export async function verifyWebCallToken(env: Pick<Env, "ENCRYPTION_KEY">, token: string | undefined, callId: string, orgId: string, nowMs: number): Promise<TokenCheck> {
  const match = token?.match(/^wct1\.(\d{1,16})\.([0-9a-f]{64})$/);
  if (!match) return { ok: false, reason: "malformed" };
  const expiresMs = Number(match[1]);
  if (!timingSafeEqual(match[2], await sign(env, callId, orgId, expiresMs))) return { ok: false, reason: "bad_signature" };
  if (nowMs >= expiresMs) return { ok: false, reason: "expired" };
  return { ok: true, expiresMs };
}

/** Where the browser opens the call's socket: PUBLIC_BASE_URL as ws(s):// plus the stream route. */
export function webCallSocketUrl(publicBaseUrl: string, callId: string, token: string): string {
  return `${publicWebSocketBase(publicBaseUrl)}/web-calls/${encodeURIComponent(callId)}/stream?token=${encodeURIComponent(token)}`;
}
