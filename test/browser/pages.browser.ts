import { randomBytes } from "node:crypto";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PHONE } from "./config";
import { api, capture, connectBrowser, expectCleanConsole, giveOutboundNumber, newPage, seriousAxeViolations, signIn } from "./helpers";

// Scenario h: every page of the main nav (and sign-in) at a laptop and a phone width: a screenshot
// of each, nothing wider than a 390 px phone, Tab reaches the main nav and the page's first form
// field with a visible focus ring, and axe-core finds no serious or critical violation (WCAG 2.1
// A/AA: labels, names, contrast, table headers…).

/** Where keyboard focus is and whether it shows: what a sighted keyboard user sees. */
async function focusState(page: Page) {
  return page.evaluate(() => {
    const doc = (globalThis as any).document;
    const el = doc.activeElement;
    if (!el || el === doc.body) return null;
    const style = (globalThis as any).getComputedStyle(el);
    const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
    const shadow = style.boxShadow !== "none" && style.boxShadow !== "";
    const main = doc.getElementById("main");
    const fields = main ? [...main.querySelectorAll("input:not([type=hidden]), select, textarea")].filter((f: any) => !f.disabled && f.getClientRects().length > 0) : [];
    return {
      inMainNav: Boolean(el.closest("nav[aria-label='Main']")),
      isFirstField: fields.length > 0 && fields[0] === el,
      hasFields: fields.length > 0,
      visible: outline || shadow,
      what: `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""} "${(el.getAttribute("aria-label") ?? el.textContent ?? "").trim().slice(0, 40)}"`,
    };
  });
}

/** Tabs from the top of the page until both the main nav and the first form field had focus. */
async function tabThrough(page: Page) {
  await page.evaluate(() => (globalThis as any).document.activeElement?.blur());
  const reached = { nav: false, field: false, hasFields: true, invisible: [] as string[] };
  for (let i = 0; i < 80 && !(reached.nav && (reached.field || !reached.hasFields)); i++) {
    await page.keyboard.press("Tab");
    const state = await focusState(page);
    if (!state) continue;
    reached.hasFields = state.hasFields;
    if (!state.visible) reached.invisible.push(state.what);
    if (state.inMainNav) reached.nav = true;
    if (state.isFirstField) reached.field = true;
  }
  return reached;
}

async function checkPage(page: Page, phone: Page, name: string, path: string) {
  const response = await page.goto(path);
  expect(response?.status(), `${path} answered`).toBe(200);
  expect(new URL(page.url()).pathname, `${path} opened`).toBe(path);
  await phone.goto(path);
  await capture(page, "pages", name);

  const { width, widest } = await phone.evaluate((limit) => {
    const doc = (globalThis as any).document;
    const style = (el: any) => (globalThis as any).getComputedStyle(el);
    // Inside a scroller that fits (a .table-wrap), unless it is positioned against something
    // outside it: an absolutely positioned element escapes the clip of a scroller that is not its
    // containing block, and widens the page.
    const clipped = (el: any) => {
      const escapes = ["absolute", "fixed"].includes(style(el).position);
      for (let a = el.parentElement; a; a = a.parentElement) {
        if (style(a).overflowX === "visible" || a.getBoundingClientRect().right > limit + 0.5) continue;
        if (escapes && !(el.offsetParent && a.contains(el.offsetParent))) continue;
        return true;
      }
      return false;
    };
    // The outermost elements that stick out, so the message says what to fix.
    const over: any[] = [];
    for (const el of doc.querySelectorAll("main *, header *")) {
      if (el.getBoundingClientRect().right <= limit + 0.5 || over.some((o) => o.contains(el)) || clipped(el)) continue;
      over.push(el);
    }
    const name = (el: any) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""}${el.className && typeof el.className === "string" ? `.${el.className.trim().split(/\s+/).join(".")}` : ""}`;
    return { width: doc.scrollingElement.scrollWidth, widest: over.slice(0, 3).map(name) };
  }, PHONE.width);
  expect(width, `${path} is ${width} px wide on a ${PHONE.width} px phone (sticking out: ${widest.join(", ")})`).toBeLessThanOrEqual(PHONE.width);

  expect(await seriousAxeViolations(page), `axe on ${path} at 1280 px`).toEqual([]);
  expect(await seriousAxeViolations(phone), `axe on ${path} at 390 px`).toEqual([]);
  return tabThrough(page);
}

describe("every page: both widths, keyboard, axe", () => {
  let browser: Browser;
  let page: Page;
  let phone: Page;

  beforeAll(async () => {
    browser = await connectBrowser();
    // axe-core is injected as an inline script, which the dashboard's CSP refuses (rightly); only
    // these pages bypass it. The other scenarios keep the CSP and fail on any refusal it logs.
    page = await newPage(browser, "desktop", { bypassCSP: true });
    phone = await newPage(browser, "phone", { bypassCSP: true });
    // Something on every page, so tables, badges and links are checked, not only empty states.
    const tag = randomBytes(3).toString("hex");
    const agent = await api<{ id: string }>("POST", "/agents", {
      name: `Pages agent ${tag}`,
      voice_id: "01900000-0000-7000-8000-000000000001",
      system_prompt: "You are a receptionist.",
    });
    const folder = await api<{ id: string }>("POST", "/contacts/folders", { name: `Pages folder ${tag}` });
    await api("POST", "/contacts", { phone_number: "+14155550177", first_name: "Page", last_name: "Checker", folder_id: folder.id });
    await api("POST", "/dnc", { phone_number: "+14155550178", reason: "Asked not to be called" });
    await api("POST", "/webhooks", { url: "https://example.com/truedy-hooks", events: ["call.ended"] });
    await giveOutboundNumber(agent.id, "+14155550170");
    // A simulator destination ending 0001 answers, then hangs up after SIMULATOR_CALL_SECONDS.
    await api("POST", "/calls", { agent_id: agent.id, phone_number: "+14155570001" });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("sign-in page", async () => {
    const reached = await checkPage(page, phone, "sign-in", "/app/sign-in");
    expect(reached.field, "Tab reaches the API key field").toBe(true);
    expect(reached.invisible, "elements focused without a visible focus indicator").toEqual([]);
  });

  it("every page of the main nav", async () => {
    await signIn(page);
    await signIn(phone);
    const links = await page.locator("nav[aria-label='Main'] a[href^='/app/']").evaluateAll((as) => as.map((a: any) => ({ name: a.textContent.trim(), href: a.getAttribute("href") })));
    // The nav as the layout defines it; a page missing from it would be missing here too.
    expect(links.map((l) => l.name)).toEqual(["Agents", "Calls", "Contacts", "Campaigns", "Numbers", "Webhooks", "DNC", "API keys", "Analytics"]);
    const problems: string[] = [];
    for (const link of links) {
      const name = link.href.replace(/^\/app\//, "").replaceAll("/", "-");
      try {
        const reached = await checkPage(page, phone, name, link.href);
        if (!reached.nav) problems.push(`${link.href}: Tab never reached the main nav`);
        if (reached.hasFields && !reached.field) problems.push(`${link.href}: Tab never reached the first form field`);
        if (reached.invisible.length) problems.push(`${link.href}: no visible focus on ${reached.invisible.join(", ")}`);
      } catch (error) {
        problems.push(`${link.href}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    // Every page is checked before failing, so one run lists every problem.
    expect(problems).toEqual([]);
    expectCleanConsole(page);
    expectCleanConsole(phone);
  });
});
