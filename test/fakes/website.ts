import { readFile } from "node:fs/promises";
import type { Fake, FakeRequest, FakeResponse } from "./server";

/**
 * A small website for the knowledge-base crawler, served under `/site/{ns}/…` where `{ns}` is any
 * name a test picks (so concurrent tests read their own copy and filter the recorded requests by
 * it). Every copy has the same pages:
 *
 *   /site/{ns}/                 Acme Help Centre: body text, plus script, style, nav and noscript
 *                               whose text must not be indexed; links to shipping (absolute and with
 *                               a fragment), pricing (relative), an off-site host, the same server
 *                               under `localhost` (another host: off-site too), mailto:, a PDF, a
 *                               404, a same-site redirect and a redirect to the cloud metadata address
 *   /site/{ns}/shipping         depth 1; links to /shipping/international (depth 2)
 *   /site/{ns}/shipping/international   depth 2; links to /deep (depth 3)
 *   /site/{ns}/deep             depth 3
 *   /site/{ns}/pricing          depth 1
 *   /site/{ns}/redirect-internal → 302 /site/{ns}/moved
 *   /site/{ns}/redirect-metadata → 302 https://169.254.169.254/latest/meta-data/
 *   /site/{ns}/wide             links to /wide/1 … /wide/30 (for the page cap)
 *   /site/{ns}/plain.txt        text/plain
 *   /site/{ns}/missing          404
 *
 * `POST /__fakes/website/pages {path, html?, status?}` replaces one page (e.g. to change a page
 * between two ingestions); `html` is served as text/html. `GET /__fakes/website/fixtures/{name}`
 * hands tests (which run in workerd, without a file system) the bytes of test/fixtures/knowledge/{name}.
 */

const overrides = new Map<string, { html?: string; status?: number }>();

const html = (body: string, status = 200): FakeResponse => ({ status, headers: { "content-type": "text/html; charset=utf-8" }, body });

function page(title: string, body: string): string {
  return `<!doctype html><html><head><title>${title}</title><meta charset="utf-8"><style>.hidden { color: red } body::before { content: "STYLE TEXT" }</style></head><body>${body}</body></html>`;
}

function sitePage(ns: string, rest: string, port: string): FakeResponse | undefined {
  const root = `/site/${ns}`;
  switch (rest) {
    case "":
    case "/":
      return html(
        page(
          "Acme Help Centre",
          `<nav><a href="${root}/shipping">Shipping</a> NAVIGATION MENU TEXT <a href="${root}/pricing">Pricing</a></nav>
           <script>var secretScriptText = "SCRIPT TEXT";</script>
           <noscript>NOSCRIPT TEXT</noscript>
           <main>
             <h1>Returns &amp; refunds</h1>
             <p>Acme accepts returns within thirty days of delivery. Items must be unused and in their original packaging.</p>
             <p>We don&#8217;t refund gift cards.<br>Refunds reach your card within five days.</p>
             <ul>
               <li><a href="${root}/shipping">Shipping times</a></li>
               <li><a href="${root}/shipping#top">Shipping (again, with a fragment)</a></li>
               <li><a href="pricing">Pricing</a></li>
               <li><a href="https://offsite.example.com/elsewhere">Partner site</a></li>
               <li><a href="http://localhost:${port}${root}/offsite-host">Same server, other host name</a></li>
               <li><a href="mailto:help@acme.test">Mail us</a></li>
               <li><a href="${root}/manual.pdf">Manual (PDF)</a></li>
               <li><a href="${root}/missing">Old page</a></li>
               <li><a href="${root}/redirect-internal">Loyalty</a></li>
               <li><a href="${root}/redirect-metadata">Status</a></li>
             </ul>
           </main>`,
        ),
      );
    case "/shipping":
      return html(
        page(
          "Shipping",
          `<h1>Shipping</h1><p>Standard shipping takes five working days. Express shipping arrives the next morning.</p>
           <p><a href="${root}/shipping/international">International shipping</a></p>`,
        ),
      );
    case "/shipping/international":
      return html(
        page("International shipping", `<p>International parcels clear customs in about ten days.</p><p><a href="${root}/deep">More</a></p>`),
      );
    case "/deep":
      return html(page("Deep", "<p>Deep page about warehouse robots.</p>"));
    case "/pricing":
      return html(page("Pricing", "<p>The premium plan costs forty dollars per month.</p>"));
    case "/moved":
      return html(page("Loyalty", "<p>Loyalty points never expire while your account is active.</p>"));
    case "/redirect-internal":
      return { status: 302, headers: { location: `${root}/moved` }, body: "" };
    case "/redirect-metadata":
      return { status: 302, headers: { location: "https://169.254.169.254/latest/meta-data/" }, body: "" };
    case "/wide":
      return html(
        page(
          "Wide",
          `<p>An index of many pages.</p>${Array.from({ length: 30 }, (_, i) => `<a href="${root}/wide/${i + 1}">Page ${i + 1}</a>`).join(" ")}`,
        ),
      );
    case "/plain.txt":
      return { status: 200, headers: { "content-type": "text/plain; charset=utf-8" }, body: "Plain text page about opening hours: nine to five." };
    default: {
      const wide = /^\/wide\/(\d+)$/.exec(rest);
      if (wide) return html(page(`Wide ${wide[1]}`, `<p>Wide page number ${wide[1]} describes item${wide[1]}.</p>`));
      return undefined;
    }
  }
}

export const websiteFake: Fake = {
  service: "website",
  handle(request: FakeRequest) {
    const match = /^\/site\/([A-Za-z0-9_-]+)(\/.*)?$/.exec(request.url.pathname);
    if (!match || request.method !== "GET") return undefined;
    const override = overrides.get(request.url.pathname);
    if (override) return override.html !== undefined ? html(override.html, override.status ?? 200) : { status: override.status ?? 404, body: "" };
    const port = String(request.headers.host ?? "").split(":")[1] ?? "";
    return sitePage(match[1], match[2] ?? "", port) ?? { status: 404, headers: { "content-type": "text/html" }, body: "<h1>Not found</h1>" };
  },
  async control(request: FakeRequest) {
    const fixture = /^\/__fakes\/website\/fixtures\/([A-Za-z0-9_-]+\.[a-z]+)$/.exec(request.url.pathname);
    if (request.method === "GET" && fixture) {
      const bytes = await readFile(new URL(`../fixtures/knowledge/${fixture[1]}`, import.meta.url)).catch(() => undefined);
      return bytes ? { status: 200, body: new Uint8Array(bytes) } : { status: 404, body: `no fixture ${fixture[1]}` };
    }
    if (request.method === "POST" && request.url.pathname === "/__fakes/website/pages") {
      const body = JSON.parse(request.body) as { path: string; html?: string; status?: number };
      overrides.set(body.path, { html: body.html, status: body.status });
      return { status: 200, body: { ok: true } };
    }
    return undefined;
  },
};
