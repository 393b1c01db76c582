import { createMiddleware } from "hono/factory";
import { API_KEY_PREFIX, authenticateApiKey, touchApiKey } from "../db/organizations";
import { TenantDb } from "../db/tenant";
import { ApiError } from "../lib/errors";
import { timingSafeEqual } from "../lib/crypto";
import type { AppEnv } from "../lib/types";

const unauthorized = () =>
  new ApiError("unauthorized", "Invalid or missing API key", { headers: { "WWW-Authenticate": 'Bearer realm="truedy"' } });

function bearerToken(header: string | undefined): string | undefined {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1];
}

/** How often `last_used_at` is written, so a busy key does not turn every read into a write. */
const TOUCH_INTERVAL_MS = 60_000;

/** Public API auth: resolves the org from the key and builds the org-scoped data layer. */
export const apiKeyAuth = createMiddleware<AppEnv>(async (c, next) => {
  const token = bearerToken(c.req.header("authorization"));
  // One answer for malformed and unknown keys, so the response leaks nothing about either.
  if (!token || !token.startsWith(API_KEY_PREFIX) || token.length > 200) throw unauthorized();
  const db = c.get("db");
  const key = await authenticateApiKey(db, token);
  if (!key) throw unauthorized();
  const now = c.get("clock").now();
  if (!key.lastUsedAt || now - Date.parse(key.lastUsedAt) > TOUCH_INTERVAL_MS) {
    c.executionCtx.waitUntil(touchApiKey(db, key.apiKeyId, new Date(now).toISOString()).then(() => undefined));
  }
  c.set("auth", { orgId: key.orgId, apiKeyId: key.apiKeyId, rateLimitPerMinute: key.rateLimitPerMinute });
  c.set("tenant", new TenantDb(db, key.orgId));
  await next();
});

/** Admin bootstrap auth: a constant-time match against the ADMIN_TOKEN secret. */
export const adminAuth = createMiddleware<AppEnv>(async (c, next) => {
  const expected = c.env.ADMIN_TOKEN;
  const token = bearerToken(c.req.header("authorization"));
  if (!expected || !token || !timingSafeEqual(token, expected)) {
    throw new ApiError("unauthorized", "Invalid or missing admin token");
  }
  await next();
});
