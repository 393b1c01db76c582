import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ErrorCode } from "./errors";
import type { AppEnv } from "./types";

export function meta(c: Context<AppEnv>) {
  return { request_id: c.get("requestId"), ts: new Date(c.get("clock").now()).toISOString() };
}

export function ok<T>(c: Context<AppEnv>, data: T, status: ContentfulStatusCode = 200): Response {
  return c.json({ data, meta: meta(c) }, status);
}

export interface OffsetPage {
  total: number;
  limit: number;
  offset: number;
}

export function paginate(page: OffsetPage) {
  return { ...page, has_more: page.offset + page.limit < page.total };
}

export function okList<T>(c: Context<AppEnv>, data: T[], page: OffsetPage, extra: Record<string, unknown> = {}): Response {
  return c.json({ data, meta: meta(c), pagination: { ...paginate(page), ...extra } }, 200);
}

export function errorBody(
  c: Context<AppEnv>,
  code: ErrorCode,
  message: string,
  details?: Record<string, unknown>,
) {
  return { error: details ? { code, message, details } : { code, message }, meta: meta(c) };
}
