import { eq, lt } from "drizzle-orm";
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import { API_KEY_PREFIX, authenticateApiKey } from "../db/organizations";
import { apiKeys, dashboardSessions } from "../db/schema";
import { decryptSecret, encryptSecret, sha256Hex, toBase64 } from "../lib/crypto";
import type { AppVariables } from "../lib/types";

/**
 * Dashboard sessions. Signing in with an API key stores a row keyed by the SHA-256 of a random
 * token; the browser only ever holds the token, in an HttpOnly `__Host-` cookie. The key itself
 * is sealed in the row because every page calls the public API with it.
 */

export const SESSION_COOKIE = "__Host-truedy_session";
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
/** How often `last_seen_at` is written, so browsing does not turn every page view into a write. */
const LAST_SEEN_INTERVAL_MS = 60_000;
/** Failed sign-ins allowed per client address and minute. */
export const SIGN_IN_FAILURES_PER_MINUTE = 10;

export interface DashboardSession {
  id: string;
  orgId: string;
  apiKeyId: string;
  /** The plaintext API key the pages call the public API with. */
  apiKey: string;
  csrfToken: string;
  expiresAt: string;
}

export interface FlashMessage {
  kind: "success" | "error";
  text: string;
}

export interface DashboardEnv {
  Bindings: Env;
  Variables: AppVariables & {
    /** Set by `requireSession` on every /app page except sign-in. */
    session: DashboardSession;
    /** The one-shot message the previous request left (see flash.ts). */
    flash: FlashMessage | undefined;
  };
}

export type DashboardContext = Context<DashboardEnv>;

function randomToken(): string {
  return toBase64(crypto.getRandomValues(new Uint8Array(32))).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function setSessionCookie(c: DashboardContext, token: string) {
  setCookie(c, SESSION_COOKIE, token, {
    httpOnly: true,
    secure: true,
    sameSite: "Lax",
    path: "/",
    maxAge: SESSION_TTL_MS / 1000,
  });
}

export function clearSessionCookie(c: DashboardContext) {
  deleteCookie(c, SESSION_COOKIE, { path: "/", secure: true });
}

/**
 * Checks a presented key the way the API's auth middleware does (same prefix and length rules,
 * same lookup: unknown and revoked keys both fail) and opens a session for it.
 */
export async function signIn(c: DashboardContext, presentedKey: string): Promise<boolean> {
  const key = presentedKey.trim();
  if (!key.startsWith(API_KEY_PREFIX) || key.length > 200) return false;
  const db = c.get("db");
  const found = await authenticateApiKey(db, key);
  if (!found) return false;
  const now = c.get("clock").now();
  const token = randomToken();
  const nowIso = new Date(now).toISOString();
  // A session the browser already held is replaced, never reused (no session fixation).
  const previous = getCookie(c, SESSION_COOKIE);
  await db.batch([
    db.delete(dashboardSessions).where(eq(dashboardSessions.id, previous ? await sha256Hex(previous) : "")),
    // Sign-in is the natural moment to drop sessions that ran out.
    db.delete(dashboardSessions).where(lt(dashboardSessions.expiresAt, nowIso)),
    db.insert(dashboardSessions).values({
      id: await sha256Hex(token),
      orgId: found.orgId,
      apiKeyId: found.apiKeyId,
      apiKeyEncrypted: await encryptSecret(key, c.env.ENCRYPTION_KEY),
      csrfToken: randomToken(),
      createdAt: nowIso,
      expiresAt: new Date(now + SESSION_TTL_MS).toISOString(),
      lastSeenAt: nowIso,
    }),
  ]);
  setSessionCookie(c, token);
  return true;
}

/** Deletes the session the request carries (if any) and clears the cookie. */
export async function endSession(c: DashboardContext): Promise<void> {
  const token = getCookie(c, SESSION_COOKIE);
  if (token) await c.get("db").delete(dashboardSessions).where(eq(dashboardSessions.id, await sha256Hex(token)));
  clearSessionCookie(c);
}

/**
 * The request's live session: present, not expired, and its API key not revoked (revocation
 * takes effect on the next page, as it does on the next API request). Dead sessions are deleted.
 */
export async function loadSession(c: DashboardContext): Promise<DashboardSession | undefined> {
  const token = getCookie(c, SESSION_COOKIE);
  if (!token || token.length > 100) return undefined;
  const db = c.get("db");
  const id = await sha256Hex(token);
  const [row] = await db
    .select({ session: dashboardSessions, revokedAt: apiKeys.revokedAt })
    .from(dashboardSessions)
    .leftJoin(apiKeys, eq(apiKeys.id, dashboardSessions.apiKeyId))
    .where(eq(dashboardSessions.id, id))
    .limit(1);
  if (!row) return undefined;
  const now = c.get("clock").now();
  if (Date.parse(row.session.expiresAt) <= now || row.revokedAt !== null) {
    await db.delete(dashboardSessions).where(eq(dashboardSessions.id, id));
    return undefined;
  }
  if (now - Date.parse(row.session.lastSeenAt) > LAST_SEEN_INTERVAL_MS) {
    const seen = db.update(dashboardSessions).set({ lastSeenAt: new Date(now).toISOString() }).where(eq(dashboardSessions.id, id));
    c.executionCtx.waitUntil(seen.then(() => undefined));
  }
  return {
    id,
    orgId: row.session.orgId,
    apiKeyId: row.session.apiKeyId,
    apiKey: await decryptSecret(row.session.apiKeyEncrypted, c.env.ENCRYPTION_KEY),
    csrfToken: row.session.csrfToken,
    expiresAt: row.session.expiresAt,
  };
}

/** Ends every session opened with one API key (the key was revoked from the dashboard). */
export async function endSessionsForKey(c: DashboardContext, apiKeyId: string): Promise<void> {
  await c.get("db").delete(dashboardSessions).where(eq(dashboardSessions.apiKeyId, apiKeyId));
}

/** Guards every page but sign-in: no live session means 303 to the sign-in form. */
export const requireSession = createMiddleware<DashboardEnv>(async (c, next) => {
  const session = await loadSession(c);
  if (!session) {
    clearSessionCookie(c);
    return c.redirect("/app/sign-in", 303);
  }
  c.set("session", session);
  await next();
});

/**
 * Counts one failed sign-in for the client's address in the OrgLimiter Durable Object the API's
 * rate limit uses (an object of its own per address). Only failures count, so a shared address
 * under attack does not lock out the person who holds a real key.
 */
export async function countFailedSignIn(c: DashboardContext): Promise<{ allowed: boolean; retryAfterSeconds: number }> {
  const address = c.req.header("cf-connecting-ip") ?? "unknown";
  const limiter = c.env.ORG_LIMITER.get(c.env.ORG_LIMITER.idFromName(`dashboard-sign-in:${address}`));
  const now = c.get("clock").now();
  const decision = await limiter.hitRateLimit(SIGN_IN_FAILURES_PER_MINUTE, now);
  return { allowed: decision.allowed, retryAfterSeconds: Math.max(1, Math.ceil((decision.resetAt - now) / 1000)) };
}
