import { Hono } from "hono";
import type { ErrorHandler } from "hono";
import { createMiddleware } from "hono/factory";
import { SessionEndedError } from "./api";
import { csrfProtection, CsrfError } from "./csrf";
import { readFlash, setFlash } from "./flash";
import { Layout, render } from "./layout";
import { agentsPages } from "./pages/agents";
import { analyticsPages } from "./pages/analytics";
import { apiKeysPages } from "./pages/api-keys";
import { callsPages } from "./pages/calls";
import { campaignsPages } from "./pages/campaigns";
import { contactsPages } from "./pages/contacts";
import { dncPages } from "./pages/dnc";
import { numbersPages } from "./pages/numbers";
import { signInPages } from "./pages/sign-in";
import { webhooksPages } from "./pages/webhooks";
import { endSession, requireSession, type DashboardContext, type DashboardEnv } from "./session";

/**
 * The dashboard under /app: server-rendered pages over the public API (see api.ts). Order
 * matters: security headers and the flash wrap everything, sign-in is open, every other page
 * needs a session and every non-GET its CSRF token.
 */

export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' blob:; connect-src 'self' ws: wss:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

const securityHeaders = createMiddleware<DashboardEnv>(async (c, next) => {
  await next();
  c.res.headers.set("Content-Security-Policy", CONTENT_SECURITY_POLICY);
  c.res.headers.set("X-Content-Type-Options", "nosniff");
  c.res.headers.set("Referrer-Policy", "same-origin");
  c.res.headers.set("X-Frame-Options", "DENY");
  // Pages show an organization's data: never keep them in a shared cache or the back-forward cache.
  if (!c.res.headers.has("Cache-Control")) c.res.headers.set("Cache-Control", "no-store");
});

/** Client scripts send the CSRF header and want JSON back, not a page. */
function wantsJson(c: DashboardContext): boolean {
  return c.req.header("x-csrf-token") !== undefined || (c.req.header("accept") ?? "").includes("application/json");
}

const handleDashboardError: ErrorHandler<DashboardEnv> = async (err, c) => {
  if (err instanceof SessionEndedError) {
    await endSession(c);
    const message = "Your session ended because its API key is no longer valid. Sign in with another key.";
    if (wantsJson(c)) return c.json({ error: { code: "unauthorized", message } }, 401);
    setFlash(c, message, "error");
    return c.redirect("/app/sign-in", 303);
  }
  if (err instanceof CsrfError) {
    if (wantsJson(c)) return c.json({ error: { code: "forbidden", message: err.reason } }, 403);
    return render(
      c,
      <Layout c={c} title="Request refused">
        <div class="error-box" role="alert">
          <p>{err.reason}</p>
        </div>
        <p>
          <a href="/app">Back to the dashboard</a>
        </p>
      </Layout>,
      403,
    );
  }
  console.error(
    JSON.stringify({
      level: "error",
      request_id: c.get("requestId"),
      path: c.req.path,
      error: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err),
    }),
  );
  const message = `Something went wrong on our side. Please try again; if it keeps happening, quote request id ${c.get("requestId")}.`;
  if (wantsJson(c)) return c.json({ error: { code: "internal_error", message } }, 500);
  return render(
    c,
    <Layout c={c} title="Something went wrong">
      <div class="error-box" role="alert">
        <p>{message}</p>
      </div>
    </Layout>,
    500,
  );
};

export const dashboardRouter = new Hono<DashboardEnv>();
dashboardRouter.onError(handleDashboardError);
dashboardRouter.use("*", securityHeaders, readFlash);
dashboardRouter.route("/", signInPages);
dashboardRouter.use("*", requireSession, csrfProtection);

dashboardRouter.get("/", (c) => c.redirect("/app/agents", 303));
dashboardRouter.post("/sign-out", async (c) => {
  await endSession(c);
  setFlash(c, "You are signed out.");
  return c.redirect("/app/sign-in", 303);
});

// Each area's router carries its full paths under /app ("/agents/:id").
for (const pages of [agentsPages, callsPages, numbersPages, dncPages, apiKeysPages, contactsPages, campaignsPages, webhooksPages, analyticsPages]) {
  dashboardRouter.route("/", pages);
}

dashboardRouter.all("*", (c) =>
  render(
    c,
    <Layout c={c} title="Not found">
      <p>There is no dashboard page at this address.</p>
      <p>
        <a href="/app">Back to the dashboard</a>
      </p>
    </Layout>,
    404,
  ),
);
