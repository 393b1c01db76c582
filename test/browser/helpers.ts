import { createRequire } from "node:module";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { chromium, type Browser, type BrowserContextOptions, type Page } from "playwright-core";
import { expect, inject } from "vitest";
import { createOrganization } from "../../bench/lib.mjs";
import { DESKTOP, PHONE, SCREENSHOT_DIR } from "./config";

/** What every browser scenario uses: the shared Chromium, pages at both widths, sign-in, the API. */

export const baseUrl = inject("baseUrl");
/** The run's organization (global-setup.ts). */
export const apiKey = inject("apiKey");

export function connectBrowser(): Promise<Browser> {
  return chromium.connect(inject("browserWsEndpoint"));
}

/**
 * A page in a fresh context (its own cookies): 1280×800, or a 390×844 phone that honours the
 * viewport meta tag as a phone does. Uncaught script errors and Content-Security-Policy refusals
 * are collected, so `expectCleanConsole` can fail a scenario whose page broke silently.
 */
export async function newPage(browser: Browser, device: "desktop" | "phone" = "desktop", options: BrowserContextOptions = {}): Promise<Page> {
  const context = await browser.newContext({
    baseURL: baseUrl,
    ...(device === "phone" ? { viewport: PHONE, isMobile: true, hasTouch: true } : { viewport: DESKTOP }),
    ...options,
  });
  const page = await context.newPage();
  // A loaded CI machine (one wrangler dev, Chromium and workerd sharing two cores) has taken
  // over 30 s, Playwright's default, to load a page once.
  page.setDefaultNavigationTimeout(60_000);
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`uncaught: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error" && /Content Security Policy/i.test(message.text())) problems.push(`CSP: ${message.text()}`);
  });
  pageProblems.set(page, problems);
  return page;
}

const pageProblems = new WeakMap<Page, string[]>();

export function expectCleanConsole(page: Page) {
  expect(pageProblems.get(page) ?? []).toEqual([]);
}

/**
 * Screenshots of what the page shows now, full length, at 1280 px and 390 px wide:
 * test/browser/screenshots/<scenario>-<name>-{desktop,phone}.png. The page is resized rather
 * than reloaded, so a page reached by a form post is captured as it is.
 */
export async function capture(page: Page, scenario: string, name: string) {
  const file = (device: string) => path.join(SCREENSHOT_DIR, `${scenario}-${name}-${device}.png`);
  const before = page.viewportSize();
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: file("phone"), fullPage: true });
  await page.setViewportSize(DESKTOP);
  await page.screenshot({ path: file("desktop"), fullPage: true });
  if (before && (before.width !== DESKTOP.width || before.height !== DESKTOP.height)) await page.setViewportSize(before);
}

/** Signs in through the sign-in form and waits for the dashboard. */
export async function signIn(page: Page, key = apiKey) {
  await page.goto("/app/sign-in");
  await page.getByLabel("API key").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => url.pathname.startsWith("/app") && url.pathname !== "/app/sign-in");
}

/** An organization of its own, for a scenario whose counts must not see other scenarios' data. */
export function newOrganization(name: string): Promise<{ id: string; apiKey: string }> {
  return createOrganization({ baseUrl, adminToken: inject("adminToken") }, name);
}

/**
 * The public API, for setting up what a scenario does not click through and for checking what
 * the page claims. Throws on any non-2xx with the API's error.
 */
export async function api<T = any>(method: string, apiPath: string, body?: unknown, key = apiKey): Promise<T> {
  const res = await fetch(`${baseUrl}/api/public/v1${apiPath}`, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as { data: T };
  if (!res.ok) throw new Error(`${method} ${apiPath} → ${res.status} ${JSON.stringify(json)}`);
  return json.data;
}

/** A number (the simulator carrier's unless told) bought for the organization and assigned to `agentId` for its outgoing calls. */
export async function giveOutboundNumber(agentId: string, phoneNumber: string, provider: "simulator" | "twilio" = "simulator") {
  const number = await api<{ id: string }>("POST", "/telephony/numbers/purchase", { phone_number: phoneNumber, provider });
  await api("POST", "/telephony/numbers/assign", { number_id: number.id, agent_id: agentId, assignment_type: "outbound" });
  return number;
}

/** Polls `check` until it returns something other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await sleep(200);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last}` : ""}`);
}

const axePath = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/**
 * axe-core's serious and critical violations on the page as it is (WCAG 2.x A and AA rules,
 * which include colour contrast). The page's context must bypass CSP: the script is injected
 * inline, which `script-src 'self'` rightly refuses.
 */
export async function seriousAxeViolations(page: Page): Promise<AxeViolation[]> {
  await page.addScriptTag({ path: axePath });
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as any).axe;
    const result = await axe.run((globalThis as any).document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } });
    return result.violations as AxeViolation[];
  });
  return violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target, failureSummary: n.failureSummary })) }));
}
