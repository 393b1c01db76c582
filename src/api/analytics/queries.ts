import { sql, type SQL } from "drizzle-orm";
import type { TenantDb } from "../../db/tenant";
import type { CallStatus } from "../../domain/calls";
import type { MetricSums } from "../../domain/analytics";

/**
 * The analytics queries on D1's `calls` table. Everything is counted in SQL, one statement per
 * request: aggregates with GROUP BY, percentiles with window functions in the same statement,
 * and time buckets given as ONE bound JSON array read with `json_each` (D1 allows 100 bound
 * parameters; an hourly month is 744 buckets).
 *
 * Definitions, per call:
 * - answered: it connected (`started_at`, the answer instant, is set; a machine answering counts);
 * - analyzed: its post-call analysis completed; successful: that analysis says `success: true`;
 * - handle time: `duration_seconds` of an answered call (the carrier's billed duration);
 * - cost: `cost_credits`; latency: the call's own `latency.p50_ms` / `latency.p95_ms`.
 * Percentiles are nearest-rank (src/domain/analytics.ts `nearestRank`): the value at rank
 * ⌈p·n/100⌉ of the n ascending values, `(p * n + 99) / 100` in integer SQL.
 */

export interface CallFilters {
  agentId?: string;
  campaignId?: string;
  direction?: string;
  statuses?: CallStatus[];
}

/** How calls are grouped: by position in a list of [start, end) ISO bounds, or by a column. */
export type CallGrouping = { kind: "buckets"; bounds: [string, string][] } | { kind: "agent" | "campaign" | "end_reason"; fromIso: string; toIso: string };

export interface GroupSums {
  /** The bucket's index, or the column's value (null: no campaign / no end reason). */
  group: string | number | null;
  /** The agent's or campaign's name, when grouped by one (null if it no longer exists). */
  name: string | null;
  sums: MetricSums;
}

/** One group's sums (or the totals, `is_total` 1) with the group's key and display name. */
type Row = MetricSums & { is_total: number; g: string | number | null; name: string | null };

const GROUP_COLUMN = { agent: "c.agent_id", campaign: "c.batch_call_id", end_reason: "c.end_reason" } as const;

/**
 * The metrics of one partition. `scope` picks the window columns: `g_` ranks within the group,
 * `t_` over every call (the totals row). Ranks count non-null values only: each window is
 * partitioned by whether the value is null, and nulls never match the CASE.
 */
function metricColumns(scope: "g" | "t"): SQL {
  const percentile = (value: string, p: number) =>
    `max(CASE WHEN ${value} IS NOT NULL AND ${scope}_${value}_rank = (${p} * ${scope}_${value}_n + 99) / 100 THEN ${value} END)`;
  return sql.raw(`count(*) AS calls,
      count(CASE WHEN answered THEN 1 END) AS answered,
      count(CASE WHEN analyzed THEN 1 END) AS analyzed,
      count(CASE WHEN successful THEN 1 END) AS successful,
      avg(handle) AS handle_avg,
      ${percentile("handle", 95)} AS handle_p95,
      total(cost) AS cost_total,
      ${percentile("l50", 50)} AS latency_p50,
      ${percentile("l95", 95)} AS latency_p95`);
}

function windowColumns(): SQL {
  const columns = ["handle", "l50", "l95"].flatMap((v) => [
    `row_number() OVER (PARTITION BY g, ${v} IS NULL ORDER BY ${v}) AS g_${v}_rank`,
    `count(${v}) OVER (PARTITION BY g) AS g_${v}_n`,
    `row_number() OVER (PARTITION BY ${v} IS NULL ORDER BY ${v}) AS t_${v}_rank`,
    `count(${v}) OVER () AS t_${v}_n`,
  ]);
  return sql.raw(columns.join(",\n      "));
}

function filterConditions(orgId: string, filters: CallFilters): SQL {
  const conditions: SQL[] = [sql`c.org_id = ${orgId}`];
  if (filters.agentId !== undefined) conditions.push(sql`c.agent_id = ${filters.agentId}`);
  if (filters.campaignId !== undefined) conditions.push(sql`c.batch_call_id = ${filters.campaignId}`);
  if (filters.direction !== undefined) conditions.push(sql`c.direction = ${filters.direction}`);
  if (filters.statuses !== undefined) conditions.push(sql`c.status IN (SELECT value FROM json_each(${JSON.stringify(filters.statuses)}))`);
  return sql.join(conditions, sql` AND `);
}

/** The calls to count with their group `g`: a bucket index (buckets outermost, each an index range seek) or a column. */
function source(orgId: string, grouping: CallGrouping): { from: SQL; group: SQL; range: SQL } {
  if (grouping.kind === "buckets") {
    return {
      // CROSS JOIN keeps the buckets as the outer loop, so each one is a range seek on created_at.
      from: sql`(SELECT key AS g, value ->> 0 AS lo, value ->> 1 AS hi FROM json_each(${JSON.stringify(grouping.bounds)})) AS b
        CROSS JOIN calls AS c ON c.org_id = ${orgId} AND c.created_at >= b.lo AND c.created_at < b.hi`,
      group: sql.raw("b.g"),
      range: sql`1`,
    };
  }
  return {
    from: sql.raw("calls AS c"),
    group: sql.raw(GROUP_COLUMN[grouping.kind]),
    range: sql`c.created_at >= ${grouping.fromIso} AND c.created_at < ${grouping.toIso}`,
  };
}

/** Names for agent and campaign groups, from the org's own rows. */
function nameJoin(orgId: string, grouping: CallGrouping): { column: SQL; join: SQL } {
  if (grouping.kind === "agent") return { column: sql.raw("n.name"), join: sql`LEFT JOIN agents AS n ON n.org_id = ${orgId} AND n.id = s.g` };
  if (grouping.kind === "campaign") return { column: sql.raw("n.name"), join: sql`LEFT JOIN batch_calls AS n ON n.org_id = ${orgId} AND n.id = s.g` };
  return { column: sql.raw("NULL"), join: sql.raw("") };
}

/** Totals and per-group metrics of the org's calls, in one statement. */
export async function callMetrics(tenant: TenantDb, grouping: CallGrouping, filters: CallFilters): Promise<{ totals: MetricSums; groups: GroupSums[] }> {
  const { from, group, range } = source(tenant.orgId, grouping);
  const names = nameJoin(tenant.orgId, grouping);
  const rows = await tenant.db.all<Row>(sql`
    WITH picked AS (
      SELECT ${group} AS g,
        c.started_at IS NOT NULL AS answered,
        coalesce(c.analysis_status = 'completed', 0) AS analyzed,
        coalesce(c.analysis_status = 'completed' AND c.analysis ->> '$.success' = 1, 0) AS successful,
        CASE WHEN c.started_at IS NOT NULL THEN c.duration_seconds END AS handle,
        c.cost_credits AS cost,
        c.latency ->> '$.p50_ms' AS l50,
        c.latency ->> '$.p95_ms' AS l95
      FROM ${from}
      WHERE ${filterConditions(tenant.orgId, filters)} AND ${range}
    ),
    ranked AS (
      SELECT picked.*,
      ${windowColumns()}
      FROM picked
    ),
    s AS (
      SELECT 0 AS is_total, g, ${metricColumns("g")} FROM ranked GROUP BY g
      UNION ALL
      SELECT 1 AS is_total, NULL AS g, ${metricColumns("t")} FROM ranked
    )
    SELECT s.*, ${names.column} AS name FROM s ${names.join}
    ORDER BY s.is_total, s.calls DESC, s.g IS NULL, s.g`);
  const sums = ({ is_total: _total, g: _group, name: _name, ...metrics }: Row): MetricSums => metrics;
  const totalRow = rows.find((r) => r.is_total === 1)!;
  return {
    totals: sums(totalRow),
    groups: rows.filter((r) => r.is_total === 0).map((r) => ({ group: r.g, name: r.name, sums: sums(r) })),
  };
}

/**
 * A campaign's successful calls: the contacts with at least one (`contacts`), and the calls
 * per bucket of `bounds` by creation time (`perBucket[i]`). A campaign call carries its
 * contact's id in `metadata.contact_id` (set by the CampaignDO when it dials).
 */
export async function campaignSuccesses(tenant: TenantDb, campaignId: string, bounds: [string, string][]): Promise<{ contacts: number; perBucket: Map<number, number> }> {
  const successful = sql`c.analysis_status = 'completed' AND c.analysis ->> '$.success' = 1`;
  const rows = await tenant.db.all<{ is_total: number; g: number | null; n: number }>(sql`
    SELECT 1 AS is_total, NULL AS g, count(DISTINCT c.metadata ->> '$.contact_id') AS n
    FROM calls AS c WHERE c.org_id = ${tenant.orgId} AND c.batch_call_id = ${campaignId} AND ${successful}
    UNION ALL
    SELECT 0, b.g, count(*)
    FROM (SELECT key AS g, value ->> 0 AS lo, value ->> 1 AS hi FROM json_each(${JSON.stringify(bounds)})) AS b
      CROSS JOIN calls AS c ON c.org_id = ${tenant.orgId} AND c.batch_call_id = ${campaignId} AND c.created_at >= b.lo AND c.created_at < b.hi
    WHERE ${successful}
    GROUP BY b.g`);
  return {
    contacts: rows.find((r) => r.is_total === 1)?.n ?? 0,
    perBucket: new Map(rows.filter((r) => r.is_total === 0).map((r) => [Number(r.g), r.n])),
  };
}
