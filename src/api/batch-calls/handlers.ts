import { desc, eq } from "drizzle-orm";
import type { CampaignPatch, CampaignResult } from "../../../durable-objects/campaign";
import type { AttemptRow, ContactRow, NewCampaignContact } from "../../campaigns/contact-store";
import { loadContactsById, loadNumberPool } from "../../campaigns/lookups";
import { campaignWindow, type BatchCallRow, type CampaignRecord } from "../../campaigns/record";
import { agents, batchCalls, contactFolders } from "../../db/schema";
import type { TenantDb } from "../../db/tenant";
import { windowProblems, type CampaignWindow } from "../../domain/campaign-schedule";
import { DEFAULT_RETRY_POLICY, effectiveRetryRule, type RetryPolicy } from "../../domain/campaigns";
import { planContactImport } from "../../domain/contacts";
import { normalizePhone } from "../../domain/phone";
import { clampWindow, QUIET_HOURS_END, QUIET_HOURS_START } from "../../domain/quiet-hours";
import { ok, okList } from "../../lib/envelope";
import { ApiError, invalidField } from "../../lib/errors";
import { newId } from "../../lib/ids";
import type { AppRouteHandler } from "../../lib/types";
import type * as routes from "./routes";
import { InlineContact, type CreateBatchCallInput, type UpdateBatchCallInput } from "./schemas";

const BATCH = "Batch call";
const WEEKDAYS = [1, 2, 3, 4, 5];
/** Contacts per call to the campaign object, to stay far below the RPC message limit. */
const CONTACTS_PER_RPC = 10_000;

function campaignObject(env: Env, id: string) {
  return env.CAMPAIGN.get(env.CAMPAIGN.idFromName(id));
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function batchCallView(row: BatchCallRow) {
  const { stats } = row;
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    status_reason: row.statusReason,
    agent_id: row.agentId,
    phone_number_ids: row.phoneNumberIds,
    phone_rotation_strategy: row.phoneRotationStrategy,
    contact_source: row.contactSource,
    contact_folder_id: row.contactFolderId,
    schedule_type: row.scheduleType,
    scheduled_at: row.scheduledAt,
    timezone: row.timezone,
    start_time: row.startTime,
    end_time: row.endTime,
    working_days: row.workingDays,
    max_concurrent_calls: row.maxConcurrentCalls,
    concurrency: row.maxConcurrentCalls,
    max_calls_per_day: row.maxCallsPerDay,
    max_calls_per_number_per_day: row.maxCallsPerNumberPerDay,
    retry_failed: row.retryFailed,
    max_retry_attempts: row.maxRetryAttempts,
    retry_attempts: row.maxRetryAttempts,
    retry_policy: row.retryPolicy,
    respect_recipient_timezone: row.respectRecipientTimezone,
    total_contacts: row.totalContacts,
    called: stats.called,
    completed: stats.completed,
    failed: stats.failed,
    pending: stats.pending + stats.scheduled + stats.retry_scheduled,
    stats,
    started_at: row.startedAt,
    paused_at: row.pausedAt,
    completed_at: row.completedAt,
    cancelled_at: row.cancelledAt,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}

function attemptView(a: AttemptRow) {
  return {
    attempt: a.attempt,
    call_id: a.call_id,
    from_number: a.from_number,
    scheduled_at: iso(a.scheduled_at),
    dialed_at: iso(a.dialed_at)!,
    call_status: a.call_status,
    outcome: a.outcome,
    end_reason: a.end_reason,
    ended_at: iso(a.ended_at),
    duration_seconds: a.duration_seconds,
    cost_credits: a.cost_credits,
  };
}

function campaignContactView(row: ContactRow, attempts: AttemptRow[]) {
  return {
    contact_id: row.contact_id,
    phone_number: row.phone_number,
    first_name: row.first_name,
    last_name: row.last_name,
    email: row.email,
    timezone: row.timezone,
    custom_fields: JSON.parse(row.custom_fields) as Record<string, string>,
    status: row.status,
    skip_reason: row.skip_reason,
    scheduled_at: iso(row.scheduled_at),
    call_status: row.call_status,
    call_id: row.call_id,
    called_at: iso(row.called_at),
    attempts_count: row.attempts,
    attempts: attempts.map(attemptView),
  };
}

/** A campaign object's refusal as the API's error. */
function unwrap<T>(result: CampaignResult<T>): T {
  if (result.ok) return result.value;
  throw new ApiError(result.code, result.message, { details: result.details });
}

/**
 * The window must be well formed. When it applies in each recipient's own zone it must also
 * leave some time inside the platform's 08:00–21:00 quiet hours, or it could never call anyone.
 * In the campaign's zone it may lie outside them (a London team calling New York from 22:00 is
 * calling at 17:00 there): the guard is applied in the recipient's zone at scheduling and at
 * every dial, and contacts it never admits are skipped with `outside_window`.
 */
function checkWindow(window: CampaignWindow, inRecipientZones: boolean): void {
  const problems = windowProblems(window);
  if (problems.length > 0) throw invalidField("start_time", problems.join("; "));
  if (inRecipientZones && clampWindow(window).length === 0) {
    throw invalidField(
      "start_time",
      `the window ${window.startTime ?? "00:00"}–${window.endTime ?? "24:00"} lies entirely outside the ${QUIET_HOURS_START}–${QUIET_HOURS_END} hours when calls are allowed`,
    );
  }
}

function checkSchedule(scheduleType: "immediate" | "scheduled", scheduledAt: string | null): void {
  if (scheduleType === "scheduled" && !scheduledAt) throw invalidField("scheduled_at", "required when schedule_type is scheduled");
}

async function checkNumbers(tenant: TenantDb, agentId: string, phoneNumberIds: string[] | null): Promise<void> {
  const { pool, missing } = await loadNumberPool(tenant, { agentId, phoneNumberIds });
  if (missing.length > 0) throw invalidField("phone_number_ids", `phone numbers not found: ${missing.slice(0, 10).join(", ")}`);
  if (pool.length === 0) {
    throw new ApiError("no_phone_number_configured", `Agent ${agentId} has no outbound phone number; assign one or pass phone_number_ids`, {
      details: { agent_id: agentId },
    });
  }
}

function retryPolicyOf(input: CreateBatchCallInput["retry_policy"]): RetryPolicy {
  return effectiveRetryRule({ retryFailed: true, maxRetryAttempts: 0, retryPolicy: input ?? undefined }).policy;
}

/** Inline contacts → campaign contacts, or a 422 naming the first bad entry. */
function inlineContacts(list: NonNullable<CreateBatchCallInput["contacts"]>, defaultCountry: string | undefined, field: string): NewCampaignContact[] {
  return list.map((c, i) => {
    const phone = normalizePhone(c.phone_number, defaultCountry);
    if (!phone.ok) throw invalidField(`${field}.${i}.phone_number`, phone.reason);
    return {
      contactId: newId(),
      phoneNumber: phone.e164,
      firstName: c.first_name ?? null,
      lastName: c.last_name ?? null,
      email: c.email ?? null,
      timezone: c.timezone ?? null,
      customFields: c.custom_fields ?? {},
    };
  });
}

async function addInChunks(env: Env, id: string, contacts: NewCampaignContact[]) {
  let added = 0;
  let duplicates = 0;
  for (let i = 0; i < contacts.length || i === 0; i += CONTACTS_PER_RPC) {
    const result = unwrap(await campaignObject(env, id).addContacts(contacts.slice(i, i + CONTACTS_PER_RPC)));
    added += result.added;
    duplicates += result.duplicates;
  }
  return { added, duplicates };
}

export const createBatchCall: AppRouteHandler<typeof routes.createBatchCall> = async (c) => {
  const body = c.req.valid("json");
  const tenant = c.get("tenant");
  const now = c.get("clock").now();

  const agent = await tenant.find(agents, body.agent_id);
  if (!agent) throw invalidField("agent_id", `Agent ${body.agent_id} not found`);
  if (agent.status !== "active") throw invalidField("agent_id", `Agent ${agent.id} is ${agent.status}; publish it with PATCH {"status":"active"} first`);

  const window = { timezone: body.timezone ?? "UTC", startTime: body.start_time ?? null, endTime: body.end_time ?? null, workingDays: body.working_days ?? WEEKDAYS };
  checkWindow(window, body.respect_recipient_timezone ?? false);
  const scheduleType = body.schedule_type ?? (body.scheduled_at ? "scheduled" : "immediate");
  checkSchedule(scheduleType, body.scheduled_at ?? null);
  await checkNumbers(tenant, agent.id, body.phone_number_ids ?? null);

  const folderId = body.contact_folder_id ?? null;
  if (folderId && !(await tenant.find(contactFolders, folderId))) throw invalidField("contact_folder_id", `Contact folder ${folderId} not found`);
  const contactSource = body.contact_source ?? (folderId ? "folder" : body.contacts?.length || body.contact_ids?.length ? "manual" : "csv");
  if (contactSource === "folder" && !folderId) throw invalidField("contact_folder_id", "required when contact_source is folder");

  const byId = await loadContactsById(tenant, body.contact_ids ?? []);
  if (byId.missing.length > 0) throw invalidField("contact_ids", `contacts not found: ${byId.missing.slice(0, 10).join(", ")}`);
  const inline = inlineContacts(body.contacts ?? [], body.default_country, "contacts");

  const at = new Date(now).toISOString();
  const record: CampaignRecord = {
    id: newId(now),
    orgId: tenant.orgId,
    name: body.name,
    agentId: agent.id,
    status: "draft",
    statusReason: null,
    phoneNumberIds: body.phone_number_ids ?? null,
    rotation: body.phone_rotation_strategy ?? "random",
    contactSource,
    contactFolderId: folderId,
    scheduleType,
    scheduledAt: body.scheduled_at ?? null,
    timezone: window.timezone,
    startTime: window.startTime,
    endTime: window.endTime,
    workingDays: window.workingDays,
    maxConcurrentCalls: body.max_concurrent_calls ?? 10,
    maxCallsPerDay: body.max_calls_per_day ?? null,
    maxCallsPerNumberPerDay: body.max_calls_per_number_per_day ?? null,
    retryFailed: body.retry_failed ?? false,
    maxRetryAttempts: body.max_retry_attempts ?? 0,
    retryPolicy: body.retry_policy ? retryPolicyOf(body.retry_policy) : DEFAULT_RETRY_POLICY,
    respectRecipientTimezone: body.respect_recipient_timezone ?? false,
    createdAt: at,
    updatedAt: at,
    startedAt: null,
    pausedAt: null,
    completedAt: null,
    cancelledAt: null,
  };
  const row = await campaignObject(c.env, record.id).create(record, [...byId.found, ...inline]);
  return ok(c, batchCallView(row), 201);
};

export const listBatchCalls: AppRouteHandler<typeof routes.listBatchCalls> = async (c) => {
  const q = c.req.valid("query");
  const { rows, total } = await c.get("tenant").list(batchCalls, {
    where: [q.agent_id ? eq(batchCalls.agentId, q.agent_id) : undefined, q.status ? eq(batchCalls.status, q.status) : undefined],
    orderBy: [desc(batchCalls.createdAt), desc(batchCalls.id)],
    limit: q.limit,
    offset: q.offset,
  });
  return okList(c, rows.map(batchCallView), { total, limit: q.limit, offset: q.offset });
};

export const getBatchCall: AppRouteHandler<typeof routes.getBatchCall> = async (c) => {
  const row = await c.get("tenant").get(batchCalls, c.req.valid("param").id, BATCH);
  return ok(c, batchCallView(row));
};

function patchFrom(body: UpdateBatchCallInput): CampaignPatch {
  const patch: CampaignPatch = {};
  if (body.name !== undefined) patch.name = body.name;
  if (body.phone_number_ids !== undefined) patch.phoneNumberIds = body.phone_number_ids;
  if (body.phone_rotation_strategy !== undefined) patch.rotation = body.phone_rotation_strategy;
  if (body.schedule_type !== undefined) patch.scheduleType = body.schedule_type;
  if (body.scheduled_at !== undefined) patch.scheduledAt = body.scheduled_at;
  if (body.timezone !== undefined) patch.timezone = body.timezone;
  if (body.start_time !== undefined) patch.startTime = body.start_time;
  if (body.end_time !== undefined) patch.endTime = body.end_time;
  if (body.working_days !== undefined) patch.workingDays = body.working_days;
  if (body.max_concurrent_calls !== undefined) patch.maxConcurrentCalls = body.max_concurrent_calls;
  if (body.max_calls_per_day !== undefined) patch.maxCallsPerDay = body.max_calls_per_day;
  if (body.max_calls_per_number_per_day !== undefined) patch.maxCallsPerNumberPerDay = body.max_calls_per_number_per_day;
  if (body.retry_failed !== undefined) patch.retryFailed = body.retry_failed;
  if (body.max_retry_attempts !== undefined) patch.maxRetryAttempts = body.max_retry_attempts;
  if (body.retry_policy !== undefined) patch.retryPolicy = retryPolicyOf(body.retry_policy);
  if (body.respect_recipient_timezone !== undefined) patch.respectRecipientTimezone = body.respect_recipient_timezone;
  return patch;
}

export const updateBatchCall: AppRouteHandler<typeof routes.updateBatchCall> = async (c) => {
  const tenant = c.get("tenant");
  const row = await tenant.get(batchCalls, c.req.valid("param").id, BATCH);
  const patch = patchFrom(c.req.valid("json"));
  const merged = { ...campaignWindow(row), ...pickDefined({ timezone: patch.timezone, startTime: patch.startTime, endTime: patch.endTime, workingDays: patch.workingDays }) };
  checkWindow(merged, patch.respectRecipientTimezone ?? row.respectRecipientTimezone);
  checkSchedule(patch.scheduleType ?? (patch.scheduledAt ? "scheduled" : patch.scheduledAt === null ? "immediate" : row.scheduleType), patch.scheduledAt !== undefined ? patch.scheduledAt : row.scheduledAt);
  if (patch.phoneNumberIds !== undefined) await checkNumbers(tenant, row.agentId, patch.phoneNumberIds);
  const updated = unwrap(await campaignObject(c.env, row.id).update(patch));
  return ok(c, batchCallView(updated));
};

function pickDefined<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export const deleteBatchCall: AppRouteHandler<typeof routes.deleteBatchCall> = async (c) => {
  const row = await c.get("tenant").get(batchCalls, c.req.valid("param").id, BATCH);
  unwrap(await campaignObject(c.env, row.id).remove());
  return ok(c, { id: row.id, deleted: true as const });
};

export const bulkDeleteBatchCalls: AppRouteHandler<typeof routes.bulkDeleteBatchCalls> = async (c) => {
  const tenant = c.get("tenant");
  const ids = [...new Set(c.req.valid("json").ids)];
  const deleted: string[] = [];
  const failures: { id: string; code: string; message: string }[] = [];
  for (const id of ids) {
    const row = await tenant.find(batchCalls, id);
    if (!row) {
      failures.push({ id, code: "not_found", message: `${BATCH} ${id} not found` });
      continue;
    }
    // The RPC stub's return type drops the refusal branch of the union; the object does return it.
    const result = (await campaignObject(c.env, id).remove()) as CampaignResult<{ id: string }>;
    if (result.ok) deleted.push(id);
    else failures.push({ id, code: result.code, message: result.message });
  }
  return ok(c, { deleted_count: deleted.length, failed_count: failures.length, deleted_ids: deleted, failed_ids: failures.map((f) => f.id), failures });
};

export const scheduleBatchCall: AppRouteHandler<typeof routes.scheduleBatchCall> = async (c) => {
  const row = await c.get("tenant").get(batchCalls, c.req.valid("param").id, BATCH);
  const body = c.req.valid("json") ?? {};
  const scheduled = unwrap(await campaignObject(c.env, row.id).schedule({ scheduledAt: body.scheduled_at, timezone: body.timezone }));
  return ok(c, batchCallView(scheduled));
};

export const pauseBatchCall: AppRouteHandler<typeof routes.pauseBatchCall> = async (c) => {
  const row = await c.get("tenant").get(batchCalls, c.req.valid("param").id, BATCH);
  return ok(c, batchCallView(unwrap(await campaignObject(c.env, row.id).pause())));
};

export const resumeBatchCall: AppRouteHandler<typeof routes.resumeBatchCall> = async (c) => {
  const row = await c.get("tenant").get(batchCalls, c.req.valid("param").id, BATCH);
  return ok(c, batchCallView(unwrap(await campaignObject(c.env, row.id).resume())));
};

export const cancelBatchCall: AppRouteHandler<typeof routes.cancelBatchCall> = async (c) => {
  const row = await c.get("tenant").get(batchCalls, c.req.valid("param").id, BATCH);
  return ok(c, batchCallView(unwrap(await campaignObject(c.env, row.id).cancel())));
};

export const listCampaignContacts: AppRouteHandler<typeof routes.listCampaignContacts> = async (c) => {
  const row = await c.get("tenant").get(batchCalls, c.req.valid("param").id, BATCH);
  const q = c.req.valid("query");
  const page = await campaignObject(c.env, row.id).contacts({ status: q.status, limit: q.limit, offset: q.offset });
  return okList(
    c,
    page.rows.map((r) => campaignContactView(r.row, r.attempts)),
    { total: page.total, limit: q.limit, offset: q.offset },
  );
};

export const addCampaignContacts: AppRouteHandler<typeof routes.addCampaignContacts> = async (c) => {
  const row = await c.get("tenant").get(batchCalls, c.req.valid("param").id, BATCH);
  const body = c.req.valid("json");
  const valid: NewCampaignContact[] = [];
  const errors: { index: number; field: string; message: string }[] = [];
  body.contacts.forEach((entry, index) => {
    const parsed = InlineContact.safeParse(entry);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      errors.push({ index, field: issue.path.join(".") || "contact", message: issue.message });
      return;
    }
    const phone = normalizePhone(parsed.data.phone_number, body.default_country);
    if (!phone.ok) {
      errors.push({ index, field: "phone_number", message: phone.reason });
      return;
    }
    const d = parsed.data;
    valid.push({
      contactId: newId(),
      phoneNumber: phone.e164,
      firstName: d.first_name ?? null,
      lastName: d.last_name ?? null,
      email: d.email ?? null,
      timezone: d.timezone ?? null,
      customFields: d.custom_fields ?? {},
    });
  });
  const { added, duplicates } = await addInChunks(c.env, row.id, valid);
  return ok(c, { added_count: added, failed_count: errors.length + duplicates, duplicate_count: duplicates, errors });
};

export const importCampaignContacts: AppRouteHandler<typeof routes.importCampaignContacts> = async (c) => {
  const row = await c.get("tenant").get(batchCalls, c.req.valid("param").id, BATCH);
  const form = c.req.valid("form");
  const rows: NewCampaignContact[] = [];
  const planned = planContactImport(typeof form.file === "string" ? form.file : await form.file.text(), {
    defaultCountry: form.default_country,
    onContact: (contact) =>
      rows.push({
        contactId: newId(),
        phoneNumber: contact.phoneNumber,
        firstName: contact.firstName,
        lastName: contact.lastName,
        email: contact.email,
        timezone: contact.timezone,
        customFields: contact.customFields,
      }),
  });
  if (!planned.ok) {
    if (planned.problem === "too_many_rows") throw new ApiError("payload_too_large", planned.reason, { details: { field: "file", max_rows: planned.maxRows } });
    throw invalidField("file", planned.reason);
  }
  const { added, duplicates } = await addInChunks(c.env, row.id, rows);
  return ok(c, { imported: added, skipped: planned.plan.duplicates + duplicates, errors: planned.plan.errors, error_details: planned.plan.errorDetails });
};

export const campaignAuditLog: AppRouteHandler<typeof routes.campaignAuditLog> = async (c) => {
  const row = await c.get("tenant").get(batchCalls, c.req.valid("param").id, BATCH);
  const q = c.req.valid("query");
  const page = await campaignObject(c.env, row.id).auditLog({ decision: q.decision, limit: q.limit, offset: q.offset });
  return okList(
    c,
    page.rows.map((d) => ({
      id: d.seq,
      at: iso(d.at)!,
      contact_id: d.contact_id,
      phone_number: d.phone_number,
      attempt: d.attempt,
      decision: d.decision,
      reason: d.reason,
      call_id: d.call_id,
    })),
    { total: page.total, limit: q.limit, offset: q.offset },
  );
};
