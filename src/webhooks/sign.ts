import { fromBase64, toBase64, toHex } from "../lib/crypto";

/**
 * Both signature schemes of DESIGN.md, hand-written on WebCrypto:
 * - Truedy's: `X-Truedy-Signature` = hex HMAC-SHA256 of `{timestamp}.{body}`, keyed with the UTF-8
 *   bytes of the whole `whsec_…` string (as Truedy's docs show receivers verifying);
 * - Standard Webhooks: `webhook-signature` = `v1,` + base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`,
 *   keyed with the base64-decoded part after `whsec_`, so the `standardwebhooks` library verifies it.
 */

const SECRET_PREFIX = "whsec_";
const encoder = new TextEncoder();

export function generateWebhookSecret(): string {
  return SECRET_PREFIX + toBase64(crypto.getRandomValues(new Uint8Array(32)));
}

async function hmacSha256(key: Uint8Array, message: string): Promise<ArrayBuffer> {
  const cryptoKey = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return crypto.subtle.sign("HMAC", cryptoKey, encoder.encode(message));
}

export async function truedySignature(secret: string, timestamp: number, body: string): Promise<string> {
  return toHex(await hmacSha256(encoder.encode(secret), `${timestamp}.${body}`));
}

export async function standardSignature(secret: string, id: string, timestamp: number, body: string): Promise<string> {
  const key = fromBase64(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret);
  return `v1,${toBase64(new Uint8Array(await hmacSha256(key, `${id}.${timestamp}.${body}`)))}`;
}

/**
 * The signature headers for one attempt. `secrets` is newest first; during a rotation both are
 * sent (comma-separated hex, space-separated `v1,` entries) so receivers on either secret verify.
 */
export async function signatureHeaders(message: { id: string; timestamp: number; body: string }, secrets: string[]) {
  const truedy = await Promise.all(secrets.map((s) => truedySignature(s, message.timestamp, message.body)));
  const standard = await Promise.all(secrets.map((s) => standardSignature(s, message.id, message.timestamp, message.body)));
  return {
    "X-Truedy-Timestamp": String(message.timestamp),
    "X-Truedy-Signature": truedy.join(","),
    "webhook-id": message.id,
    "webhook-timestamp": String(message.timestamp),
    "webhook-signature": standard.join(" "),
  };
}
