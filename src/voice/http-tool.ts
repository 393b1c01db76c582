/**
 * Runs one HTTP tool request on a live call (reliability.md API7): redirects are not followed by
 * fetch (`redirect: "manual"`) but by hand, each hop checked against the URL rules again and
 * credentials dropped when it leaves the origin; the whole exchange has one deadline; the body is
 * read up to MAX_TOOL_RESPONSE_BYTES. Never throws: every failure is an outcome the model hears.
 */
import { MAX_TOOL_REDIRECTS, MAX_TOOL_RESPONSE_BYTES, redirectTarget, type ToolOutcome, type ToolRequest } from "../domain/tool-calls";
import type { UrlPolicy } from "../domain/url-safety";

export interface ToolRun {
  outcome: ToolOutcome;
  /** Requests actually sent (0 when none was: every hop refused before it went out). */
  hops: number;
  /** The last URL requested or refused, as it may be logged. */
  shownUrl: string;
}

/** Headers that may follow a redirect to another origin: nothing that could carry a credential. */
const CROSS_ORIGIN_HEADERS = new Set(["accept", "content-type"]);

const TOO_LARGE = `The tool's response is larger than ${MAX_TOOL_RESPONSE_BYTES / 1024} KB`;

async function readCapped(res: Response): Promise<{ text: string } | { error: string }> {
  const declared = Number(res.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > MAX_TOOL_RESPONSE_BYTES) {
    await res.body?.cancel().catch(() => {});
    return { error: TOO_LARGE };
  }
  if (!res.body) return { text: "" };
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_TOOL_RESPONSE_BYTES) {
      await reader.cancel().catch(() => {});
      return { error: TOO_LARGE };
    }
    parts.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.length;
  }
  return { text: new TextDecoder().decode(all) };
}

export async function runToolRequest(request: ToolRequest, options: { timeoutMs: number; policy: UrlPolicy; signal?: AbortSignal }): Promise<ToolRun> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  let url = request.url;
  let shownUrl = request.shownUrl;
  let method: string = request.method;
  let body = request.body;
  let headers = { ...request.headers };
  let hops = 0;
  try {
    for (;;) {
      hops++;
      const res = await fetch(url, { method, headers, body, redirect: "manual", signal });
      if (res.status >= 300 && res.status < 400 && res.status !== 304) {
        await res.body?.cancel().catch(() => {});
        if (hops > MAX_TOOL_REDIRECTS) return { outcome: { error: `The tool's endpoint redirected more than ${MAX_TOOL_REDIRECTS} times` }, hops, shownUrl };
        const target = redirectTarget(res.headers.get("location"), url, options.policy);
        if (!target.ok) return { outcome: { error: target.error }, hops, shownUrl };
        if (target.value.origin !== new URL(url).origin) {
          headers = Object.fromEntries(Object.entries(headers).filter(([name]) => CROSS_ORIGIN_HEADERS.has(name)));
        }
        // As browsers do: 303 (and 301/302 after a POST) go on as a GET without the body.
        if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === "POST")) {
          method = "GET";
          body = null;
          delete headers["content-type"];
        }
        url = target.value.toString();
        shownUrl = `${target.value.origin}${target.value.pathname}`;
        continue;
      }
      const read = await readCapped(res);
      if ("error" in read) return { outcome: { error: read.error }, hops, shownUrl };
      return { outcome: { status: res.status, body: read.text }, hops, shownUrl };
    }
  } catch (error) {
    if (options.signal?.aborted) return { outcome: { error: "Cancelled: the caller interrupted" }, hops, shownUrl };
    if (timeout.aborted) return { outcome: { error: `The tool did not answer within ${options.timeoutMs / 1000} s` }, hops, shownUrl };
    return { outcome: { error: `The tool's endpoint could not be reached: ${error instanceof Error ? error.message : String(error)}` }, hops, shownUrl };
  }
}
