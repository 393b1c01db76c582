import { env } from "cloudflare:workers";

/** Base URL of the fakes (test/fakes/server.ts). */
export const FAKES = env.FAKES_CONTROL_URL;

/** A tag no other test uses: the fakes are shared by every test file, so scripts and records are keyed by it. */
export const uniqueTag = (prefix: string) => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;

/** Calls a fake's control endpoint (GET without a body, POST with one); throws unless it answers 2xx. */
export async function control<T = any>(path: string, body?: unknown): Promise<T> {
  const method = body === undefined ? "GET" : "POST";
  const res = await fetch(`${FAKES}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { "content-type": "application/json" } });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

/** What a fake received (see test/fakes/server.ts), filtered on path/body or the `tag` query parameter. */
export async function recorded(service: string, filter: { contains?: string; tag?: string } = {}): Promise<any[]> {
  const url = new URL("/__fakes/requests", FAKES);
  url.searchParams.set("service", service);
  if (filter.contains) url.searchParams.set("contains", filter.contains);
  if (filter.tag) url.searchParams.set("tag", filter.tag);
  return (await fetch(url)).json();
}
