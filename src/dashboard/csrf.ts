import { createMiddleware } from "hono/factory";
import { timingSafeEqual } from "../lib/crypto";
import type { DashboardContext, DashboardEnv } from "./session";

/**
 * CSRF protection for every state-changing dashboard request: the session's token must come
 * back as the `_csrf` form field or the `x-csrf-token` header (client scripts), compared in
 * constant time. A browser always sends Origin on cross-site requests, so when it is present it
 * must be this site's own.
 */

export const CSRF_FIELD = "_csrf";
export const CSRF_HEADER = "x-csrf-token";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export class CsrfError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = "CsrfError";
  }
}

/** True when the request's Origin header, if any, names this site. */
export function sameOrigin(c: DashboardContext): boolean {
  const origin = c.req.header("origin");
  return origin === undefined || origin === new URL(c.req.url).origin;
}

async function presentedToken(c: DashboardContext): Promise<string | undefined> {
  const header = c.req.header(CSRF_HEADER);
  if (header !== undefined) return header;
  const type = c.req.header("content-type") ?? "";
  if (!type.startsWith("application/x-www-form-urlencoded") && !type.startsWith("multipart/form-data")) return undefined;
  // parseBody caches the parsed form, so the handler reads the same body again for free.
  const body = await c.req.parseBody();
  const field = body[CSRF_FIELD];
  return typeof field === "string" ? field : undefined;
}

/** Runs after `requireSession`; throws CsrfError, which the dashboard renders as a 403 page. */
export const csrfProtection = createMiddleware<DashboardEnv>(async (c, next) => {
  if (SAFE_METHODS.has(c.req.method)) return next();
  if (!sameOrigin(c)) throw new CsrfError("This form was sent from another site, so it was refused.");
  const token = await presentedToken(c);
  if (!token || !timingSafeEqual(token, c.get("session").csrfToken)) {
    throw new CsrfError("This form has expired or was not sent from the dashboard. Reload the page and try again.");
  }
  await next();
});
