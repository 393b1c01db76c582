import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { manualClock, useClock } from "../../src/lib/clock";
import { createContact, createFolder } from "../contacts/helpers";
import { adminFetch, BASE, CATALOGUE_VOICE_ID, newOrg, rawFetch, type ApiClient } from "../helpers/api";
import { campaignCalls, campaignStub, drive, MONDAY_10AM_NY, orgWithCaller } from "./helpers";

/**
 * The batch-calls HTTP API end to end. The clock is manual and starts on a Monday at 10:00 in
 * New York in 2030, so no real alarm ever fires by itself: the campaign only moves when a test
 * fires its alarm (`drive`).
 */

let clock: ReturnType<typeof manualClock>;
let restore = () => {};
beforeEach(() => {
  clock = manualClock(MONDAY_10AM_NY);
  restore = useClock(clock);
});
afterEach(() => restore());

const NOW_ISO = new Date(MONDAY_10AM_NY).toISOString();
const HOUR = 3_600_000;
/** 2030-01-07 (Monday) at hh:mm in New York (UTC−5 in January), as an ISO instant. */
const nyMonday = (h: number, m = 0) => new Date(Date.UTC(2030, 0, 7, h + 5, m)).toISOString();

const DEFAULT_RETRY_POLICY = { no_answer: { delay_minutes: 120 }, busy: { delay_minutes: 15 }, failed: { delay_minutes: 30 }, voicemail: null };
const ZERO_STATS = {
  total: 0,
  pending: 0,
  scheduled: 0,
  retry_scheduled: 0,
  dialing: 0,
  in_progress: 0,
  completed: 0,
  failed: 0,
  no_answer: 0,
  busy: 0,
  voicemail: 0,
  skipped: 0,
  called: 0,
  attempts: 0,
  cost_credits: 0,
  estimated_finish_at: null,
};

type Caller = Awaited<ReturnType<typeof orgWithCaller>>;

/** A second organization with a raised rate limit (these tests run many requests in one simulated minute). */
async function otherOrg(): Promise<ApiClient & { orgId: string }> {
  const org = await newOrg("Other org");
  await adminFetch(`/organizations/${org.orgId}`, { method: "PATCH", body: { rate_limit_per_minute: 100_000 } });
  return org;
}

async function createBatch(caller: Caller, body: Record<string, unknown> = {}): Promise<any> {
  const res = await caller.org.post("/batch-calls", { name: "Renewals", agent_id: caller.agentId, ...body });
  if (res.status !== 201) throw new Error(`could not create batch call: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data;
}

/** A New York 09:00–17:00 campaign with the given phones, scheduled now (Monday 10:00 NY). */
async function scheduledBatch(caller: Caller, phones: string[], body: Record<string, unknown> = {}): Promise<any> {
  const batch = await createBatch(caller, {
    timezone: "America/New_York",
    start_time: "09:00",
    end_time: "17:00",
    contacts: phones.map((phone_number) => ({ phone_number })),
    ...body,
  });
  const res = await caller.org.post(`/batch-calls/${batch.id}/schedule`);
  if (res.status !== 200) throw new Error(`could not schedule: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data;
}

async function contactsOf(org: ApiClient, id: string, query = ""): Promise<any[]> {
  const res = await org.get(`/batch-calls/${id}/contacts?limit=100${query}`);
  expect(res.status).toBe(200);
  return res.body.data;
}

function importCampaignCsv(org: ApiClient, id: string, csv: string, fields: Record<string, string> = {}) {
  const form = new FormData();
  form.append("file", new File([csv], "contacts.csv", { type: "text/csv" }));
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  return org.send("POST", `/batch-calls/${id}/contacts/import`, { body: form });
}

function expect422(res: { status: number; body: any }, field: string, code = "validation_error") {
  expect(res.status, JSON.stringify(res.body)).toBe(422);
  expect(res.body.error.code).toBe(code);
  expect(res.body.error.details.field).toBe(field);
}

function expect409(res: { status: number; body: any }, status: string, allowed: string[]) {
  expect(res.status, JSON.stringify(res.body)).toBe(409);
  expect(res.body.error.code).toBe("conflict");
  expect(res.body.error.details).toEqual({ status, allowed_statuses: allowed });
}

describe("POST /batch-calls", () => {
  it("creates a draft with the documented defaults and normalised inline contacts", async () => {
    const caller = await orgWithCaller();
    const res = await caller.org.post("/batch-calls", {
      name: "  Renewals  ",
      agent_id: caller.agentId,
      default_country: "US",
      contacts: [
        { phone_number: "+12125550001", first_name: "Ada", email: "ada@example.com", custom_fields: { plan: "gold" } },
        { phone_number: "(212) 555-0002", last_name: "King", timezone: "America/Chicago" },
      ],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const batch = res.body.data;
    expect(batch).toEqual({
      id: expect.any(String),
      name: "Renewals",
      status: "draft",
      status_reason: null,
      agent_id: caller.agentId,
      phone_number_ids: null,
      phone_rotation_strategy: "random",
      contact_source: "manual",
      contact_folder_id: null,
      schedule_type: "immediate",
      scheduled_at: null,
      timezone: "UTC",
      start_time: null,
      end_time: null,
      working_days: [1, 2, 3, 4, 5],
      max_concurrent_calls: 10,
      concurrency: 10,
      max_calls_per_day: null,
      max_calls_per_number_per_day: null,
      retry_failed: false,
      max_retry_attempts: 0,
      retry_attempts: 0,
      retry_policy: DEFAULT_RETRY_POLICY,
      respect_recipient_timezone: false,
      total_contacts: 2,
      called: 0,
      completed: 0,
      failed: 0,
      pending: 2,
      stats: { ...ZERO_STATS, total: 2, pending: 2 },
      started_at: null,
      paused_at: null,
      completed_at: null,
      cancelled_at: null,
      created_at: NOW_ISO,
      updated_at: NOW_ISO,
    });

    const contacts = await contactsOf(caller.org, batch.id);
    expect(contacts).toEqual([
      {
        contact_id: expect.any(String),
        phone_number: "+12125550001",
        first_name: "Ada",
        last_name: null,
        email: "ada@example.com",
        timezone: null,
        custom_fields: { plan: "gold" },
        status: "pending",
        skip_reason: null,
        scheduled_at: null,
        call_status: null,
        call_id: null,
        called_at: null,
        attempts_count: 0,
        attempts: [],
      },
      expect.objectContaining({ phone_number: "+12125550002", first_name: null, last_name: "King", timezone: "America/Chicago", status: "pending" }),
    ]);
    expect(contacts[0].contact_id).not.toBe(contacts[1].contact_id);
    expect((await caller.org.get(`/batch-calls/${batch.id}`)).body.data).toEqual(batch);
  });

  it("keeps given settings, with concurrency and retry aliases and a partial retry policy filled in", async () => {
    const caller = await orgWithCaller();
    const batch = await createBatch(caller, {
      phone_number_ids: [caller.numberId],
      phone_rotation_strategy: "round_robin",
      schedule_type: "scheduled",
      scheduled_at: "2030-01-08T14:00:00Z",
      timezone: "America/New_York",
      start_time: "09:30",
      end_time: "16:45",
      working_days: [1, 3, 5],
      max_concurrent_calls: 3,
      max_calls_per_day: 50,
      max_calls_per_number_per_day: 20,
      retry_failed: true,
      max_retry_attempts: 2,
      retry_policy: { busy: { delay_minutes: 5 }, no_answer: null },
      respect_recipient_timezone: true,
    });
    expect(batch).toMatchObject({
      phone_number_ids: [caller.numberId],
      phone_rotation_strategy: "round_robin",
      contact_source: "csv",
      schedule_type: "scheduled",
      scheduled_at: "2030-01-08T14:00:00Z",
      timezone: "America/New_York",
      start_time: "09:30",
      end_time: "16:45",
      working_days: [1, 3, 5],
      max_concurrent_calls: 3,
      concurrency: 3,
      max_calls_per_day: 50,
      max_calls_per_number_per_day: 20,
      retry_failed: true,
      max_retry_attempts: 2,
      retry_attempts: 2,
      retry_policy: { no_answer: null, busy: { delay_minutes: 5 }, failed: { delay_minutes: 30 }, voicemail: null },
      respect_recipient_timezone: true,
      total_contacts: 0,
    });
  });

  it("infers contact_source: folder, manual (contact_ids) and csv (nothing given); copies contact_ids", async () => {
    const caller = await orgWithCaller();
    const folderId = await createFolder(caller.org);
    const a = await createContact(caller.org, { phone_number: "+12125550001", first_name: "Ada", custom_fields: { crm: "A-1" } });
    const b = await createContact(caller.org, { phone_number: "+12125550002", first_name: "Grace" });

    const fromFolder = await createBatch(caller, { contact_folder_id: folderId });
    expect(fromFolder).toMatchObject({ contact_source: "folder", contact_folder_id: folderId, total_contacts: 0 });
    expect((await createBatch(caller)).contact_source).toBe("csv");

    const byIds = await createBatch(caller, { contact_ids: [b.id, a.id, b.id] });
    expect(byIds).toMatchObject({ contact_source: "manual", total_contacts: 2 });
    const contacts = await contactsOf(caller.org, byIds.id);
    expect(contacts.map((c) => [c.contact_id, c.phone_number, c.first_name, c.status])).toEqual([
      [b.id, "+12125550002", "Grace", "pending"],
      [a.id, "+12125550001", "Ada", "pending"],
    ]);
    expect(contacts[1].custom_fields).toEqual({ crm: "A-1" });
  });

  it("rejects unknown or foreign contacts, folders, agents and numbers, naming the field", async () => {
    const caller = await orgWithCaller();
    const other = await orgWithCaller();
    const foreignContact = await createContact(other.org, { phone_number: "+12125550001" });
    const foreignFolder = await createFolder(other.org);
    const mine = await createContact(caller.org, { phone_number: "+12125550002" });
    const draft = await caller.org.post("/agents", { name: "Draft", voice_id: CATALOGUE_VOICE_ID, system_prompt: "x", status: "draft" });
    const lonely = await caller.org.post("/agents", { name: "No numbers", voice_id: CATALOGUE_VOICE_ID, system_prompt: "x" });
    expect(draft.status).toBe(201);
    expect(lonely.status).toBe(201);

    const cases: [Record<string, unknown>, string, string?][] = [
      [{ contact_ids: [mine.id, "no-such-contact"] }, "contact_ids"],
      [{ contact_ids: [foreignContact.id] }, "contact_ids"],
      [{ contact_folder_id: foreignFolder }, "contact_folder_id"],
      [{ contact_folder_id: "no-such-folder" }, "contact_folder_id"],
      [{ contact_source: "folder" }, "contact_folder_id"],
      [{ agent_id: "no-such-agent" }, "agent_id"],
      [{ agent_id: other.agentId }, "agent_id"],
      [{ agent_id: draft.body.data.id }, "agent_id"],
      [{ phone_number_ids: [other.numberId] }, "phone_number_ids"],
      [{ phone_number_ids: [caller.numberId, "no-such-number"] }, "phone_number_ids"],
      [{ contacts: [{ phone_number: "+12125550003" }, { phone_number: "2125550004" }] }, "contacts.1.phone_number"],
      [{ contacts: [{ phone_number: "+1 555" }] }, "contacts.0.phone_number"],
      [{ contacts: [{ first_name: "No phone" }] }, "contacts.0.phone_number"],
      [{ default_country: "XX", contacts: [{ phone_number: "2125550004" }] }, "default_country"],
    ];
    for (const [body, field] of cases) {
      const res = await caller.org.post("/batch-calls", { name: "Bad", agent_id: caller.agentId, ...body });
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.error.code, JSON.stringify(body)).toBe("validation_error");
      expect(res.body.error.details.field, JSON.stringify(body)).toBe(field);
    }

    const noNumber = await caller.org.post("/batch-calls", { name: "Bad", agent_id: lonely.body.data.id });
    expect(noNumber.status).toBe(422);
    expect(noNumber.body.error.code).toBe("no_phone_number_configured");
    expect(noNumber.body.error.details).toEqual({ agent_id: lonely.body.data.id });
    // The same agent with an explicit caller-ID pool is fine.
    expect((await caller.org.post("/batch-calls", { name: "Ok", agent_id: lonely.body.data.id, phone_number_ids: [caller.numberId] })).status).toBe(201);

    expect((await caller.org.get("/batch-calls")).body.pagination.total).toBe(1);
    expect((await other.org.get("/batch-calls")).body.pagination.total).toBe(0);
  });

  it("rejects bad windows, schedules, time zones and working days", async () => {
    const caller = await orgWithCaller();
    const cases: [Record<string, unknown>, string][] = [
      [{ start_time: "25:00", end_time: "17:00" }, "start_time"],
      [{ start_time: "09:00", end_time: "9pm" }, "end_time"],
      // Applied in each recipient's zone, a window entirely outside 08:00–21:00 never calls anyone.
      [{ start_time: "22:00", end_time: "07:00", respect_recipient_timezone: true }, "start_time"],
      [{ start_time: "21:00", end_time: "23:30", respect_recipient_timezone: true }, "start_time"],
      [{ start_time: "05:00", end_time: "08:00", respect_recipient_timezone: true }, "start_time"],
      [{ schedule_type: "scheduled" }, "scheduled_at"],
      [{ schedule_type: "scheduled", scheduled_at: null }, "scheduled_at"],
      [{ scheduled_at: "tomorrow" }, "scheduled_at"],
      [{ timezone: "Mars/Olympus_Mons" }, "timezone"],
      [{ working_days: [1, 2, 2] }, "working_days"],
      [{ working_days: [] }, "working_days"],
      [{ working_days: [0, 1] }, "working_days.0"],
      [{ max_concurrent_calls: 101 }, "max_concurrent_calls"],
      [{ max_retry_attempts: 4 }, "max_retry_attempts"],
      [{ retry_policy: { busy: { delay_minutes: 0 } } }, "retry_policy.busy.delay_minutes"],
      [{ name: "   " }, "name"],
    ];
    for (const [body, field] of cases) {
      const res = await caller.org.post("/batch-calls", { name: "Bad", agent_id: caller.agentId, ...body });
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.error.code, JSON.stringify(body)).toBe("validation_error");
      expect(res.body.error.details.field, JSON.stringify(body)).toBe(field);
    }
    // A midnight-crossing window that reaches into 08:00–21:00 is fine.
    expect((await caller.org.post("/batch-calls", { name: "Evening", agent_id: caller.agentId, start_time: "19:00", end_time: "09:00" })).status).toBe(201);
    expect((await caller.org.get("/batch-calls")).body.pagination.total).toBe(1);
  });

  it("replays a create with the same Idempotency-Key instead of creating a second campaign", async () => {
    const caller = await orgWithCaller();
    const body = { name: "Once", agent_id: caller.agentId, contacts: [{ phone_number: "+12125550001" }] };
    const first = await caller.org.post("/batch-calls", body, { "Idempotency-Key": "batch-once" });
    const second = await caller.org.post("/batch-calls", body, { "X-Idempotency-Key": "batch-once" });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.headers.get("Idempotent-Replayed")).toBe("true");
    expect(second.body.data.id).toBe(first.body.data.id);
    const reused = await caller.org.post("/batch-calls", { ...body, name: "Twice" }, { "Idempotency-Key": "batch-once" });
    expect(reused.status).toBe(422);
    expect(reused.body.error.code).toBe("idempotency_key_reused");
    expect((await caller.org.get("/batch-calls")).body.pagination.total).toBe(1);
    expect(await contactsOf(caller.org, first.body.data.id)).toHaveLength(1);
  });
});

describe("POST /batch-calls/{id}/schedule", () => {
  it("schedules a draft and gives every contact a slot inside the window", async () => {
    const caller = await orgWithCaller();
    const batch = await createBatch(caller, {
      timezone: "America/New_York",
      start_time: "09:00",
      end_time: "17:00",
      contacts: ["+12125550001", "+12125550002", "+12125550003"].map((phone_number) => ({ phone_number })),
    });
    const res = await caller.org.post(`/batch-calls/${batch.id}/schedule`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data).toMatchObject({ id: batch.id, status: "scheduled", status_reason: null, schedule_type: "immediate", total_contacts: 3, pending: 3 });
    expect(res.body.data.stats).toMatchObject({ total: 3, pending: 0, scheduled: 3 });
    expect(res.body.data.stats.estimated_finish_at).toEqual(expect.any(String));

    const contacts = await contactsOf(caller.org, batch.id);
    expect(contacts.map((c) => c.status)).toEqual(["scheduled", "scheduled", "scheduled"]);
    // Now is 10:00 in New York, inside the window: 10:00–17:00 is split evenly in three.
    expect(contacts.map((c) => c.scheduled_at)).toEqual([nyMonday(10), nyMonday(12, 20), nyMonday(14, 40)]);
    for (const c of contacts) {
      expect(Date.parse(c.scheduled_at)).toBeGreaterThanOrEqual(MONDAY_10AM_NY);
      expect(Date.parse(c.scheduled_at)).toBeLessThan(Date.parse(nyMonday(17)));
    }

    expect409(await caller.org.post(`/batch-calls/${batch.id}/schedule`), "scheduled", ["draft"]);
  });

  it("accepts the lifecycle actions without any request body", async () => {
    const caller = await orgWithCaller();
    const batch = await createBatch(caller, { contacts: [{ phone_number: "+12125550001" }] });
    const bare = (action: string) => caller.org.send("POST", `/batch-calls/${batch.id}/${action}`);
    const scheduled = await bare("schedule");
    expect(scheduled.status, JSON.stringify(scheduled.body)).toBe(200);
    expect(scheduled.body.data).toMatchObject({ status: "scheduled", schedule_type: "immediate", scheduled_at: null });
    expect((await bare("pause")).body.data.status).toBe("paused");
    expect((await bare("resume")).body.data.status).toBe("active");
    expect((await bare("cancel")).body.data.status).toBe("cancelled");
  });

  it("starts at the given scheduled_at and timezone", async () => {
    const caller = await orgWithCaller();
    const batch = await createBatch(caller, { start_time: "09:00", end_time: "11:00", contacts: [{ phone_number: "+12125550001" }, { phone_number: "+12125550002" }] });
    expect422(await caller.org.post(`/batch-calls/${batch.id}/schedule`, { timezone: "Atlantis/Capital" }), "timezone");
    expect422(await caller.org.post(`/batch-calls/${batch.id}/schedule`, { scheduled_at: "next tuesday" }), "scheduled_at");
    expect((await caller.org.get(`/batch-calls/${batch.id}`)).body.data).toMatchObject({ status: "draft", timezone: "UTC" });
    const res = await caller.org.post(`/batch-calls/${batch.id}/schedule`, { scheduled_at: "2030-01-08T14:00:00Z", timezone: "America/New_York" });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data).toMatchObject({ status: "scheduled", schedule_type: "scheduled", scheduled_at: "2030-01-08T14:00:00Z", timezone: "America/New_York" });
    // Tuesday 09:00–11:00 New York = 14:00–16:00 UTC.
    expect((await contactsOf(caller.org, batch.id)).map((c) => c.scheduled_at)).toEqual(["2030-01-08T14:00:00.000Z", "2030-01-08T15:00:00.000Z"]);
  });

  it("keeps every slot inside 08:00–21:00 of the recipient's zone, and in its own window with respect_recipient_timezone", async () => {
    const caller = await orgWithCaller();
    const phones = ["+12125550001", "+13105550001", "+12125550002"];
    // Tuesday 09:00–17:00 UTC is 04:00–12:00 in New York and 01:00–09:00 in Los Angeles.
    const plain = await scheduledBatch(caller, phones, { timezone: "UTC", scheduled_at: "2030-01-08T09:00:00Z" });
    expect((await contactsOf(caller.org, plain.id)).map((c) => [c.phone_number, c.scheduled_at])).toEqual([
      ["+12125550001", "2030-01-08T13:00:00.000Z"],
      ["+13105550001", "2030-01-08T16:00:00.000Z"],
      ["+12125550002", "2030-01-08T15:00:00.000Z"],
    ]);
    // 09:00–17:00 local to each recipient: 14:00–22:00 UTC in New York, 17:00–01:00 UTC in Los Angeles.
    const local = await scheduledBatch(caller, phones, { timezone: "UTC", scheduled_at: "2030-01-08T09:00:00Z", respect_recipient_timezone: true });
    expect((await contactsOf(caller.org, local.id)).map((c) => [c.phone_number, c.scheduled_at])).toEqual([
      ["+12125550001", "2030-01-08T14:00:00.000Z"],
      ["+13105550001", "2030-01-08T17:00:00.000Z"],
      ["+12125550002", "2030-01-08T18:00:00.000Z"],
    ]);
  });

  it("copies the folder's contacts at scheduling, including those added after create", async () => {
    const caller = await orgWithCaller();
    const folderId = await createFolder(caller.org);
    const early = await createContact(caller.org, { phone_number: "+12125550001", folder_id: folderId, first_name: "Early" });
    await createContact(caller.org, { phone_number: "+12125550009" }); // default folder: not copied
    const batch = await createBatch(caller, { contact_folder_id: folderId, timezone: "America/New_York", start_time: "09:00", end_time: "17:00" });
    clock.advance(1000);
    const late = await createContact(caller.org, { phone_number: "+12125550002", folder_id: folderId, first_name: "Late" });

    const res = await caller.org.post(`/batch-calls/${batch.id}/schedule`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data.total_contacts).toBe(2);
    const contacts = await contactsOf(caller.org, batch.id);
    expect(contacts.map((c) => [c.contact_id, c.phone_number, c.first_name, c.status])).toEqual([
      [early.id, "+12125550001", "Early", "scheduled"],
      [late.id, "+12125550002", "Late", "scheduled"],
    ]);
  });

  it("fails a campaign with no contacts, shows why, and lets it be deleted", async () => {
    const caller = await orgWithCaller();
    const batch = await createBatch(caller);
    const res = await caller.org.post(`/batch-calls/${batch.id}/schedule`);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("validation_error");
    expect(res.body.error.details).toEqual({ batch_call_id: batch.id, status: "failed", reason: "The campaign has no contacts to call" });

    const got = (await caller.org.get(`/batch-calls/${batch.id}`)).body.data;
    expect(got).toMatchObject({ status: "failed", status_reason: "The campaign has no contacts to call" });
    expect409(await caller.org.post(`/batch-calls/${batch.id}/schedule`), "failed", ["draft"]);
    expect409(await caller.org.patch(`/batch-calls/${batch.id}`, { name: "x" }), "failed", ["draft", "scheduled", "paused"]);

    expect((await caller.org.delete(`/batch-calls/${batch.id}`)).body.data).toEqual({ id: batch.id, deleted: true });
    expect((await caller.org.get(`/batch-calls/${batch.id}`)).status).toBe(404);
  });

  it("fails the campaign when its agent was set to draft after create", async () => {
    const caller = await orgWithCaller();
    const batch = await createBatch(caller, { contacts: [{ phone_number: "+12125550001" }] });
    expect((await caller.org.patch(`/agents/${caller.agentId}`, { status: "draft" })).status).toBe(200);
    const res = await caller.org.post(`/batch-calls/${batch.id}/schedule`);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("validation_error");
    const reason = `Agent ${caller.agentId} is draft, not active`;
    expect(res.body.error.details).toEqual({ batch_call_id: batch.id, status: "failed", reason });
    expect((await caller.org.get(`/batch-calls/${batch.id}`)).body.data).toMatchObject({ status: "failed", status_reason: reason });
    // The contact never got a slot.
    expect((await contactsOf(caller.org, batch.id)).map((c) => [c.status, c.scheduled_at])).toEqual([["pending", null]]);
  });
});

describe("windows in another zone than the recipients'", () => {
  it("accepts a London night window that is a New York afternoon, and skips recipients it never reaches", async () => {
    const caller = await orgWithCaller();
    // 21:00–01:00 London is 16:00–20:00 in New York (January): inside New York's quiet hours.
    const batch = await createBatch(caller, {
      timezone: "Europe/London",
      start_time: "21:00",
      end_time: "01:00",
      contacts: [{ phone_number: "+12125550001" }, { phone_number: "+442071000001" }],
    });
    const scheduled = await caller.org.post(`/batch-calls/${batch.id}/schedule`, {});
    expect(scheduled.status).toBe(200);
    const [newYork, london] = await contactsOf(caller.org, batch.id);
    // The New York contact gets the first slot of the window: 21:00 London = 16:00 New York.
    expect(newYork).toMatchObject({ status: "scheduled", scheduled_at: nyMonday(16) });
    // For the London contact 21:00–01:00 never meets 08:00–21:00 London time.
    expect(london).toMatchObject({ status: "skipped", skip_reason: "outside_window", scheduled_at: null });
    const log = (await caller.org.get(`/batch-calls/${batch.id}/audit-log`)).body.data;
    expect(log).toEqual([expect.objectContaining({ phone_number: "+442071000001", decision: "skipped", reason: expect.stringMatching(/^outside_window/) })]);
  });
});

describe("GET /batch-calls", () => {
  it("lists newest first, filters by status and agent, and paginates", async () => {
    const caller = await orgWithCaller();
    const second = await caller.org.post("/agents", { name: "Second", voice_id: CATALOGUE_VOICE_ID, system_prompt: "x" });
    const a = await createBatch(caller, { name: "A", contacts: [{ phone_number: "+12125550001" }] });
    clock.advance(1000);
    const b = await createBatch(caller, { name: "B", agent_id: second.body.data.id, phone_number_ids: [caller.numberId] });
    clock.advance(1000);
    const c = await createBatch(caller, { name: "C" });
    expect((await caller.org.post(`/batch-calls/${a.id}/schedule`)).status).toBe(200);

    const all = await caller.org.get("/batch-calls");
    expect(all.status).toBe(200);
    expect(all.body.data.map((x: any) => x.name)).toEqual(["C", "B", "A"]);
    expect(all.body.pagination).toEqual({ total: 3, limit: 50, offset: 0, has_more: false });

    const ids = async (query: string) => (await caller.org.get(`/batch-calls?${query}`)).body.data.map((x: any) => x.id);
    expect(await ids("status=draft")).toEqual([c.id, b.id]);
    expect(await ids("status=scheduled")).toEqual([a.id]);
    expect(await ids("status=active")).toEqual([]);
    expect(await ids(`agent_id=${second.body.data.id}`)).toEqual([b.id]);
    expect(await ids(`agent_id=${caller.agentId}&status=draft`)).toEqual([c.id]);

    const page = await caller.org.get("/batch-calls?limit=1&offset=1");
    expect(page.body.data.map((x: any) => x.id)).toEqual([b.id]);
    expect(page.body.pagination).toEqual({ total: 3, limit: 1, offset: 1, has_more: true });
    const last = await caller.org.get("/batch-calls?limit=2&offset=2");
    expect(last.body.data.map((x: any) => x.id)).toEqual([a.id]);
    expect(last.body.pagination).toEqual({ total: 3, limit: 2, offset: 2, has_more: false });

    expect422(await caller.org.get("/batch-calls?status=running"), "status");
    expect422(await caller.org.get("/batch-calls?limit=101"), "limit");
  });

  it("shows the campaign with its stats", async () => {
    const caller = await orgWithCaller();
    const batch = await scheduledBatch(caller, ["+12125550001", "+12125550002"]);
    const got = await caller.org.get(`/batch-calls/${batch.id}`);
    expect(got.status).toBe(200);
    expect(got.body.data).toMatchObject({ id: batch.id, status: "scheduled", total_contacts: 2, called: 0, completed: 0, failed: 0, pending: 2 });
    expect(got.body.data.stats).toEqual({ ...ZERO_STATS, total: 2, scheduled: 2, estimated_finish_at: expect.any(String) });
  });
});

describe("PATCH /batch-calls/{id}", () => {
  it("edits a draft", async () => {
    const caller = await orgWithCaller();
    const batch = await createBatch(caller);
    clock.advance(1000);
    const res = await caller.org.patch(`/batch-calls/${batch.id}`, { name: "Renamed", max_concurrent_calls: 4, retry_failed: true, max_retry_attempts: 1, working_days: [6, 7] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data).toMatchObject({
      status: "draft",
      name: "Renamed",
      max_concurrent_calls: 4,
      concurrency: 4,
      retry_failed: true,
      max_retry_attempts: 1,
      retry_attempts: 1,
      working_days: [6, 7],
      updated_at: new Date(MONDAY_10AM_NY + 1000).toISOString(),
      created_at: NOW_ISO,
    });
    expect((await caller.org.get(`/batch-calls/${batch.id}`)).body.data.name).toBe("Renamed");
  });

  it("moves waiting contacts into a new window of a scheduled campaign; refuses a bad window and changes nothing", async () => {
    const caller = await orgWithCaller();
    const batch = await scheduledBatch(caller, ["+12125550001", "+12125550002"]);
    expect((await contactsOf(caller.org, batch.id)).map((c) => c.scheduled_at)).toEqual([nyMonday(10), nyMonday(13, 30)]);

    const res = await caller.org.patch(`/batch-calls/${batch.id}`, { start_time: "14:00", end_time: "16:00" });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data).toMatchObject({ status: "scheduled", start_time: "14:00", end_time: "16:00" });
    const moved = await contactsOf(caller.org, batch.id);
    expect(moved.map((c) => [c.status, c.scheduled_at])).toEqual([
      ["scheduled", nyMonday(14)],
      ["scheduled", nyMonday(15)],
    ]);

    const before = (await caller.org.get(`/batch-calls/${batch.id}`)).body.data;
    const other = await orgWithCaller();
    const bad: [Record<string, unknown>, string][] = [
      [{ start_time: "22:00", end_time: "07:00", respect_recipient_timezone: true }, "start_time"],
      [{ start_time: "05:00", end_time: "07:59", respect_recipient_timezone: true }, "start_time"],
      [{ start_time: "9:00" }, "start_time"],
      [{ working_days: [3, 3] }, "working_days"],
      [{ timezone: "Nowhere/Special" }, "timezone"],
      [{ schedule_type: "scheduled" }, "scheduled_at"],
      [{ phone_number_ids: [other.numberId] }, "phone_number_ids"],
      [{ name: "" }, "name"],
    ];
    for (const [body, field] of bad) {
      const res = await caller.org.patch(`/batch-calls/${batch.id}`, body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.error.code).toBe("validation_error");
      expect(res.body.error.details.field, JSON.stringify(body)).toBe(field);
    }
    expect((await caller.org.get(`/batch-calls/${batch.id}`)).body.data).toEqual(before);
    expect(await contactsOf(caller.org, batch.id)).toEqual(moved);
  });

  it("reslots waiting contacts when the start or the daily cap of a scheduled campaign changes", async () => {
    const caller = await orgWithCaller();
    const batch = await scheduledBatch(caller, ["+12125550001", "+12125550002", "+12125550003"]);
    const capped = await caller.org.patch(`/batch-calls/${batch.id}`, { max_calls_per_day: 1 });
    expect(capped.status, JSON.stringify(capped.body)).toBe(200);
    // One a day: Monday from now (10:00), then Tuesday and Wednesday at the window's opening.
    expect((await contactsOf(caller.org, batch.id)).map((c) => c.scheduled_at)).toEqual([
      nyMonday(10),
      "2030-01-08T14:00:00.000Z",
      "2030-01-09T14:00:00.000Z",
    ]);
    const later = await caller.org.patch(`/batch-calls/${batch.id}`, { scheduled_at: "2030-01-10T17:00:00Z", max_calls_per_day: null });
    expect(later.status, JSON.stringify(later.body)).toBe(200);
    expect(later.body.data).toMatchObject({ status: "scheduled", schedule_type: "scheduled", scheduled_at: "2030-01-10T17:00:00Z", max_calls_per_day: null });
    // Thursday from 12:00 New York to 17:00: five hours split in three.
    expect((await contactsOf(caller.org, batch.id)).map((c) => c.scheduled_at)).toEqual([
      "2030-01-10T17:00:00.000Z",
      "2030-01-10T18:40:00.000Z",
      "2030-01-10T20:20:00.000Z",
    ]);
  });

  it("moves a paused campaign's start, so that resume goes back to scheduled", async () => {
    const caller = await orgWithCaller();
    const batch = await scheduledBatch(caller, ["+12125550001"]);
    expect((await caller.org.post(`/batch-calls/${batch.id}/pause`)).status).toBe(200);
    const res = await caller.org.patch(`/batch-calls/${batch.id}`, { scheduled_at: "2030-01-08T15:00:00Z" });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data).toMatchObject({ status: "paused", schedule_type: "scheduled", scheduled_at: "2030-01-08T15:00:00Z" });
    expect((await contactsOf(caller.org, batch.id)).map((c) => c.scheduled_at)).toEqual(["2030-01-08T15:00:00.000Z"]);
    clock.advance(HOUR);
    expect((await caller.org.post(`/batch-calls/${batch.id}/resume`)).body.data.status).toBe("scheduled");
  });

  it("checks the caller IDs a PATCH leaves the campaign with", async () => {
    const caller = await orgWithCaller();
    const lonely = await caller.org.post("/agents", { name: "No numbers", voice_id: CATALOGUE_VOICE_ID, system_prompt: "x" });
    const batch = await createBatch(caller, { agent_id: lonely.body.data.id, phone_number_ids: [caller.numberId] });
    const res = await caller.org.patch(`/batch-calls/${batch.id}`, { phone_number_ids: null });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("no_phone_number_configured");
    expect((await caller.org.get(`/batch-calls/${batch.id}`)).body.data.phone_number_ids).toEqual([caller.numberId]);
  });

  it("edits a paused campaign and refuses an active one with the allowed statuses", async () => {
    const caller = await orgWithCaller();
    // The window opens at 14:00: the campaign turns active at its start (now) with nobody due yet.
    const batch = await scheduledBatch(caller, ["+12125550001"], { start_time: "14:00", end_time: "16:00" });
    expect((await caller.org.post(`/batch-calls/${batch.id}/pause`)).body.data.status).toBe("paused");
    const paused = await caller.org.patch(`/batch-calls/${batch.id}`, { max_calls_per_day: 25 });
    expect(paused.status).toBe(200);
    expect(paused.body.data).toMatchObject({ status: "paused", max_calls_per_day: 25 });

    const resumed = await caller.org.post(`/batch-calls/${batch.id}/resume`);
    expect(resumed.body.data.status).toBe("active");
    const res = await caller.org.patch(`/batch-calls/${batch.id}`, { name: "Too late" });
    expect409(res, "active", ["draft", "scheduled", "paused"]);
    expect((await caller.org.get(`/batch-calls/${batch.id}`)).body.data).toMatchObject({ name: "Renewals", status: "active" });
  });
});

describe("pause, resume, cancel", () => {
  it("pauses a scheduled campaign and resumes it to scheduled while its start is ahead", async () => {
    const caller = await orgWithCaller();
    const batch = await scheduledBatch(caller, ["+12125550001"], { scheduled_at: "2030-01-08T15:00:00Z" });
    expect(batch).toMatchObject({ status: "scheduled", schedule_type: "scheduled" });
    clock.advance(60_000);
    const paused = await caller.org.post(`/batch-calls/${batch.id}/pause`);
    expect(paused.status).toBe(200);
    expect(paused.body.data).toMatchObject({ status: "paused", paused_at: new Date(MONDAY_10AM_NY + 60_000).toISOString() });
    expect409(await caller.org.post(`/batch-calls/${batch.id}/pause`), "paused", ["scheduled", "active"]);
    expect409(await caller.org.post(`/batch-calls/${batch.id}/schedule`), "paused", ["draft"]);

    const resumed = await caller.org.post(`/batch-calls/${batch.id}/resume`);
    expect(resumed.status).toBe(200);
    expect(resumed.body.data).toMatchObject({ status: "scheduled", paused_at: null, started_at: null });
    // Contacts keep their slots.
    expect((await contactsOf(caller.org, batch.id)).map((c) => [c.status, c.scheduled_at])).toEqual([["scheduled", "2030-01-08T15:00:00.000Z"]]);
    expect409(await caller.org.post(`/batch-calls/${batch.id}/resume`), "scheduled", ["paused"]);
  });

  it("resumes to active once the start has passed", async () => {
    const caller = await orgWithCaller();
    const batch = await scheduledBatch(caller, ["+12125550001", "+12125550002"]);
    expect((await caller.org.post(`/batch-calls/${batch.id}/pause`)).body.data.status).toBe("paused");
    clock.advance(60_000);
    const resumed = await caller.org.post(`/batch-calls/${batch.id}/resume`);
    expect(resumed.status).toBe(200);
    expect(resumed.body.data).toMatchObject({ status: "active", paused_at: null, started_at: new Date(MONDAY_10AM_NY + 60_000).toISOString() });
  });

  it("refuses pause and resume of a draft", async () => {
    const caller = await orgWithCaller();
    const batch = await createBatch(caller, { contacts: [{ phone_number: "+12125550001" }] });
    expect409(await caller.org.post(`/batch-calls/${batch.id}/pause`), "draft", ["scheduled", "active"]);
    expect409(await caller.org.post(`/batch-calls/${batch.id}/resume`), "draft", ["paused"]);
    expect((await caller.org.get(`/batch-calls/${batch.id}`)).body.data.status).toBe("draft");
  });

  it("cancels: waiting contacts become skipped (cancelled), and nothing but delete is allowed after", async () => {
    const caller = await orgWithCaller();
    const batch = await scheduledBatch(caller, ["+12125550001", "+12125550002", "+12125550003"]);
    clock.advance(5_000);
    const res = await caller.org.post(`/batch-calls/${batch.id}/cancel`);
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ status: "cancelled", cancelled_at: new Date(MONDAY_10AM_NY + 5_000).toISOString(), pending: 0 });
    expect(res.body.data.stats).toMatchObject({ total: 3, scheduled: 0, skipped: 3, estimated_finish_at: null });
    const contacts = await contactsOf(caller.org, batch.id);
    expect(contacts.map((c) => [c.status, c.skip_reason])).toEqual([
      ["skipped", "cancelled"],
      ["skipped", "cancelled"],
      ["skipped", "cancelled"],
    ]);

    expect409(await caller.org.post(`/batch-calls/${batch.id}/resume`), "cancelled", ["paused"]);
    expect409(await caller.org.post(`/batch-calls/${batch.id}/pause`), "cancelled", ["scheduled", "active"]);
    expect409(await caller.org.post(`/batch-calls/${batch.id}/cancel`), "cancelled", ["draft", "scheduled", "active", "paused"]);
    expect409(await caller.org.patch(`/batch-calls/${batch.id}`, { name: "x" }), "cancelled", ["draft", "scheduled", "paused"]);
    expect((await caller.org.get(`/batch-calls/${batch.id}`)).body.data.status).toBe("cancelled");
  });

  it("cancels a draft", async () => {
    const caller = await orgWithCaller();
    const batch = await createBatch(caller, { contacts: [{ phone_number: "+12125550001" }] });
    const res = await caller.org.post(`/batch-calls/${batch.id}/cancel`);
    expect(res.body.data).toMatchObject({ status: "cancelled", stats: { total: 1, pending: 0, skipped: 1 } });
    expect((await contactsOf(caller.org, batch.id)).map((c) => [c.status, c.skip_reason])).toEqual([["skipped", "cancelled"]]);
  });
});

describe("deleting campaigns", () => {
  it("deletes drafts and cancelled campaigns, not scheduled ones", async () => {
    const caller = await orgWithCaller();
    const draft = await createBatch(caller, { contacts: [{ phone_number: "+12125550001" }] });
    const res = await caller.org.delete(`/batch-calls/${draft.id}`);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ id: draft.id, deleted: true });
    expect((await caller.org.get(`/batch-calls/${draft.id}`)).status).toBe(404);
    expect((await caller.org.get(`/batch-calls/${draft.id}/contacts`)).status).toBe(404);
    expect((await caller.org.delete(`/batch-calls/${draft.id}`)).status).toBe(404);

    const scheduled = await scheduledBatch(caller, ["+12125550001"]);
    expect409(await caller.org.delete(`/batch-calls/${scheduled.id}`), "scheduled", ["draft", "failed", "cancelled"]);
    expect((await caller.org.get(`/batch-calls/${scheduled.id}`)).body.data.status).toBe("scheduled");

    expect((await caller.org.post(`/batch-calls/${scheduled.id}/cancel`)).status).toBe(200);
    expect((await caller.org.delete(`/batch-calls/${scheduled.id}`)).body.data).toEqual({ id: scheduled.id, deleted: true });
    expect((await caller.org.get(`/batch-calls/${scheduled.id}`)).status).toBe(404);
    expect((await caller.org.get("/batch-calls")).body.pagination.total).toBe(0);
  });

  it("bulk-deletes what it may and lists the rest with the reason", async () => {
    const caller = await orgWithCaller();
    const other = await orgWithCaller();
    const draft = await createBatch(caller);
    const scheduled = await scheduledBatch(caller, ["+12125550001"]);
    const foreign = await createBatch(other);
    const res = await caller.org.post("/batch-calls/bulk-delete", { ids: [draft.id, scheduled.id, "no-such-batch", foreign.id, draft.id] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data).toEqual({
      deleted_count: 1,
      failed_count: 3,
      deleted_ids: [draft.id],
      failed_ids: [scheduled.id, "no-such-batch", foreign.id],
      failures: [
        { id: scheduled.id, code: "conflict", message: expect.stringContaining("scheduled") },
        { id: "no-such-batch", code: "not_found", message: "Batch call no-such-batch not found" },
        { id: foreign.id, code: "not_found", message: `Batch call ${foreign.id} not found` },
      ],
    });
    expect((await caller.org.get(`/batch-calls/${draft.id}`)).status).toBe(404);
    expect((await caller.org.get(`/batch-calls/${scheduled.id}`)).body.data.status).toBe("scheduled");
    expect((await other.org.get(`/batch-calls/${foreign.id}`)).body.data.status).toBe("draft");

    expect422(await caller.org.post("/batch-calls/bulk-delete", { ids: [] }), "ids");
  });
});

describe("POST /batch-calls/{id}/contacts", () => {
  it("keeps the order given and finds duplicates across the store's write chunks", async () => {
    const caller = await orgWithCaller();
    const batch = await createBatch(caller);
    const phones = Array.from({ length: 4_500 }, (_, i) => `+1212${2_000_000 + i}`);
    phones[2_100] = phones[5]; // repeats an earlier row of another chunk
    phones[4_400] = phones[4_399]; // and one of the same chunk
    const res = await caller.org.post(`/batch-calls/${batch.id}/contacts`, { contacts: phones.map((phone_number, i) => ({ phone_number, first_name: `C${i}` })) });
    expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(200);
    expect(res.body.data).toMatchObject({ added_count: 4_498, duplicate_count: 2, failed_count: 2 });
    const page = (await contactsOf(caller.org, batch.id, "&offset=2099")).slice(0, 3);
    expect(page.map((c) => [c.first_name, c.status, c.skip_reason])).toEqual([
      ["C2099", "pending", null],
      ["C2100", "skipped", "duplicate"],
      ["C2101", "pending", null],
    ]);
    expect((await contactsOf(caller.org, batch.id, "&offset=4400"))[0]).toMatchObject({ first_name: "C4400", skip_reason: "duplicate" });
    expect((await caller.org.get(`/batch-calls/${batch.id}`)).body.data.total_contacts).toBe(4_500);
  });

  it("adds the valid entries, reports the invalid ones and keeps duplicates as skipped", async () => {
    const caller = await orgWithCaller();
    const batch = await createBatch(caller, { contacts: [{ phone_number: "+12125550001" }] });
    const res = await caller.org.post(`/batch-calls/${batch.id}/contacts`, {
      default_country: "US",
      contacts: [
        { phone_number: "+12125550002", first_name: "Bea", custom_fields: { tier: "1" } },
        { phone_number: "not a phone" },
        { first_name: "No phone" },
        { phone_number: "+12125550001", first_name: "Again" },
        { phone_number: "+12125550003", email: "not-an-email" },
        { phone_number: "212-555-0004" },
        "just a string",
        { phone_number: "+12125550002" },
      ],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data).toEqual({
      added_count: 2,
      failed_count: 6,
      duplicate_count: 2,
      errors: [
        { index: 1, field: "phone_number", message: expect.any(String) },
        { index: 2, field: "phone_number", message: expect.any(String) },
        { index: 4, field: "email", message: expect.any(String) },
        { index: 6, field: "contact", message: expect.any(String) },
      ],
    });
    const contacts = await contactsOf(caller.org, batch.id);
    expect(contacts.map((c) => [c.phone_number, c.first_name, c.status, c.skip_reason])).toEqual([
      ["+12125550001", null, "pending", null],
      ["+12125550002", "Bea", "pending", null],
      ["+12125550001", "Again", "skipped", "duplicate"],
      ["+12125550004", null, "pending", null],
      ["+12125550002", null, "skipped", "duplicate"],
    ]);
    expect(contacts[1].custom_fields).toEqual({ tier: "1" });
    expect((await caller.org.get(`/batch-calls/${batch.id}`)).body.data).toMatchObject({ total_contacts: 5, pending: 3, stats: { pending: 3, skipped: 2 } });

    expect422(await caller.org.post(`/batch-calls/${batch.id}/contacts`, { contacts: [] }), "contacts");
  });

  it("gives contacts added to a scheduled campaign a slot at once, and refuses a cancelled campaign", async () => {
    const caller = await orgWithCaller();
    const batch = await scheduledBatch(caller, ["+12125550001"]);
    const res = await caller.org.post(`/batch-calls/${batch.id}/contacts`, { contacts: [{ phone_number: "+12125550002" }, { phone_number: "+12125550003" }] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data).toEqual({ added_count: 2, failed_count: 0, duplicate_count: 0, errors: [] });
    const contacts = await contactsOf(caller.org, batch.id);
    expect(contacts.map((c) => c.status)).toEqual(["scheduled", "scheduled", "scheduled"]);
    for (const c of contacts.slice(1)) {
      expect(Date.parse(c.scheduled_at)).toBeGreaterThanOrEqual(MONDAY_10AM_NY);
      expect(Date.parse(c.scheduled_at)).toBeLessThan(Date.parse(nyMonday(17)));
    }

    expect((await caller.org.post(`/batch-calls/${batch.id}/cancel`)).status).toBe(200);
    const late = await caller.org.post(`/batch-calls/${batch.id}/contacts`, { contacts: [{ phone_number: "+12125550004" }] });
    expect409(late, "cancelled", ["draft", "scheduled", "active", "paused"]);
    expect409(await importCampaignCsv(caller.org, batch.id, "phone\n+12125550004"), "cancelled", ["draft", "scheduled", "active", "paused"]);
    expect(await contactsOf(caller.org, batch.id)).toHaveLength(3);
  });

  it("puts contacts added to a capped campaign on the days after the ones already full", async () => {
    const caller = await orgWithCaller();
    const batch = await scheduledBatch(caller, ["+12125550001"], { max_calls_per_day: 1 });
    const res = await caller.org.post(`/batch-calls/${batch.id}/contacts`, { contacts: [{ phone_number: "+12125550002" }, { phone_number: "+12125550003" }] });
    expect(res.body.data.added_count).toBe(2);
    expect((await contactsOf(caller.org, batch.id)).map((c) => c.scheduled_at)).toEqual([nyMonday(10), "2030-01-08T14:00:00.000Z", "2030-01-09T14:00:00.000Z"]);
  });

  it("slots contacts added to a paused campaign and keeps them through resume", async () => {
    const caller = await orgWithCaller();
    const batch = await scheduledBatch(caller, ["+12125550001"], { scheduled_at: "2030-01-08T15:00:00Z" });
    expect((await caller.org.post(`/batch-calls/${batch.id}/pause`)).status).toBe(200);
    const res = await importCampaignCsv(caller.org, batch.id, "phone,first_name\n+12125550002,Bo");
    expect(res.body.data).toEqual({ imported: 1, skipped: 0, errors: 0, error_details: [] });
    const contacts = await contactsOf(caller.org, batch.id);
    expect(contacts.map((c) => [c.phone_number, c.status])).toEqual([
      ["+12125550001", "scheduled"],
      ["+12125550002", "scheduled"],
    ]);
    // Not before the campaign's start (Tuesday 10:00 New York), inside Tuesday's window.
    expect(Date.parse(contacts[1].scheduled_at)).toBeGreaterThanOrEqual(Date.parse("2030-01-08T15:00:00Z"));
    expect(Date.parse(contacts[1].scheduled_at)).toBeLessThan(Date.parse("2030-01-08T22:00:00Z"));
    expect((await caller.org.post(`/batch-calls/${batch.id}/resume`)).body.data.status).toBe("scheduled");
    expect((await contactsOf(caller.org, batch.id)).map((c) => c.scheduled_at)).toEqual(contacts.map((c) => c.scheduled_at));
  });
});

describe("POST /batch-calls/{id}/contacts/import", () => {
  it("imports the good rows and reports the bad ones with their spreadsheet row", async () => {
    const caller = await orgWithCaller();
    const batch = await createBatch(caller, { contacts: [{ phone_number: "+12125550005" }] });
    const csv = [
      "phone_number,first_name,email,plan",
      "+12125550001,Ada,ada@example.com,gold",
      "not-a-phone,Bad,,",
      "2125550002,Grace,,",
      "+12125550001,Ada again,,",
      "+12125550003,Eve,nope,",
      "+12125550005,Already,,",
    ].join("\n");
    const res = await importCampaignCsv(caller.org, batch.id, csv, { default_country: "US" });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data).toEqual({
      imported: 2,
      skipped: 2,
      errors: 2,
      error_details: [
        { row: 3, phone: "not-a-phone", reason: expect.any(String) },
        { row: 6, phone: "+12125550003", reason: "Invalid email address" },
      ],
    });
    const contacts = await contactsOf(caller.org, batch.id);
    expect(contacts.map((c) => [c.phone_number, c.first_name, c.status, c.skip_reason])).toEqual([
      ["+12125550005", null, "pending", null],
      ["+12125550001", "Ada", "pending", null],
      ["+12125550002", "Grace", "pending", null],
      ["+12125550005", "Already", "skipped", "duplicate"],
    ]);
    expect(contacts[1]).toMatchObject({ email: "ada@example.com", custom_fields: { plan: "gold" } });
    // Rows go to the campaign only, never to the organization's contacts.
    expect((await caller.org.get("/contacts")).body.pagination.total).toBe(0);
  });

  it("answers 415 to anything but multipart, and 422 to a file without a phone column", async () => {
    const caller = await orgWithCaller();
    const batch = await createBatch(caller);
    const json = await caller.org.post(`/batch-calls/${batch.id}/contacts/import`, { file: "phone\n+12125550001" });
    expect(json.status).toBe(415);
    expect(json.body.error.code).toBe("unsupported_media_type");
    const text = await caller.org.send("POST", `/batch-calls/${batch.id}/contacts/import`, { body: "phone\n+12125550001", headers: { "content-type": "text/csv" } });
    expect(text.status).toBe(415);
    expect422(await importCampaignCsv(caller.org, batch.id, "name,email\nAda,ada@example.com"), "file");
    expect(await contactsOf(caller.org, batch.id)).toEqual([]);
  });
});

describe("reading a campaign's contacts and decisions", () => {
  it("filters contacts by status and paginates", async () => {
    const caller = await orgWithCaller();
    const phones = ["+12125550001", "+12125550002", "+12125550003", "+12125550004"];
    const batch = await createBatch(caller, { contacts: [...phones, "+12125550001"].map((phone_number) => ({ phone_number })) });

    const skipped = await caller.org.get(`/batch-calls/${batch.id}/contacts?status=skipped`);
    expect(skipped.body.data.map((c: any) => [c.phone_number, c.skip_reason])).toEqual([["+12125550001", "duplicate"]]);
    expect(skipped.body.pagination).toEqual({ total: 1, limit: 50, offset: 0, has_more: false });

    const page = await caller.org.get(`/batch-calls/${batch.id}/contacts?status=pending&limit=2&offset=1`);
    expect(page.body.data.map((c: any) => c.phone_number)).toEqual(["+12125550002", "+12125550003"]);
    expect(page.body.pagination).toEqual({ total: 4, limit: 2, offset: 1, has_more: true });
    const all = await caller.org.get(`/batch-calls/${batch.id}/contacts?limit=2&offset=4`);
    expect(all.body.data.map((c: any) => c.status)).toEqual(["skipped"]);
    expect(all.body.pagination).toEqual({ total: 5, limit: 2, offset: 4, has_more: false });
    expect((await caller.org.get(`/batch-calls/${batch.id}/contacts?status=completed`)).body.data).toEqual([]);

    expect422(await caller.org.get(`/batch-calls/${batch.id}/contacts?status=done`), "status");
  });

  it("logs every dial decision with its call id after a short run", async () => {
    const caller = await orgWithCaller();
    const dnc = await caller.org.post("/dnc", { phone_number: "+12125550006" });
    expect(dnc.status).toBe(201);
    // A two-minute window: the three contacts get 10:00:00, 10:00:40 and 10:01:20.
    const batch = await scheduledBatch(caller, ["+12125550001", "+12125550002", "+12125550006"], { start_time: "10:00", end_time: "10:02" });
    await drive(clock, caller.org.orgId, batch.id, { steps: 18, stepMs: 10_000 });

    const calls = await campaignCalls(caller.org.orgId, batch.id);
    expect(calls.map((c) => [c.to_number, c.from_number])).toEqual([
      ["+12125550001", caller.from],
      ["+12125550002", caller.from],
    ]);

    const log = await caller.org.get(`/batch-calls/${batch.id}/audit-log`);
    expect(log.status).toBe(200);
    expect(log.body.data.map((d: any) => [d.decision, d.phone_number, d.attempt, d.call_id, d.at])).toEqual([
      ["dialled", "+12125550001", 1, calls[0].id, NOW_ISO],
      ["dialled", "+12125550002", 1, calls[1].id, "2030-01-07T15:00:40.000Z"],
      ["skipped", "+12125550006", 1, null, "2030-01-07T15:01:20.000Z"],
    ]);
    expect(log.body.data[0]).toMatchObject({ id: expect.any(Number), reason: `from ${caller.from}` });
    expect(log.body.data[2].reason).toMatch(/^dnc: /);

    const filtered = await caller.org.get(`/batch-calls/${batch.id}/audit-log?decision=dialled&limit=1`);
    expect(filtered.body.data.map((d: any) => d.call_id)).toEqual([calls[0].id]);
    expect(filtered.body.pagination).toEqual({ total: 2, limit: 1, offset: 0, has_more: true });
    expect((await caller.org.get(`/batch-calls/${batch.id}/audit-log?decision=deferred`)).body.data).toEqual([]);
    expect422(await caller.org.get(`/batch-calls/${batch.id}/audit-log?decision=maybe`), "decision");

    const contacts = await contactsOf(caller.org, batch.id);
    expect(contacts.map((c) => [c.phone_number, c.status, c.skip_reason, c.call_id, c.attempts_count])).toEqual([
      ["+12125550001", "completed", null, calls[0].id, 1],
      ["+12125550002", "no_answer", null, calls[1].id, 1],
      ["+12125550006", "skipped", "dnc", null, 0],
    ]);
    expect(contacts[0].attempts).toEqual([
      expect.objectContaining({ attempt: 1, call_id: calls[0].id, from_number: caller.from, scheduled_at: NOW_ISO, dialed_at: NOW_ISO, outcome: "completed", duration_seconds: 30 }),
    ]);
    expect(contacts[1].attempts).toEqual([expect.objectContaining({ attempt: 1, call_id: calls[1].id, outcome: "no_answer", end_reason: "no_answer" })]);

    const got = (await caller.org.get(`/batch-calls/${batch.id}`)).body.data;
    expect(got).toMatchObject({ status: "completed", total_contacts: 3, called: 2, completed: 1, pending: 0, started_at: NOW_ISO });
    expect(got.stats).toMatchObject({ completed: 1, no_answer: 1, skipped: 1, attempts: 2, called: 2, estimated_finish_at: null });
    expect(got.completed_at).toEqual(expect.any(String));
    expect409(await caller.org.delete(`/batch-calls/${batch.id}`), "completed", ["draft", "failed", "cancelled"]);
    expect409(await caller.org.post(`/batch-calls/${batch.id}/contacts`, { contacts: [{ phone_number: "+12125550003" }] }), "completed", ["draft", "scheduled", "active", "paused"]);
  });
});

describe("organization isolation", () => {
  it("answers 404 to another organization on every campaign route and changes nothing", async () => {
    const caller = await orgWithCaller();
    const intruder = await otherOrg();
    const draft = await createBatch(caller, { contacts: [{ phone_number: "+12125550001" }] });
    const scheduled = await scheduledBatch(caller, ["+12125550002"]);

    const snapshot = async (id: string) => ({
      batch: (await caller.org.get(`/batch-calls/${id}`)).body.data,
      contacts: await contactsOf(caller.org, id),
      log: (await caller.org.get(`/batch-calls/${id}/audit-log`)).body.data,
    });
    const before = { draft: await snapshot(draft.id), scheduled: await snapshot(scheduled.id) };
    clock.advance(1000);

    const routes = (org: ApiClient, id: string) =>
      [
        ["GET", () => org.get(`/batch-calls/${id}`)],
        ["PATCH", () => org.patch(`/batch-calls/${id}`, { name: "Hijacked" })],
        ["DELETE", () => org.delete(`/batch-calls/${id}`)],
        ["schedule", () => org.post(`/batch-calls/${id}/schedule`)],
        ["pause", () => org.post(`/batch-calls/${id}/pause`)],
        ["resume", () => org.post(`/batch-calls/${id}/resume`)],
        ["cancel", () => org.post(`/batch-calls/${id}/cancel`)],
        ["contacts GET", () => org.get(`/batch-calls/${id}/contacts`)],
        ["contacts POST", () => org.post(`/batch-calls/${id}/contacts`, { contacts: [{ phone_number: "+12125550009" }] })],
        ["import", () => importCampaignCsv(org, id, "phone\n+12125550008")],
        ["audit-log", () => org.get(`/batch-calls/${id}/audit-log`)],
      ] as const;

    const answers = await Promise.all(
      [draft.id, scheduled.id, "no-such-batch"].flatMap((id) =>
        routes(id === "no-such-batch" ? caller.org : intruder, id).map(async ([name, call]) => {
          const res = await call();
          return [`${name} ${id}`, res.status, res.body.error?.code] as const;
        }),
      ),
    );
    expect(answers.filter(([, status, code]) => status !== 404 || code !== "not_found")).toEqual([]);
    expect(answers).toHaveLength(33);
    expect((await intruder.get("/batch-calls")).body.data).toEqual([]);
    expect((await intruder.get(`/batch-calls?agent_id=${caller.agentId}`)).body.data).toEqual([]);

    expect(await snapshot(draft.id)).toEqual(before.draft);
    expect(await snapshot(scheduled.id)).toEqual(before.scheduled);
  });
});

/**
 * Keeps D1 busy for a while (about 0.1 s), so that a campaign object awaiting a D1 read is still
 * waiting when the next request reaches it: a deterministic stand-in for a slow database.
 */
function holdD1() {
  return env.DB.prepare("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000) SELECT count(*) AS n FROM c").first();
}

describe("requests that overlap", () => {
  // schedule() awaits D1 (folder copy, agent, numbers) between its status check and its
  // transition; a cancel arriving meanwhile must wait for it, not be undone by it.
  it("a cancel that lands while scheduling is under way stays cancelled and never dials", async () => {
    const caller = await orgWithCaller();
    const folderId = await createFolder(caller.org);
    await createContact(caller.org, { phone_number: "+12125550001", folder_id: folderId });
    const batch = await createBatch(caller, { contact_folder_id: folderId, timezone: "America/New_York", start_time: "09:00", end_time: "17:00" });
    const stub = campaignStub(batch.id);
    // What the schedule and cancel handlers ask the campaign object, once their D1 lookup passed.
    const [, cancelled] = (await Promise.all([stub.schedule({}), stub.cancel(), holdD1()])) as [unknown, { ok: boolean; value?: { status: string } }, unknown];
    expect(cancelled).toMatchObject({ ok: true, value: { status: "cancelled" } });

    expect((await caller.org.get(`/batch-calls/${batch.id}`)).body.data.status).toBe("cancelled");
    expect((await contactsOf(caller.org, batch.id)).filter((c) => c.status !== "skipped")).toEqual([]);
    await drive(clock, caller.org.orgId, batch.id, { steps: 3, stepMs: 1000 });
    expect(await campaignCalls(caller.org.orgId, batch.id)).toEqual([]);
  });

  // After remove() wipes the object's storage, later calls on the same live object (an upload
  // that passed the handler's lookup before the delete) must find "not found", not missing tables.
  it("a contact upload racing a delete answers 200 or 404, never 500", async () => {
    const caller = await orgWithCaller();
    for (let i = 0; i < 4; i++) {
      const batch = await createBatch(caller, { contacts: [{ phone_number: "+12125550001" }] });
      const [del, add] = await Promise.all([
        caller.org.delete(`/batch-calls/${batch.id}`),
        caller.org.post(`/batch-calls/${batch.id}/contacts`, { contacts: [{ phone_number: "+12125550002" }] }),
      ]);
      expect(del.status).toBe(200);
      expect([200, 404], JSON.stringify(add.body)).toContain(add.status);
      expect((await caller.org.get(`/batch-calls/${batch.id}`)).status).toBe(404);
    }
  });

  // A request handled while remove() awaits D1 must not write the deleted campaign's row back.
  it("a campaign deleted while a contact upload is under way stays deleted", async () => {
    const caller = await orgWithCaller();
    const batch = await createBatch(caller, { contacts: [{ phone_number: "+12125550001" }] });
    const stub = campaignStub(batch.id);
    const [removed, added] = await Promise.allSettled([stub.remove(), stub.addContacts([{ contactId: crypto.randomUUID(), phoneNumber: "+12125550002" }]), holdD1()]);
    expect(removed).toMatchObject({ status: "fulfilled", value: { ok: true } });
    expect((await caller.org.get(`/batch-calls/${batch.id}`)).status).toBe(404);
    expect((await caller.org.get("/batch-calls")).body.pagination.total).toBe(0);
    expect((await caller.org.delete(`/batch-calls/${batch.id}`)).status).toBe(404);
    expect(added.status, String((added as PromiseRejectedResult).reason)).toBe("fulfilled");
    await expect(stub.addContacts([{ contactId: crypto.randomUUID(), phoneNumber: "+12125550003" }])).resolves.toMatchObject({ ok: false, code: "not_found" });
  });
});

describe("OpenAPI document", () => {
  it("lists every batch-calls operation", async () => {
    const doc = (await rawFetch(`${BASE}/openapi.json`)).body;
    const methods = (path: string) => Object.keys(doc.paths[`/api/public/v1${path}`] ?? {}).sort();
    expect(methods("/batch-calls")).toEqual(["get", "post"]);
    expect(methods("/batch-calls/{id}")).toEqual(["delete", "get", "patch"]);
    expect(methods("/batch-calls/bulk-delete")).toEqual(["post"]);
    for (const action of ["schedule", "pause", "resume", "cancel"]) expect(methods(`/batch-calls/{id}/${action}`)).toEqual(["post"]);
    expect(methods("/batch-calls/{id}/contacts")).toEqual(["get", "post"]);
    expect(methods("/batch-calls/{id}/contacts/import")).toEqual(["post"]);
    expect(methods("/batch-calls/{id}/audit-log")).toEqual(["get"]);
    const importOp = doc.paths["/api/public/v1/batch-calls/{id}/contacts/import"].post;
    expect(Object.keys(importOp.requestBody.content)).toEqual(["multipart/form-data"]);
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      if (!path.includes("/batch-calls")) continue;
      for (const op of Object.values(item)) {
        expect(op.tags, path).toEqual(["Batch calls"]);
        expect(op.responses["404"] ?? op.responses["422"], path).toBeDefined();
      }
    }
    expect(doc.components.schemas.BatchCall.properties.concurrency).toBeDefined();
  });
});
