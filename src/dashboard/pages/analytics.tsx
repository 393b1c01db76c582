import { Hono } from "hono";
import type { Metrics } from "../../domain/analytics";
import { api, type ApiFailure } from "../api";
import { AnalyticsFilters, PRESET_DAYS, resolveAnalyticsRange, type AnalyticsFilterValues } from "../analytics-range";
import { BarChart, HorizontalBarChart, LineChart, type ChartRow } from "../charts";
import { formatCount, formatMs, formatPercent } from "../figures";
import { SelectField, TextField } from "../fields";
import { formFailure, type FormValues } from "../forms";
import { credits, duration, words } from "../format";
import { ApiErrorBox, Layout, render } from "../layout";
import type { DashboardContext, DashboardEnv } from "../session";

/** The analytics page: filters, a totals summary and charts of calls, outcomes, cost and latency. */


interface CallAnalytics {
  tz: string;
  totals: Metrics;
  groups: (Metrics & { key: string; label: string })[];
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** `2026-03-08` → `Mar 8`, for the x axis (the table and tooltips keep the full date). */
const shortDay = (date: string) => `${MONTHS[Number(date.slice(5, 7)) - 1]} ${Number(date.slice(8, 10))}`;

const formatCredits = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 2 });

function Summary({ totals }: { totals: Metrics }) {
  const items: [string, string][] = [
    ["Calls", formatCount(totals.calls)],
    ["Answered", `${formatCount(totals.answered)} (${formatPercent(totals.answered_rate)})`],
    ["Successful", `${formatCount(totals.successful)} of ${formatCount(totals.analyzed)} analysed (${formatPercent(totals.success_rate)})`],
    ["Average handle time", duration(totals.avg_handle_time_s)],
    ["95th percentile handle time", duration(totals.p95_handle_time_s)],
    ["Total cost", credits(totals.total_cost)],
    ["Average cost per call", credits(totals.avg_cost)],
    ["Latency p50 / p95", `${formatMs(totals.latency_p50_ms)} / ${formatMs(totals.latency_p95_ms)}`],
  ];
  return (
    <dl class="stats">
      {items.map(([label, value]) => (
        <div>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

function Charts({ byDay, byReason }: { byDay: CallAnalytics; byReason: CallAnalytics }) {
  const days = byDay.groups;
  const row = (g: (typeof days)[number], values: ChartRow["values"]): ChartRow => ({ label: g.label, tick: shortDay(g.label), values });
  const span = `${days[0]?.label ?? ""} to ${days.at(-1)?.label ?? ""}`;
  return (
    <div class="chart-grid">
      <BarChart
        id="calls-per-day"
        title="Calls per day"
        description={`Calls each day from ${span}, answered stacked on not answered; ${formatCount(byDay.totals.calls)} in all.`}
        xLabel="Day"
        yLabel="Calls"
        integer
        series={[
          { key: "answered", label: "Answered" },
          { key: "unanswered", label: "Not answered" },
        ]}
        rows={days.map((g) => row(g, { answered: g.answered, unanswered: g.calls - g.answered }))}
      />
      <HorizontalBarChart
        id="outcomes"
        title="Outcomes"
        description="How the calls in the range ended, most frequent first."
        categoryLabel="Outcome"
        valueLabel="Calls"
        integer
        rows={byReason.groups.map((g) => ({ label: g.key === "none" ? "Not ended yet" : words(g.label), value: g.calls }))}
      />
      <LineChart
        id="cost-per-day"
        title="Cost per day"
        description={`Credits spent each day from ${span}; ${credits(byDay.totals.total_cost)} in all.`}
        xLabel="Day"
        yLabel="Credits"
        format={formatCredits}
        emptyMessage="No cost in this range"
        series={[{ key: "cost", label: "Cost" }]}
        rows={days.map((g) => row(g, { cost: g.total_cost }))}
      />
      <LineChart
        id="latency-per-day"
        title="Response latency per day"
        description="Median (p50) and 95th percentile (p95) of the calls' response latency each day, in milliseconds; days without measured calls are gaps."
        xLabel="Day"
        yLabel="Milliseconds"
        integer
        emptyMessage="No latency measured in this range"
        series={[
          { key: "p50", label: "p50" },
          { key: "p95", label: "p95" },
        ]}
        rows={days.map((g) => row(g, { p50: g.latency_p50_ms, p95: g.latency_p95_ms }))}
      />
    </div>
  );
}

function FilterForm({ filters, agents, campaigns, error }: { filters: AnalyticsFilterValues; agents: { id: string; name: string }[]; campaigns: { id: string; name: string }[]; error?: ApiFailure }) {
  const values: FormValues = { range: filters.range, from: filters.from ?? "", to: filters.to ?? "", agent_id: filters.agent_id ?? "", campaign_id: filters.campaign_id ?? "" };
  return (
    <form method="get" action="/app/analytics" class="filters">
      <input type="hidden" name="tz" value={filters.tz} />
      <SelectField
        form="analytics"
        name="range"
        label="Range"
        options={[...PRESET_DAYS.map((d) => ({ value: String(d), label: `Last ${d} days` })), { value: "custom", label: "Custom dates" }]}
        values={values}
      />
      <TextField form="analytics" name="from" label="First day (custom)" type="date" autocomplete="off" values={values} error={error} />
      <TextField form="analytics" name="to" label="Last day (custom)" type="date" autocomplete="off" values={values} error={error} />
      <SelectField form="analytics" name="agent_id" label="Agent" blank="All agents" options={agents.map((a) => ({ value: a.id, label: a.name }))} values={values} />
      <SelectField form="analytics" name="campaign_id" label="Campaign" blank="All campaigns" options={campaigns.map((b) => ({ value: b.id, label: b.name }))} values={values} />
      <button type="submit">Show</button>
    </form>
  );
}

async function analyticsPage(c: DashboardContext) {
  const parsed = AnalyticsFilters.safeParse(c.req.query());
  // Only malformed dates can fail here (the rest falls back); the page then uses the default range.
  const filters = parsed.success ? parsed.data : AnalyticsFilters.parse({ ...c.req.query(), from: undefined, to: undefined });
  const dateError = parsed.success
    ? undefined
    : formFailure(parsed.error.issues.map((i) => ({ field: String(i.path[0] ?? "from"), reason: i.message })));
  const range = resolveAnalyticsRange(filters, c.get("clock").now());
  const rangeError = range.ok ? undefined : formFailure([{ field: range.field, reason: range.message }]);

  const [agents, campaigns] = await Promise.all([
    api(c).get<{ id: string; name: string }[]>("/agents", { limit: 100 }),
    api(c).get<{ id: string; name: string }[]>("/batch-calls", { limit: 100 }),
  ]);
  const query = range.ok ? { from: range.from, to: range.to, tz: filters.tz, agent_id: filters.agent_id, campaign_id: filters.campaign_id } : undefined;
  const [byDay, byReason] = query
    ? await Promise.all([
        api(c).get<CallAnalytics>("/analytics/calls", { ...query, group_by: "day" }),
        api(c).get<CallAnalytics>("/analytics/calls", { ...query, group_by: "end_reason" }),
      ])
    : [];
  const failure = [byDay, byReason].find((r): r is ApiFailure => r !== undefined && !r.ok);
  return render(
    c,
    <Layout c={c} title="Analytics" active="analytics" scripts={["analytics-tz.js"]}>
      <FilterForm
        filters={filters}
        agents={agents.ok ? agents.data : []}
        campaigns={campaigns.ok ? campaigns.data : []}
        error={dateError ?? rangeError}
      />
      <p class="muted">
        {range.ok ? `${range.firstDay} to ${range.lastDay} (${range.days} ${range.days === 1 ? "day" : "days"}), ` : ""}
        {`days from midnight to midnight in ${filters.tz}.`}
      </p>
      <ApiErrorBox error={dateError ?? rangeError} />
      <ApiErrorBox error={failure} />
      {byDay?.ok && byReason?.ok ? (
        <>
          <section aria-labelledby="summary-heading">
            <h2 id="summary-heading">Summary</h2>
            <Summary totals={byDay.data.totals} />
          </section>
          <section aria-labelledby="charts-heading">
            <h2 id="charts-heading">Charts</h2>
            <Charts byDay={byDay.data} byReason={byReason.data} />
          </section>
        </>
      ) : null}
    </Layout>,
  );
}

export const analyticsPages = new Hono<DashboardEnv>().get("/analytics", (c) => analyticsPage(c));
