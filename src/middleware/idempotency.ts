import { createMiddleware } from "hono/factory";
import { claimIdempotencyKey, completeIdempotencyKey, releaseIdempotencyKey } from "../db/idempotency";
import { decryptSecret, encryptSecret, sha256Hex } from "../lib/crypto";
import { ApiError } from "../lib/errors";
import type { AppEnv } from "../lib/types";

/** JSON with object keys sorted, so `{"a":1,"b":2}` and `{"b":2,"a":1}` are the same request. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value);
}

async function fingerprint(method: string, route: string, body: string): Promise<string> {
  let canonical = body;
  try {
    canonical = canonicalJson(JSON.parse(body));
  } catch {
    // Not JSON (a multipart upload, or malformed): the raw bytes are the fingerprint.
  }
  return sha256Hex(`${method}\n${route}\n${canonical}`);
}

/**
 * `Idempotency-Key` / `X-Idempotency-Key` on create POSTs: the first request runs and its 2xx
 * response is stored for 24 h; a retry with the same body replays it, a different body is 422
 * `idempotency_key_reused`, and a retry while the first is still running is 409.
 * Failed requests store nothing, so retrying them is safe.
 *
 * The stored body is sealed with ENCRYPTION_KEY: some creates answer with a secret shown once (a
 * new API key, a webhook signing secret, a web-call token), which must not sit in D1 in the clear.
 */
export const idempotent = createMiddleware<AppEnv>(async (c, next) => {
  const key = c.req.header("idempotency-key") ?? c.req.header("x-idempotency-key");
  if (key === undefined) return next();
  if (key.length < 1 || key.length > 255) {
    throw new ApiError("validation_error", "Idempotency key must be 1-255 characters", {
      details: { field: "Idempotency-Key", reason: "length must be 1-255" },
    });
  }
  const db = c.get("db");
  const { orgId } = c.get("auth");
  const route = `${c.req.method} ${c.req.path}`;
  const requestHash = await fingerprint(c.req.method, c.req.path, await c.req.text());
  const claim = await claimIdempotencyKey(db, { orgId, route, key, requestHash, now: c.get("clock").now() });

  if (!claim.claimed) {
    const { existing } = claim;
    if (existing.requestHash !== requestHash) {
      throw new ApiError("idempotency_key_reused", "This idempotency key was already used with a different request body", {
        details: { idempotency_key: key },
      });
    }
    if (existing.state !== "done" || existing.responseStatus === null) {
      throw new ApiError("idempotency_key_in_use", "A request with this idempotency key is still being processed", {
        details: { idempotency_key: key },
        headers: { "Retry-After": "1" },
      });
    }
    return new Response(await openStoredResponse(existing.responseBody, c.env.ENCRYPTION_KEY, c.get("requestId"), route), {
      status: existing.responseStatus,
      headers: { "Content-Type": "application/json", "Idempotent-Replayed": "true" },
    });
  }

  await next();
  if (c.res.status >= 200 && c.res.status < 300) {
    const sealed = await encryptSecret(await c.res.clone().text(), c.env.ENCRYPTION_KEY);
    await completeIdempotencyKey(db, orgId, route, key, c.res.status, sealed);
  } else {
    await releaseIdempotencyKey(db, orgId, route, key);
  }
});

/** The stored response, opened; a row that does not open (another ENCRYPTION_KEY, a damaged row) is a server error, never replayed as is. */
async function openStoredResponse(sealed: string | null, encryptionKey: string, requestId: string, route: string): Promise<string> {
  try {
    if (sealed === null) throw new Error("no stored body");
    return await decryptSecret(sealed, encryptionKey);
  } catch (error) {
    console.error(JSON.stringify({ level: "error", message: "idempotency: stored response cannot be opened", request_id: requestId, route, error: String(error) }));
    throw new ApiError("internal_error", "The stored response of this idempotency key cannot be replayed; retry with a new key");
  }
}
