import { Temporal } from "temporal-polyfill";
import { z } from "zod";
import { MAX_RANGE_DAYS } from "../domain/analytics";
import { isValidTimeZone } from "../domain/campaign-schedule";

/**
 * The analytics page's filters, from its query string, and the instants they mean. Ranges are
 * whole local days in the viewer's zone: "last 7 days" is today and the six days before it, so
 * today's calls always show; a custom range includes both of its dates.
 */

export const PRESET_DAYS = [7, 30, 90] as const;

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "Use a date such as 2026-03-31")
  .refine((value) => {
    try {
      Temporal.PlainDate.from(value, { overflow: "reject" });
      return true;
    } catch {
      return false;
    }
  }, "That date does not exist");

const optionalId = z
  .string()
  .trim()
  .max(100)
  .optional()
  .transform((value) => value || undefined);

export const AnalyticsFilters = z.object({
  range: z.enum(["7", "30", "90", "custom"]).catch("30"),
  from: z.union([z.literal(""), isoDate]).optional(),
  to: z.union([z.literal(""), isoDate]).optional(),
  // An unknown zone falls back to UTC instead of failing the page; the page says which it used.
  tz: z
    .string()
    .max(64)
    .refine(isValidTimeZone)
    .catch("UTC"),
  agent_id: optionalId,
  campaign_id: optionalId,
});

export type AnalyticsFilterValues = z.infer<typeof AnalyticsFilters>;

export type ResolvedRange =
  | { ok: true; from: string; to: string; firstDay: string; lastDay: string; days: number }
  | { ok: false; field: "from" | "to"; message: string };

/** The [from, to) instants of the chosen days in `tz`, or which date field is wrong and why. */
export function resolveAnalyticsRange(filters: AnalyticsFilterValues, nowMs: number): ResolvedRange {
  const today = Temporal.Instant.fromEpochMilliseconds(nowMs).toZonedDateTimeISO(filters.tz).toPlainDate();
  let first: Temporal.PlainDate;
  let last: Temporal.PlainDate;
  if (filters.range === "custom") {
    if (!filters.from) return { ok: false, field: "from", message: "Choose the first day of the custom range" };
    if (!filters.to) return { ok: false, field: "to", message: "Choose the last day of the custom range" };
    first = Temporal.PlainDate.from(filters.from);
    last = Temporal.PlainDate.from(filters.to);
    if (Temporal.PlainDate.compare(first, last) > 0) return { ok: false, field: "to", message: "The last day must not be before the first day" };
  } else {
    last = today;
    first = today.subtract({ days: Number(filters.range) - 1 });
  }
  const days = first.until(last, { largestUnit: "days" }).days + 1;
  if (days > MAX_RANGE_DAYS.day) return { ok: false, field: "from", message: `Choose at most ${MAX_RANGE_DAYS.day} days` };
  const startOf = (date: Temporal.PlainDate) => date.toZonedDateTime({ timeZone: filters.tz }).toInstant().toString();
  return { ok: true, from: startOf(first), to: startOf(last.add({ days: 1 })), firstDay: first.toString(), lastDay: last.toString(), days };
}
