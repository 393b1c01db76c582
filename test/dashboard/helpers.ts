import { exports } from "cloudflare:workers";
import { expect } from "vitest";
import { adminFetch, newOrg, type ApiClient } from "../helpers/api";

/** A browser in miniature for the dashboard: a cookie jar, redirects by hand, the CSRF token. */

export const ORIGIN = "https://truedy.test";

export interface PageResponse {
  status: number;
  headers: Headers;
  /** The redirect target's path, for 3xx answers. */
  location: string | null;
  text: string;
  json(): any;
}

export type FormBody = Record<string, string | string[]> | FormData;

async function toPage(res: Response): Promise<PageResponse> {
  const text = await res.text();
  const location = res.headers.get("location");
  return {
    status: res.status,
    headers: res.headers,
    location: location === null ? null : new URL(location, ORIGIN).pathname + new URL(location, ORIGIN).search,
    text,
    json: () => JSON.parse(text),
  };
}

function formBody(form: FormBody): { body: BodyInit; contentType?: string } {
  if (form instanceof FormData) return { body: form };
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(form)) {
    for (const item of Array.isArray(value) ? value : [value]) params.append(name, item);
  }
  return { body: params, contentType: "application/x-www-form-urlencoded" };
}

/** The `_csrf` hidden field of a rendered page. */
export function csrfFrom(html: string): string | undefined {
  return html.match(/name="_csrf" value="([^"]+)"/)?.[1];
}

export class Browser {
  readonly cookies = new Map<string, string>();
  csrfToken: string | undefined;

  cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  #remember(headers: Headers) {
    for (const line of headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(";").map((part) => part.trim());
      const at = pair.indexOf("=");
      const name = pair.slice(0, at);
      const value = pair.slice(at + 1);
      const expired = attributes.some((a) => /^max-age=0$/i.test(a) || (/^expires=/i.test(a) && Date.parse(a.slice(8)) < Date.now()));
      if (expired || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  /** One request, no redirect following; the cookie jar is sent and updated. */
  async fetch(path: string, init: RequestInit = {}): Promise<PageResponse> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set("cookie", this.cookieHeader());
    const res = await exports.default.fetch(new Request(new URL(path, ORIGIN), { ...init, headers, redirect: "manual" }));
    this.#remember(res.headers);
    const page = await toPage(res);
    this.csrfToken = csrfFrom(page.text) ?? this.csrfToken;
    return page;
  }

  get(path: string, headers?: Record<string, string>) {
    return this.fetch(path, { headers });
  }

  /** GET, following redirects (up to five) the way a browser would. */
  async page(path: string): Promise<PageResponse> {
    let res = await this.get(path);
    for (let hops = 0; res.location && res.status >= 300 && res.status < 400 && hops < 5; hops++) res = await this.get(res.location);
    return res;
  }

  /**
   * A form post carrying the session's CSRF token (unless the form names its own `_csrf`, or
   * `csrf: false` leaves it out), as the dashboard's forms do.
   */
  async post(path: string, form: FormBody = {}, options: { csrf?: string | false; headers?: Record<string, string> } = {}) {
    const token = options.csrf === undefined ? this.csrfToken : options.csrf;
    const hasOwn = form instanceof FormData ? form.has("_csrf") : "_csrf" in form;
    if (token && !hasOwn) {
      if (form instanceof FormData) form.append("_csrf", token);
      else form = { ...form, _csrf: token };
    }
    const { body, contentType } = formBody(form);
    const headers: Record<string, string> = { ...(contentType ? { "content-type": contentType } : {}), ...options.headers };
    return this.fetch(path, { method: "POST", body, headers });
  }

  /** A client script's JSON request: the CSRF header instead of a form field. */
  postJson(path: string, body: unknown = {}, options: { csrf?: string; headers?: Record<string, string> } = {}) {
    return this.fetch(path, {
      method: "POST",
      body: JSON.stringify(body),
      headers: { "content-type": "application/json", "x-csrf-token": options.csrf ?? this.csrfToken ?? "", ...options.headers },
    });
  }
}

/** Signs in with an API key through the form; fails the test unless it lands signed in. */
export async function signIn(apiKey: string): Promise<Browser> {
  const browser = new Browser();
  const res = await browser.post("/app/sign-in", { api_key: apiKey });
  expect(res.status, res.text).toBe(303);
  expect(browser.cookies.has("__Host-truedy_session")).toBe(true);
  // The first page carries the CSRF token every later form needs.
  const home = await browser.page("/app");
  expect(home.status).toBe(200);
  expect(browser.csrfToken).toBeTruthy();
  return browser;
}

/**
 * A fresh organization with an API client and a signed-in dashboard browser. Every page makes a
 * few API requests, all inside one simulated minute, so the org's rate limit is raised.
 */
export async function newDashboard(name = "Dashboard org"): Promise<{ org: ApiClient & { orgId: string }; browser: Browser }> {
  const org = await newOrg(name);
  await adminFetch(`/organizations/${org.orgId}`, { method: "PATCH", body: { rate_limit_per_minute: 100_000 } });
  return { org, browser: await signIn(org.apiKey) };
}

/** The visible text of an HTML fragment, entities decoded, for "shows X" assertions. */
export function textOf(html: string): string {
  return html
    .replace(/<script[\s\S]*?<\/script>/g, " ")
    .replace(/<[^>]+>/g, " ")
    .replace(/&amp;/g, "&")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/\s+/g, " ")
    .trim();
}
