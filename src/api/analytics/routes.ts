import { createRoute } from "@hono/zod-openapi";
import { dataEnvelope, errorResponses, IdParams, jsonResponse } from "../../lib/openapi";
import { CallAnalyticsQuery, CallAnalyticsSchema, CampaignAnalyticsQuery, CampaignAnalyticsSchema } from "./schemas";

const tags = ["Analytics"];

export const callAnalytics = createRoute({
  method: "get",
  path: "/analytics/calls",
  tags,
  summary: "Call metrics over a time range, grouped",
  description: [
    "Counts the organization's calls **by their creation time** in `[from, to)` (default: the last 30 days), filtered by agent, campaign, direction and status, and groups them by local `day` or `hour` of `tz`, by `agent`, `campaign` or `end_reason`. `totals` covers every call in the range; for day and hour every bucket is listed, also empty ones, and a day is 23 or 25 hours on a DST change. Ids of another organization simply match nothing.",
    "Answered: the call connected (`started_at` set). Success: `analysis.success` is true, over the calls whose post-call analysis completed. Handle time: the answered calls' `duration_seconds`. Cost: `cost_credits`.",
    "Percentiles are nearest-rank: the value at rank ⌈p·n/100⌉ of the n values in ascending order. `latency_p50_ms` is that median over the calls' own `latency.p50_ms`, `latency_p95_ms` the 95th percentile over their `latency.p95_ms`, and `p95_handle_time_s` the 95th percentile of the handle times.",
    "422 for an unknown `tz`, `from` not before `to`, or a range longer than 31 days with `group_by=hour` (400 days with `day`).",
  ].join("\n\n"),
  request: { query: CallAnalyticsQuery },
  responses: { 200: jsonResponse(dataEnvelope(CallAnalyticsSchema), "Totals and groups"), ...errorResponses },
});

export const campaignAnalytics = createRoute({
  method: "get",
  path: "/analytics/campaigns/{id}",
  tags,
  summary: "A campaign's funnel and daily activity",
  description: [
    "The funnel counts contacts from the campaign's own records: `scheduled` (in the campaign), `dialled` (at least one attempt), `answered` (an attempt connected) and `success` (a call whose post-call analysis says `success: true`).",
    "`days` counts attempts by the local date of their dial in `tz` (default UTC), from the day the campaign started to the day it ended (or today), empty days included; `success` counts successful calls by the day they were created.",
  ].join("\n\n"),
  request: { params: IdParams, query: CampaignAnalyticsQuery },
  responses: { 200: jsonResponse(dataEnvelope(CampaignAnalyticsSchema), "The funnel and days"), ...errorResponses },
});
