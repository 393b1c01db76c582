import { describe, expect, it } from "vitest";
import { orgWithCaller } from "../calls/helpers";
import { CATALOGUE_VOICE_ID, rawFetch, type ApiClient } from "../helpers/api";
import { manualClockPerTest } from "../helpers/clock";
import { analytics, expectTotalsAreSumOfGroups, insertCall } from "./helpers";

const NOW = Date.UTC(2026, 2, 10, 12, 0, 0);
// The API's clock reads NOW (the default range ends there).
manualClockPerTest(NOW);

const MARCH_1_TO_6 = { from: "2026-03-01T00:00:00Z", to: "2026-03-06T00:00:00Z" };

/**
 * An org with two agents and a campaign, and five calls between 2026-03-01 and 03-06 (UTC):
 * 1. 03-02 10:00 Caller, outbound, answered 60 s, 1 credit, analysed: success, latency 800/1200
 * 2. 03-02 11:00 Caller, outbound, no answer
 * 3. 03-03 09:00 Second, inbound, campaign, answered 120 s, 2 credits, analysed: no success, latency 900/1500
 * 4. 03-05 23:30 Second, outbound, campaign, voicemail 20 s, 0.3333 credits, analysis skipped
 * 5. 03-05 12:00 Caller, webrtc, still in progress
 * plus two calls just outside the range.
 */
async function seededOrg() {
  const { org, agentId, numberId } = await orgWithCaller();
  const second = await org.post("/agents", { name: "Second", voice_id: CATALOGUE_VOICE_ID, system_prompt: "Hello" });
  const secondId = second.body.data.id as string;
  const campaign = await org.post("/batch-calls", {
    name: "Spring promo",
    agent_id: agentId,
    phone_number_ids: [numberId],
    timezone: "America/New_York",
    contacts: [{ phone_number: "+12125550001" }],
  });
  expect(campaign.status).toBe(201);
  const campaignId = campaign.body.data.id as string;
  await insertCall(org.orgId, {
    agentId,
    createdAt: "2026-03-02T10:00:00Z",
    endReason: "hangup_by_contact",
    startedAt: "2026-03-02T10:00:05Z",
    durationSeconds: 60,
    costCredits: 1,
    latency: { p50_ms: 800, p95_ms: 1200 },
    analysis: { status: "completed", success: true },
  });
  await insertCall(org.orgId, { agentId, createdAt: "2026-03-02T11:00:00Z", status: "failed", endReason: "no_answer", durationSeconds: 0, costCredits: 0 });
  await insertCall(org.orgId, {
    agentId: secondId,
    createdAt: "2026-03-03T09:00:00Z",
    direction: "inbound",
    endReason: "hangup_by_agent",
    startedAt: "2026-03-03T09:00:01Z",
    durationSeconds: 120,
    costCredits: 2,
    batchCallId: campaignId,
    latency: { p50_ms: 900, p95_ms: 1500 },
    analysis: { status: "completed", success: false },
  });
  await insertCall(org.orgId, {
    agentId: secondId,
    createdAt: "2026-03-05T23:30:00Z",
    endReason: "voicemail",
    startedAt: "2026-03-05T23:30:04Z",
    durationSeconds: 20,
    costCredits: 0.3333,
    batchCallId: campaignId,
    analysis: { status: "skipped" },
  });
  await insertCall(org.orgId, { agentId, createdAt: "2026-03-05T12:00:00Z", direction: "webrtc", status: "in_progress", startedAt: "2026-03-05T12:00:00Z" });
  // Outside [from, to): `to` is exclusive.
  await insertCall(org.orgId, { agentId, createdAt: "2026-02-28T23:59:59.999Z", startedAt: "2026-02-28T23:59:59.999Z", durationSeconds: 5, costCredits: 5 });
  await insertCall(org.orgId, { agentId, createdAt: "2026-03-06T00:00:00Z", startedAt: "2026-03-06T00:00:01Z", durationSeconds: 5, costCredits: 5 });
  return { org, agentId, secondId, campaignId };
}

const EMPTY = {
  calls: 0,
  answered: 0,
  answered_rate: null,
  analyzed: 0,
  successful: 0,
  success_rate: null,
  avg_handle_time_s: null,
  p95_handle_time_s: null,
  total_cost: 0,
  avg_cost: null,
  latency_p50_ms: null,
  latency_p95_ms: null,
};

describe("GET /analytics/calls", () => {
  it("groups by UTC day with every bucket present and totals over the range", async () => {
    const { org } = await seededOrg();
    const data = await analytics(org, MARCH_1_TO_6);
    expect(data).toMatchObject({ from: "2026-03-01T00:00:00.000Z", to: "2026-03-06T00:00:00.000Z", tz: "UTC", group_by: "day" });
    expect(data.totals).toEqual({
      calls: 5,
      answered: 4,
      answered_rate: 0.8,
      analyzed: 2,
      successful: 1,
      success_rate: 0.5,
      avg_handle_time_s: 66.67, // (60 + 120 + 20) / 3; the live call has no duration yet
      p95_handle_time_s: 120, // rank ⌈0.95 × 3⌉ = 3 of [20, 60, 120]
      total_cost: 3.3333,
      avg_cost: 0.6667,
      latency_p50_ms: 800, // rank ⌈0.5 × 2⌉ = 1 of [800, 900]
      latency_p95_ms: 1500, // rank 2 of [1200, 1500]
    });
    expect(data.groups.map((g: any) => [g.key, g.label, g.calls])).toEqual([
      ["2026-03-01T00:00:00+00:00", "2026-03-01", 0],
      ["2026-03-02T00:00:00+00:00", "2026-03-02", 2],
      ["2026-03-03T00:00:00+00:00", "2026-03-03", 1],
      ["2026-03-04T00:00:00+00:00", "2026-03-04", 0],
      ["2026-03-05T00:00:00+00:00", "2026-03-05", 2],
    ]);
    expect(data.groups[0]).toEqual({ key: "2026-03-01T00:00:00+00:00", label: "2026-03-01", ...EMPTY });
    expect(data.groups[1]).toMatchObject({ answered: 1, answered_rate: 0.5, analyzed: 1, successful: 1, success_rate: 1, avg_handle_time_s: 60, total_cost: 1, avg_cost: 0.5 });
    expectTotalsAreSumOfGroups(data);
  });

  it("groups by hour, empty hours included", async () => {
    const { org } = await seededOrg();
    const data = await analytics(org, { from: "2026-03-02T09:30:00Z", to: "2026-03-02T12:00:00Z", group_by: "hour" });
    expect(data.groups.map((g: any) => [g.key, g.label, g.calls])).toEqual([
      ["2026-03-02T09:00:00+00:00", "2026-03-02 09:00", 0],
      ["2026-03-02T10:00:00+00:00", "2026-03-02 10:00", 1],
      ["2026-03-02T11:00:00+00:00", "2026-03-02 11:00", 1],
    ]);
    expect(data.totals.calls).toBe(2);
    expectTotalsAreSumOfGroups(data);
  });

  it("groups by agent, campaign and end reason, labelled, most calls first", async () => {
    const { org, agentId, secondId, campaignId } = await seededOrg();

    const byAgent = await analytics(org, { ...MARCH_1_TO_6, group_by: "agent" });
    expect(byAgent.groups.map((g: any) => [g.key, g.label, g.calls, g.answered])).toEqual([
      [agentId, "Caller", 3, 2],
      [secondId, "Second", 2, 2],
    ]);
    expectTotalsAreSumOfGroups(byAgent);

    const byCampaign = await analytics(org, { ...MARCH_1_TO_6, group_by: "campaign" });
    expect(byCampaign.groups.map((g: any) => [g.key, g.label, g.calls, g.total_cost])).toEqual([
      ["none", "No campaign", 3, 1],
      [campaignId, "Spring promo", 2, 2.3333],
    ]);
    expectTotalsAreSumOfGroups(byCampaign);

    const byReason = await analytics(org, { ...MARCH_1_TO_6, group_by: "end_reason" });
    expect(byReason.groups.map((g: any) => [g.key, g.label, g.calls])).toEqual([
      ["hangup_by_agent", "hangup_by_agent", 1],
      ["hangup_by_contact", "hangup_by_contact", 1],
      ["no_answer", "no_answer", 1],
      ["voicemail", "voicemail", 1],
      ["none", "none", 1],
    ]);
    expectTotalsAreSumOfGroups(byReason);
    expect(byReason.totals).toEqual(byAgent.totals);
  });

  it("filters by agent, campaign, direction and status (aliases included)", async () => {
    const { org, agentId, campaignId } = await seededOrg();
    const count = async (filter: Record<string, string>) => (await analytics(org, { ...MARCH_1_TO_6, ...filter })).totals.calls;
    expect(await count({ agent_id: agentId })).toBe(3);
    expect(await count({ campaign_id: campaignId })).toBe(2);
    expect(await count({ direction: "inbound" })).toBe(1);
    expect(await count({ direction: "webrtc" })).toBe(1);
    expect(await count({ status: "completed" })).toBe(3);
    expect(await count({ status: "ended" })).toBe(3);
    expect(await count({ status: "in-progress" })).toBe(1);
    expect(await count({ status: "failed" })).toBe(1);
    expect(await count({ agent_id: agentId, status: "completed" })).toBe(1);
    expect(await count({ campaign_id: campaignId, direction: "outbound" })).toBe(1);
    const filtered = await analytics(org, { ...MARCH_1_TO_6, campaign_id: campaignId, group_by: "day" });
    expect(filtered.groups.map((g: any) => g.calls)).toEqual([0, 0, 1, 0, 1]);
  });

  it("computes nearest-rank percentiles per group and over all calls", async () => {
    const { org, agentId } = await orgWithCaller();
    // 20 answered calls: handle times 1–20 s, 10 in each hour, inserted out of order.
    const order = [7, 19, 2, 14, 11, 1, 20, 5, 16, 9, 3, 12, 18, 6, 15, 10, 4, 17, 8, 13];
    for (const seconds of order) {
      const hour = seconds <= 10 ? 10 : 11;
      const at = `2026-03-02T${hour}:${String(seconds).padStart(2, "0")}:00Z`;
      await insertCall(org.orgId, { agentId, createdAt: at, startedAt: at, durationSeconds: seconds, costCredits: 0.1, latency: { p50_ms: seconds * 100, p95_ms: 1000 + seconds * 10 } });
    }
    // Unanswered calls bill 0 s and have no handle time.
    for (const minute of [30, 40, 50]) await insertCall(org.orgId, { agentId, createdAt: `2026-03-02T10:${minute}:00Z`, status: "failed", endReason: "busy", durationSeconds: 0 });

    const data = await analytics(org, { from: "2026-03-02T10:00:00Z", to: "2026-03-02T12:00:00Z", group_by: "hour" });
    // p95 of n values is the value at rank ⌈0.95 n⌉: 19th of 20, 10th of 10; p50 the ⌈n/2⌉th.
    expect(data.totals).toMatchObject({ calls: 23, answered: 20, avg_handle_time_s: 10.5, p95_handle_time_s: 19, latency_p50_ms: 1000, latency_p95_ms: 1190 });
    expect(data.groups.map((g: any) => [g.calls, g.answered, g.avg_handle_time_s, g.p95_handle_time_s, g.latency_p50_ms, g.latency_p95_ms])).toEqual([
      [13, 10, 5.5, 10, 500, 1100],
      [10, 10, 15.5, 20, 1500, 1200],
    ]);
    expect(data.totals.total_cost).toBeCloseTo(2, 4);
    expectTotalsAreSumOfGroups(data);
  });

  it("defaults to the last 30 days up to now, in UTC days", async () => {
    const { org, agentId } = await orgWithCaller();
    await insertCall(org.orgId, { agentId, createdAt: new Date(NOW - 60_000).toISOString() });
    await insertCall(org.orgId, { agentId, createdAt: new Date(NOW - 31 * 86_400_000).toISOString() });
    const data = await analytics(org, {});
    expect(data).toMatchObject({ from: "2026-02-08T12:00:00.000Z", to: "2026-03-10T12:00:00.000Z", tz: "UTC", group_by: "day" });
    expect(data.groups).toHaveLength(31);
    expect(data.groups[0].label).toBe("2026-02-08");
    expect(data.groups.at(-1)).toMatchObject({ label: "2026-03-10", calls: 1 });
    expect(data.totals.calls).toBe(1);
  });

  it("never counts another organization's calls, and its ids match nothing", async () => {
    const mine = await seededOrg();
    const theirs = await seededOrg();
    expect((await analytics(mine.org, MARCH_1_TO_6)).totals.calls).toBe(5);
    const theirIds: Record<string, string>[] = [{ agent_id: theirs.agentId }, { campaign_id: theirs.campaignId }];
    for (const filter of theirIds) {
      const data = await analytics(mine.org, { ...MARCH_1_TO_6, ...filter });
      expect(data.totals).toEqual(EMPTY);
      expect(data.groups.every((g: any) => g.calls === 0)).toBe(true);
    }
    const byAgent = await analytics(mine.org, { ...MARCH_1_TO_6, group_by: "agent" });
    expect(byAgent.groups.map((g: any) => g.key).sort()).toEqual([mine.agentId, mine.secondId].sort());
  });
});

describe("time zones", () => {
  async function orgWithCallsAt(...instants: string[]): Promise<ApiClient> {
    const { org, agentId } = await orgWithCaller();
    for (const at of instants) await insertCall(org.orgId, { agentId, createdAt: at });
    return org;
  }

  it("counts 2026-03-08T06:30Z on March 8 in UTC but March 7 in Los Angeles", async () => {
    const org = await orgWithCallsAt("2026-03-08T06:30:00Z");
    const range = { from: "2026-03-06T12:00:00Z", to: "2026-03-09T12:00:00Z" };
    const days = async (tz: string) => (await analytics(org, { ...range, tz })).groups.map((g: any) => [g.key, g.label, g.calls]);
    expect(await days("UTC")).toEqual([
      ["2026-03-06T00:00:00+00:00", "2026-03-06", 0],
      ["2026-03-07T00:00:00+00:00", "2026-03-07", 0],
      ["2026-03-08T00:00:00+00:00", "2026-03-08", 1],
      ["2026-03-09T00:00:00+00:00", "2026-03-09", 0],
    ]);
    // Los Angeles springs forward at 02:00 on March 8 (PST −08:00 → PDT −07:00).
    expect(await days("America/Los_Angeles")).toEqual([
      ["2026-03-06T00:00:00-08:00", "2026-03-06", 0],
      ["2026-03-07T00:00:00-08:00", "2026-03-07", 1],
      ["2026-03-08T00:00:00-08:00", "2026-03-08", 0],
      ["2026-03-09T00:00:00-07:00", "2026-03-09", 0],
    ]);
  });

  it("gives New York's spring-forward day 23 hour buckets and its autumn day 25", async () => {
    // 03:30 EDT on the short day; 01:30 EST, the second pass of the repeated hour, on the long one.
    const org = await orgWithCallsAt("2026-03-08T07:30:00Z", "2026-11-01T06:30:00Z");
    const spring = await analytics(org, { from: "2026-03-08T05:00:00Z", to: "2026-03-09T04:00:00Z", tz: "America/New_York", group_by: "hour" });
    expect(spring.groups).toHaveLength(23);
    expect(spring.groups.slice(0, 4).map((g: any) => [g.key, g.label, g.calls])).toEqual([
      ["2026-03-08T00:00:00-05:00", "2026-03-08 00:00", 0],
      ["2026-03-08T01:00:00-05:00", "2026-03-08 01:00", 0],
      ["2026-03-08T03:00:00-04:00", "2026-03-08 03:00", 1],
      ["2026-03-08T04:00:00-04:00", "2026-03-08 04:00", 0],
    ]);
    expect(spring.groups.at(-1).key).toBe("2026-03-08T23:00:00-04:00");

    const autumn = await analytics(org, { from: "2026-11-01T04:00:00Z", to: "2026-11-02T05:00:00Z", tz: "America/New_York", group_by: "hour" });
    expect(autumn.groups).toHaveLength(25);
    expect(autumn.groups.slice(1, 3).map((g: any) => [g.key, g.label, g.calls])).toEqual([
      ["2026-11-01T01:00:00-04:00", "2026-11-01 01:00", 0],
      ["2026-11-01T01:00:00-05:00", "2026-11-01 01:00", 1],
    ]);

    const days = await analytics(org, { from: "2026-03-08T05:00:00Z", to: "2026-03-10T04:00:00Z", tz: "America/New_York" });
    expect(days.groups.map((g: any) => [g.key, g.calls])).toEqual([
      ["2026-03-08T00:00:00-05:00", 1],
      ["2026-03-09T00:00:00-04:00", 0],
    ]);
  });

  it("starts Asia/Kolkata hours at :30 UTC and its days at 18:30 UTC", async () => {
    const org = await orgWithCallsAt("2026-03-08T08:15:00Z", "2026-03-08T08:45:00Z", "2026-03-08T19:00:00Z");
    const hours = await analytics(org, { from: "2026-03-08T08:30:00Z", to: "2026-03-08T10:30:00Z", tz: "Asia/Kolkata", group_by: "hour" });
    expect(hours.groups.map((g: any) => [g.key, g.label, g.calls])).toEqual([
      ["2026-03-08T14:00:00+05:30", "2026-03-08 14:00", 1],
      ["2026-03-08T15:00:00+05:30", "2026-03-08 15:00", 0],
    ]);
    const days = await analytics(org, { from: "2026-03-07T18:30:00Z", to: "2026-03-09T18:30:00Z", tz: "Asia/Kolkata" });
    expect(days.groups.map((g: any) => [g.key, g.label, g.calls])).toEqual([
      ["2026-03-08T00:00:00+05:30", "2026-03-08", 2],
      ["2026-03-09T00:00:00+05:30", "2026-03-09", 1],
    ]);
    // The same calls, in UTC days: 19:00Z is still March 8.
    expect((await analytics(org, { from: "2026-03-08T00:00:00Z", to: "2026-03-09T00:00:00Z" })).groups.map((g: any) => g.calls)).toEqual([3]);
  });
});

describe("validation", () => {
  it.each([
    [{ tz: "Mars/Olympus_Mons" }, "tz"],
    [{ tz: "+05:00" }, "tz"],
    [{ group_by: "week" }, "group_by"],
    [{ from: "yesterday" }, "from"],
    [{ to: "2026-03-01" }, "to"],
    [{ status: "done" }, "status"],
    [{ direction: "sideways" }, "direction"],
    [{ from: "2026-03-02T00:00:00Z", to: "2026-03-02T00:00:00Z" }, "to"],
    [{ from: "2026-03-03T00:00:00Z", to: "2026-03-02T00:00:00Z" }, "to"],
    [{ from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:01Z", group_by: "hour" }, "from"],
    [{ from: "2025-01-01T00:00:00Z", to: "2026-02-06T00:00:00Z", group_by: "day" }, "from"],
  ])("answers 422 for %j, naming %s", async (query, field) => {
    const { org } = await orgWithCaller();
    const res = await org.get(`/analytics/calls?${new URLSearchParams(query as Record<string, string>)}`);
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: "validation_error", details: { field } });
  });

  it("accepts the longest ranges: 31 days by hour, 400 by day, and any by agent", async () => {
    const { org } = await orgWithCaller();
    expect((await analytics(org, { from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z", group_by: "hour" })).groups).toHaveLength(744);
    expect((await analytics(org, { from: "2025-01-01T00:00:00Z", to: "2026-02-05T00:00:00Z", group_by: "day" })).groups).toHaveLength(400);
    expect((await analytics(org, { from: "2020-01-01T00:00:00Z", to: "2026-01-01T00:00:00Z", group_by: "agent" })).groups).toEqual([]);
  });

  it("needs an API key", async () => {
    const res = await rawFetch("https://truedy.test/api/public/v1/analytics/calls");
    expect(res.status).toBe(401);
  });
});
