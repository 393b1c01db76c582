import { z } from "@hono/zod-openapi";
import { isValidTimeZone } from "../../domain/campaign-schedule";
import {
  CAMPAIGN_STATUSES,
  CONTACT_STATUSES,
  DIAL_DECISIONS,
  ROTATION_STRATEGIES,
  SKIP_REASONS,
  type RetryableOutcome,
} from "../../domain/campaigns";
import { CUSTOM_FIELD_LIMITS } from "../../domain/contacts";
import { LimitOffsetQuery } from "../../lib/openapi";
import { defaultCountry, ImportErrorDetailsSchema, phoneInput } from "../contacts/schemas";

const EXAMPLE_ID = "0193a5b2-7c1e-7d2a-9f10-2b3c4d5e6f70";
const uuidRef = z.string().min(1).max(100).openapi({ example: EXAMPLE_ID });

/** Inline contacts and ids per request; more go through the folder or the CSV import. */
export const MAX_INLINE_CONTACTS = 10_000;

const hhmm = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, "Must be HH:MM (24-hour)")
  .openapi({ example: "09:00" });

const timezone = z.string().max(64).refine(isValidTimeZone, "Must be an IANA time zone such as America/New_York").openapi({ example: "America/New_York" });

const workingDays = z
  .array(z.number().int().min(1).max(7))
  .min(1)
  .max(7)
  .refine((days) => new Set(days).size === days.length, "Must not repeat a day")
  .openapi({ description: "ISO weekdays, 1 = Monday … 7 = Sunday", example: [1, 2, 3, 4, 5] });

const retryRule = z
  .object({ delay_minutes: z.number().int().min(1).max(7 * 24 * 60) })
  .nullable()
  .openapi({ description: "Wait before redialling after this outcome; null = never redial after it" });

export const RetryPolicySchema = z
  .object({ no_answer: retryRule.optional(), busy: retryRule.optional(), failed: retryRule.optional(), voicemail: retryRule.optional() } satisfies Record<
    RetryableOutcome,
    unknown
  >)
  .strict()
  .openapi("RetryPolicy", {
    description:
      "Redial delay per outcome (our addition). Defaults: no_answer 120 min, busy 15 min, failed 30 min, voicemail never. Applies only with `retry_failed`; `max_retry_attempts` bounds the redials. Every redial lands inside a later calling window, and a number gets at most 3 campaign calls per 24 h across the organization.",
    example: { no_answer: { delay_minutes: 120 }, busy: { delay_minutes: 15 }, voicemail: null },
  });

export const InlineContact = z
  .object({
    phone_number: phoneInput,
    first_name: z.string().max(100).nullish(),
    last_name: z.string().max(100).nullish(),
    email: z.string().email().max(255).nullish(),
    timezone: timezone.nullish(),
    custom_fields: z
      .record(z.string().min(1).max(CUSTOM_FIELD_LIMITS.keyLength), z.string().max(CUSTOM_FIELD_LIMITS.valueLength))
      .refine((o) => Object.keys(o).length <= CUSTOM_FIELD_LIMITS.maxKeys, `At most ${CUSTOM_FIELD_LIMITS.maxKeys} custom fields`)
      .nullish(),
  })
  .openapi("BatchCallInlineContact");

const scheduleFields = {
  schedule_type: z.enum(["immediate", "scheduled"]).optional().openapi({ description: "Default `immediate`" }),
  scheduled_at: z.iso.datetime({ offset: true }).nullish().openapi({ description: "When the schedule starts (required for `scheduled`)", example: "2026-12-01T14:00:00Z" }),
  timezone: timezone.optional().openapi({ description: "IANA zone of the daily window; default UTC" }),
  start_time: hhmm.nullish().openapi({ description: "Daily window start, local to `timezone`" }),
  end_time: hhmm.nullish().openapi({ description: "Daily window end (exclusive); before `start_time` means the window crosses midnight", example: "17:00" }),
  working_days: workingDays.optional(),
  max_concurrent_calls: z.number().int().min(1).max(100).optional().openapi({ description: "Default 10; the organization's own limit also applies" }),
  max_calls_per_day: z.number().int().min(1).max(1_000_000).nullish(),
  max_calls_per_number_per_day: z
    .number()
    .int()
    .min(1)
    .max(100_000)
    .nullish()
    .openapi({ description: "Daily dial cap per caller ID (our addition); with `sequential` rotation a number is used until it reaches it" }),
  retry_failed: z.boolean().optional(),
  max_retry_attempts: z.number().int().min(0).max(3).optional(),
  retry_policy: RetryPolicySchema.nullish(),
  respect_recipient_timezone: z
    .boolean()
    .optional()
    .openapi({ description: "Apply the daily window in each contact's own zone (from the contact's `timezone`, else its number) instead of `timezone`" }),
};

export const CreateBatchCallBody = z
  .object({
    name: z.string().trim().min(1).max(255),
    agent_id: uuidRef,
    phone_number_ids: z.array(uuidRef).min(1).max(100).nullish().openapi({ description: "Caller-ID pool; default: the agent's outbound numbers" }),
    phone_rotation_strategy: z.enum(ROTATION_STRATEGIES).optional().openapi({ description: "Default `random`" }),
    contact_source: z.enum(["csv", "folder", "manual"]).optional(),
    contact_folder_id: uuidRef.nullish().openapi({ description: "The folder's contacts are copied in when the campaign is scheduled" }),
    contact_ids: z.array(uuidRef).max(MAX_INLINE_CONTACTS).nullish(),
    contacts: z.array(InlineContact).max(MAX_INLINE_CONTACTS).nullish(),
    default_country: defaultCountry,
    ...scheduleFields,
  })
  .openapi({
    example: {
      name: "December renewals",
      agent_id: EXAMPLE_ID,
      contact_folder_id: "0193a5b2-7c1e-7d2a-9f10-2b3c4d5e6f71",
      schedule_type: "scheduled",
      scheduled_at: "2026-12-01T14:00:00Z",
      timezone: "America/New_York",
      start_time: "09:00",
      end_time: "17:00",
      working_days: [1, 2, 3, 4, 5],
      max_concurrent_calls: 10,
      max_calls_per_day: 500,
      retry_failed: true,
      max_retry_attempts: 2,
    },
  });
export type CreateBatchCallInput = z.infer<typeof CreateBatchCallBody>;

export const UpdateBatchCallBody = z
  .object({
    name: z.string().trim().min(1).max(255).optional(),
    phone_number_ids: z.array(uuidRef).min(1).max(100).nullish(),
    phone_rotation_strategy: z.enum(ROTATION_STRATEGIES).optional(),
    ...scheduleFields,
  })
  .openapi({ example: { end_time: "18:00", max_calls_per_day: 800 } });
export type UpdateBatchCallInput = z.infer<typeof UpdateBatchCallBody>;

export const ScheduleBatchCallBody = z
  .object({
    scheduled_at: z.iso.datetime({ offset: true }).nullish().openapi({ description: "Omitted or null: start now" }),
    timezone: timezone.optional(),
  })
  .openapi({ example: { scheduled_at: "2026-12-01T14:00:00Z", timezone: "America/New_York" } });

export const StatsSchema = z
  .object({
    total: z.number().int(),
    pending: z.number().int(),
    scheduled: z.number().int(),
    retry_scheduled: z.number().int(),
    dialing: z.number().int(),
    in_progress: z.number().int(),
    completed: z.number().int(),
    failed: z.number().int(),
    no_answer: z.number().int(),
    busy: z.number().int(),
    voicemail: z.number().int(),
    skipped: z.number().int(),
    called: z.number().int().openapi({ description: "Contacts dialled at least once" }),
    attempts: z.number().int().openapi({ description: "Calls placed, redials included" }),
    cost_credits: z.number(),
    estimated_finish_at: z.string().nullable(),
  })
  .openapi("BatchCallStats");

export const BatchCallSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    status: z.enum(CAMPAIGN_STATUSES),
    status_reason: z.string().nullable().openapi({ description: "Why the campaign failed, or was paused by the platform" }),
    agent_id: z.string(),
    phone_number_ids: z.array(z.string()).nullable(),
    phone_rotation_strategy: z.enum(ROTATION_STRATEGIES),
    contact_source: z.enum(["csv", "folder", "manual"]),
    contact_folder_id: z.string().nullable(),
    schedule_type: z.enum(["immediate", "scheduled"]),
    scheduled_at: z.string().nullable(),
    timezone: z.string(),
    start_time: z.string().nullable(),
    end_time: z.string().nullable(),
    working_days: z.array(z.number().int()),
    max_concurrent_calls: z.number().int(),
    concurrency: z.number().int().openapi({ description: "Alias of `max_concurrent_calls`" }),
    max_calls_per_day: z.number().int().nullable(),
    max_calls_per_number_per_day: z.number().int().nullable(),
    retry_failed: z.boolean(),
    max_retry_attempts: z.number().int(),
    retry_attempts: z.number().int().openapi({ description: "Alias of `max_retry_attempts`" }),
    retry_policy: RetryPolicySchema,
    respect_recipient_timezone: z.boolean(),
    total_contacts: z.number().int(),
    called: z.number().int(),
    completed: z.number().int(),
    failed: z.number().int(),
    pending: z.number().int().openapi({ description: "Contacts still waiting for a dial (pending, scheduled or awaiting a redial)" }),
    stats: StatsSchema,
    started_at: z.string().nullable(),
    paused_at: z.string().nullable(),
    completed_at: z.string().nullable(),
    cancelled_at: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("BatchCall");

export const ListBatchCallsQuery = LimitOffsetQuery.extend({
  agent_id: z.string().max(100).optional(),
  status: z.enum(CAMPAIGN_STATUSES).optional(),
});

export const ListCampaignContactsQuery = LimitOffsetQuery.extend({
  status: z.enum(CONTACT_STATUSES).optional(),
});

export const AttemptSchema = z
  .object({
    attempt: z.number().int(),
    call_id: z.string(),
    from_number: z.string(),
    scheduled_at: z.string().nullable(),
    dialed_at: z.string(),
    call_status: z.string().nullable(),
    outcome: z.string().nullable(),
    end_reason: z.string().nullable(),
    ended_at: z.string().nullable(),
    duration_seconds: z.number().int().nullable(),
    cost_credits: z.number().nullable(),
  })
  .openapi("BatchCallAttempt");

export const CampaignContactSchema = z
  .object({
    contact_id: z.string(),
    phone_number: z.string(),
    first_name: z.string().nullable(),
    last_name: z.string().nullable(),
    email: z.string().nullable(),
    timezone: z.string().nullable(),
    custom_fields: z.record(z.string(), z.string()),
    status: z.enum(CONTACT_STATUSES),
    skip_reason: z.enum(SKIP_REASONS).nullable(),
    scheduled_at: z.string().nullable(),
    call_status: z.string().nullable(),
    call_id: z.string().nullable(),
    called_at: z.string().nullable(),
    attempts_count: z.number().int(),
    attempts: z.array(AttemptSchema).openapi({ description: "Every dial of this contact, oldest first" }),
  })
  .openapi("BatchCallContact");

export const AddContactsBody = z
  .object({
    contacts: z.array(z.unknown()).min(1).max(MAX_INLINE_CONTACTS).openapi({
      description: "Each `{phone_number, first_name?, last_name?, email?, timezone?, custom_fields?}`; an invalid entry is reported in `errors` and does not stop the rest",
    }),
    default_country: defaultCountry,
  })
  .openapi({ example: { contacts: [{ phone_number: "+14155550123", first_name: "Ada" }] } });

export const AddContactsResult = z
  .object({
    added_count: z.number().int(),
    failed_count: z.number().int().openapi({ description: "Invalid entries plus numbers already in the campaign" }),
    duplicate_count: z.number().int(),
    errors: z.array(z.object({ index: z.number().int(), field: z.string(), message: z.string() })),
  })
  .openapi("BatchCallAddContactsResult");

export const ImportCampaignContactsForm = z.object({
  file: z
    .custom<File | string>((v) => v instanceof File || typeof v === "string", { error: "Required: the CSV as a multipart file field named `file`" })
    .openapi({ type: "string", format: "binary", description: "The CSV; header row required, with a `phone` or `phone_number` column" }),
  default_country: defaultCountry,
});

export const ImportCampaignContactsResult = z
  .object({
    imported: z.number().int(),
    skipped: z.number().int().openapi({ description: "Rows repeating a phone of the file or of the campaign" }),
    errors: z.number().int(),
    error_details: ImportErrorDetailsSchema,
  })
  .openapi("BatchCallContactImportResult");

export const AuditQuery = LimitOffsetQuery.extend({ decision: z.enum(DIAL_DECISIONS).optional() });

export const AuditEntrySchema = z
  .object({
    id: z.number().int(),
    at: z.string(),
    contact_id: z.string().nullable(),
    phone_number: z.string().nullable(),
    attempt: z.number().int().nullable(),
    decision: z.enum(DIAL_DECISIONS),
    reason: z.string().nullable(),
    call_id: z.string().nullable(),
  })
  .openapi("BatchCallDialDecision");

export const BulkDeleteBody = z.object({ ids: z.array(z.string().min(1).max(100)).min(1).max(100) });
export const BulkDeleteResult = z.object({
  deleted_count: z.number().int(),
  failed_count: z.number().int(),
  deleted_ids: z.array(z.string()),
  failed_ids: z.array(z.string()),
  failures: z.array(z.object({ id: z.string(), code: z.string(), message: z.string() })),
});
