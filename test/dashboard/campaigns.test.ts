import { describe, expect, it } from "vitest";
import { manualClockPerTest } from "../helpers/clock";
import { MONDAY_10AM_NY } from "../batch-calls/helpers";
import { batch, contactsOf, NY, orgWithNumbers, runUntil, SHORT_WINDOW, startCampaign } from "../batch-calls/engine-helpers";
import { signIn, textOf, type Browser } from "./helpers";

const clock = manualClockPerTest(MONDAY_10AM_NY);

/** What a browser would send back from a wizard page: its hidden fields (the earlier steps' answers). */
function hiddenFields(html: string): Record<string, string[]> {
  const form = html.slice(html.indexOf('action="/app/campaigns/new"'));
  const fields: Record<string, string[]> = {};
  for (const m of form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/>/g)) {
    if (m[1] === "_csrf") continue;
    (fields[m[1]] ??= []).push(m[2].replace(/&amp;/g, "&").replace(/&quot;/g, '"'));
  }
  return fields;
}

async function setup() {
  const base = await orgWithNumbers();
  const folder = await base.org.post("/contacts/folders", { name: "Campaign folder" });
  // The simulator answers numbers ending 0001 and lets 0002 ring out.
  for (const [phone, first] of [
    ["+12125550001", "Ada"],
    ["+12125550002", "Bob"],
  ]) {
    expect((await base.org.post("/contacts", { folder_id: folder.body.data.id, phone_number: phone, first_name: first })).status).toBe(201);
  }
  const browser = await signIn(base.org.apiKey);
  return { ...base, folderId: folder.body.data.id as string, browser };
}

async function live(browser: Browser, id: string, query = "") {
  const res = await browser.get(`/app/campaigns/${id}/live.json${query}`, { accept: "application/json" });
  expect(res.status, res.text).toBe(200);
  return res.json();
}

describe("dashboard campaign pages", () => {
  it("lists campaigns with their status and progress", async () => {
    const { org, agentId, browser } = await setup();
    const id = await startCampaign(org, { name: "Spring <calls>", agent_id: agentId, contacts: [{ phone_number: "+12125550001" }] });
    const page = await browser.page("/app/campaigns");
    expect(page.status).toBe(200);
    const text = textOf(page.text);
    expect(text).toContain("Spring <calls>");
    expect(page.text).toContain(`href="/app/campaigns/${id}"`);
    expect(text).toMatch(/Spring <calls> (scheduled|active)/);
    expect(page.text).toMatch(/<progress max="1" value="0" aria-label="Spring &lt;calls&gt; progress"/);
    expect(text).toContain("0 of 1 contacts done (0%)");

    const filtered = await browser.page("/app/campaigns?status=completed");
    expect(textOf(filtered.text)).toContain("No completed campaigns.");
    expect(filtered.text).toContain('<option value="completed" selected="">completed</option>');
  });

  it("creates and launches a campaign through the four-step wizard", async () => {
    const { org, agentId, numberId, folderId, browser } = await setup();
    const step1 = await browser.page("/app/campaigns/new");
    expect(step1.status).toBe(200);
    expect(textOf(step1.text)).toContain("Step 1 of 4: Name, agent and caller ID");
    expect(step1.text).toContain('aria-current="step"');
    expect(step1.text).toContain(`<option value="${agentId}">Caller</option>`);

    // A missing name stays on step 1 and says what is missing.
    const noName = await browser.post("/app/campaigns/new", { step: "1", nav: "next", name: "", agent_id: agentId });
    expect(noName.status).toBe(422);
    expect(textOf(noName.text)).toContain("Enter a name for the campaign");
    expect(noName.text).toMatch(/id="wizard-name"[^>]*aria-invalid="true"/);

    const step2 = await browser.post("/app/campaigns/new", { step: "1", nav: "next", name: "Wizard run", agent_id: agentId, phone_number_ids: numberId, phone_rotation_strategy: "random" });
    expect(step2.status).toBe(200);
    expect(textOf(step2.text)).toContain("Step 2 of 4: Contacts");
    expect(hiddenFields(step2.text)).toMatchObject({ name: ["Wizard run"], agent_id: [agentId], phone_number_ids: [numberId] });
    expect(textOf(step2.text)).toContain("Campaign folder (2 contacts)");

    const step3 = await browser.post("/app/campaigns/new", { ...hiddenFields(step2.text), step: "2", nav: "next", contact_folder_id: folderId });
    expect(textOf(step3.text)).toContain("Step 3 of 4: Schedule, calling window and redials");
    // Weekdays are ticked by default, the weekend is not.
    expect(step3.text).toMatch(/value="1" checked=""/);
    expect(step3.text).not.toMatch(/value="6" checked=""/);

    const schedule = {
      start: "now",
      timezone: "America/New_York",
      start_time: "10:00",
      end_time: "10:05",
      working_days: ["1", "2", "3", "4", "5"],
      max_concurrent_calls: "2",
      redial: "on",
      redial_attempts: "1",
      delay_no_answer: "30",
      delay_voicemail: "0",
    };
    const badZone = await browser.post("/app/campaigns/new", { ...hiddenFields(step3.text), step: "3", nav: "next", ...schedule, timezone: "Mars/Olympus" });
    expect(badZone.status).toBe(422);
    expect(textOf(badZone.text)).toContain("Not a known time zone");
    const step4 = await browser.post("/app/campaigns/new", { ...hiddenFields(step3.text), step: "3", nav: "next", ...schedule });
    const review = textOf(step4.text);
    expect(review).toContain("Step 4 of 4: Review and launch");
    expect(review).toContain("Caller");
    expect(review).toContain("Campaign folder (2 contacts)");
    expect(review).toContain("10:00–10:05, Mon, Tue, Wed, Thu, Fri, America/New_York");
    expect(review).toContain("Up to 1 per contact");

    // Back from the review keeps every answer.
    const back = await browser.post("/app/campaigns/new", { ...hiddenFields(step4.text), step: "4", nav: "back" });
    expect(textOf(back.text)).toContain("Step 3 of 4");
    expect(back.text).toContain('value="America/New_York"');
    expect(back.text).toContain('id="wizard-delay_no_answer" name="delay_no_answer" type="number" value="30"');

    const launched = await browser.post("/app/campaigns/new", { ...hiddenFields(step4.text), step: "4", nav: "launch" });
    expect(launched.status, launched.text).toBe(303);
    const id = launched.location!.split("/").pop()!;
    const campaign = await batch(org, id);
    expect(campaign).toMatchObject({
      name: "Wizard run",
      agent_id: agentId,
      phone_number_ids: [numberId],
      contact_folder_id: folderId,
      timezone: "America/New_York",
      start_time: "10:00",
      end_time: "10:05",
      max_concurrent_calls: 2,
      retry_failed: true,
      max_retry_attempts: 1,
      retry_policy: { no_answer: { delay_minutes: 30 }, busy: { delay_minutes: 15 }, voicemail: null },
      total_contacts: 2,
    });
    expect(["scheduled", "active"]).toContain(campaign.status);
    expect(textOf((await browser.page(launched.location!)).text)).toContain("Campaign “Wizard run” launched.");
  });

  it("shows a launch failure from the API on the step that owns the field", async () => {
    const { agentId, folderId, browser } = await setup();
    const values = {
      name: "Night owls",
      agent_id: agentId,
      phone_rotation_strategy: "random",
      contact_folder_id: folderId,
      start: "now",
      timezone: "America/New_York",
      start_time: "22:00",
      end_time: "23:00",
      working_days: ["1"],
      respect_recipient_timezone: "on",
    };
    const res = await browser.post("/app/campaigns/new", { ...values, step: "4", nav: "launch" });
    expect(res.status).toBe(422);
    expect(textOf(res.text)).toContain("Step 3 of 4");
    expect(textOf(res.text)).toContain("lies entirely outside the 08:00–21:00 hours");
  });

  it("returns live progress as JSON, and the detail page shows each contact's attempts", async () => {
    const { org, agentId, browser } = await setup();
    const id = await startCampaign(org, {
      agent_id: agentId,
      contacts: [
        { phone_number: "+12125550001", first_name: "Ada" },
        { phone_number: "+12125550002", first_name: "Bob" },
      ],
    });
    const before = await live(browser, id);
    expect(before).toMatchObject({ total: 2, done: 0, percent: 0, finished: false, progress_text: "0 of 2 contacts done (0%)" });
    expect(before.stats).toMatchObject({ dialled: 0, answered: 0, failed: 0, remaining: 2 });
    expect(before.stats).not.toHaveProperty("success");

    await runUntil(clock, org.orgId, id, NY(12));
    const after = await live(browser, id, "?success=1");
    expect(after).toMatchObject({ status: "completed", status_label: "completed", total: 2, done: 2, percent: 100, finished: true });
    expect(after.stats).toMatchObject({ dialled: 2, answered: 1, failed: 1, skipped: 0, remaining: 0 });
    const funnel = (await org.get(`/analytics/campaigns/${id}`)).body.data.funnel;
    expect(after.stats.success).toBe(funnel.success);

    const page = await browser.page(`/app/campaigns/${id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('<script src="/app/static/campaign-live.js"');
    expect(page.text).toMatch(/<progress id="campaign-progress" max="2" value="2" aria-label="Campaign progress" aria-valuetext="2 of 2 contacts done \(100%\)"/);
    expect(page.text).toContain('data-live="false"');
    expect(page.text).toMatch(/<dd data-stat="answered">1<\/dd>/);
    const [ada] = (await contactsOf(org, id)).filter((c) => c.first_name === "Ada");
    const call = ada.attempts[0];
    expect(page.text).toContain(`href="/app/calls/${call.call_id}"`);
    expect(textOf(page.text)).toContain("Call 1 to Ada");
    expect(textOf(page.text)).toMatch(/completed \(hangup by contact\)/);
    // The contact filter narrows the table to one status.
    const answeredOnly = textOf((await browser.page(`/app/campaigns/${id}?contact_status=completed`)).text);
    expect(answeredOnly).toContain("Ada");
    expect(answeredOnly).not.toContain("Bob");
    // The funnel chart from the analytics API.
    expect(page.text).toContain('<title id="campaign-funnel-title">Contacts at each stage</title>');
    expect(page.text).toContain('<th scope="row">Dialled</th><td>2</td>');
  });

  it("pauses, resumes and cancels through the forms, and says plainly when an action is not allowed", async () => {
    const { org, agentId, browser } = await setup();
    const id = await startCampaign(org, { agent_id: agentId, ...SHORT_WINDOW, contacts: [{ phone_number: "+12125550001" }] });
    const path = `/app/campaigns/${id}`;
    const page = await browser.page(path);
    // Pause and cancel are offered for a scheduled campaign; resume is there but hidden for the script.
    expect(page.text).toMatch(/<form method="post" action="[^"]+\/pause" class="inline-form" data-allowed-in="scheduled active">/);
    expect(page.text).toMatch(/<form method="post" action="[^"]+\/resume" class="inline-form" data-allowed-in="paused" hidden="">/);

    const paused = await browser.post(`${path}/pause`);
    expect(paused.status).toBe(303);
    expect((await batch(org, id)).status).toBe("paused");
    expect(textOf((await browser.page(path)).text)).toContain("Campaign paused.");

    const again = await browser.post(`${path}/pause`);
    expect(again.status).toBe(409);
    const refusal = textOf(again.text);
    expect(refusal).toContain("That cannot be done in the item's current state.");
    expect(refusal).toMatch(/paused/);

    expect((await browser.post(`${path}/resume`)).status).toBe(303);
    expect(["scheduled", "active"]).toContain((await batch(org, id)).status);
    expect((await browser.post(`${path}/cancel`)).status).toBe(303);
    expect((await batch(org, id)).status).toBe("cancelled");
    const late = await browser.post(`${path}/resume`);
    expect(late.status).toBe(409);
    expect(textOf(late.text)).toContain("That cannot be done in the item's current state.");
  });

  it("launches a draft saved from the wizard", async () => {
    const { org, agentId, folderId, browser } = await setup();
    const values = { name: "Later", agent_id: agentId, contact_folder_id: folderId, start: "now", timezone: "UTC", working_days: ["1", "2", "3", "4", "5"] };
    const saved = await browser.post("/app/campaigns/new", { ...values, step: "4", nav: "draft" });
    expect(saved.status).toBe(303);
    const id = saved.location!.split("/").pop()!;
    expect((await batch(org, id)).status).toBe("draft");
    expect((await browser.post(`/app/campaigns/${id}/launch`)).status).toBe(303);
    expect(["scheduled", "active"]).toContain((await batch(org, id)).status);
  });

  it("answers 404 for another organization's campaign on every page, JSON and form", async () => {
    const owner = await setup();
    const id = await startCampaign(owner.org, { agent_id: owner.agentId, contacts: [{ phone_number: "+12125550001" }] });
    const { browser } = await setup();
    for (const path of [`/app/campaigns/${id}`, `/app/campaigns/${id}/live.json`]) expect((await browser.get(path)).status, path).toBe(404);
    for (const action of ["pause", "resume", "cancel", "launch"]) expect((await browser.post(`/app/campaigns/${id}/${action}`)).status, action).toBe(404);
    expect(["scheduled", "active"]).toContain((await batch(owner.org, id)).status);
  });

  it("refuses every form post without the CSRF token", async () => {
    const { org, agentId, folderId, browser } = await setup();
    const id = await startCampaign(org, { agent_id: agentId, contacts: [{ phone_number: "+12125550001" }] });
    for (const path of ["/app/campaigns/new", ...["pause", "resume", "cancel", "launch"].map((a) => `/app/campaigns/${id}/${a}`)]) {
      const res = await browser.post(path, { step: "4", nav: "launch", name: "x", agent_id: agentId, contact_folder_id: folderId, timezone: "UTC", working_days: "1" }, { csrf: false });
      expect(res.status, path).toBe(403);
    }
    expect((await org.get("/batch-calls")).body.pagination.total).toBe(1);
    expect(["scheduled", "active"]).toContain((await batch(org, id)).status);
  });
});
