import { describe, expect, it } from "vitest";
import { orgWithCaller } from "../calls/helpers";
import { CATALOGUE_VOICE_ID } from "../helpers/api";
import { manualClockPerTest } from "../helpers/clock";
import { insertCall } from "../analytics/helpers";
import { signIn, textOf } from "./helpers";

// Tuesday 2026-03-10 12:00 UTC: "last 7 days" is 03-04 … 03-10.
const NOW = Date.UTC(2026, 2, 10, 12, 0, 0);
manualClockPerTest(NOW);

async function seeded() {
  const { org, agentId } = await orgWithCaller();
  const other = await org.post("/agents", { name: "Other agent", voice_id: CATALOGUE_VOICE_ID, system_prompt: "Hello" });
  await insertCall(org.orgId, {
    agentId,
    createdAt: "2026-03-08T10:00:00Z",
    endReason: "hangup_by_contact",
    startedAt: "2026-03-08T10:00:05Z",
    durationSeconds: 60,
    costCredits: 1,
    latency: { p50_ms: 800, p95_ms: 1200 },
    analysis: { status: "completed", success: true },
  });
  await insertCall(org.orgId, { agentId, createdAt: "2026-03-08T11:00:00Z", status: "failed", endReason: "no_answer", durationSeconds: 0, costCredits: 0 });
  // 03:00 UTC on the 10th is still the 9th in New York.
  await insertCall(org.orgId, {
    agentId: other.body.data.id,
    createdAt: "2026-03-10T03:00:00Z",
    endReason: "hangup_by_contact",
    startedAt: "2026-03-10T03:00:02Z",
    durationSeconds: 120,
    costCredits: 2,
    latency: { p50_ms: 600, p95_ms: 1000 },
    analysis: { status: "completed", success: false },
  });
  return { org, agentId, otherId: other.body.data.id as string, browser: await signIn(org.apiKey) };
}

describe("dashboard analytics page", () => {
  it("renders the summary and the four charts from the calls", async () => {
    const { browser } = await seeded();
    const page = await browser.page("/app/analytics?tz=UTC&range=7");
    expect(page.status).toBe(200);
    const text = textOf(page.text);
    expect(text).toContain("2026-03-04 to 2026-03-10 (7 days), days from midnight to midnight in UTC.");

    // Totals: 3 calls, 2 answered, 1 of 2 analysed a success, 3 credits.
    expect(text).toContain("Calls 3");
    expect(text).toContain("Answered 2 (66.7%)");
    expect(text).toContain("Successful 1 of 2 analysed (50%)");
    expect(text).toContain("Total cost 3 credits");

    for (const id of ["calls-per-day", "outcomes", "cost-per-day", "latency-per-day"]) {
      expect(page.text, id).toMatch(new RegExp(`<svg [^>]*aria-labelledby="${id}-title ${id}-desc"`));
    }
    // Every day of the range is a row of the hidden table, empty days included.
    expect(page.text).toContain('<th scope="row">2026-03-04</th><td>0</td><td>0</td>');
    expect(page.text).toContain('<th scope="row">2026-03-08</th><td>1</td><td>1</td>');
    expect(page.text).toContain('<th scope="row">2026-03-10</th><td>1</td><td>0</td>');
    // Outcomes in words, most frequent first.
    expect(page.text).toMatch(/<th scope="row">hangup by contact<\/th><td>2<\/td>[\s\S]*<th scope="row">no answer<\/th><td>1<\/td>/);
    // Latency per day: a gap ("no data") on days without measured calls.
    expect(page.text).toContain('<th scope="row">2026-03-08</th><td>800</td><td>1,200</td>');
    expect(page.text).toContain('<th scope="row">2026-03-09</th><td>no data</td><td>no data</td>');
    expect(page.text).toContain('<script src="/app/static/analytics-tz.js"');
  });

  it("buckets days in the chosen time zone and filters by agent", async () => {
    const { browser, otherId } = await seeded();
    const newYork = await browser.page("/app/analytics?tz=America%2FNew_York&range=7");
    expect(newYork.text).toContain('<th scope="row">2026-03-09</th><td>1</td><td>0</td>');
    expect(newYork.text).toContain('<input type="hidden" name="tz" value="America/New_York"/>');

    const onlyOther = await browser.page(`/app/analytics?tz=UTC&range=7&agent_id=${otherId}`);
    const text = textOf(onlyOther.text);
    expect(text).toContain("Calls 1");
    expect(onlyOther.text).toContain('<th scope="row">2026-03-08</th><td>0</td><td>0</td>');
    expect(onlyOther.text).toMatch(new RegExp(`<option value="${otherId}" selected="">Other agent</option>`));
  });

  it("takes a custom range and says plainly what is wrong with one", async () => {
    const { browser } = await seeded();
    const custom = await browser.page("/app/analytics?tz=UTC&range=custom&from=2026-03-08&to=2026-03-08");
    expect(textOf(custom.text)).toContain("2026-03-08 to 2026-03-08 (1 day)");
    expect(textOf(custom.text)).toContain("Calls 2");

    const backwards = await browser.page("/app/analytics?tz=UTC&range=custom&from=2026-03-09&to=2026-03-01");
    expect(textOf(backwards.text)).toContain("The last day must not be before the first day");
    expect(backwards.text).toMatch(/id="analytics-to"[^>]*aria-invalid="true"/);
    const missing = await browser.page("/app/analytics?range=custom");
    expect(textOf(missing.text)).toContain("Choose the first day of the custom range");
    const nonsense = await browser.page("/app/analytics?range=custom&from=2026-02-30&to=2026-03-01");
    expect(textOf(nonsense.text)).toContain("That date does not exist");
  });

  it("says there were no calls instead of drawing empty charts, in UTC without a zone", async () => {
    const { org } = await orgWithCaller();
    const browser = await signIn(org.apiKey);
    const page = await browser.page("/app/analytics");
    expect(page.status).toBe(200);
    const text = textOf(page.text);
    expect(text).toContain("2026-02-09 to 2026-03-10 (30 days), days from midnight to midnight in UTC.");
    expect(text).toContain("No calls in this range");
    expect(text).toContain("No latency measured in this range");
    expect(page.text).not.toContain("<svg");
  });
});
