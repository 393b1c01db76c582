import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { apiClient } from "../helpers/api";
import { manualClockPerTest } from "../helpers/clock";
import { newDashboard, signIn, textOf } from "./helpers";

manualClockPerTest(Date.UTC(2030, 3, 5, 12, 0, 0));

describe("dashboard: API keys", () => {
  it("lists keys by prefix and last four, creates one showing its secret once", async () => {
    const { org, browser } = await newDashboard();
    const list = await browser.get("/app/api-keys");
    expect(list.status).toBe(200);
    const text = textOf(list.text);
    expect(text).toContain(`Default key (this session) ${org.apiKey.slice(0, 11)}…${org.apiKey.slice(-4)} active`);
    expect(list.text).not.toContain(org.apiKey);

    const created = await browser.post("/app/api-keys", { name: "CRM integration" });
    expect(created.status).toBe(200);
    const secret = created.text.match(/truedy_[A-Za-z0-9]{32}/)?.[0];
    expect(secret).toBeDefined();
    expect(textOf(created.text)).toContain("Copy it now: this is the only time it is shown.");
    expect(created.headers.get("cache-control")).toBe("no-store");
    // The key works, and is never shown again.
    expect((await apiClient(secret!).get("/agents")).status).toBe(200);
    const later = await browser.get("/app/api-keys");
    expect(later.text).not.toContain(secret);
    expect(textOf(later.text)).toContain(`CRM integration ${secret!.slice(0, 11)}…${secret!.slice(-4)} active`);
  });

  it("shows the API's error for a bad name", async () => {
    const { org, browser } = await newDashboard();
    const res = await browser.post("/app/api-keys", { name: "x".repeat(101) });
    expect(res.status).toBe(422);
    expect(textOf(res.text)).toContain("Invalid name");
    expect((await org.get("/api-keys")).body.data).toHaveLength(1);
  });

  it("revokes another key, ending the sessions opened with it", async () => {
    const { org, browser } = await newDashboard();
    const other = (await org.post("/api-keys", { name: "Laptop" })).body.data;
    const otherBrowser = await signIn(other.api_key);
    const res = await browser.post(`/app/api-keys/${other.id}/revoke`);
    expect(res.status).toBe(303);
    expect(res.location).toBe("/app/api-keys");
    expect(textOf((await browser.get("/app/api-keys")).text)).toContain('Key "Laptop" revoked.');
    expect((await apiClient(other.api_key).get("/agents")).status).toBe(401);
    const count = await env.DB.prepare("SELECT count(*) AS n FROM dashboard_sessions WHERE api_key_id = ?").bind(other.id).first<{ n: number }>();
    expect(count?.n).toBe(0);
    expect((await otherBrowser.get("/app/agents")).location).toBe("/app/sign-in");
  });

  it("revoking the key of the current session signs you out", async () => {
    const { org, browser } = await newDashboard();
    const [current] = (await org.get("/api-keys")).body.data;
    const res = await browser.post(`/app/api-keys/${current.id}/revoke`);
    expect(res.status).toBe(303);
    expect(res.location).toBe("/app/sign-in");
    expect(browser.cookies.has("__Host-truedy_session")).toBe(false);
    expect(textOf((await browser.get("/app/sign-in")).text)).toContain("You revoked the key this session used, so you are signed out.");
    expect((await browser.get("/app/agents")).location).toBe("/app/sign-in");
    expect((await org.get("/agents")).status).toBe(401);
  });

  it("cannot revoke another organization's key", async () => {
    const owner = await newDashboard("Owner");
    const { browser: intruder } = await newDashboard("Intruder");
    const [key] = (await owner.org.get("/api-keys")).body.data;
    const res = await intruder.post(`/app/api-keys/${key.id}/revoke`);
    expect(res.status).toBe(303);
    expect(textOf((await intruder.get(res.location!)).text)).toContain("That key does not exist.");
    expect((await owner.org.get("/agents")).status).toBe(200);
  });
});
