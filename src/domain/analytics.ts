import { Temporal } from "temporal-polyfill";

/**
 * Call analytics as pure rules: the reporting range, local-time buckets and the metrics' final
 * arithmetic. The counting itself happens in SQL (src/api/analytics/queries.ts for D1,
 * src/campaigns/analytics.ts for a campaign's own storage); this module decides what the
 * buckets are and what the sums mean.
 *
 * Buckets are local days or hours of an IANA zone, computed here as UTC instants so the
 * database only compares timestamps: a New York day is 23 or 25 hours long on DST changes, an
 * Asia/Kolkata hour starts at :30 UTC, and the autumn's repeated hour is two buckets (same
 * label, keys with different offsets).
 */

export const GROUP_BY = ["day", "hour", "agent", "campaign", "end_reason"] as const;
export type GroupBy = (typeof GROUP_BY)[number];
export type TimeUnit = "day" | "hour";

export const DAY_MS = 86_400_000;
/** With no `from`, the range is the last 30 days up to `to`. */
export const DEFAULT_RANGE_DAYS = 30;
/** Longest range per time grouping: bounds the number of buckets (31 × 24 hours, 400 days). */
export const MAX_RANGE_DAYS: Record<TimeUnit, number> = { hour: 31, day: 400 };

export const isTimeUnit = (groupBy: GroupBy): groupBy is TimeUnit => groupBy === "day" || groupBy === "hour";

export type RangeResult = { ok: true; fromMs: number; toMs: number } | { ok: false; field: "from" | "to"; reason: string };

/** The reporting range [from, to): defaults filled in, order and length checked. */
export function resolveRange(input: { from?: string; to?: string; nowMs: number; groupBy: GroupBy }): RangeResult {
  const toMs = input.to === undefined ? input.nowMs : Date.parse(input.to);
  const fromMs = input.from === undefined ? toMs - DEFAULT_RANGE_DAYS * DAY_MS : Date.parse(input.from);
  if (!(fromMs < toMs)) return { ok: false, field: "to", reason: "Must be after from" };
  if (isTimeUnit(input.groupBy)) {
    const maxDays = MAX_RANGE_DAYS[input.groupBy];
    if (toMs - fromMs > maxDays * DAY_MS) {
      return { ok: false, field: "from", reason: `The range may span at most ${maxDays} days with group_by=${input.groupBy}` };
    }
  }
  return { ok: true, fromMs, toMs };
}

export interface TimeBucket {
  /** The bucket's local start as an ISO instant with the zone's offset, e.g. `2026-03-08T00:00:00-05:00`. */
  key: string;
  /** `2026-03-08` for days, `2026-03-08 14:00` for hours. */
  label: string;
  startMs: number;
  /** The next bucket's start (exclusive). */
  endMs: number;
}

function floorToUnit(zoned: Temporal.ZonedDateTime, unit: TimeUnit): Temporal.ZonedDateTime {
  return unit === "day" ? zoned.startOfDay() : zoned.round({ smallestUnit: "hour", roundingMode: "floor" });
}

function nextStart(start: Temporal.ZonedDateTime, unit: TimeUnit): Temporal.ZonedDateTime {
  if (unit === "day") return start.add({ days: 1 }).startOfDay();
  // One elapsed hour, floored back onto a wall-clock hour: zones whose DST shift is 30 minutes
  // (Australia/Lord_Howe) would otherwise drift off the hour. Elapsed time always moves forward.
  const later = start.add({ hours: 1 });
  const floored = floorToUnit(later, "hour");
  return floored.epochMilliseconds > start.epochMilliseconds ? floored : later;
}

function bucketLabel(start: Temporal.ZonedDateTime, unit: TimeUnit): string {
  const date = start.toPlainDate().toString();
  return unit === "day" ? date : `${date} ${String(start.hour).padStart(2, "0")}:${String(start.minute).padStart(2, "0")}`;
}

/**
 * Every local day or hour of `timeZone` that overlaps [fromMs, toMs), in order. The first bucket
 * may start before `fromMs` and the last end after `toMs`; queries count only the part inside
 * the range (see `bucketBounds`).
 */
export function timeBuckets(fromMs: number, toMs: number, timeZone: string, unit: TimeUnit): TimeBucket[] {
  const buckets: TimeBucket[] = [];
  let start = floorToUnit(Temporal.Instant.fromEpochMilliseconds(fromMs).toZonedDateTimeISO(timeZone), unit);
  while (start.epochMilliseconds < toMs) {
    const next = nextStart(start, unit);
    buckets.push({ key: start.toString({ timeZoneName: "never" }), label: bucketLabel(start, unit), startMs: start.epochMilliseconds, endMs: next.epochMilliseconds });
    start = next;
  }
  return buckets;
}

/** Each bucket's [start, end) clipped to the range, so totals never count calls outside [from, to). */
export function bucketBounds(buckets: readonly TimeBucket[], fromMs: number, toMs: number): [number, number][] {
  return buckets.map((b) => [Math.max(b.startMs, fromMs), Math.min(b.endMs, toMs)]);
}

/**
 * The nearest-rank percentile's rank (1-based) among n ascending values: ⌈p·n/100⌉, at least 1.
 * The queries compute the same integer in SQL; `p50` of an even count is the lower middle value.
 */
export function nearestRank(p: number, n: number): number {
  return Math.max(1, Math.ceil((p * n) / 100));
}

/** What a metrics query returns per group, before the rates and rounding. */
export interface MetricSums {
  calls: number;
  answered: number;
  analyzed: number;
  successful: number;
  handle_avg: number | null;
  handle_p95: number | null;
  cost_total: number;
  latency_p50: number | null;
  latency_p95: number | null;
}

export interface Metrics {
  calls: number;
  answered: number;
  answered_rate: number | null;
  analyzed: number;
  successful: number;
  success_rate: number | null;
  avg_handle_time_s: number | null;
  p95_handle_time_s: number | null;
  total_cost: number;
  avg_cost: number | null;
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;
const ratio = (part: number, whole: number) => (whole === 0 ? null : round(part / whole, 4));
const orNull = (value: number | null, digits: number) => (value === null ? null : round(value, digits));

/** Rates are 0–1 (4 decimals) or null on an empty denominator; costs keep 4 decimals, like the calls' own. */
export function toMetrics(sums: MetricSums): Metrics {
  return {
    calls: sums.calls,
    answered: sums.answered,
    answered_rate: ratio(sums.answered, sums.calls),
    analyzed: sums.analyzed,
    successful: sums.successful,
    success_rate: ratio(sums.successful, sums.analyzed),
    avg_handle_time_s: orNull(sums.handle_avg, 2),
    p95_handle_time_s: sums.handle_p95,
    total_cost: round(sums.cost_total, 4),
    avg_cost: sums.calls === 0 ? null : round(sums.cost_total / sums.calls, 4),
    latency_p50_ms: sums.latency_p50,
    latency_p95_ms: sums.latency_p95,
  };
}

export const EMPTY_SUMS: MetricSums = {
  calls: 0,
  answered: 0,
  analyzed: 0,
  successful: 0,
  handle_avg: null,
  handle_p95: null,
  cost_total: 0,
  latency_p50: null,
  latency_p95: null,
};

/**
 * The span of a campaign's `days`: from its start to its end (completed, cancelled, or the last
 * change of a failed one), or to now while it runs or is paused; at most the last 400 days.
 * Null before it started: nothing was dialled.
 */
export function campaignDaySpan(
  campaign: { status: string; startedAt: string | null; completedAt: string | null; cancelledAt: string | null; updatedAt: string },
  nowMs: number,
): { fromMs: number; toMs: number } | null {
  if (campaign.startedAt === null) return null;
  const startMs = Date.parse(campaign.startedAt);
  const ended = campaign.completedAt ?? campaign.cancelledAt ?? (campaign.status === "failed" ? campaign.updatedAt : null);
  // +1 ms: the end instant itself is inside the span (a campaign completing at 10:04 dialled until then).
  const toMs = Math.max(ended === null ? nowMs : Date.parse(ended), startMs) + 1;
  return { fromMs: Math.max(startMs, toMs - MAX_RANGE_DAYS.day * DAY_MS), toMs };
}
