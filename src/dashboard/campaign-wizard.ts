import { Temporal } from "temporal-polyfill";
import { z } from "zod";
import { isValidTimeZone } from "../domain/campaign-schedule";
import { ROTATION_STRATEGIES } from "../domain/campaigns";
import type { ApiFailure } from "./api";
import { checkbox, manyOf, optionalInteger, optionalText, parseForm, requiredText, type FormValues } from "./forms";

/**
 * The campaign wizard's steps as data: which fields each step asks for, their shape, and the
 * API body they add up to. The wizard works without JavaScript: each step is its own page and
 * carries the earlier steps' answers as hidden fields, so the values are checked again at the end.
 */

export const WIZARD_STEPS = [
  { number: 1, title: "Name, agent and caller ID" },
  { number: 2, title: "Contacts" },
  { number: 3, title: "Schedule, calling window and redials" },
  { number: 4, title: "Review and launch" },
] as const;

export type StepNumber = 1 | 2 | 3 | 4;

const hhmm = z
  .string()
  .trim()
  .optional()
  .transform((v) => v || undefined)
  .pipe(
    z
      .string()
      .regex(/^([01]\d|2[0-3]):[0-5]\d$/, "Use a 24-hour time such as 09:00")
      .optional(),
  );

const redialDelay = optionalInteger(0, 7 * 24 * 60);

/** A choice from a list (a select or radio buttons): "Choose …" when none was made. */
const chosen = (what: string) => z.string({ error: `Choose ${what}` }).trim().min(1, `Choose ${what}`).max(100);

const Basics = z.object({
  name: requiredText(255, "a name for the campaign"),
  agent_id: chosen("an agent"),
  phone_number_ids: manyOf(z.string().min(1).max(100)).refine((ids) => ids.length <= 100, "Choose at most 100 numbers"),
  phone_rotation_strategy: z.enum(ROTATION_STRATEGIES, { error: "Choose how caller IDs take turns" }).default("random"),
});

const Contacts = z.object({
  contact_folder_id: chosen("a contact folder"),
});

const Schedule = z
  .object({
    start: z.enum(["now", "later"], { error: "Choose when the campaign starts" }).default("now"),
    scheduled_at: optionalText(16),
    timezone: z
      .string()
      .trim()
      .min(1, "Enter a time zone such as America/New_York")
      .max(64)
      .refine(isValidTimeZone, "Not a known time zone; use an IANA name such as America/New_York"),
    start_time: hhmm,
    end_time: hhmm,
    working_days: manyOf(z.enum(["1", "2", "3", "4", "5", "6", "7"])).refine((days) => days.length > 0, "Choose at least one day"),
    max_calls_per_day: optionalInteger(1, 1_000_000),
    max_concurrent_calls: optionalInteger(1, 100),
    respect_recipient_timezone: checkbox,
    redial: checkbox,
    redial_attempts: optionalInteger(0, 3),
    delay_no_answer: redialDelay,
    delay_busy: redialDelay,
    delay_failed: redialDelay,
    delay_voicemail: redialDelay,
  })
  .superRefine((s, ctx) => {
    if (s.start !== "later") return;
    if (!s.scheduled_at) ctx.addIssue({ code: "custom", path: ["scheduled_at"], message: "Enter the date and time the campaign starts" });
    else if (scheduledInstant(s.scheduled_at, s.timezone) === undefined) {
      ctx.addIssue({ code: "custom", path: ["scheduled_at"], message: "Use a date and time such as 2026-12-01T09:00" });
    }
  });

const STEP_SCHEMAS = { 1: Basics, 2: Contacts, 3: Schedule } as const;

/** The field names each step shows; the other steps' values travel as hidden fields. */
export const STEP_FIELDS: Record<StepNumber, string[]> = {
  1: Object.keys(Basics.shape),
  2: Object.keys(Contacts.shape),
  3: Object.keys(Schedule.shape),
  4: [],
};

/** What step 3 shows the first time: weekdays 09:00–17:00 UTC, one redial. */
export const SCHEDULE_DEFAULTS: FormValues = {
  start: "now",
  timezone: "UTC",
  start_time: "09:00",
  end_time: "17:00",
  working_days: ["1", "2", "3", "4", "5"],
  max_concurrent_calls: "10",
  redial: "on",
  redial_attempts: "1",
};

/** A `datetime-local` value read as wall time in `timeZone` (the earlier instant when a DST change repeats it). */
function scheduledInstant(local: string, timeZone: string): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(local) || !isValidTimeZone(timeZone)) return undefined;
  try {
    return Temporal.PlainDateTime.from(local, { overflow: "reject" }).toZonedDateTime(timeZone, { disambiguation: "earlier" }).toInstant().toString();
  } catch {
    return undefined;
  }
}

export function checkStep(step: 1 | 2 | 3, values: FormValues): ApiFailure | undefined {
  const result = parseForm(values, STEP_SCHEMAS[step]);
  return result.ok ? undefined : result.error;
}

/** The first step whose values do not pass, with why; undefined when all do. */
export function firstInvalidStep(values: FormValues): { step: 1 | 2 | 3; error: ApiFailure } | undefined {
  for (const step of [1, 2, 3] as const) {
    const error = checkStep(step, values);
    if (error) return { step, error };
  }
  return undefined;
}

/** The step that asks for the field an API error names, so the wizard can show it there. */
export function stepOfField(field: unknown): 1 | 2 | 3 {
  if (typeof field !== "string") return 1;
  const top = field.split(".")[0];
  if (STEP_FIELDS[1].includes(top)) return 1;
  if (top === "contact_folder_id" || top === "contact_ids" || top === "contacts") return 2;
  return 3;
}

/** The wizard's error, re-labelled with the form's own field names where the API's differ. */
export function relabelApiError(error: ApiFailure): ApiFailure {
  const rename: Record<string, string> = { retry_failed: "redial", max_retry_attempts: "redial_attempts", retry_policy: "delay_no_answer" };
  const issues = Array.isArray(error.details?.issues) ? (error.details.issues as { field: string; reason: string }[]) : [];
  if (!issues.some((i) => rename[i.field.split(".")[0]])) return error;
  return {
    ...error,
    details: { ...error.details, issues: issues.map((i) => ({ ...i, field: rename[i.field.split(".")[0]] ?? i.field })) },
  };
}

/** The `POST /batch-calls` body for a completed wizard (call after `firstInvalidStep` passes). */
export function createBody(values: FormValues) {
  const basics = Basics.parse(values);
  const contacts = Contacts.parse(values);
  const s = Schedule.parse(values);
  const delays = { no_answer: s.delay_no_answer, busy: s.delay_busy, failed: s.delay_failed, voicemail: s.delay_voicemail };
  const given = Object.entries(delays).filter(([, minutes]) => minutes !== undefined);
  return {
    name: basics.name,
    agent_id: basics.agent_id,
    phone_number_ids: basics.phone_number_ids.length > 0 ? basics.phone_number_ids : undefined,
    phone_rotation_strategy: basics.phone_rotation_strategy,
    contact_source: "folder" as const,
    contact_folder_id: contacts.contact_folder_id,
    schedule_type: s.start === "later" ? ("scheduled" as const) : ("immediate" as const),
    scheduled_at: s.start === "later" ? scheduledInstant(s.scheduled_at!, s.timezone) : undefined,
    timezone: s.timezone,
    start_time: s.start_time,
    end_time: s.end_time,
    working_days: s.working_days.map(Number),
    max_calls_per_day: s.max_calls_per_day,
    max_concurrent_calls: s.max_concurrent_calls,
    respect_recipient_timezone: s.respect_recipient_timezone,
    retry_failed: s.redial,
    max_retry_attempts: s.redial ? (s.redial_attempts ?? 1) : 0,
    // 0 minutes means "never redial after this outcome"; a blank box keeps the default.
    retry_policy: given.length > 0 ? Object.fromEntries(given.map(([outcome, minutes]) => [outcome, minutes === 0 ? null : { delay_minutes: minutes }])) : undefined,
  };
}
