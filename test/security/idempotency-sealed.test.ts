import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { encryptSecret } from "../../src/lib/crypto";
import { BASE, newOrg } from "../helpers/api";

/**
 * Issue 9 (security review): a create POST with an idempotency key stores its response for 24 h
 * to replay it. Some of those responses hand out a secret once (a new API key, a webhook signing
 * secret, a web-call token), so the stored body is sealed with ENCRYPTION_KEY, and a replay is
 * still the very same bytes.
 */

afterEach(() => vi.restoreAllMocks());

const toBase64 = (text: string) => btoa(String.fromCharCode(...new TextEncoder().encode(text)));

/** The base64 text of `value` at each of the three alignments it could sit at inside a longer encoded string. */
const base64Forms = (value: string) => [0, 1, 2].map((shift) => toBase64("\0".repeat(shift) + value).slice(shift ? 4 : 0, -4));

async function createKey(apiKey: string, idempotencyKey: string) {
  const res = await exports.default.fetch(
    new Request(`${BASE}/api-keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json", "Idempotency-Key": idempotencyKey },
      body: JSON.stringify({ name: "CI" }),
    }),
  );
  return { status: res.status, headers: res.headers, text: await res.text() };
}

const storedRow = (orgId: string, key: string) =>
  env.DB.prepare("SELECT response_status, response_body FROM idempotency_keys WHERE org_id = ? AND key = ?").bind(orgId, key).first<{ response_status: number; response_body: string }>();

describe("stored idempotent responses", () => {
  it("keep a new API key sealed in D1, and the replay returns it byte for byte", async () => {
    const org = await newOrg();
    const first = await createKey(org.apiKey, "sealed-1");
    expect(first.status).toBe(201);
    const newKey = JSON.parse(first.text).data.api_key as string;
    expect(newKey).toMatch(/^truedy_/);

    const row = await storedRow(org.orgId, "sealed-1");
    expect(row?.response_status).toBe(201);
    expect(row!.response_body).toMatch(/^v1\./);
    for (const form of [newKey, newKey.slice("truedy_".length), ...base64Forms(newKey)]) expect(row!.response_body).not.toContain(form);

    const replay = await createKey(org.apiKey, "sealed-1");
    expect(replay.status).toBe(201);
    expect(replay.headers.get("Idempotent-Replayed")).toBe("true");
    expect(replay.text).toBe(first.text);
    // The replay created no second key, and the one handed out works.
    const listed = await org.get("/api-keys");
    expect(listed.body.data.filter((k: { name: string }) => k.name === "CI")).toHaveLength(1);
    const withNewKey = await exports.default.fetch(new Request(`${BASE}/agents`, { headers: { authorization: `Bearer ${newKey}` } }));
    expect(withNewKey.status).toBe(200);
  });

  it("answers 500 with a logged reason, never the stored bytes, when a row cannot be opened", async () => {
    const errors: string[] = [];
    vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => void errors.push(args.map(String).join(" ")));
    const org = await newOrg();
    expect((await createKey(org.apiKey, "sealed-2")).status).toBe(201);
    // Sealed under another key (ENCRYPTION_KEY was changed), then a row written in the clear.
    const otherKey = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
    for (const body of [await encryptSecret('{"data":{"api_key":"x"}}', otherKey), '{"data":{"api_key":"truedy_plaintext"}}']) {
      await env.DB.prepare("UPDATE idempotency_keys SET response_body = ? WHERE org_id = ? AND key = 'sealed-2'").bind(body, org.orgId).run();
      const replay = await createKey(org.apiKey, "sealed-2");
      expect(replay.status).toBe(500);
      expect(JSON.parse(replay.text).error.code).toBe("internal_error");
      expect(replay.text).not.toContain("api_key");
    }
    expect(errors.filter((l) => l.includes("idempotency: stored response cannot be opened") && l.includes("POST /api/public/v1/api-keys"))).toHaveLength(2);
  });
});
