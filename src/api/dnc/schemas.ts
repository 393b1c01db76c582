import { z } from "@hono/zod-openapi";
import { defaultCountry, ImportErrorDetailsSchema, phoneInput } from "../contacts/schemas";
import { DNC_REASON_MAX_LENGTH, DNC_SOURCES } from "../../domain/dnc";
import { LimitOffsetQuery } from "../../lib/openapi";

const EXAMPLE_ENTRY_ID = "0193a5b4-2b3c-7d4e-8f50-6a7b8c9d0e1f";
const EXAMPLE_CREATED_AT = "2026-11-25T12:00:00.000Z";

export const DncEntrySchema = z
  .object({
    id: z.string().openapi({ example: EXAMPLE_ENTRY_ID }),
    phone_number: z.string().openapi({ description: "E.164", example: "+14155550123" }),
    reason: z.string().nullable().openapi({ example: "Asked not to be called again" }),
    source: z.enum(DNC_SOURCES).openapi({
      description: "`api`: added with POST /dnc; `opt_out`: a contact was marked `opted_out`; `import`: a CSV import",
      example: "api",
    }),
    created_at: z.string().openapi({ example: EXAMPLE_CREATED_AT }),
  })
  .openapi("DncEntry");

export const dncEntryExample = {
  id: EXAMPLE_ENTRY_ID,
  phone_number: "+14155550123",
  reason: "Asked not to be called again",
  source: "api" as const,
  created_at: EXAMPLE_CREATED_AT,
};

export const ListDncQuery = LimitOffsetQuery.extend({
  search: z.string().trim().min(1).max(64).optional().openapi({
    description: "Part of the number; a phone-like term (`(415) 555`) matches by its digits",
    example: "415555",
  }),
});

export const AddDncBody = z
  .object({
    phone_number: phoneInput,
    default_country: defaultCountry,
    reason: z.string().trim().max(DNC_REASON_MAX_LENGTH).nullable().optional().openapi({ example: "Asked not to be called again" }),
  })
  .openapi({ example: { phone_number: "+14155550123", reason: "Asked not to be called again" } });

export const CheckDncQuery = z.object({
  phone_number: phoneInput,
  default_country: defaultCountry,
});

export const DncCheckSchema = z
  .object({
    phone_number: z.string().openapi({ description: "The number checked, normalised to E.164", example: "+14155550123" }),
    listed: z.boolean().openapi({ example: true }),
    entry: DncEntrySchema.nullable().openapi({ description: "The entry that lists it, or null" }),
  })
  .openapi("DncCheck");

export const ImportDncForm = z
  .object({
    file: z
      .custom<File | string>((v) => v instanceof File || typeof v === "string", {
        error: "Required: the CSV as a multipart file field named `file`",
      })
      .openapi({ type: "string", format: "binary", description: "The CSV; header row required, with a `phone` or `phone_number` column and an optional `reason`" }),
    default_country: defaultCountry,
  })
  .openapi({ example: { file: "phone,reason\n+14155550123,Asked not to be called again\n(415) 555-0124,Complaint" } });

export const DncImportResultSchema = z
  .object({
    imported: z.number().int().openapi({ description: "Numbers added to the list", example: 980 }),
    skipped: z.number().int().openapi({ description: "Rows whose number was already listed, or repeats an earlier row", example: 15 }),
    errors: z.number().int().openapi({ description: "Rows rejected; see `error_details`", example: 1 }),
    error_details: ImportErrorDetailsSchema,
  })
  .openapi("DncImportResult");
