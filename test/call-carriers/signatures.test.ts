import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { importTelnyxPublicKey, verifyTelnyxSignature } from "../../src/carriers/telnyx-signature";
import { twilioRequestUrl, twilioSignature, twilioSignedPayload, twilioUrlVariants, verifyTwilioSignature } from "../../src/carriers/twilio-signature";
import { toBase64 } from "../../src/lib/crypto";

// Vectors of reliability.md §7.1 (TwilioDevEd api-snippets, recomputed there).
const TOKEN = "12345";
const URL_ = "https://mycompany.com/myapp.php?foo=1&bar=2";
const params = (caller: string) =>
  new URLSearchParams({ CallSid: "CA1234567890ABCDE", Caller: caller, Digits: "1234", From: caller, To: "+18005551212" });
const JSON_BODY = '{"CallSid":"CA1234567890ABCDE","Caller":"+12349013030"}';
const BODY_SHA256 = "5ccde7145dfb8f56479710896586cb9d5911809d83afbe34627818790db0aec9";
// HMAC-SHA1 of the URLs below under "12345", computed independently with node:crypto.
const SIGNED_WITH_BODY_HASH = "B68iWKMDpkw+3F607nmF3lZKsw4=";
const SIGNED_WITH_PORT = "5s2PFy0qmPcZucb4eH4b08ZJtL0=";

describe("X-Twilio-Signature", () => {
  it("matches the published vectors for form POSTs", async () => {
    expect(await twilioSignature(TOKEN, URL_, params("+14158675310"))).toBe("GvWf1cFY/Q7PnoempGyD5oXAezc=");
    expect(await twilioSignature(TOKEN, URL_, params("+14158675309"))).toBe("RSOYDt4T1cUTdK1PDd93/VVr8B8=");
    expect(await verifyTwilioSignature(TOKEN, { url: URL_, signature: "GvWf1cFY/Q7PnoempGyD5oXAezc=", form: params("+14158675310") })).toBe(true);
  });

  it("rejects a changed parameter, a changed URL, another token and a missing header", async () => {
    const signature = "GvWf1cFY/Q7PnoempGyD5oXAezc=";
    expect(await verifyTwilioSignature(TOKEN, { url: URL_, signature, form: params("+14158675309") })).toBe(false);
    expect(await verifyTwilioSignature(TOKEN, { url: `${URL_}&baz=3`, signature, form: params("+14158675310") })).toBe(false);
    expect(await verifyTwilioSignature("54321", { url: URL_, signature, form: params("+14158675310") })).toBe(false);
    expect(await verifyTwilioSignature(TOKEN, { url: URL_, signature: undefined, form: params("+14158675310") })).toBe(false);
    expect(await verifyTwilioSignature("", { url: URL_, signature, form: params("+14158675310") })).toBe(false);
  });

  it("sorts parameters by name and appends each distinct value of a repeated one in order", () => {
    const form = new URLSearchParams([
      ["b", "2"],
      ["a", "z"],
      ["a", "y"],
      ["a", "z"],
    ]);
    expect(twilioSignedPayload("https://x.test/p", form)).toBe("https://x.test/pay" + "az" + "b2");
  });

  it("accepts the URL signed with the default port added or with it removed", async () => {
    expect(twilioUrlVariants(URL_)).toEqual([URL_, "https://mycompany.com:443/myapp.php?foo=1&bar=2"]);
    expect(twilioUrlVariants("https://mycompany.com:443/myapp.php")).toEqual(["https://mycompany.com/myapp.php", "https://mycompany.com:443/myapp.php"]);
    expect(twilioUrlVariants("http://127.0.0.1:8787/x")).toEqual(["http://127.0.0.1/x", "http://127.0.0.1:8787/x"]);
    expect(twilioUrlVariants("wss://voice.test/media")).toEqual(["wss://voice.test/media", "wss://voice.test:443/media"]);

    // Twilio signed with :443 and we know the URL without a port …
    expect(await twilioSignature(TOKEN, "https://mycompany.com:443/myapp.php?foo=1&bar=2", params("+14158675310"))).toBe(SIGNED_WITH_PORT);
    expect(await verifyTwilioSignature(TOKEN, { url: URL_, signature: SIGNED_WITH_PORT, form: params("+14158675310") })).toBe(true);
    // … or the other way round.
    const withPort = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
    expect(await verifyTwilioSignature(TOKEN, { url: withPort, signature: "GvWf1cFY/Q7PnoempGyD5oXAezc=", form: params("+14158675310") })).toBe(true);
  });

  it("checks JSON bodies through bodySHA256 and signs only the URL", async () => {
    expect(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON_BODY)).then((d) => [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join(""))).toBe(BODY_SHA256);
    const url = `${URL_}&bodySHA256=${BODY_SHA256}`;
    expect(await twilioSignature(TOKEN, url)).toBe(SIGNED_WITH_BODY_HASH);
    expect(await verifyTwilioSignature(TOKEN, { url, signature: SIGNED_WITH_BODY_HASH, rawBody: JSON_BODY })).toBe(true);
    // A body that is not the one hashed fails even with the right signature.
    expect(await verifyTwilioSignature(TOKEN, { url, signature: SIGNED_WITH_BODY_HASH, rawBody: JSON_BODY.replace("3030", "3031") })).toBe(false);
    // Form-looking parameters do not count in this mode.
    expect(await verifyTwilioSignature(TOKEN, { url, signature: SIGNED_WITH_BODY_HASH, rawBody: JSON_BODY, form: params("+1") })).toBe(true);
  });

  it("rebuilds the URL Twilio called from PUBLIC_BASE_URL, wss:// for WebSocket handshakes", () => {
    const seen = "http://truedy-prod.workers.dev/telephony/twilio/status/c_1?x=1";
    expect(twilioRequestUrl("https://api.truedy.test", seen)).toBe("https://api.truedy.test/telephony/twilio/status/c_1?x=1");
    expect(twilioRequestUrl("https://api.truedy.test/", "https://internal/telephony/twilio/media/c_1", { webSocket: true })).toBe(
      "wss://api.truedy.test/telephony/twilio/media/c_1",
    );
    expect(twilioRequestUrl("http://127.0.0.1:8787", "http://127.0.0.1:8787/telephony/twilio/media/c_1", { webSocket: true })).toBe(
      "ws://127.0.0.1:8787/telephony/twilio/media/c_1",
    );
  });

  it("agrees with the fake Twilio's node:crypto signer on a handshake URL", async () => {
    const url = "wss://truedy.test/telephony/twilio/media/some-call";
    const res = await fetch(new URL("/__fakes/twilio/sign", env.FAKES_CONTROL_URL), {
      method: "POST",
      body: JSON.stringify({ account_sid: "AC00000000000000000000000000000000", url, params: { b: "2", a: "1" } }),
    });
    const { signature } = (await res.json()) as { signature: string };
    expect(await twilioSignature("platform-twilio-token", url, new URLSearchParams({ b: "2", a: "1" }))).toBe(signature);
  });
});

describe("Telnyx Ed25519 signature", () => {
  const NOW = Date.UTC(2030, 0, 1, 12, 0, 0);
  const nowSeconds = String(NOW / 1000);
  const body = '{"data":{"event_type":"call.answered","id":"e1","occurred_at":"2030-01-01T12:00:00Z","payload":{}}}';

  async function keyPair() {
    const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
    const raw = new Uint8Array((await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer);
    return { privateKey: pair.privateKey, publicKeyBase64: toBase64(raw) };
  }

  async function signWith(privateKey: CryptoKey, timestamp: string, rawBody: string) {
    const signature = await crypto.subtle.sign({ name: "Ed25519" }, privateKey, new TextEncoder().encode(`${timestamp}|${rawBody}`));
    return toBase64(new Uint8Array(signature));
  }

  it("accepts a signature over `${timestamp}|${body}` within 300 s, either side", async () => {
    const { privateKey, publicKeyBase64 } = await keyPair();
    const key = await importTelnyxPublicKey(publicKeyBase64);
    for (const offset of [0, -300, 300]) {
      const timestamp = String(NOW / 1000 + offset);
      const verdict = await verifyTelnyxSignature(key, { signature: await signWith(privateKey, timestamp, body), timestamp, rawBody: body }, NOW);
      expect(verdict).toEqual({ ok: true });
    }
  });

  it("rejects forged bodies, other keys, swapped timestamps, stale or future timestamps and missing headers", async () => {
    const { privateKey, publicKeyBase64 } = await keyPair();
    const other = await keyPair();
    const key = await importTelnyxPublicKey(publicKeyBase64);
    const signature = await signWith(privateKey, nowSeconds, body);
    const check = (request: { signature?: string | null; timestamp?: string | null; rawBody?: string }) =>
      verifyTelnyxSignature(key, { signature: signature, timestamp: nowSeconds, rawBody: body, ...request }, NOW);

    expect(await check({})).toEqual({ ok: true });
    expect(await check({ rawBody: body.replace("call.answered", "call.hangup") })).toEqual({ ok: false, reason: "invalid" });
    expect(await check({ rawBody: `${body} ` })).toEqual({ ok: false, reason: "invalid" });
    expect(await check({ signature: await signWith(other.privateKey, nowSeconds, body) })).toEqual({ ok: false, reason: "invalid" });
    expect(await check({ timestamp: String(NOW / 1000 - 1) })).toEqual({ ok: false, reason: "invalid" });
    expect(await check({ signature: "AAAA" })).toEqual({ ok: false, reason: "invalid" });
    expect(await check({ signature: "not base64!" })).toEqual({ ok: false, reason: "invalid" });
    expect(await check({ timestamp: "12.5" })).toEqual({ ok: false, reason: "invalid" });
    expect(await check({ signature: null })).toEqual({ ok: false, reason: "missing" });
    expect(await check({ timestamp: undefined })).toEqual({ ok: false, reason: "missing" });

    for (const offset of [-301, 301, -86_400]) {
      const timestamp = String(NOW / 1000 + offset);
      const stale = await verifyTelnyxSignature(key, { signature: await signWith(privateKey, timestamp, body), timestamp, rawBody: body }, NOW);
      expect(stale).toEqual({ ok: false, reason: "stale" });
    }
  });

  it("refuses to run with a public key that is not 32 base64 bytes", async () => {
    await expect(importTelnyxPublicKey(undefined)).rejects.toThrow(/TELNYX_PUBLIC_KEY/);
    await expect(importTelnyxPublicKey("")).rejects.toThrow(/TELNYX_PUBLIC_KEY/);
    await expect(importTelnyxPublicKey(toBase64(new Uint8Array(31)))).rejects.toThrow(/TELNYX_PUBLIC_KEY/);
    await expect(importTelnyxPublicKey("%%%")).rejects.toThrow(/TELNYX_PUBLIC_KEY/);
  });

  it("verifies what the fake Telnyx account signs with node:crypto, with the key the worker is configured with", async () => {
    const timestamp = Math.floor(Date.now() / 1000);
    const res = await fetch(new URL("/__fakes/telnyx/sign", env.FAKES_CONTROL_URL), { method: "POST", body: JSON.stringify({ body, timestamp }) });
    const { signature } = (await res.json()) as { signature: string };
    const key = await importTelnyxPublicKey(env.TELNYX_PUBLIC_KEY);
    expect(await verifyTelnyxSignature(key, { signature, timestamp: String(timestamp), rawBody: body }, timestamp * 1000)).toEqual({ ok: true });
  });
});
