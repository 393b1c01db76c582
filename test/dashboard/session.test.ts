import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { manualClockPerTest } from "../helpers/clock";
import { adminFetch, newOrg } from "../helpers/api";
import { Browser, newDashboard, signIn, textOf } from "./helpers";

const START = Date.parse("2026-03-02T09:00:00Z");
const clock = manualClockPerTest(START);

describe("dashboard sign-in", () => {
  it("signs in with a valid API key into an HttpOnly, Secure, SameSite session cookie", async () => {
    const org = await newOrg();
    const browser = new Browser();
    const res = await browser.post("/app/sign-in", { api_key: org.apiKey });
    expect(res.status).toBe(303);
    expect(res.location).toBe("/app");
    const cookie = res.headers.getSetCookie().find((line) => line.startsWith("__Host-truedy_session="));
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/; SameSite=Lax/);
    expect(cookie).toMatch(/; Path=\//);

    // The table keeps a hash of the token and the key sealed, never either in clear.
    const token = browser.cookies.get("__Host-truedy_session")!;
    const rows = await env.DB.prepare("SELECT * FROM dashboard_sessions WHERE org_id = ?").bind(org.orgId).all<Record<string, string>>();
    expect(rows.results).toHaveLength(1);
    const row = rows.results[0];
    expect(row.id).toMatch(/^[0-9a-f]{64}$/);
    expect(row.id).not.toBe(token);
    expect(row.api_key_encrypted).toMatch(/^v1\./);
    expect(row.api_key_encrypted).not.toContain(org.apiKey);
    expect(Date.parse(row.expires_at) - Date.parse(row.created_at)).toBe(12 * 3600 * 1000);

    const page = await browser.page("/app");
    expect(page.status).toBe(200);
    expect(textOf(page.text)).toContain("Agents");
  });

  it("replaces a session the browser already held when it signs in again", async () => {
    const org = await newOrg();
    const browser = await signIn(org.apiKey);
    const first = browser.cookies.get("__Host-truedy_session")!;
    expect((await browser.post("/app/sign-in", { api_key: org.apiKey })).status).toBe(303);
    expect(browser.cookies.get("__Host-truedy_session")).not.toBe(first);
    const rows = await env.DB.prepare("SELECT count(*) AS n FROM dashboard_sessions WHERE org_id = ?").bind(org.orgId).first<{ n: number }>();
    expect(rows?.n).toBe(1);
  });

  it("refuses a bad key in plain words and sets no cookie", async () => {
    for (const key of ["truedy_notarealkeyatall0000000000000000", "hello", ""]) {
      const browser = new Browser();
      const res = await browser.post("/app/sign-in", { api_key: key }, { headers: { "cf-connecting-ip": "198.51.100.7" } });
      expect(res.status).toBe(401);
      expect(textOf(res.text)).toContain("That API key is not valid");
      expect(browser.cookies.size).toBe(0);
    }
  });

  it("rate limits failed sign-ins per address, but a real key still signs in", async () => {
    const org = await newOrg();
    const address = { "cf-connecting-ip": "203.0.113.9" };
    for (let i = 0; i < 10; i++) {
      const res = await new Browser().post("/app/sign-in", { api_key: `truedy_wrong${i}` }, { headers: address });
      expect(res.status).toBe(401);
    }
    const limited = await new Browser().post("/app/sign-in", { api_key: "truedy_wrong" }, { headers: address });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(textOf(limited.text)).toContain("Too many failed sign-ins");
    // Another address is unaffected, and so is the holder of a real key.
    expect((await new Browser().post("/app/sign-in", { api_key: "truedy_wrong" }, { headers: { "cf-connecting-ip": "203.0.113.10" } })).status).toBe(401);
    expect((await new Browser().post("/app/sign-in", { api_key: org.apiKey }, { headers: address })).status).toBe(303);
    // The window is the clock minute: the next one starts afresh.
    clock.advance(60_000);
    expect((await new Browser().post("/app/sign-in", { api_key: "truedy_wrong" }, { headers: address })).status).toBe(401);
  });

  it("refuses a cross-site sign-in post by its Origin", async () => {
    const org = await newOrg();
    const browser = new Browser();
    const res = await browser.post("/app/sign-in", { api_key: org.apiKey }, { headers: { origin: "https://evil.example" } });
    expect(res.status).toBe(403);
    expect(browser.cookies.size).toBe(0);
  });

  it("sends every page without a session to the sign-in form", async () => {
    const browser = new Browser();
    for (const path of ["/app", "/app/agents", "/app/calls", "/app/agents/whatever", "/app/no-such-page"]) {
      const res = await browser.get(path);
      expect(res.status, path).toBe(303);
      expect(res.location).toBe("/app/sign-in");
    }
    const form = await browser.get("/app/sign-in");
    expect(form.status).toBe(200);
    expect(form.text).toContain('<label for="api_key">API key</label>');
    // A made-up cookie is no session either.
    browser.cookies.set("__Host-truedy_session", "made-up");
    expect((await browser.get("/app/agents")).location).toBe("/app/sign-in");
  });

  it("ends the session after 12 hours", async () => {
    const { browser } = await newDashboard();
    clock.advance(12 * 3600 * 1000 - 1000);
    expect((await browser.get("/app/agents")).status).toBe(200);
    clock.advance(1000);
    const res = await browser.get("/app/agents");
    expect(res.status).toBe(303);
    expect(res.location).toBe("/app/sign-in");
    expect(browser.cookies.has("__Host-truedy_session")).toBe(false);
  });

  it("ends the session when its API key is revoked elsewhere", async () => {
    const { org, browser } = await newDashboard();
    const keys = await org.get("/api-keys");
    const current = keys.body.data.find((key: { revoked_at: string | null }) => key.revoked_at === null);
    // A second key revokes the first through the API.
    const other = await adminFetch(`/organizations/${org.orgId}/api-keys`, { method: "POST", body: { name: "other" } });
    const { apiClient } = await import("../helpers/api");
    expect((await apiClient(other.body.data.api_key).delete(`/api-keys/${current.id}`)).status).toBe(200);

    const res = await browser.get("/app/agents");
    expect(res.status).toBe(303);
    expect(res.location).toBe("/app/sign-in");
    const count = await env.DB.prepare("SELECT count(*) AS n FROM dashboard_sessions WHERE org_id = ?").bind(org.orgId).first<{ n: number }>();
    expect(count?.n).toBe(0);
  });

  it("signs out through a CSRF-protected form", async () => {
    const { browser } = await newDashboard();
    expect((await browser.post("/app/sign-out", {}, { csrf: false })).status).toBe(403);
    expect((await browser.get("/app/agents")).status).toBe(200);
    const res = await browser.post("/app/sign-out");
    expect(res.status).toBe(303);
    expect(res.location).toBe("/app/sign-in");
    expect(browser.cookies.has("__Host-truedy_session")).toBe(false);
    const signInPage = await browser.get("/app/sign-in");
    expect(textOf(signInPage.text)).toContain("You are signed out.");
  });

  it("puts the security headers on every /app response", async () => {
    const { browser } = await newDashboard();
    const responses = [
      await browser.get("/app/agents"),
      await browser.get("/app/no-such-page"),
      await new Browser().get("/app/sign-in"),
      await new Browser().get("/app/calls"),
      await browser.post("/app/sign-out", {}, { csrf: "wrong" }),
    ];
    for (const res of responses) {
      expect(res.headers.get("content-security-policy")).toBe(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' blob:; connect-src 'self' ws: wss:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
      );
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("referrer-policy")).toBe("same-origin");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
    }
    // No inline scripts or styles anywhere (the CSP would block them).
    const page = responses[0].text;
    expect(page).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(page).not.toMatch(/<style|\sstyle=/);
  });

  it("redirects the site root to the dashboard", async () => {
    const res = await new Browser().get("/");
    expect(res.status).toBe(302);
    expect(res.location).toBe("/app");
  });

  it("signIn helper works for later tests", async () => {
    const org = await newOrg();
    const browser = await signIn(org.apiKey);
    expect(browser.csrfToken).toMatch(/^[A-Za-z0-9_-]{40,}$/);
  });
});
