import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/**
 * The closed set of machine-readable error codes. Clients switch on these, so a new failure mode
 * gets a new code here (and in the OpenAPI document) rather than a free-form string.
 */
export const ERROR_STATUS = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  idempotency_key_in_use: 409,
  resource_in_use: 409,
  /** The org's concurrent-call limit is reached and the call cannot wait (a browser call). */
  concurrency_limit_reached: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  validation_error: 422,
  idempotency_key_reused: 422,
  provider_not_configured: 422,
  number_unavailable: 422,
  no_phone_number_configured: 422,
  number_not_assigned: 422,
  number_on_dnc_list: 422,
  rate_limit_exceeded: 429,
  internal_error: 500,
  not_implemented: 501,
  provider_error: 502,
  /** A dependency (D1) is briefly unavailable: retry after `Retry-After` seconds. */
  service_unavailable: 503,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof ERROR_STATUS;
export const ERROR_CODES = Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]];

/** Thrown anywhere below a route; `onError` turns it into the error envelope. */
export class ApiError extends HTTPException {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;
  readonly headers?: Record<string, string>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: Record<string, unknown>; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(ERROR_STATUS[code], { message, cause: options.cause });
    this.name = "ApiError";
    this.code = code;
    this.details = options.details;
    this.headers = options.headers;
  }
}

export const notFound = (resource: string, id?: string) =>
  new ApiError("not_found", id ? `${resource} ${id} not found` : `${resource} not found`, {
    details: id ? { id } : undefined,
  });

/** A 422 naming the one field at fault, in the same shape zod failures produce. */
export const invalidField = (field: string, reason: string) =>
  new ApiError("validation_error", `Invalid ${field}: ${reason}`, {
    details: { field, reason, issues: [{ field, reason }] },
  });
