import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { capture, connectBrowser, expectCleanConsole, newPage, signIn } from "./helpers";

// Scenario a: a person signs in with an API key; a wrong key gets the plain error, not a stack.
describe("sign in", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await connectBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("a wrong key shows the plain error and keeps the person on the sign-in page", async () => {
    const page = await newPage(browser);
    // Everything under /app needs a session: the dashboard sends a stranger to sign in.
    await page.goto("/app/agents");
    expect(new URL(page.url()).pathname).toBe("/app/sign-in");
    await capture(page, "sign-in", "form");

    await page.getByLabel("API key").fill("truedy_this_key_does_not_exist_0000000000");
    await page.getByRole("button", { name: "Sign in" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    expect(await alert.innerText()).toContain("That API key is not valid");
    expect(new URL(page.url()).pathname).toBe("/app/sign-in");
    // The field is there to try again, and the key typed is not echoed back into the page.
    expect(await page.getByLabel("API key").inputValue()).toBe("");
    await capture(page, "sign-in", "wrong-key");
    expectCleanConsole(page);
    await page.context().close();
  });

  it("the right key opens the dashboard, and signing out ends the session", async () => {
    const page = await newPage(browser);
    await signIn(page);
    expect(new URL(page.url()).pathname).toBe("/app/agents");
    await page.getByRole("navigation", { name: "Main" }).waitFor();
    await capture(page, "sign-in", "signed-in");

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL((url) => url.pathname === "/app/sign-in");
    expect(await page.getByRole("status").innerText()).toContain("signed out");
    // The old cookie no longer opens anything.
    await page.goto("/app/agents");
    expect(new URL(page.url()).pathname).toBe("/app/sign-in");
    expectCleanConsole(page);
    await page.context().close();
  });
});
