import { z } from "@hono/zod-openapi";
import { calls } from "../../db/schema";
import { DEFAULT_RANGE_DAYS, GROUP_BY, MAX_RANGE_DAYS } from "../../domain/analytics";
import { isValidTimeZone } from "../../domain/campaign-schedule";
import { CALL_STATUSES } from "../../domain/calls";

const TimeZoneQuery = z
  .string()
  .max(64)
  .refine(isValidTimeZone, "Must be an IANA time zone such as America/New_York")
  .default("UTC")
  .openapi({ description: "IANA time zone of the day and hour buckets (and of campaign days)", example: "America/New_York" });

const Instant = (description: string, example: string) => z.iso.datetime({ offset: true }).optional().openapi({ description, example });

export const CallAnalyticsQuery = z.object({
  from: Instant(`Start of the range (inclusive), an ISO-8601 instant; default ${DEFAULT_RANGE_DAYS} days before \`to\``, "2026-03-01T00:00:00Z"),
  to: Instant("End of the range (exclusive), an ISO-8601 instant after `from`; default now", "2026-03-31T00:00:00Z"),
  tz: TimeZoneQuery,
  group_by: z.enum(GROUP_BY).default("day").openapi({
    description: `\`day\` or \`hour\` of the call's creation in \`tz\` (ranges of at most ${MAX_RANGE_DAYS.day} and ${MAX_RANGE_DAYS.hour} days), or \`agent\`, \`campaign\`, \`end_reason\``,
    example: "day",
  }),
  agent_id: z.string().min(1).max(100).optional().openapi({ description: "Only this agent's calls", example: "0193a5b2-7c1e-7d2a-9f10-2b3c4d5e6f70" }),
  campaign_id: z.string().min(1).max(100).optional().openapi({ description: "Only this campaign's (batch call's) calls", example: "0193a5b4-1a2b-7c3d-8e4f-5a6b7c8d9e0f" }),
  direction: z.enum(calls.direction.enumValues).optional().openapi({ description: "Only calls in this direction", example: "outbound" }),
  status: z
    .enum([...CALL_STATUSES, "in-progress", "ended"])
    .optional()
    .openapi({ description: "Only calls in this status; `in-progress` and `ended` are aliases of `in_progress` and `completed`", example: "completed" }),
});

export const CampaignAnalyticsQuery = z.object({ tz: TimeZoneQuery });

const rate = (description: string) => z.number().min(0).max(1).nullable().openapi({ description: `${description}, 0–1; null when the denominator is 0`, example: 0.62 });

const metricFields = {
  calls: z.number().int().openapi({ description: "Calls created in the range (or bucket) that pass the filters", example: 120 }),
  answered: z.number().int().openapi({ description: "Calls that connected (answered by a person or a machine)", example: 74 }),
  answered_rate: rate("answered / calls"),
  analyzed: z.number().int().openapi({ description: "Calls whose post-call analysis completed", example: 60 }),
  successful: z.number().int().openapi({ description: "Analyzed calls whose analysis says `success: true`", example: 41 }),
  success_rate: rate("successful / analyzed"),
  avg_handle_time_s: z.number().nullable().openapi({ description: "Mean connected duration (billed seconds) of the answered calls; null without any", example: 94.5 }),
  p95_handle_time_s: z.number().int().nullable().openapi({ description: "95th percentile (nearest rank) of the answered calls' connected duration, seconds", example: 210 }),
  total_cost: z.number().openapi({ description: "Sum of the calls' `cost_credits`", example: 118.25 }),
  avg_cost: z.number().nullable().openapi({ description: "total_cost / calls; null when there are no calls", example: 0.9854 }),
  latency_p50_ms: z.number().int().nullable().openapi({ description: "Median (nearest rank) of the calls' own `latency.p50_ms`; null when no call has latency", example: 820 }),
  latency_p95_ms: z.number().int().nullable().openapi({ description: "95th percentile (nearest rank) of the calls' own `latency.p95_ms`", example: 1460 }),
};

export const CallMetricsSchema = z.object(metricFields).openapi("CallMetrics");

const CallGroupSchema = z
  .object({
    key: z.string().openapi({
      description:
        "day/hour: the bucket's local start with the zone's offset (`2026-03-08T00:00:00-05:00`); agent/campaign: the id (`none`: no campaign); end_reason: the reason (`none`: not ended)",
      example: "2026-03-08T00:00:00-05:00",
    }),
    label: z.string().openapi({ description: "`2026-03-08` or `2026-03-08 14:00`; the agent's or campaign's name; the end reason", example: "2026-03-08" }),
    ...metricFields,
  })
  .openapi("CallMetricsGroup");

export const CallAnalyticsSchema = z
  .object({
    from: z.string().openapi({ description: "The range's start (UTC)", example: "2026-03-01T00:00:00.000Z" }),
    to: z.string().openapi({ description: "The range's end, exclusive (UTC)", example: "2026-03-31T00:00:00.000Z" }),
    tz: z.string().openapi({ description: "The time zone of the buckets", example: "America/New_York" }),
    group_by: z.enum(GROUP_BY).openapi({ description: "How `groups` are formed", example: "day" }),
    totals: CallMetricsSchema.openapi({ description: "Every call in the range that passes the filters" }),
    groups: z.array(CallGroupSchema).openapi({
      description:
        "day/hour: every bucket of the range in order, empty ones included (the first and last count only calls inside the range); agent/campaign/end_reason: groups with calls, most calls first",
    }),
  })
  .openapi("CallAnalytics");

export const CampaignAnalyticsSchema = z
  .object({
    campaign_id: z.string().openapi({ description: "The campaign (batch call) id", example: "0193a5b4-1a2b-7c3d-8e4f-5a6b7c8d9e0f" }),
    name: z.string().openapi({ description: "The campaign's name", example: "March reminders" }),
    status: z.string().openapi({ description: "The campaign's status", example: "active" }),
    tz: z.string().openapi({ description: "The time zone of `days`", example: "America/New_York" }),
    funnel: z
      .object({
        scheduled: z.number().int().openapi({ description: "Contacts in the campaign (skipped ones included)", example: 500 }),
        dialled: z.number().int().openapi({ description: "Contacts with at least one attempt", example: 420 }),
        answered: z.number().int().openapi({ description: "Contacts with an answered call (by a person or a machine)", example: 260 }),
        success: z.number().int().openapi({ description: "Contacts with a call whose post-call analysis says `success: true`", example: 96 }),
      })
      .openapi({ description: "Contacts at each stage" }),
    days: z
      .array(
        z.object({
          date: z.string().openapi({ description: "Local date in `tz`, YYYY-MM-DD", example: "2026-03-08" }),
          dialled: z.number().int().openapi({ description: "Attempts dialled that day (a redial counts again)", example: 120 }),
          answered: z.number().int().openapi({ description: "Of those, attempts answered", example: 70 }),
          success: z.number().int().openapi({ description: "Calls created that day whose analysis says `success: true`", example: 25 }),
          cost: z.number().openapi({ description: "Credits of the attempts dialled that day", example: 41.5 }),
        }),
      )
      .openapi({ description: "Every local day from the day the campaign started to the day it ended (or today), at most the last 400; empty before it starts" }),
  })
  .openapi("CampaignAnalytics");
