import { fromBase64, toHex, timingSafeEqual } from "../lib/crypto";

/** Recording links are short-lived bearer URLs: anyone holding one may fetch the audio until it expires. */
export const RECORDING_LINK_TTL_MS = 15 * 60_000;

async function signature(env: Env, callId: string, expiresMs: number): Promise<string> {
  const key = await crypto.subtle.importKey("raw", fromBase64(env.ENCRYPTION_KEY), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return toHex(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`recording:${callId}:${expiresMs}`)));
}

export async function recordingLink(env: Env, callId: string, nowMs: number): Promise<{ url: string; expiresAt: number }> {
  const expiresAt = nowMs + RECORDING_LINK_TTL_MS;
  const url = new URL(`/recordings/${callId}`, env.PUBLIC_BASE_URL);
  url.searchParams.set("expires", String(expiresAt));
  url.searchParams.set("signature", await signature(env, callId, expiresAt));
  return { url: url.toString(), expiresAt };
}

export async function verifyRecordingLink(env: Env, callId: string, expires: string | undefined, given: string | undefined, nowMs: number) {
  const expiresMs = Number(expires);
  if (!given || !Number.isInteger(expiresMs) || expiresMs < nowMs) return false;
  return timingSafeEqual(given, await signature(env, callId, expiresMs));
}
