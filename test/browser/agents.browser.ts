import { randomBytes } from "node:crypto";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, capture, connectBrowser, expectCleanConsole, newPage, signIn } from "./helpers";

// Scenario b: create an agent through the form; a value the API refuses comes back in plain words
// on the re-rendered form, with what was typed still there.
describe("agents", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await connectBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("creates an agent through the form, after a validation error in plain words", async () => {
    const name = `Reminder agent ${randomBytes(3).toString("hex")}`;
    const prompt = "You are Maya. Remind {{first_name}} of tomorrow's visit.";
    const page = await newPage(browser);
    await signIn(page);
    await page.goto("/app/agents");
    await capture(page, "agents", "list");

    await page.getByRole("link", { name: "New agent" }).click();
    await page.waitForURL("**/app/agents/new");
    await capture(page, "agents", "new");

    // No name: the API's validation answers, and the form says so next to the field.
    await page.getByLabel("Prompt", { exact: true }).fill(prompt);
    await page.getByLabel("Voice", { exact: true }).selectOption({ index: 1 });
    await page.getByRole("button", { name: "Create agent" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    expect(await alert.innerText()).toContain("Some of the values need fixing.");
    const nameField = page.getByLabel("Name", { exact: true });
    expect(await nameField.getAttribute("aria-invalid")).toBe("true");
    const nameError = page.locator("#name-error");
    expect((await nameError.innerText()).trim()).not.toBe("");
    // Nothing typed is lost.
    expect(await page.getByLabel("Prompt", { exact: true }).inputValue()).toBe(prompt);
    await capture(page, "agents", "validation-error");

    await nameField.fill(name);
    await page.getByRole("button", { name: "Create agent" }).click();
    await page.waitForURL(/\/app\/agents\/[^/]+$/);
    await page.getByRole("heading", { level: 1, name }).waitFor();
    expect(await page.getByRole("status").first().innerText()).toContain(`Agent "${name}" created.`);
    await capture(page, "agents", "created");

    await page.getByRole("link", { name: "Agents", exact: true }).click();
    await page.waitForURL("**/app/agents");
    const row = page.getByRole("row").filter({ has: page.getByRole("link", { name }) });
    await row.waitFor();
    expect(await row.innerText()).toContain("active");
    await capture(page, "agents", "list-with-agent");

    // What the page shows is what the API holds.
    const found = await api<{ name: string; system_prompt: string; status: string }[]>("GET", `/agents?name=${encodeURIComponent(name)}`);
    expect(found.map((a) => [a.name, a.system_prompt, a.status])).toEqual([[name, prompt, "active"]]);
    expectCleanConsole(page);
    await page.context().close();
  });
});
