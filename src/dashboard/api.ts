import { createApp, PUBLIC_API_BASE } from "../app";
import type { DashboardContext } from "./session";

/**
 * The dashboard's only way to data: the public API itself, run in this isolate with the
 * session's key. Every validation, tenant check and error message a page shows is therefore the
 * API's own, and the dashboard can do nothing a client with the same key could not.
 */

export interface Pagination {
  total: number;
  limit: number;
  offset: number;
  has_more: boolean;
  [extra: string]: unknown;
}

export interface ApiSuccess<T> {
  ok: true;
  status: number;
  data: T;
  pagination?: Pagination;
}

export interface ApiFailure {
  ok: false;
  status: number;
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

export type ApiResult<T> = ApiSuccess<T> | ApiFailure;

export type QueryValue = string | number | boolean | null | undefined;
export type Query = Record<string, QueryValue | QueryValue[]>;

/** Thrown when the API answers 401 (the key was revoked): the dashboard ends the session. */
export class SessionEndedError extends Error {
  constructor() {
    super("The API key of this session is no longer valid");
    this.name = "SessionEndedError";
  }
}

// Built on first use: app.ts imports the dashboard, so the API app cannot exist at import time.
let publicApi: ReturnType<typeof createApp> | undefined;

function apiUrl(c: DashboardContext, path: string, query?: Query): URL {
  const url = new URL(`${PUBLIC_API_BASE}${path}`, c.req.url);
  for (const [name, value] of Object.entries(query ?? {})) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item !== undefined && item !== null && item !== "") url.searchParams.append(name, String(item));
    }
  }
  return url;
}

async function readResult<T>(res: Response): Promise<ApiResult<T>> {
  const text = await res.text();
  let body: any;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (res.ok) return { ok: true, status: res.status, data: body?.data as T, pagination: body?.pagination };
  const error = body?.error;
  return {
    ok: false,
    status: res.status,
    code: typeof error?.code === "string" ? error.code : "unknown_error",
    message: typeof error?.message === "string" ? error.message : `The API answered ${res.status}`,
    details: error?.details && typeof error.details === "object" ? error.details : undefined,
  };
}

/** The API client for this request's session: `await api(c).get("/agents", { limit: 20 })`. */
export function api(c: DashboardContext) {
  const raw = async (method: string, path: string, init: { query?: Query; headers?: Record<string, string>; body?: BodyInit } = {}) => {
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${c.get("session").apiKey}`);
    headers.set("x-request-id", c.get("requestId"));
    const request = new Request(apiUrl(c, path, init.query), { method, headers, body: init.body });
    publicApi ??= createApp();
    const res = await publicApi.fetch(request, c.env, c.executionCtx);
    if (res.status === 401) throw new SessionEndedError();
    return res;
  };
  const json = async <T>(method: string, path: string, body?: unknown, query?: Query): Promise<ApiResult<T>> => {
    const res = await raw(method, path, {
      query,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return readResult<T>(res);
  };
  return {
    get: <T = any>(path: string, query?: Query) => json<T>("GET", path, undefined, query),
    post: <T = any>(path: string, body: unknown = {}) => json<T>("POST", path, body),
    patch: <T = any>(path: string, body: unknown) => json<T>("PATCH", path, body),
    put: <T = any>(path: string, body: unknown) => json<T>("PUT", path, body),
    delete: <T = any>(path: string) => json<T>("DELETE", path),
    /** The API's Response as is (streams, multipart uploads, non-JSON bodies). */
    raw,
  };
}

export type DashboardApi = ReturnType<typeof api>;

/**
 * Fetches a link the API handed out on this deployment (a signed `/recordings/…` link) through
 * the same app, in-process; null for a link elsewhere (a carrier's own recording URL).
 */
export async function fetchOwnLink(c: DashboardContext, link: string, init: RequestInit = {}): Promise<Response | null> {
  const base = new URL(c.env.PUBLIC_BASE_URL ?? c.req.url);
  const url = new URL(link, base);
  if (url.origin !== base.origin || !url.pathname.startsWith("/recordings/")) return null;
  publicApi ??= createApp();
  return publicApi.fetch(new Request(new URL(url.pathname + url.search, c.req.url), init), c.env, c.executionCtx);
}
