import { createMiddleware } from "hono/factory";
import { ApiError } from "../lib/errors";
import type { AppEnv } from "../lib/types";

function positiveInt(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/** Per-organization requests/minute, counted exactly in the org's OrgLimiter Durable Object. */
export const rateLimit = createMiddleware<AppEnv>(async (c, next) => {
  if (c.env.RATE_LIMIT_ENABLED === "false") return next();
  const { orgId, rateLimitPerMinute } = c.get("auth");
  const limit = rateLimitPerMinute ?? positiveInt(c.env.RATE_LIMIT_PER_MINUTE, 100);
  const now = c.get("clock").now();
  const limiter = c.env.ORG_LIMITER.get(c.env.ORG_LIMITER.idFromName(orgId));
  const decision = await limiter.hitRateLimit(limit, now);
  const resetSeconds = Math.max(1, Math.ceil((decision.resetAt - now) / 1000));
  const headers = {
    "RateLimit-Limit": String(limit),
    "RateLimit-Remaining": String(decision.remaining),
    "RateLimit-Reset": String(resetSeconds),
    "RateLimit-Policy": `${limit};w=60`,
  };
  if (!decision.allowed) {
    throw new ApiError("rate_limit_exceeded", "Rate limit exceeded", {
      details: { limit, reset_at: new Date(decision.resetAt).toISOString() },
      headers: { ...headers, "Retry-After": String(resetSeconds) },
    });
  }
  await next();
  for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value);
});
