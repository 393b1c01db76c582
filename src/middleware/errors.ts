import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { errorBody } from "../lib/envelope";
import { ApiError, type ErrorCode } from "../lib/errors";
import type { AppEnv } from "../lib/types";

const CODE_FOR_STATUS: Record<number, ErrorCode> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  409: "conflict",
  413: "payload_too_large",
  415: "unsupported_media_type",
  422: "validation_error",
  429: "rate_limit_exceeded",
};

/**
 * D1's transient failures (its docs' error list: connection lost, overloaded, reset, transient
 * issue on the remote node, timeouts). A client should retry these, so they are a 503 with
 * Retry-After rather than a 500 that reads like a bug. Whatever the request wrote went in one
 * batch with the rest of it, so nothing half-done is left behind.
 */
const TRANSIENT_D1_ERROR =
  /Network connection lost|D1 DB is overloaded|D1 DB reset|D1 DB storage operation exceeded timeout|D1 DB's isolate exceeded|D1 DB exceeded its CPU time limit|Cannot resolve D1 DB due to transient issue|storage caused object to be reset|reset because its code was updated|D1_ERROR: internal error/i;
const RETRY_AFTER_SECONDS = "5";

/** Drizzle wraps the driver's error ("Failed query: …"), so the whole cause chain is read. */
function isTransientD1Error(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (TRANSIENT_D1_ERROR.test(e.message)) return true;
  }
  return false;
}

/** Turns anything thrown into the error envelope. 5xx never carries the stack or the message. */
export const handleError: ErrorHandler<AppEnv> = (err, c) => {
  if (err instanceof ApiError) {
    const res = c.json(errorBody(c, err.code, err.message, err.details), err.status);
    for (const [name, value] of Object.entries(err.headers ?? {})) res.headers.set(name, value);
    return res;
  }
  if (err instanceof HTTPException && err.status < 500) {
    const code = CODE_FOR_STATUS[err.status] ?? "bad_request";
    const message =
      err.status === 400 && /JSON/i.test(err.message)
        ? "Malformed JSON in request body"
        : err.status === 415
          ? `Unsupported Content-Type ${JSON.stringify(c.req.header("content-type") ?? "")}; this endpoint takes application/json`
          : err.message || code;
    return c.json(errorBody(c, code, message), err.status);
  }
  console.error(
    JSON.stringify({
      level: "error",
      request_id: c.get("requestId"),
      path: c.req.path,
      error: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err),
    }),
  );
  if (isTransientD1Error(err)) {
    const res = c.json(errorBody(c, "service_unavailable", "The database is briefly unavailable; nothing was changed, retry in a few seconds"), 503);
    res.headers.set("Retry-After", RETRY_AFTER_SECONDS);
    return res;
  }
  return c.json(errorBody(c, "internal_error", "Internal error; quote the request id when reporting it"), 500);
};

export const handleNotFound: NotFoundHandler<AppEnv> = (c: Context<AppEnv>) =>
  c.json(errorBody(c, "not_found", `No route for ${c.req.method} ${c.req.path}`), 404);
