import { z } from "@hono/zod-openapi";
import { FOLDER_SORTS } from "../../db/contacts";
import { canonicalTimeZone, CONTACT_TEXT_LIMITS, CUSTOM_FIELD_LIMITS, LAST_CALL_OUTCOMES, MAX_ERROR_DETAILS } from "../../domain/contacts";
import { isPhoneCountry } from "../../domain/phone";
import { LimitOffsetQuery, PaginationSchema, queryBoolean } from "../../lib/openapi";

const EXAMPLE_FOLDER_ID = "0193a5b2-7c1e-7d2a-9f10-2b3c4d5e6f70";
const EXAMPLE_CONTACT_ID = "0193a5b3-1a2b-7c3d-8e4f-5a6b7c8d9e0f";

// ---------------------------------------------------------------------------------------------
// Folders

export const FolderSchema = z
  .object({
    id: z.string().openapi({ example: EXAMPLE_FOLDER_ID }),
    name: z.string().openapi({ example: "Spring reactivation" }),
    description: z.string().nullable().openapi({ example: "Patients not seen in 12 months" }),
    contact_count: z.number().int().openapi({ example: 1250 }),
    is_default: z.boolean().openapi({ description: "The folder contacts land in when no `folder_id` is given", example: false }),
    created_at: z.string().openapi({ example: "2026-11-25T12:00:00.000Z" }),
    updated_at: z.string().openapi({ example: "2026-11-25T12:00:00.000Z" }),
  })
  .openapi("ContactFolder");

export const ListFoldersQuery = LimitOffsetQuery.extend({
  sort_by: z.enum(FOLDER_SORTS).default("created_at").openapi({ example: "contact_count" }),
  order: z.enum(["asc", "desc"]).default("desc").openapi({ example: "desc" }),
});

const folderName = z.string().trim().min(1).max(255).openapi({ example: "Spring reactivation" });
const folderDescription = z.string().trim().max(1000).nullable().openapi({ example: "Patients not seen in 12 months" });

export const CreateFolderBody = z
  .object({ name: folderName, description: folderDescription.optional() })
  .openapi({ example: { name: "Spring reactivation", description: "Patients not seen in 12 months" } });

export const UpdateFolderBody = z
  .object({ name: folderName.optional(), description: folderDescription.optional() })
  .openapi({ example: { description: "Patients not seen since March" } });

export const DeletedFolderSchema = z
  .object({
    id: z.string().openapi({ example: EXAMPLE_FOLDER_ID }),
    deleted: z.literal(true),
    contacts_deleted: z.number().int().openapi({ example: 1250 }),
  })
  .openapi("DeletedContactFolder");

// ---------------------------------------------------------------------------------------------
// Contacts

const text = (field: keyof typeof CONTACT_TEXT_LIMITS, example: string) =>
  z.string().max(CONTACT_TEXT_LIMITS[field]).nullable().optional().openapi({ example });

const customFields = z
  .record(
    z.string().min(1).max(CUSTOM_FIELD_LIMITS.keyLength),
    z
      .union([z.string(), z.number(), z.boolean()])
      .transform(String)
      .pipe(z.string().max(CUSTOM_FIELD_LIMITS.valueLength)),
  )
  .refine((o) => Object.keys(o).length <= CUSTOM_FIELD_LIMITS.maxKeys, `At most ${CUSTOM_FIELD_LIMITS.maxKeys} keys`)
  .openapi({
    description: "Your own key/values, e.g. a CRM id; numbers and booleans are stored as strings",
    example: { crm_id: "A-1042", plan: "gold" },
  });

const contactFields = {
  first_name: text("first_name", "Ada"),
  last_name: text("last_name", "Lovelace"),
  email: z
    .string()
    .trim()
    .max(CONTACT_TEXT_LIMITS.email)
    .pipe(z.union([z.literal(""), z.email()]))
    .nullable()
    .optional()
    .openapi({ format: "email", example: "ada@example.com" }),
  company_name: text("company_name", "Analytical Engines Ltd"),
  industry: text("industry", "Dental"),
  location: text("location", "London"),
  pin_code: text("pin_code", "EC1A 1BB"),
  keywords: text("keywords", "vip,spring-2026").openapi({ description: "Comma-separated tags", example: "vip,spring-2026" }),
  timezone: z
    .string()
    .max(CONTACT_TEXT_LIMITS.timezone)
    .refine((zone) => canonicalTimeZone(zone) !== undefined, "Must be an IANA time zone such as America/New_York")
    .nullable()
    .optional()
    .openapi({ example: "Europe/London" }),
  custom_fields: customFields.optional(),
  metadata: customFields.optional().openapi({ description: "Alias of `custom_fields` (Truedy's older name); merged into it" }),
};

/** A phone number as people type it; shared with the do-not-call list. */
export const phoneInput = z.string().trim().min(1).max(64).openapi({
  description: "E.164 (`+14155550123`), or a national number together with `default_country`",
  example: "+14155550123",
});

export const defaultCountry = z
  .string()
  .refine(isPhoneCountry, "Must be an ISO 3166-1 alpha-2 country code such as US or GB")
  .optional()
  .openapi({ description: "Country for a national `phone_number` (ISO 3166-1 alpha-2)", example: "US" });

const folderRef = z.string().min(1).max(100).openapi({ example: EXAMPLE_FOLDER_ID });

export const CreateContactBody = z
  .object({
    phone_number: phoneInput,
    default_country: defaultCountry,
    folder_id: folderRef.optional().openapi({ description: "Omitted: the organization's default folder" }),
    overwrite_existing: z
      .boolean()
      .default(false)
      .openapi({ description: "When the folder already holds this phone: update that contact (200) instead of answering 409" }),
    ...contactFields,
  })
  .openapi({
    example: {
      phone_number: "+14155550123",
      first_name: "Ada",
      last_name: "Lovelace",
      email: "ada@example.com",
      folder_id: EXAMPLE_FOLDER_ID,
      custom_fields: { crm_id: "A-1042" },
    },
  });
export type CreateContactInput = z.infer<typeof CreateContactBody>;

export const UpdateContactBody = z
  .object({
    phone_number: phoneInput.optional(),
    default_country: defaultCountry,
    folder_id: folderRef.optional().openapi({ description: "Moves the contact; the target folder must not already hold its phone" }),
    opted_out: z.boolean().optional().openapi({
      description:
        "`true` marks the contact opted out and adds its number to the do-not-call list (source `opt_out`); `false` clears the flag but leaves the number listed (remove it with `DELETE /dnc/{id}`)",
      example: true,
    }),
    ...contactFields,
  })
  .openapi({ example: { first_name: "Ada", custom_fields: { crm_id: "A-1043" } } });
export type UpdateContactInput = z.infer<typeof UpdateContactBody>;

export const ContactSchema = z
  .object({
    id: z.string().openapi({ example: EXAMPLE_CONTACT_ID }),
    folder_id: z.string().openapi({ example: EXAMPLE_FOLDER_ID }),
    phone_number: z.string().openapi({ example: "+14155550123" }),
    first_name: z.string().nullable().openapi({ example: "Ada" }),
    last_name: z.string().nullable().openapi({ example: "Lovelace" }),
    name: z.string().nullable().openapi({ description: "`first_name last_name`", example: "Ada Lovelace" }),
    email: z.string().nullable().openapi({ example: "ada@example.com" }),
    company_name: z.string().nullable().openapi({ example: "Analytical Engines Ltd" }),
    industry: z.string().nullable().openapi({ example: "Dental" }),
    location: z.string().nullable().openapi({ example: "London" }),
    pin_code: z.string().nullable().openapi({ example: "EC1A 1BB" }),
    keywords: z.string().nullable().openapi({ example: "vip,spring-2026" }),
    timezone: z.string().nullable().openapi({ example: "Europe/London" }),
    custom_fields: z.record(z.string(), z.string()).openapi({ example: { crm_id: "A-1042" } }),
    call_count: z.number().int().openapi({ example: 0 }),
    last_called_at: z.string().nullable().openapi({ example: null }),
    last_call_outcome: z.enum(LAST_CALL_OUTCOMES).nullable().openapi({ example: null }),
    opted_out: z.boolean().openapi({
      description: "The contact asked not to be called. Set by `PATCH {opted_out: true}` or when its number is on the do-not-call list as the contact is added, or is added to the list later",
      example: false,
    }),
    opted_out_at: z.string().nullable().openapi({ description: "When `opted_out` was set", example: null }),
    created_at: z.string().openapi({ example: "2026-11-25T12:00:00.000Z" }),
    updated_at: z.string().openapi({ example: "2026-11-25T12:00:00.000Z" }),
  })
  .openapi("Contact");

export const ListContactsQuery = z.object({
  folder_id: z.string().min(1).max(100).optional().openapi({ example: EXAMPLE_FOLDER_ID }),
  search: z.string().trim().min(1).max(100).optional().openapi({
    description: "Case-insensitive match on name, phone number or email; a phone-like term matches digits anywhere in the number",
    example: "lovelace",
  }),
  last_call_outcome: z.enum(LAST_CALL_OUTCOMES).optional(),
  opted_out: queryBoolean
    .optional()
    .openapi({ type: "string", enum: ["true", "false"], description: "Only contacts that have (`true`) or have not (`false`) opted out", example: "false" }),
  limit: LimitOffsetQuery.shape.limit,
  offset: z.coerce.number().int().min(0).optional().openapi({ example: 0 }),
  page: z.coerce.number().int().min(1).optional().openapi({ description: "1-based page; an alternative to `offset`", example: 1 }),
});

export const ContactPaginationSchema = PaginationSchema.extend({
  page: z.number().int().openapi({ example: 1 }),
  pages: z.number().int().openapi({ example: 200 }),
}).openapi("ContactPagination");

// ---------------------------------------------------------------------------------------------
// CSV import

export const ImportContactsForm = z
  .object({
    file: z
      .custom<File | string>((v) => v instanceof File || typeof v === "string", {
        error: "Required: the CSV as a multipart file field named `file`",
      })
      .openapi({ type: "string", format: "binary", description: "The CSV; header row required, with a `phone` or `phone_number` column" }),
    folder_id: z.string().max(100).optional().openapi({ description: "Omitted: the organization's default folder", example: EXAMPLE_FOLDER_ID }),
    overwrite_existing: z
      .enum(["true", "false"])
      .default("false")
      .openapi({ description: "Update contacts the folder already holds (matched by phone) instead of skipping them" }),
    default_country: defaultCountry,
  })
  .openapi({ example: { file: "phone,name,email,company\n+14155550123,Ada Lovelace,ada@example.com,Analytical Engines", overwrite_existing: "false" } });

/** Rejected CSV rows, shared by every CSV import (contacts, do-not-call list). */
export const ImportErrorDetailsSchema = z
  .array(
    z.object({
      row: z.number().int().openapi({ description: "Spreadsheet row: the header is row 1, the first record row 2", example: 7 }),
      phone: z.string().nullable().openapi({ example: "555-0199" }),
      reason: z.string().openapi({ example: "Invalid phone number format" }),
    }),
  )
  .openapi({ description: `The first ${MAX_ERROR_DETAILS} rejected rows; \`errors\` counts them all` });

export const ImportResultSchema = z
  .object({
    imported: z.number().int().openapi({ description: "New contacts created", example: 1480 }),
    updated: z.number().int().openapi({ description: "Existing contacts updated (`overwrite_existing`)", example: 0 }),
    skipped: z.number().int().openapi({ description: "Rows whose phone repeats an earlier row, or is already in the folder", example: 12 }),
    errors: z.number().int().openapi({ description: "Rows rejected; see `error_details`", example: 1 }),
    folder_id: z.string().openapi({ example: EXAMPLE_FOLDER_ID }),
    error_details: ImportErrorDetailsSchema,
  })
  .openapi("ContactImportResult");
