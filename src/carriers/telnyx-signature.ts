import { fromBase64 } from "../lib/crypto";

/**
 * Telnyx webhook signatures: Ed25519 over `${telnyx-timestamp}|${raw body}`, checked against the
 * account's public key (base64 of the raw 32 bytes, from Mission Control → Keys & Credentials).
 * Verified on WebCrypto, on the exact bytes received, never on re-serialised JSON.
 */

/** The Telnyx SDKs' replay window. */
export const TELNYX_SIGNATURE_TOLERANCE_SECONDS = 300;

export interface TelnyxSignedRequest {
  /** `telnyx-signature-ed25519`: base64 of the 64-byte signature. */
  signature: string | null | undefined;
  /** `telnyx-timestamp`: unix seconds. */
  timestamp: string | null | undefined;
  rawBody: string;
}

export type TelnyxVerdict = { ok: true } | { ok: false; reason: "missing" | "stale" | "invalid" };

function decodeBase64(value: string): Uint8Array | null {
  try {
    return fromBase64(value);
  } catch {
    return null;
  }
}

/** The raw 32 bytes of a public key as Telnyx shows it (standard base64), or null for anything else. */
export function decodeTelnyxPublicKey(base64Key: string): Uint8Array | null {
  const text = base64Key.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return null;
  const raw = decodeBase64(text);
  return raw?.length === 32 ? raw : null;
}

/**
 * Imports the configured public key; an unusable key is a deployment error, not a forgery, so it
 * throws rather than rejecting every webhook quietly.
 */
export async function importTelnyxPublicKey(base64Key: string | undefined): Promise<CryptoKey> {
  const raw = base64Key ? decodeTelnyxPublicKey(base64Key) : null;
  if (!raw) throw new Error("TELNYX_PUBLIC_KEY must be the base64 of the account's 32-byte Ed25519 public key");
  return telnyxVerifyKey(raw);
}

export function telnyxVerifyKey(raw: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
}

/**
 * Checks a webhook at `nowMs`: a timestamp more than the tolerance away in either direction is
 * refused (a replay, or a clock too far off to trust), before the signature is looked at.
 */
export async function verifyTelnyxSignature(publicKey: CryptoKey, request: TelnyxSignedRequest, nowMs: number): Promise<TelnyxVerdict> {
  if (!request.signature || !request.timestamp) return { ok: false, reason: "missing" };
  if (!/^\d{1,12}$/.test(request.timestamp)) return { ok: false, reason: "invalid" };
  if (Math.abs(nowMs / 1000 - Number(request.timestamp)) > TELNYX_SIGNATURE_TOLERANCE_SECONDS) return { ok: false, reason: "stale" };
  const signature = decodeBase64(request.signature);
  if (!signature || signature.length !== 64) return { ok: false, reason: "invalid" };
  const message = new TextEncoder().encode(`${request.timestamp}|${request.rawBody}`);
  const valid = await crypto.subtle.verify({ name: "Ed25519" }, publicKey, signature, message);
  return valid ? { ok: true } : { ok: false, reason: "invalid" };
}
