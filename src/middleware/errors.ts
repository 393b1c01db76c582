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
  return c.json(errorBody(c, "internal_error", "Internal error; quote the request id when reporting it"), 500);
};

export const handleNotFound: NotFoundHandler<AppEnv> = (c: Context<AppEnv>) =>
  c.json(errorBody(c, "not_found", `No route for ${c.req.method} ${c.req.path}`), 404);
