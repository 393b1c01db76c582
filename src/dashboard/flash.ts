import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import type { DashboardContext, DashboardEnv, FlashMessage } from "./session";

/**
 * One-shot messages across a Post/Redirect/Get ("Agent saved"): a short-lived cookie the next
 * page reads and clears. A cookie rather than a query string, so nobody can put words in the
 * dashboard's mouth with a crafted link.
 */

const FLASH_COOKIE = "__Host-truedy_flash";
const MAX_TEXT = 500;

export function setFlash(c: DashboardContext, text: string, kind: FlashMessage["kind"] = "success") {
  const value: FlashMessage = { kind, text: text.slice(0, MAX_TEXT) };
  setCookie(c, FLASH_COOKIE, encodeURIComponent(JSON.stringify(value)), {
    httpOnly: true,
    secure: true,
    sameSite: "Lax",
    path: "/",
    maxAge: 60,
  });
}

/** `setFlash` then 303 to `location`: the end of every successful form post. */
export function redirectWithFlash(c: DashboardContext, location: string, text: string, kind: FlashMessage["kind"] = "success") {
  setFlash(c, text, kind);
  return c.redirect(location, 303);
}

function parseFlash(raw: string | undefined): FlashMessage | undefined {
  if (!raw) return undefined;
  try {
    const value = JSON.parse(decodeURIComponent(raw)) as Partial<FlashMessage>;
    if ((value.kind === "success" || value.kind === "error") && typeof value.text === "string") return { kind: value.kind, text: value.text };
  } catch {
    // A mangled cookie is simply no message.
  }
  return undefined;
}

/** Puts the pending message (if any) in `c.var.flash` for `<Flash>`. */
export const readFlash = createMiddleware<DashboardEnv>(async (c, next) => {
  c.set("flash", parseFlash(getCookie(c, FLASH_COOKIE)));
  await next();
});

/**
 * Clears the message once a page has shown it (called by `render`), so a redirect or a script's
 * fetch in between does not swallow it.
 */
export function consumeFlash(c: DashboardContext) {
  if (c.get("flash")) deleteCookie(c, FLASH_COOKIE, { path: "/", secure: true });
}
