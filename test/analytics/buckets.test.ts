import { describe, expect, it } from "vitest";
import { bucketBounds, campaignDaySpan, DAY_MS, EMPTY_SUMS, nearestRank, resolveRange, timeBuckets, toMetrics } from "../../src/domain/analytics";

const at = (iso: string) => Date.parse(iso);
const utc = (ms: number) => new Date(ms).toISOString();

describe("timeBuckets", () => {
  it("cuts UTC days and hours, the first one starting before `from`", () => {
    const days = timeBuckets(at("2026-03-01T10:00:00Z"), at("2026-03-03T00:00:00Z"), "UTC", "day");
    expect(days).toEqual([
      { key: "2026-03-01T00:00:00+00:00", label: "2026-03-01", startMs: at("2026-03-01T00:00:00Z"), endMs: at("2026-03-02T00:00:00Z") },
      { key: "2026-03-02T00:00:00+00:00", label: "2026-03-02", startMs: at("2026-03-02T00:00:00Z"), endMs: at("2026-03-03T00:00:00Z") },
    ]);
    const hours = timeBuckets(at("2026-03-01T10:59:59Z"), at("2026-03-01T12:00:01Z"), "UTC", "hour");
    expect(hours.map((h) => h.label)).toEqual(["2026-03-01 10:00", "2026-03-01 11:00", "2026-03-01 12:00"]);
  });

  it("makes New York's DST days 23 and 25 hours long", () => {
    const spring = timeBuckets(at("2026-03-08T05:00:00Z"), at("2026-03-09T04:00:00Z"), "America/New_York", "hour");
    expect(spring).toHaveLength(23);
    expect(spring.map((b) => b.label)).not.toContain("2026-03-08 02:00");
    const [springDay] = timeBuckets(at("2026-03-08T05:00:00Z"), at("2026-03-08T06:00:00Z"), "America/New_York", "day");
    expect(springDay.endMs - springDay.startMs).toBe(23 * 3_600_000);

    const autumn = timeBuckets(at("2026-11-01T04:00:00Z"), at("2026-11-02T05:00:00Z"), "America/New_York", "hour");
    expect(autumn).toHaveLength(25);
    expect(autumn.filter((b) => b.label === "2026-11-01 01:00").map((b) => b.key)).toEqual(["2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00"]);
    const [autumnDay] = timeBuckets(at("2026-11-01T04:00:00Z"), at("2026-11-01T05:00:00Z"), "America/New_York", "day");
    expect(autumnDay).toMatchObject({ key: "2026-11-01T00:00:00-04:00", label: "2026-11-01" });
    expect(autumnDay.endMs - autumnDay.startMs).toBe(25 * 3_600_000);
  });

  it("follows Asia/Kolkata's half-hour offset", () => {
    const hours = timeBuckets(at("2026-03-08T08:45:00Z"), at("2026-03-08T09:45:00Z"), "Asia/Kolkata", "hour");
    expect(hours.map((b) => [b.key, utc(b.startMs), utc(b.endMs)])).toEqual([
      ["2026-03-08T14:00:00+05:30", "2026-03-08T08:30:00.000Z", "2026-03-08T09:30:00.000Z"],
      ["2026-03-08T15:00:00+05:30", "2026-03-08T09:30:00.000Z", "2026-03-08T10:30:00.000Z"],
    ]);
    const [day] = timeBuckets(at("2026-03-08T12:00:00Z"), at("2026-03-08T13:00:00Z"), "Asia/Kolkata", "day");
    expect([utc(day.startMs), utc(day.endMs)]).toEqual(["2026-03-07T18:30:00.000Z", "2026-03-08T18:30:00.000Z"]);
  });

  it("gives Lord Howe's repeated half hour its own bucket, without gaps or overlaps", () => {
    // 2026-04-05 02:00 +11:00 falls back to 01:30 +10:30 (at 15:00Z): 01:30–02:00 happens twice.
    const hours = timeBuckets(at("2026-04-04T12:00:00Z"), at("2026-04-04T18:00:00Z"), "Australia/Lord_Howe", "hour");
    expect(hours.map((b) => [b.key, utc(b.startMs)])).toEqual([
      ["2026-04-04T23:00:00+11:00", "2026-04-04T12:00:00.000Z"],
      ["2026-04-05T00:00:00+11:00", "2026-04-04T13:00:00.000Z"],
      ["2026-04-05T01:00:00+11:00", "2026-04-04T14:00:00.000Z"],
      ["2026-04-05T01:30:00+10:30", "2026-04-04T15:00:00.000Z"],
      ["2026-04-05T02:00:00+10:30", "2026-04-04T15:30:00.000Z"],
      ["2026-04-05T03:00:00+10:30", "2026-04-04T16:30:00.000Z"],
      ["2026-04-05T04:00:00+10:30", "2026-04-04T17:30:00.000Z"],
    ]);
    for (let i = 1; i < hours.length; i++) expect(hours[i].startMs).toBe(hours[i - 1].endMs);
    expect(hours[3].label).toBe("2026-04-05 01:30");
  });

  it("clips the outer buckets to the range", () => {
    const buckets = timeBuckets(at("2026-03-01T10:00:00Z"), at("2026-03-02T06:00:00Z"), "UTC", "day");
    expect(bucketBounds(buckets, at("2026-03-01T10:00:00Z"), at("2026-03-02T06:00:00Z"))).toEqual([
      [at("2026-03-01T10:00:00Z"), at("2026-03-02T00:00:00Z")],
      [at("2026-03-02T00:00:00Z"), at("2026-03-02T06:00:00Z")],
    ]);
  });
});

describe("resolveRange", () => {
  const now = at("2026-03-10T12:00:00Z");
  it("defaults to the 30 days before `to` (now)", () => {
    expect(resolveRange({ nowMs: now, groupBy: "day" })).toEqual({ ok: true, fromMs: now - 30 * DAY_MS, toMs: now });
    expect(resolveRange({ to: "2026-03-01T00:00:00Z", nowMs: now, groupBy: "day" })).toEqual({ ok: true, fromMs: at("2026-01-30T00:00:00Z"), toMs: at("2026-03-01T00:00:00Z") });
  });
  it("refuses from ≥ to and ranges too long for the grouping", () => {
    expect(resolveRange({ from: "2026-03-11T00:00:00Z", nowMs: now, groupBy: "day" })).toMatchObject({ ok: false, field: "to" });
    expect(resolveRange({ from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z", nowMs: now, groupBy: "hour" }).ok).toBe(true);
    expect(resolveRange({ from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:01Z", nowMs: now, groupBy: "hour" })).toMatchObject({ ok: false, field: "from" });
    expect(resolveRange({ from: "2020-01-01T00:00:00Z", to: "2026-01-01T00:00:00Z", nowMs: now, groupBy: "agent" }).ok).toBe(true);
  });
});

describe("metrics", () => {
  it("ranks percentiles by nearest rank", () => {
    expect([1, 2, 3, 10, 19, 20].map((n) => nearestRank(50, n))).toEqual([1, 1, 2, 5, 10, 10]);
    expect([1, 2, 10, 19, 20, 100].map((n) => nearestRank(95, n))).toEqual([1, 2, 10, 19, 19, 95]);
  });

  it("turns sums into rates, averages and rounded costs, null on empty denominators", () => {
    expect(toMetrics(EMPTY_SUMS)).toMatchObject({ calls: 0, answered_rate: null, success_rate: null, avg_cost: null, total_cost: 0 });
    expect(toMetrics({ ...EMPTY_SUMS, calls: 3, answered: 2, analyzed: 0, handle_avg: 20 / 3, cost_total: 1 })).toMatchObject({
      answered_rate: 0.6667,
      success_rate: null,
      avg_handle_time_s: 6.67,
      avg_cost: 0.3333,
    });
  });
});

describe("campaignDaySpan", () => {
  const base = { status: "active", completedAt: null, cancelledAt: null, updatedAt: "2026-03-05T00:00:00.000Z" };
  it("runs from the start to the end, or to now while running", () => {
    const now = at("2026-03-10T00:00:00Z");
    expect(campaignDaySpan({ ...base, startedAt: null }, now)).toBeNull();
    expect(campaignDaySpan({ ...base, startedAt: "2026-03-01T10:00:00.000Z" }, now)).toEqual({ fromMs: at("2026-03-01T10:00:00Z"), toMs: now + 1 });
    expect(campaignDaySpan({ ...base, status: "completed", startedAt: "2026-03-01T10:00:00.000Z", completedAt: "2026-03-02T10:04:00.000Z" }, now)).toEqual({
      fromMs: at("2026-03-01T10:00:00Z"),
      toMs: at("2026-03-02T10:04:00Z") + 1,
    });
    expect(campaignDaySpan({ ...base, status: "failed", startedAt: "2026-03-01T10:00:00.000Z" }, now)?.toMs).toBe(at(base.updatedAt) + 1);
  });
  it("keeps the last 400 days of a longer campaign", () => {
    const now = at("2028-01-01T00:00:00Z");
    expect(campaignDaySpan({ ...base, startedAt: "2026-01-01T00:00:00.000Z" }, now)).toEqual({ fromMs: now + 1 - 400 * DAY_MS, toMs: now + 1 });
  });
});
