import { looksLikePage, resolveLink, sameSite, type CrawlLimits } from "../domain/knowledge";
import { checkOutboundUrl, type UrlPolicy } from "../domain/url-safety";
import { describeError, IngestError, TransientIngestError } from "./errors";
import { extractHtml } from "./html";

/**
 * The web-source crawler: breadth-first from the given pages, following links that stay on the
 * start page's site (same scheme, host and port) up to `max_depth` hops and `max_pages` fetched
 * pages in all. Every URL fetched, each redirect hop included, passes the same SSRF rules as the
 * URLs customers register (src/domain/url-safety.ts); redirects are followed by hand for that.
 * Bodies are capped in size and time. Robots.txt is not consulted (see README).
 */

export const USER_AGENT = "TruedyBot/1.0 (+https://truedy.ai/docs/knowledge-bases)";
export const PAGE_TIMEOUT_MS = 10_000;
export const MAX_PAGE_BYTES = 2 * 1024 * 1024;
export const MAX_REDIRECTS = 5;
/** Pages fetched at once. */
const CONCURRENCY = 4;

export interface CrawledPage {
  url: string;
  title: string;
  text: string;
  depth: number;
}

export interface CrawlResult {
  pages: CrawledPage[];
  /** Pages that could not be read, with why. */
  failures: { url: string; error: string; transient: boolean }[];
  /** Pages fetched (or attempted), the number `max_pages` caps. */
  fetched: number;
}

export interface CrawlOptions {
  policy: UrlPolicy;
  fetch?: typeof fetch;
  timeoutMs?: number;
  maxPageBytes?: number;
}

interface Fetched {
  url: URL;
  contentType: string;
  body: Uint8Array;
}

/** A page that cannot be read; `transient` when trying again later might work (network, 429, 5xx). */
class PageError extends Error {
  constructor(
    message: string,
    readonly transient = false,
  ) {
    super(message);
  }
}

/** Reads at most `max` bytes of a body; the rest is cancelled (a page that large is cut, not refused). */
async function readCapped(body: ReadableStream<Uint8Array> | null, max: number): Promise<Uint8Array> {
  if (!body) return new Uint8Array();
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const room = max - total;
    parts.push(value.byteLength > room ? value.subarray(0, room) : value);
    total += Math.min(value.byteLength, room);
    if (total >= max) {
      await reader.cancel().catch(() => {});
      break;
    }
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

/** GET with the SSRF rules applied to the URL and to every redirect target. */
export async function safeFetch(start: URL, options: CrawlOptions): Promise<Fetched> {
  const doFetch = options.fetch ?? fetch;
  let url = start;
  for (let hop = 0; ; hop++) {
    const checked = checkOutboundUrl(url.href, options.policy);
    if (!checked.ok) throw new PageError(`refused ${url.href}: ${checked.reason}`);
    let response: Response;
    try {
      response = await doFetch(url.href, {
        redirect: "manual",
        headers: { "user-agent": USER_AGENT, accept: "text/html,application/xhtml+xml,text/plain;q=0.8" },
        signal: AbortSignal.timeout(options.timeoutMs ?? PAGE_TIMEOUT_MS),
      });
    } catch (error) {
      throw new PageError(`could not fetch ${url.href}: ${describeError(error, 200)}`, true);
    }
    if (response.status >= 300 && response.status < 400 && response.headers.has("location")) {
      await response.body?.cancel();
      if (hop >= MAX_REDIRECTS) throw new PageError(`too many redirects from ${start.href}`);
      const next = resolveLink(response.headers.get("location")!, url);
      if (!next) throw new PageError(`${url.href} redirects to an unsupported location`);
      url = next;
      continue;
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new PageError(`${url.href} answered HTTP ${response.status}`, response.status === 429 || response.status >= 500);
    }
    const contentType = (response.headers.get("content-type") ?? "").toLowerCase();
    if (!/^(text\/html|application\/xhtml\+xml|text\/plain)\b/.test(contentType)) {
      await response.body?.cancel();
      throw new PageError(`${url.href} is not a web page (content type ${contentType || "missing"})`);
    }
    return { url, contentType, body: await readCapped(response.body, options.maxPageBytes ?? MAX_PAGE_BYTES) };
  }
}

export async function crawl(startUrls: string[], limits: CrawlLimits, options: CrawlOptions): Promise<CrawlResult> {
  const pages: CrawledPage[] = [];
  const failures: CrawlResult["failures"] = [];
  const seen = new Set<string>();
  let fetched = 0;

  // Each start URL's site is where its crawl may go: the origin it ends on after redirects.
  let level: { url: URL; depth: number; site?: URL }[] = [];
  for (const raw of startUrls) {
    const url = resolveLink(raw, new URL("https://invalid.invalid/"));
    if (!url) throw new IngestError(`Not a web page URL: ${raw}`);
    if (seen.has(url.href)) continue;
    seen.add(url.href);
    level.push({ url, depth: 0 });
  }

  while (level.length > 0 && fetched < limits.max_pages) {
    const next: typeof level = [];
    const batch = level.slice(0, limits.max_pages - fetched);
    fetched += batch.length;
    for (let i = 0; i < batch.length; i += CONCURRENCY) {
      const results = await Promise.all(batch.slice(i, i + CONCURRENCY).map((item) => readPage(item, options)));
      for (const result of results) {
        if ("error" in result) {
          failures.push({ url: result.url, error: result.error, transient: result.transient });
          continue;
        }
        const { page, site, links } = result;
        if (seen.has(page.url) && page.url !== result.requested) {
          continue; // a redirect onto a page already read
        }
        seen.add(page.url);
        if (page.text) pages.push(page);
        if (page.depth >= limits.max_depth) continue;
        for (const link of links) {
          if (!sameSite(link, site) || !looksLikePage(link) || seen.has(link.href)) continue;
          seen.add(link.href);
          next.push({ url: link, depth: page.depth + 1, site });
        }
      }
    }
    level = next;
  }
  return { pages, failures, fetched };
}

type PageResult =
  | { page: CrawledPage; site: URL; links: URL[]; requested: string }
  | { url: string; error: string; transient: boolean };

async function readPage(item: { url: URL; depth: number; site?: URL }, options: CrawlOptions): Promise<PageResult> {
  try {
    const response = await safeFetch(item.url, options);
    const site = item.site ?? response.url;
    if (!sameSite(response.url, site)) throw new PageError(`${item.url.href} redirects off the site to ${response.url.href}`);
    if (response.contentType.startsWith("text/plain")) {
      const text = new TextDecoder().decode(response.body);
      return { page: { url: response.url.href, title: "", text: text.trim(), depth: item.depth }, site, links: [], requested: item.url.href };
    }
    const html = await extractHtml(response.body, response.contentType);
    const base = (html.base && resolveLink(html.base, response.url)) || response.url;
    const links = html.links.map((href) => resolveLink(href, base)).filter((u): u is URL => u !== undefined);
    const text = html.title && !html.text.startsWith(html.title) ? `${html.title}\n\n${html.text}` : html.text;
    return { page: { url: response.url.href, title: html.title, text: html.text ? text : "", depth: item.depth }, site, links, requested: item.url.href };
  } catch (error) {
    if (error instanceof PageError) return { url: item.url.href, error: error.message, transient: error.transient };
    if (error instanceof IngestError || error instanceof TransientIngestError) throw error;
    return { url: item.url.href, error: `${item.url.href}: ${describeError(error, 200)}`, transient: false };
  }
}
