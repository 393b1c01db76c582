import { randomBytes } from "node:crypto";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, capture, connectBrowser, expectCleanConsole, giveOutboundNumber, newPage, signIn } from "./helpers";

// Scenario d: a simulator campaign launched through the wizard, watched until its progress bar
// reaches 100 %.

/**
 * A zone whose wall clock reads about 14:00 right now: `Etc/GMT-X` is UTC+X (the sign is
 * inverted), and UTC−12…UTC+14 covers every hour of the UTC day (offset 14 − UTC hour lies in
 * −9…+14). Dials are allowed only between 08:00 and 21:00 in the contact's zone
 * (src/domain/quiet-hours.ts, applied on top of any window and never widened), and a contact's
 * own `timezone` decides that zone (src/domain/recipient-timezone.ts zonesFor). Giving every
 * contact, and the campaign window, this zone makes the campaign dial at whatever hour the test
 * runs.
 */
function afternoonZone(now: Date): { zone: string; offsetHours: number } {
  const offsetHours = 14 - now.getUTCHours();
  return { zone: offsetHours === 0 ? "Etc/GMT" : offsetHours > 0 ? `Etc/GMT-${offsetHours}` : `Etc/GMT+${-offsetHours}`, offsetHours };
}

/**
 * The window's end, HH:MM in the zone `offsetHours` from UTC, 30–90 s from now. The scheduler
 * spreads a day's contacts evenly over what is left of the window (slot i at now + i × left / n),
 * so a window that closes soon puts all three dials within about a minute instead of across the
 * afternoon.
 */
function endSoon(offsetHours: number): string {
  const localMs = Date.now() + offsetHours * 3_600_000;
  let end = Math.ceil(localMs / 60_000) * 60_000;
  if (end - localMs < 30_000) end += 60_000;
  return new Date(end).toISOString().slice(11, 16);
}

describe("campaign wizard", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await connectBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("launches a simulator campaign and its progress bar reaches 100 %", { timeout: 180_000 }, async () => {
    const tag = randomBytes(3).toString("hex");
    const agent = await api<{ id: string }>("POST", "/agents", {
      name: `Campaign agent ${tag}`,
      voice_id: "01900000-0000-7000-8000-000000000001",
      system_prompt: "You are Maya. Remind {{first_name}} of tomorrow's visit.",
    });
    await giveOutboundNumber(agent.id, "+14155550160");
    const { zone, offsetHours } = afternoonZone(new Date());
    const folderName = `Campaign folder ${tag}`;
    const folder = await api<{ id: string }>("POST", "/contacts/folders", { name: folderName });
    // Simulator destinations ending 0001 answer, then hang up after SIMULATOR_CALL_SECONDS (2 s).
    for (const [first, phone] of [
      ["Ada", "+14155610001"],
      ["Grace", "+14155620001"],
      ["Alan", "+14155630001"],
    ]) {
      await api("POST", "/contacts", { phone_number: phone, first_name: first, timezone: zone, folder_id: folder.id });
    }

    const page = await newPage(browser);
    await signIn(page);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Campaigns" }).click();
    await page.waitForURL("**/app/campaigns");
    await capture(page, "campaign", "list");
    await page.getByRole("link", { name: "New campaign" }).click();

    const next = () => page.getByRole("button", { name: "Next" }).click();
    const step = (n: number) => page.getByRole("heading", { level: 2, name: new RegExp(`^Step ${n} of 4`) }).waitFor();
    await step(1);
    await page.getByLabel("Campaign name").fill(`Reminders ${tag}`);
    await page.getByLabel("Agent", { exact: true }).selectOption({ label: `Campaign agent ${tag}` });
    await capture(page, "campaign", "wizard-basics");
    await next();

    await step(2);
    await page.getByLabel("Contact folder").selectOption({ label: `${folderName} (3 contacts)` });
    await capture(page, "campaign", "wizard-contacts");
    await next();

    await step(3);
    await page.getByLabel("Time zone", { exact: true }).fill(zone);
    await page.getByLabel("From", { exact: true }).fill("08:00");
    await page.getByLabel("Until", { exact: true }).fill(endSoon(offsetHours));
    // Every day: the zone's date can be any weekday when the test runs.
    for (const day of ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]) await page.getByLabel(day, { exact: true }).check();
    await page.getByLabel(/^Call contacts again/).uncheck();
    await capture(page, "campaign", "wizard-schedule");
    await next();

    await step(4);
    await capture(page, "campaign", "wizard-review");
    await page.getByRole("button", { name: "Create and launch" }).click();
    await page.waitForURL(/\/app\/campaigns\/[^/]+$/);
    expect(await page.getByRole("status").first().innerText()).toContain(`Campaign “Reminders ${tag}” launched.`);
    await capture(page, "campaign", "launched");

    // The bar is the page's own, updated by campaign-live.js without a reload.
    const bar = page.getByRole("progressbar", { name: "Campaign progress" });
    expect(await bar.getAttribute("max")).toBe("3");
    await page.waitForFunction(
      () => {
        const bar = (globalThis as any).document.getElementById("campaign-progress");
        return bar.max === 3 && bar.value === 3;
      },
      null,
      { timeout: 150_000, polling: 250 },
    );
    expect(await page.locator("#progress-text").innerText()).toBe("3 of 3 contacts done (100%)");
    await page.waitForFunction(() => (globalThis as any).document.querySelector("[data-campaign-status]")?.textContent === "completed", null, { timeout: 15_000 });
    // A finished campaign offers no controls: it can no longer be launched, paused, resumed or cancelled.
    for (const control of ["Launch now", "Pause", "Resume", "Cancel campaign (cannot be undone)"]) {
      expect(await page.getByRole("button", { name: control }).isVisible(), `"${control}" offered on a completed campaign`).toBe(false);
    }
    await capture(page, "campaign", "completed");

    const campaigns = await api<{ name: string; status: string; total_contacts: number; stats: Record<string, number> }[]>("GET", "/batch-calls?limit=100");
    const campaign = campaigns.find((c) => c.name === `Reminders ${tag}`);
    expect(campaign?.status).toBe("completed");
    expect(campaign?.total_contacts).toBe(3);
    expectCleanConsole(page);
    await page.context().close();
  });
});
