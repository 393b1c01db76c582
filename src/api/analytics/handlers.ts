import { batchCalls } from "../../db/schema";
import {
  bucketBounds,
  campaignDaySpan,
  EMPTY_SUMS,
  isTimeUnit,
  resolveRange,
  timeBuckets,
  toMetrics,
  type GroupBy,
} from "../../domain/analytics";
import { statusesForFilter } from "../../domain/calls";
import { ok } from "../../lib/envelope";
import { invalidField } from "../../lib/errors";
import type { AppRouteHandler } from "../../lib/types";
import { callMetrics, campaignSuccesses, type CallFilters, type GroupSums } from "./queries";
import type * as routes from "./routes";

const iso = (ms: number) => new Date(ms).toISOString();
const isoBounds = (bounds: [number, number][]): [string, string][] => bounds.map(([lo, hi]) => [iso(lo), iso(hi)]);

/** Key and label of an agent, campaign or end-reason group. */
function describeGroup(groupBy: Exclude<GroupBy, "day" | "hour">, group: GroupSums): { key: string; label: string } {
  const id = group.group === null ? null : String(group.group);
  if (groupBy === "end_reason") return { key: id ?? "none", label: id ?? "none" };
  if (groupBy === "campaign" && id === null) return { key: "none", label: "No campaign" };
  return { key: id!, label: group.name ?? (groupBy === "agent" ? "Deleted agent" : "Deleted campaign") };
}

export const callAnalytics: AppRouteHandler<typeof routes.callAnalytics> = async (c) => {
  const q = c.req.valid("query");
  const range = resolveRange({ from: q.from, to: q.to, nowMs: c.get("clock").now(), groupBy: q.group_by });
  if (!range.ok) throw invalidField(range.field, range.reason);
  const filters: CallFilters = {
    agentId: q.agent_id,
    campaignId: q.campaign_id,
    direction: q.direction,
    statuses: q.status === undefined ? undefined : statusesForFilter(q.status),
  };
  const tenant = c.get("tenant");
  const groupBy = q.group_by;
  if (isTimeUnit(groupBy)) {
    const buckets = timeBuckets(range.fromMs, range.toMs, q.tz, groupBy);
    const result = await callMetrics(tenant, { kind: "buckets", bounds: isoBounds(bucketBounds(buckets, range.fromMs, range.toMs)) }, filters);
    const byBucket = new Map(result.groups.map((g) => [Number(g.group), g.sums]));
    const groups = buckets.map((b, i) => ({ key: b.key, label: b.label, ...toMetrics(byBucket.get(i) ?? EMPTY_SUMS) }));
    return ok(c, { from: iso(range.fromMs), to: iso(range.toMs), tz: q.tz, group_by: groupBy, totals: toMetrics(result.totals), groups });
  }
  const result = await callMetrics(tenant, { kind: groupBy, fromIso: iso(range.fromMs), toIso: iso(range.toMs) }, filters);
  const groups = result.groups.map((g) => ({ ...describeGroup(groupBy, g), ...toMetrics(g.sums) }));
  return ok(c, { from: iso(range.fromMs), to: iso(range.toMs), tz: q.tz, group_by: groupBy, totals: toMetrics(result.totals), groups });
};

export const campaignAnalytics: AppRouteHandler<typeof routes.campaignAnalytics> = async (c) => {
  const { id } = c.req.valid("param");
  const { tz } = c.req.valid("query");
  const tenant = c.get("tenant");
  // The org check comes first: the campaign's object is only asked once the campaign is known to be this org's.
  const campaign = await tenant.get(batchCalls, id, "Batch call");
  const span = campaignDaySpan(campaign, c.get("clock").now());
  const days = span ? timeBuckets(span.fromMs, span.toMs, tz, "day") : [];
  const bounds: [number, number][] = days.map((d) => [d.startMs, d.endMs]);
  const [counts, successes] = await Promise.all([
    c.env.CAMPAIGN.get(c.env.CAMPAIGN.idFromName(id)).analytics(JSON.stringify(bounds)),
    campaignSuccesses(tenant, id, isoBounds(bounds)),
  ]);
  const activity = new Map(counts.days.map((d) => [d.bucket, d]));
  return ok(c, {
    campaign_id: campaign.id,
    name: campaign.name,
    status: campaign.status,
    tz,
    funnel: { scheduled: counts.scheduled, dialled: counts.dialled, answered: counts.answered, success: successes.contacts },
    days: days.map((d, i) => ({
      date: d.label,
      dialled: activity.get(i)?.dialled ?? 0,
      answered: activity.get(i)?.answered ?? 0,
      success: successes.perBucket.get(i) ?? 0,
      cost: Math.round((activity.get(i)?.cost ?? 0) * 10_000) / 10_000,
    })),
  });
};
