import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../src/index";

export const BASE = "https://truedy.test/api/public/v1";
export const ADMIN_BASE = "https://truedy.test/api/admin/v1";

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

async function toApiResponse(res: Response): Promise<ApiResponse> {
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON (e.g. an HTML page): keep the text.
  }
  return { status: res.status, headers: res.headers, body };
}

/**
 * Hands a request to the worker's own fetch handler (same app, env and bindings) in this isolate.
 * Not exports.default.fetch: vitest-pool-workers 0.15.1 wraps the prototype of its default
 * entrypoint class in one more Proxy each time it is constructed, i.e. on every loopback request
 * (cloudflare/workers-sdk#15092, fixed upstream by #15106), so the n-th request of a test file
 * pays n nested `get` traps per property read (GET /health: ~6 ms → ~150 ms within 500 calls).
 * waitUntil work still runs, and the pool awaits it at the end of each test.
 */
export async function dispatch(request: Request): Promise<Response> {
  return worker.fetch(request as Parameters<typeof worker.fetch>[0], env, createExecutionContext());
}

export async function rawFetch(url: string, init: RequestInit = {}): Promise<ApiResponse> {
  return toApiResponse(await dispatch(new Request(url, init)));
}

/** A small client for one API key: `client.get("/agents")`, `client.post("/agents", body)`. */
export function apiClient(apiKey: string) {
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    rawFetch(`${BASE}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${apiKey}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
  return {
    apiKey,
    get: (path: string, headers?: Record<string, string>) => call("GET", path, undefined, headers),
    post: (path: string, body?: unknown, headers?: Record<string, string>) => call("POST", path, body ?? {}, headers),
    put: (path: string, body: unknown, headers?: Record<string, string>) => call("PUT", path, body, headers),
    patch: (path: string, body: unknown, headers?: Record<string, string>) => call("PATCH", path, body, headers),
    delete: (path: string, headers?: Record<string, string>) => call("DELETE", path, undefined, headers),
    /** For multipart uploads and other non-JSON bodies. */
    send: (method: string, path: string, init: RequestInit = {}) =>
      rawFetch(`${BASE}${path}`, { ...init, method, headers: { authorization: `Bearer ${apiKey}`, ...(init.headers as Record<string, string>) } }),
  };
}

export type ApiClient = ReturnType<typeof apiClient>;

export function adminFetch(path: string, init: { method?: string; body?: unknown; token?: string } = {}) {
  return rawFetch(`${ADMIN_BASE}${path}`, {
    method: init.method ?? "GET",
    headers: {
      authorization: `Bearer ${init.token ?? env.ADMIN_TOKEN}`,
      ...(init.body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
}

/** Creates a fresh organization through the admin bootstrap endpoint and returns a client for it. */
export async function newOrg(name = "Test org"): Promise<ApiClient & { orgId: string }> {
  const res = await adminFetch("/organizations", { method: "POST", body: { name } });
  if (res.status !== 201) throw new Error(`could not create org: ${res.status} ${JSON.stringify(res.body)}`);
  return Object.assign(apiClient(res.body.data.api_key), { orgId: res.body.data.id as string });
}

/** Reads what a fake external service received (see test/fakes/server.ts). */
export async function fakeRequests(service: string, contains?: string) {
  const url = new URL("/__fakes/requests", env.FAKES_CONTROL_URL);
  url.searchParams.set("service", service);
  if (contains) url.searchParams.set("contains", contains);
  const res = await fetch(url);
  return (await res.json()) as {
    service: string;
    method: string;
    path: string;
    query: Record<string, string>;
    headers: Record<string, string>;
    body: string;
  }[];
}

/** A platform voice from the seeded catalogue (migrations/0001_seed_voices.sql). */
export const CATALOGUE_VOICE_ID = "01900000-0000-7000-8000-000000000001";
