import { describe, expect, it } from "vitest";
import { MONDAY_10AM_NY } from "../batch-calls/helpers";
import { callRows, contactsOf, NY, orgWithNumbers, runUntil, startCampaign } from "../batch-calls/engine-helpers";
import { manualClockPerTest } from "../helpers/clock";
import { analytics, setAnalysis } from "./helpers";

const clock = manualClockPerTest(MONDAY_10AM_NY);

/**
 * A simulator campaign in the 10:00–10:05 New York window: 0001 answers, 0002 rings out, 0003 is
 * busy, 0004 reaches voicemail, 0005 fails. With one redial allowed, 0002, 0003 and 0005 are
 * dialled again on Tuesday at 10:00 (voicemail is never redialled), and fail the same way.
 */
async function finishedCampaign() {
  const { org, agentId } = await orgWithNumbers();
  const id = await startCampaign(org, {
    name: "Reminders",
    agent_id: agentId,
    retry_failed: true,
    max_retry_attempts: 1,
    contacts: ["0001", "0002", "0003", "0004", "0005"].map((end) => ({ phone_number: `+1212555${end}` })),
  });
  await runUntil(clock, org.orgId, id, NY(12, 0, 1));
  return { org, id };
}

describe("GET /analytics/campaigns/{id}", () => {
  it("counts the funnel by contact and the days by attempt, from a simulator campaign", async () => {
    const { org, id } = await finishedCampaign();
    const contacts = await contactsOf(org, id);
    expect(contacts.map((c) => c.attempts_count)).toEqual([1, 2, 2, 1, 2]);
    // The person who answered 0001 met the agent's success criteria.
    await setAnalysis(contacts[0].call_id, true);

    const res = await org.get(`/analytics/campaigns/${id}?tz=America/New_York`);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({
      campaign_id: id,
      name: "Reminders",
      status: "completed",
      tz: "America/New_York",
      // 0001 and 0004 (a machine) answered; redials do not count a contact twice.
      funnel: { scheduled: 5, dialled: 5, answered: 2, success: 1 },
      days: [
        { date: "2030-01-07", dialled: 5, answered: 2, success: 1, cost: 1 }, // 30 s each at 1 credit a minute
        { date: "2030-01-08", dialled: 3, answered: 0, success: 0, cost: 0 },
      ],
    });

    // 10:00 New York is 04:00 the next day in Auckland (UTC+13 in January).
    const auckland = (await org.get(`/analytics/campaigns/${id}?tz=Pacific/Auckland`)).body.data;
    expect(auckland.days.map((d: any) => [d.date, d.dialled])).toEqual([
      ["2030-01-08", 5],
      ["2030-01-09", 3],
    ]);
    expect(auckland.funnel).toEqual(res.body.data.funnel);
  });

  it("agrees with /analytics/calls on the campaign's calls", async () => {
    const { org, id } = await finishedCampaign();
    const calls = await callRows(org.orgId, id);
    expect(calls).toHaveLength(8);
    await setAnalysis(calls[0].id, false);
    const data = await analytics(org, { from: "2030-01-07T00:00:00Z", to: "2030-01-09T00:00:00Z", campaign_id: id, group_by: "campaign", tz: "America/New_York" });
    expect(data.groups).toHaveLength(1);
    expect(data.groups[0]).toMatchObject({
      key: id,
      label: "Reminders",
      calls: 8,
      answered: 2,
      answered_rate: 0.25,
      analyzed: 1,
      successful: 0,
      success_rate: 0,
      avg_handle_time_s: 30,
      p95_handle_time_s: 30,
      total_cost: 1,
      avg_cost: 0.125,
    });
    expect(data.totals).toMatchObject({ calls: 8, answered: 2 });
  });

  it("lists no days before the campaign starts", async () => {
    const { org, agentId } = await orgWithNumbers();
    const created = await org.post("/batch-calls", { name: "Draft", agent_id: agentId, timezone: "UTC", contacts: [{ phone_number: "+12125550001" }] });
    const res = await org.get(`/analytics/campaigns/${created.body.data.id}`);
    expect(res.body.data).toMatchObject({ status: "draft", tz: "UTC", funnel: { scheduled: 1, dialled: 0, answered: 0, success: 0 }, days: [] });
  });

  it("answers 404 for an unknown campaign or another organization's, and 422 for a bad tz", async () => {
    const { org, id } = await finishedCampaign();
    const other = await orgWithNumbers();
    for (const res of [await other.org.get(`/analytics/campaigns/${id}`), await org.get("/analytics/campaigns/0193a5b4-0000-7000-8000-000000000000")]) {
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe("not_found");
    }
    const bad = await org.get(`/analytics/campaigns/${id}?tz=Nowhere/City`);
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.field).toBe("tz");
  });
});
