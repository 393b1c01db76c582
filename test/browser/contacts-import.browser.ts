import { randomBytes } from "node:crypto";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, capture, connectBrowser, expectCleanConsole, newPage, signIn } from "./helpers";

// Scenario c: a CSV with one bad row uploaded to a folder. The progress bar shows and finishes,
// the bad row's error is shown by its spreadsheet row number, and the good rows are in the folder.
describe("contacts CSV import", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await connectBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("imports the good rows of a CSV and shows the bad row's error", async () => {
    const folderName = `Import ${randomBytes(3).toString("hex")}`;
    const csv = [
      "phone_number,first_name,last_name,email",
      "+14155550101,Ada,Lovelace,ada@example.com",
      "not a phone,Bad,Row,bad@example.com",
      "+14155550102,Grace,Hopper,grace@example.com",
      "+14155550103,Alan,Turing,alan@example.com",
    ].join("\n");

    const page = await newPage(browser);
    await signIn(page);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Contacts" }).click();
    await page.waitForURL("**/app/contacts");
    await capture(page, "contacts-import", "folders");

    await page.getByLabel("Name", { exact: true }).fill(folderName);
    await page.getByRole("button", { name: "Create folder" }).click();
    await page.waitForLoadState();
    // The new folder: straight to its page, or a link to it in the list.
    if (!page.url().includes("/app/contacts/folders/")) await page.getByRole("link", { name: folderName }).click();
    await page.getByRole("heading", { level: 1, name: `Folder: ${folderName}` }).waitFor();
    await capture(page, "contacts-import", "folder-empty");

    // Every state the bar goes through, recorded in the page from before the click.
    await page.evaluate(() => {
      const doc = (globalThis as any).document;
      const bar = doc.getElementById("csv-progress");
      const seen: string[] = [];
      (globalThis as any).__progressSeen = seen;
      const note = () => seen.push(bar.hidden ? "hidden" : bar.hasAttribute("value") ? String(bar.value) : "indeterminate");
      new (globalThis as any).MutationObserver(note).observe(bar, { attributes: true, attributeFilter: ["hidden", "value"] });
    });
    await page.getByLabel("CSV file", { exact: true }).setInputFiles({ name: "contacts.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
    await page.getByRole("button", { name: "Upload and import" }).click();

    const status = page.locator("#csv-status");
    await page.waitForFunction(() => (globalThis as any).document.getElementById("csv-status")?.textContent === "Import finished.", null, { timeout: 30_000 });
    const seen: string[] = await page.evaluate(() => (globalThis as any).__progressSeen);
    // Shown, filled to 100 % (or waiting on the server once the upload was sent), hidden at the end.
    expect(seen.some((s) => s === "100" || s === "indeterminate")).toBe(true);
    expect(seen.indexOf("hidden")).toBeGreaterThan(0);
    expect(seen.at(-1)).toBe("hidden");
    expect(await status.innerText()).toBe("Import finished.");

    const outcome = page.locator("#import-result");
    expect(await outcome.getByRole("status").innerText()).toContain("3 new, 0 updated, 0 skipped");
    expect(await outcome.getByRole("status").innerText()).toContain("1 row with errors");
    const badRow = outcome.getByRole("row").filter({ has: page.getByRole("rowheader", { name: "3", exact: true }) });
    const badRowText = await badRow.innerText();
    expect(badRowText).toContain("not a phone");
    expect(badRowText).toMatch(/phone/i);
    await capture(page, "contacts-import", "imported");

    // The good rows are listed in the folder (the page swapped in the fresh table) …
    const contacts = page.locator("#contacts-section");
    expect(await contacts.getByRole("heading", { level: 2 }).innerText()).toBe("Contacts (3)");
    for (const [name, phone] of [
      ["Ada Lovelace", "+14155550101"],
      ["Grace Hopper", "+14155550102"],
      ["Alan Turing", "+14155550103"],
    ]) {
      const row = contacts.getByRole("row").filter({ has: page.getByRole("link", { name }) });
      expect(await row.innerText()).toContain(phone);
    }
    // … and in the API.
    const folders = await api<{ id: string; name: string }[]>("GET", `/contacts/folders?limit=100`);
    const folder = folders.find((f) => f.name === folderName);
    expect(folder).toBeDefined();
    const stored = await api<{ phone_number: string }[]>("GET", `/contacts?folder_id=${folder!.id}&limit=100`);
    expect(stored.map((c) => c.phone_number).sort()).toEqual(["+14155550101", "+14155550102", "+14155550103"]);
    expectCleanConsole(page);
    await page.context().close();
  });
});
