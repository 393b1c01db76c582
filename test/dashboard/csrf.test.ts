import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { encryptSecret, sha256Hex } from "../../src/lib/crypto";
import { CATALOGUE_VOICE_ID } from "../helpers/api";
import { manualClockPerTest } from "../helpers/clock";
import { newDashboard, textOf } from "./helpers";

manualClockPerTest(Date.UTC(2030, 3, 2, 12, 0, 0));

describe("dashboard: CSRF and session end", () => {
  it("refuses every state-changing form without the session's token, and changes nothing", async () => {
    const { org, browser } = await newDashboard();
    const agent = (await org.post("/agents", { name: "Keep me", voice_id: CATALOGUE_VOICE_ID, system_prompt: "x" })).body.data;
    const entry = (await org.post("/dnc", { phone_number: "+14155550123" })).body.data;
    const posts: [string, Record<string, string>][] = [
      ["/app/agents", { name: "Sneaky", voice_id: CATALOGUE_VOICE_ID, system_prompt: "x" }],
      [`/app/agents/${agent.id}`, { name: "Renamed", voice_id: CATALOGUE_VOICE_ID, system_prompt: "x" }],
      [`/app/agents/${agent.id}/delete`, {}],
      ["/app/dnc", { phone_number: "+14155550999" }],
      [`/app/dnc/${entry.id}/delete`, {}],
      ["/app/api-keys", { name: "Sneaky key" }],
      ["/app/numbers/import", { phone_number: "+15550003333", provider_type: "simulator" }],
    ];
    for (const [path, form] of posts) {
      for (const csrf of [false, "wrong-token", `${browser.csrfToken}x`] as const) {
        const res = await browser.post(path, form, { csrf });
        expect(res.status, `${path} with ${csrf}`).toBe(403);
        expect(textOf(res.text)).toContain("Reload the page and try again");
      }
    }
    // The right token from another site is refused by its Origin.
    const crossSite = await browser.post("/app/dnc", { phone_number: "+14155550999" }, { headers: { origin: "https://evil.example" } });
    expect(crossSite.status).toBe(403);
    expect(textOf(crossSite.text)).toContain("sent from another site");
    // Script requests: header token checked the same way.
    expect((await browser.postJson(`/app/agents/${agent.id}/test-call`, {}, { csrf: "wrong" })).status).toBe(403);

    expect((await org.get("/agents")).body.data.map((a: { name: string }) => a.name)).toEqual(["Keep me"]);
    expect((await org.get("/dnc")).body.data.map((e: { phone_number: string }) => e.phone_number)).toEqual(["+14155550123"]);
    expect((await org.get("/api-keys")).body.data).toHaveLength(1);
    expect((await org.get("/telephony/numbers")).body.data).toEqual([]);
    expect((await org.get("/calls")).body.data).toEqual([]);

    // With the token, the same form works.
    expect((await browser.post("/app/dnc", { phone_number: "+14155550999" })).status).toBe(303);
  });

  it("a token belongs to its session: another session's token is refused", async () => {
    const first = await newDashboard("First");
    const second = await newDashboard("Second");
    expect(first.browser.csrfToken).not.toBe(second.browser.csrfToken);
    const res = await first.browser.post("/app/dnc", { phone_number: "+14155550999" }, { csrf: second.browser.csrfToken! });
    expect(res.status).toBe(403);
  });

  it("ends the session when the API answers 401 for its key", async () => {
    const { org, browser } = await newDashboard();
    // The stored key no longer opens the API (as when it is revoked between two requests).
    const id = await sha256Hex(browser.cookies.get("__Host-truedy_session")!);
    const sealed = await encryptSecret("truedy_00000000000000000000000000000000", env.ENCRYPTION_KEY);
    await env.DB.prepare("UPDATE dashboard_sessions SET api_key_encrypted = ? WHERE id = ?").bind(sealed, id).run();

    const agent = (await org.post("/agents", { name: "A", voice_id: CATALOGUE_VOICE_ID, system_prompt: "x" })).body.data;
    const json = await browser.postJson(`/app/agents/${agent.id}/test-call`);
    expect(json.status).toBe(401);
    expect(json.json().error.message).toContain("Sign in with another key");
    expect(browser.cookies.has("__Host-truedy_session")).toBe(false);
    expect(await env.DB.prepare("SELECT id FROM dashboard_sessions WHERE id = ?").bind(id).first()).toBeNull();
  });

  it("a page whose API call is refused with 401 sends the browser to sign in, with the reason", async () => {
    const { browser } = await newDashboard();
    const id = await sha256Hex(browser.cookies.get("__Host-truedy_session")!);
    const sealed = await encryptSecret("truedy_00000000000000000000000000000000", env.ENCRYPTION_KEY);
    await env.DB.prepare("UPDATE dashboard_sessions SET api_key_encrypted = ? WHERE id = ?").bind(sealed, id).run();
    const res = await browser.get("/app/calls");
    expect(res.status).toBe(303);
    expect(res.location).toBe("/app/sign-in");
    const signIn = await browser.get("/app/sign-in");
    expect(textOf(signIn.text)).toContain("Your session ended because its API key is no longer valid");
  });
});
