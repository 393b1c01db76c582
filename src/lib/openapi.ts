import { z } from "@hono/zod-openapi";
import { ERROR_CODES } from "./errors";

/** Shared OpenAPI building blocks: envelopes, pagination, ids and the standard error responses. */

export const MetaSchema = z
  .object({
    request_id: z.string().openapi({ example: "req_01JD6R6A4C1X9V7W2K3M5N8P0Q" }),
    ts: z.string().openapi({ example: "2026-11-25T12:00:00.000Z" }),
  })
  .openapi("Meta");

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
    meta: MetaSchema,
  })
  .openapi("Error", {
    example: {
      error: {
        code: "validation_error",
        message: "Invalid phone_number: Must be in E.164 format",
        details: { field: "phone_number", reason: "Must be in E.164 format" },
      },
      meta: { request_id: "req_01JD6R6A4C1X9V7W2K3M5N8P0Q", ts: "2026-11-25T12:00:00.000Z" },
    },
  });

export const PaginationSchema = z
  .object({ total: z.number().int(), limit: z.number().int(), offset: z.number().int(), has_more: z.boolean() })
  .openapi("Pagination");

export function dataEnvelope<T extends z.ZodType>(schema: T) {
  return z.object({ data: schema, meta: MetaSchema });
}

export function listEnvelope<T extends z.ZodType>(schema: T, pagination: z.ZodType = PaginationSchema) {
  return z.object({ data: z.array(schema), meta: MetaSchema, pagination });
}

const errorResponse = (description: string) => ({
  description,
  content: { "application/json": { schema: ErrorSchema } },
});

/** Spread into every route's `responses`. */
export const errorResponses = {
  400: errorResponse("Malformed request (invalid JSON or query)"),
  401: errorResponse("Missing or invalid API key"),
  404: errorResponse("Not found, or owned by another organization"),
  413: errorResponse("Request body too large"),
  415: errorResponse("The request body is not in the operation's media type (JSON unless it says otherwise)"),
  422: errorResponse("Validation failed; `details.field` names the field at fault"),
  429: errorResponse("Rate limit exceeded; see `Retry-After` and `RateLimit-*` headers"),
  500: errorResponse("Internal error (never includes a stack trace)"),
  503: errorResponse("The database is briefly unavailable (an outage or overload); nothing was changed, retry after `Retry-After` seconds"),
} as const;

export const conflictResponse = { 409: errorResponse("The object's state does not allow this operation") };

export function jsonBody<T extends z.ZodType>(schema: T, description?: string) {
  return { required: true, description, content: { "application/json": { schema } } };
}

export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { "application/json": { schema } } };
}

export const IdParams = z.object({
  id: z.string().min(1).max(100).openapi({ param: { name: "id", in: "path" }, example: "0193a5b2-7c1e-7d2a-9f10-2b3c4d5e6f70" }),
});

export const LimitOffsetQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50).openapi({ example: 50 }),
  offset: z.coerce.number().int().min(0).default(0).openapi({ example: 0 }),
});

/** Query booleans arrive as strings; only the two literal spellings are accepted. */
export const queryBoolean = z.enum(["true", "false"]).transform((v) => v === "true");

export const E164 = z
  .string()
  .regex(/^\+[1-9]\d{1,14}$/, "Must be in E.164 format")
  .openapi({ example: "+14155550123" });

export const DeletedSchema = z.object({ id: z.string(), deleted: z.literal(true) }).openapi("Deleted");
