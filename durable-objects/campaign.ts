import { DurableObject } from "cloudflare:workers";
import { startOutboundCall } from "../src/calls/engine";
import { ContactStore, type AttemptRow, type ContactRow, type NewCampaignContact } from "../src/campaigns/contact-store";
import { folderContactPages, loadDialFacts, loadNumberPool } from "../src/campaigns/lookups";
import { campaignFunnel } from "../src/campaigns/analytics";
import { campaignWindow, contactConstraints, mirrorRow, type BatchCallRow, type CampaignRecord, type DispatchState } from "../src/campaigns/record";
import { batchCalls } from "../src/db/schema";
import { openDatabase, TenantDb } from "../src/db/tenant";
import { campaignDay, nextCampaignDayStart, nextWindowOpening, NoCallingWindowError, scheduleSlotDays } from "../src/domain/campaign-schedule";
import {
  attemptOutcome,
  campaignStats,
  canCampaign,
  effectiveRetryRule,
  MAX_ATTEMPTS_PER_NUMBER_PER_DAY,
  ATTEMPT_WINDOW_MS,
  pickNumber,
  redialAfter,
  type PoolNumber,
  statusesAllowing,
  statusOnResume,
  type CampaignAction,
  type CampaignStats,
  type CampaignStatus,
  type ContactStatus,
  type DialDecision,
  type SkipReason,
} from "../src/domain/campaigns";
import type { CallStatus, EndReason } from "../src/domain/calls";
import type { WebhookEventType } from "../src/domain/webhooks";
import { alarmTime, configureClock, currentClock } from "../src/lib/clock";
import type { ErrorCode } from "../src/lib/errors";
import { newId } from "../src/lib/ids";
import { publishEvents, recordEvent } from "../src/webhooks/emit";

/** A call's state as its CallDO reports it to the campaign that placed it. */
export interface CampaignCallReport {
  callId: string;
  status: CallStatus;
  endReason: EndReason | null;
  durationSeconds: number | null;
  costCredits: number | null;
  endedAt: number | null;
}

export type CampaignResult<T = BatchCallRow> = { ok: true; value: T } | { ok: false; code: ErrorCode; message: string; details?: Record<string, unknown> };

/** Fields a PATCH may change, already validated by the API. */
export type CampaignPatch = Partial<
  Pick<
    CampaignRecord,
    | "name"
    | "phoneNumberIds"
    | "rotation"
    | "scheduleType"
    | "scheduledAt"
    | "timezone"
    | "startTime"
    | "endTime"
    | "workingDays"
    | "maxConcurrentCalls"
    | "maxCallsPerDay"
    | "maxCallsPerNumberPerDay"
    | "retryFailed"
    | "maxRetryAttempts"
    | "retryPolicy"
    | "respectRecipientTimezone"
  >
>;

/** Changing any of these reschedules every contact still waiting for its first dial. */
const SCHEDULE_FIELDS = ["scheduleType", "scheduledAt", "timezone", "startTime", "endTime", "workingDays", "maxCallsPerDay", "respectRecipientTimezone"] as const;

/** At most this many contacts are looked at per alarm; a longer backlog re-arms the alarm at once. */
const DISPATCH_BATCH = 100;
/** A placement the engine did not confirm is retried after this long, this many times. */
const PLACE_RETRY_MS = 5_000;
const MAX_PLACE_FAILURES = 5;
/** Past a call's longest possible life, before we ask it ourselves how it ended. */
const CALL_CHECK_SLACK_MS = 5 * 60_000;
const CALL_CHECK_RETRY_MS = 5 * 60_000;
/** Assumed call length for the finish estimate until calls have ended. */
const DEFAULT_CALL_MS = 60_000;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const RUNNING: readonly CampaignStatus[] = ["scheduled", "active"];

interface PendingWebhook {
  type: WebhookEventType;
  data: Record<string, unknown>;
}

interface Placement {
  callId: string;
  contact: ContactRow;
  numberId: string;
}

/**
 * One per campaign (`idFromName(batchCallId)`). Owns the campaign's record, its contacts and
 * their attempts (in its own SQLite, see ContactStore), and one alarm set to the earliest thing
 * that needs doing: the schedule's start, the next due contact, the next number free under
 * pacing, a placement to retry, or a live call to check on.
 *
 * Every dial is decided at the moment of dialling: the campaign status, the calling window and
 * quiet hours in the recipient's zones, the daily and per-number caps, the do-not-call list and
 * the org-wide attempts per number are all checked then, and each decision is written to the
 * audit log. The attempt (with its call id) is stored before the call engine is asked to create
 * the call, and creation is idempotent on that id, so retried alarms and restarts never turn one
 * attempt into two calls.
 *
 * Methods read the record from storage afresh and write it back before any await, so an alarm
 * and an API request that interleave at an await never overwrite each other's changes.
 */
export class CampaignDO extends DurableObject<Env> {
  #store: ContactStore;
  #mirroring: Promise<void> = Promise.resolve();
  /** The mirror queued behind the one running, not started yet: later requests join it (#mirror). */
  #nextMirror: { events: PendingWebhook[]; done: Promise<BatchCallRow | null> } | null = null;
  /** Set while remove() runs: mirrors then leave the D1 row alone (see #remove). */
  #removing = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    configureClock(env);
    this.#store = new ContactStore(ctx.storage.sql);
  }

  #record(): CampaignRecord | undefined {
    return this.#store.getMeta<CampaignRecord>("record");
  }

  #dispatchState(): DispatchState {
    return this.#store.getMeta<DispatchState>("dispatch")!;
  }

  /** Applies `change` to the stored record and saves it, synchronously. */
  #change(change: (record: CampaignRecord) => void): CampaignRecord {
    const record = this.#record()!;
    change(record);
    this.#store.setMeta("record", record);
    return record;
  }

  #changeDispatch(change: (state: DispatchState) => void): DispatchState {
    const state = this.#dispatchState();
    change(state);
    this.#store.setMeta("dispatch", state);
    return state;
  }

  #tenant(record: CampaignRecord) {
    return new TenantDb(openDatabase(this.env.DB), record.orgId);
  }

  get #dialIntervalMs(): number {
    const value = Number(this.env.CAMPAIGN_DIAL_INTERVAL_MS ?? "1000");
    return Number.isFinite(value) && value >= 0 ? value : 1000;
  }

  #stats(record: CampaignRecord, nowMs: number): CampaignStats {
    const store = this.#store;
    const state = this.#dispatchState();
    const ended = store.counter("ended");
    return campaignStats({
      counts: store.counts(),
      called: store.counter("called"),
      attempts: store.counter("attempts"),
      costCredits: store.counter("cost"),
      lastDueAtMs: store.lastDueAt(),
      nowMs,
      numbers: state.pool.length,
      dialIntervalMs: this.#dialIntervalMs,
      concurrency: Math.min(record.maxConcurrentCalls, state.orgCallLimit),
      averageCallMs: ended > 0 ? (store.counter("talk_seconds") * 1000) / ended : DEFAULT_CALL_MS,
      running: RUNNING.includes(record.status),
    });
  }

  #row(): BatchCallRow {
    const record = this.#record()!;
    return { ...mirrorRow(record, this.#stats(record, currentClock().now())), orgId: record.orgId };
  }

  /**
   * Writes the D1 mirror row and the webhook events in one D1 batch, then publishes the events.
   * Mirrors run one after another and each reads the state when it runs, so the row in D1 is
   * never older than the last write that finished. A request made while one is queued and not
   * started joins it (its events ride along): a busy campaign, with calls ending every few
   * milliseconds, then writes its row once per D1 round trip, not once per call update.
   */
  #mirror(events: PendingWebhook[] = []): Promise<BatchCallRow> {
    if (this.#nextMirror) {
      this.#nextMirror.events.push(...events);
      return this.#nextMirror.done.then((row) => row ?? this.#row());
    }
    const joined = [...events];
    const run = this.#mirroring.then(async () => {
      this.#nextMirror = null; // running now: a later request queues the next one
      const record = this.#record();
      if (!record || this.#removing) return null;
      const now = currentClock().now();
      const row = { ...mirrorRow(record, this.#stats(record, now)), orgId: record.orgId };
      const tenant = this.#tenant(record);
      const { id: _id, orgId: _org, ...changes } = row;
      const pending = joined.map((e) => recordEvent(tenant, now, e.type, e.data));
      await tenant.commit([
        tenant.insert(batchCalls, row).onConflictDoUpdate({ target: batchCalls.id, set: changes }),
        ...pending.map((p) => p.statement),
      ]);
      await publishEvents(this.env.WEBHOOK_QUEUE, pending.map((p) => p.id));
      return row;
    });
    this.#nextMirror = { events: joined, done: run };
    this.#mirroring = run.then(
      () => undefined,
      () => undefined,
    );
    return run.then((row) => row ?? this.#row());
  }

  #statusEvent(record: CampaignRecord, previous: CampaignStatus): PendingWebhook[] {
    const stats = this.#stats(record, currentClock().now());
    const data = { batch_id: record.id, batch_call_id: record.id, name: record.name, status: record.status, previous_status: previous, reason: record.statusReason, stats };
    const events: PendingWebhook[] = [{ type: "batch.status.changed", data }];
    if (record.status === "completed") events.push({ type: "batch.completed", data: { ...data, completed_at: record.completedAt } });
    return events;
  }

  /** Moves the campaign to `status` (saved at once) and returns its webhook events. */
  #transition(status: CampaignStatus, nowMs: number, reason: string | null = null): PendingWebhook[] {
    let previous: CampaignStatus = status;
    const at = iso(nowMs);
    const record = this.#change((r) => {
      previous = r.status;
      r.status = status;
      r.statusReason = reason;
      r.updatedAt = at!;
      if (status === "active" && !r.startedAt) r.startedAt = at;
      if (status === "paused") r.pausedAt = at;
      if (status === "completed") r.completedAt = at;
      if (status === "cancelled") r.cancelledAt = at;
    });
    return previous === status ? [] : this.#statusEvent(record, previous);
  }

  #contactEvent(record: CampaignRecord, contact: ContactRow, previous: ContactStatus): PendingWebhook {
    return {
      type: "batch.contact.updated",
      data: {
        batch_id: record.id,
        batch_call_id: record.id,
        contact_id: contact.contact_id,
        phone_number: contact.phone_number,
        status: contact.status,
        previous_status: previous,
        skip_reason: contact.skip_reason,
        call_id: contact.call_id,
        call_status: contact.call_status,
        attempt: contact.attempts,
        scheduled_at: iso(contact.scheduled_at),
      },
    };
  }

  /** The campaign, when it exists and its status allows `action`; otherwise the answer to give. */
  #guard(action: CampaignAction): { record: CampaignRecord; refusal?: never } | { record?: never; refusal: CampaignResult<never> } {
    const record = this.#record();
    if (!record) return { refusal: { ok: false, code: "not_found", message: "Batch call not found" } };
    if (!canCampaign(record.status, action)) return { refusal: this.#refused(action, record) };
    return { record };
  }

  /** Mirrors the change (with its events) to D1, re-arms the alarm, and answers with the row. */
  async #saved(events: PendingWebhook[] = []): Promise<CampaignResult> {
    const row = await this.#mirror(events);
    await this.#arm();
    return { ok: true, value: row };
  }

  #refused(action: CampaignAction, record: CampaignRecord): CampaignResult<never> {
    return {
      ok: false,
      code: "conflict",
      message: `Cannot ${action.replace("_", " ")} a campaign that is ${record.status} (allowed from: ${statusesAllowing(action).join(", ") || "no status"})`,
      details: { status: record.status, allowed_statuses: statusesAllowing(action) },
    };
  }

  // ---- API operations ----------------------------------------------------------------------

  /** Stores a new draft campaign with its first contacts. Calling it again returns the stored campaign. */
  async create(record: CampaignRecord, contacts: NewCampaignContact[]): Promise<BatchCallRow> {
    if (this.#record()) return this.#row();
    const now = currentClock().now();
    this.#store.setMeta("record", record);
    this.#store.setMeta("dispatch", {
      startAtMs: null,
      folderCopied: false,
      pool: [],
      cursor: -1,
      numberFreeAt: {},
      orgCallLimit: 10,
      callSpanMs: 0,
    } satisfies DispatchState);
    this.#store.add(contacts, "pending", now);
    return this.#mirror();
  }

  /*
   * The API operations below run one at a time (#serial). Each awaits D1 between checking the
   * status and writing the record, and run side by side one undid the other: a cancel that
   * landed while schedule() was reading D1 was overwritten by `scheduled` (and the campaign
   * dialled), and a contact upload during remove() wrote the deleted campaign back to D1. The
   * alarm and call reports still interleave with them; they re-read the record after each await.
   */
  #operations: Promise<unknown> = Promise.resolve();

  #serial<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.#operations.then(operation);
    this.#operations = run.catch(() => undefined);
    return run;
  }

  addContacts(contacts: NewCampaignContact[]) {
    return this.#serial(() => this.#addContacts(contacts));
  }
  schedule(input: { scheduledAt?: string | null; timezone?: string }) {
    return this.#serial(() => this.#schedule(input));
  }
  update(patch: CampaignPatch) {
    return this.#serial(() => this.#update(patch));
  }
  pause() {
    return this.#serial(() => this.#pause());
  }
  resume() {
    return this.#serial(() => this.#resume());
  }
  cancel() {
    return this.#serial(() => this.#cancel());
  }
  remove() {
    return this.#serial(() => this.#remove());
  }

  /**
   * Adds contacts. In a draft they wait for scheduling; in a scheduled, active or paused
   * campaign they get slots at once, spread over the schedule from now (or its start) on, the
   * slots already given out counting against each day's cap.
   */
  async #addContacts(contacts: NewCampaignContact[]): Promise<CampaignResult<{ added: number; duplicates: number; row: BatchCallRow }>> {
    const { record, refusal } = this.#guard("add_contacts");
    if (refusal) return refusal;
    const now = currentClock().now();
    const { added, duplicates } = this.#store.add(contacts, "pending", now);
    if (record.status !== "draft" && added > 0) {
      const used = this.#store.dialsPerDay();
      for (const [day, n] of Object.entries(this.#store.slottedPerDay())) used[day] = (used[day] ?? 0) + n;
      this.#slotWaiting(record, Math.max(now, this.#dispatchState().startAtMs ?? now), used, ["pending"], now);
    }
    this.#change((r) => (r.updatedAt = iso(now)!));
    const row = await this.#mirror();
    await this.#arm();
    return { ok: true, value: { added, duplicates, row } };
  }

  /**
   * draft → scheduled: copies the folder's contacts in, checks the agent, the caller IDs and
   * that someone is left to call (else the campaign fails with the reason), and gives every
   * contact its slot.
   */
  async #schedule(input: { scheduledAt?: string | null; timezone?: string }): Promise<CampaignResult> {
    const guard = this.#guard("schedule");
    if (guard.refusal) return guard.refusal;
    let record = guard.record;
    const now = currentClock().now();
    record = this.#change((r) => {
      if (input.timezone !== undefined) r.timezone = input.timezone;
      if (input.scheduledAt !== undefined) {
        r.scheduledAt = input.scheduledAt;
        r.scheduleType = input.scheduledAt ? "scheduled" : "immediate";
      }
    });
    const tenant = this.#tenant(record);
    if (record.contactFolderId && !this.#dispatchState().folderCopied) {
      for await (const page of folderContactPages(tenant, record.contactFolderId)) this.#store.add(page, "pending", now);
      this.#changeDispatch((s) => (s.folderCopied = true));
    }

    const facts = await loadDialFacts(tenant, record.agentId, []);
    const { pool, missing } = await loadNumberPool(tenant, record);
    const problem = !facts.agent
      ? `Agent ${record.agentId} no longer exists`
      : facts.agent.status !== "active"
        ? `Agent ${record.agentId} is ${facts.agent.status}, not active`
        : missing.length > 0
          ? `Phone numbers not found: ${missing.join(", ")}`
          : pool.length === 0
            ? `No outbound phone number: agent ${record.agentId} has none assigned and phone_number_ids is empty`
            : this.#store.waitingCount() === 0
              ? "The campaign has no contacts to call"
              : null;
    if (problem) {
      const events = this.#transition("failed", now, problem);
      const row = await this.#mirror(events);
      return { ok: false, code: "validation_error", message: `Batch call cannot be scheduled: ${problem}`, details: { batch_call_id: record.id, status: row.status, reason: problem } };
    }

    const agent = facts.agent!;
    const startAt = this.#startAt(record, now);
    this.#changeDispatch((s) => {
      s.pool = pool;
      s.startAtMs = startAt;
      s.orgCallLimit = facts.orgCallLimit;
      s.callSpanMs = (agent.joinTimeout + agent.maxDuration) * 1000 + CALL_CHECK_SLACK_MS;
    });
    this.#slotWaiting(record, startAt, this.#store.dialsPerDay(), ["pending", "scheduled"], now);
    return this.#saved(this.#transition("scheduled", now));
  }

  #startAt(record: CampaignRecord, nowMs: number): number {
    const at = record.scheduleType === "scheduled" && record.scheduledAt ? Date.parse(record.scheduledAt) : nowMs;
    return Math.max(at, nowMs);
  }

  /**
   * Gives every contact in `statuses` its slot, group by group of contacts sharing time zones
   * (each group's window and quiet hours differ), carrying the per-day counts across groups so
   * the daily cap holds for the campaign as a whole. Contacts waiting for a redial keep their
   * delay and only move into the new window. A group the window can never reach is skipped.
   */
  #slotWaiting(record: CampaignRecord, startAt: number, usedPerDay: Record<string, number>, statuses: ContactStatus[], nowMs: number): void {
    const window = campaignWindow(record);
    const used = { ...usedPerDay };
    for (const group of this.#store.waitingGroups(statuses)) {
      const constraints = contactConstraints(record, group.zones);
      let days: { key: string; slots: number[] }[];
      try {
        days = scheduleSlotDays({ count: group.seqs.length, window, maxCallsPerDay: record.maxCallsPerDay, startAt, usedPerDay: used, ...constraints });
      } catch (error) {
        if (!(error instanceof NoCallingWindowError)) throw error;
        for (const seq of group.seqs) this.#skip(seq, "outside_window", "the calling window never holds in the recipient's time zones", nowMs);
        continue;
      }
      const slots: { seq: number; atMs: number; day: string }[] = [];
      for (const day of days) {
        for (const atMs of day.slots) slots.push({ seq: group.seqs[slots.length], atMs, day: day.key });
        used[day.key] = (used[day.key] ?? 0) + day.slots.length;
      }
      this.#store.slot(slots, nowMs);
    }
    for (const contact of this.#store.waitingRedials()) {
      const earliest = Math.max(contact.due_at ?? nowMs, nowMs);
      const zones = JSON.parse(contact.zones) as string[];
      try {
        const at = nextWindowOpening(window, earliest, contactConstraints(record, zones));
        this.#store.defer(contact.seq, at, campaignDay(window, at), nowMs);
      } catch (error) {
        if (!(error instanceof NoCallingWindowError)) throw error;
        this.#skip(contact.seq, "outside_window", "the calling window never holds in the recipient's time zones", nowMs);
      }
    }
  }

  #skip(seq: number, reason: SkipReason, why: string, nowMs: number): void {
    this.#store.finish(seq, "skipped", reason, nowMs);
    const contact = this.#store.contact(seq);
    this.#store.audit({ at: nowMs, contact, attempt: contact ? contact.attempts + 1 : null, decision: "skipped", reason: `${reason}: ${why}` });
  }

  /** PATCH: allowed in draft, scheduled and paused; schedule changes reslot every contact still waiting. */
  async #update(patch: CampaignPatch): Promise<CampaignResult> {
    const { record: before, refusal } = this.#guard("edit");
    if (refusal) return refusal;
    const now = currentClock().now();
    const record = this.#change((r) => {
      Object.assign(r, patch);
      if (patch.scheduledAt !== undefined && patch.scheduleType === undefined) r.scheduleType = patch.scheduledAt ? "scheduled" : "immediate";
      r.updatedAt = iso(now)!;
    });
    if (record.status !== "draft") {
      if (patch.phoneNumberIds !== undefined) {
        const { pool } = await loadNumberPool(this.#tenant(record), this.#record()!);
        this.#changeDispatch((s) => {
          s.pool = pool;
          s.cursor = -1;
        });
      }
      if (SCHEDULE_FIELDS.some((f) => patch[f] !== undefined)) {
        const current = this.#record()!;
        const startAt = this.#startAt(current, now);
        this.#changeDispatch((s) => (s.startAtMs = startAt));
        this.#slotWaiting(current, startAt, this.#store.dialsPerDay(), ["pending", "scheduled"], now);
      }
    }
    return this.#saved();
  }

  async #pause(): Promise<CampaignResult> {
    const { record, refusal } = this.#guard("pause");
    if (refusal) return refusal;
    return this.#saved(this.#transition("paused", currentClock().now()));
  }

  /** paused → scheduled while the start is ahead, else active; contacts keep their slots. */
  async #resume(): Promise<CampaignResult> {
    const { record, refusal } = this.#guard("resume");
    if (refusal) return refusal;
    const now = currentClock().now();
    const events = this.#transition(statusOnResume(this.#dispatchState().startAtMs ?? now, now), now);
    this.#change((r) => (r.pausedAt = null));
    return this.#saved(events);
  }

  /** Terminal: contacts still waiting become `skipped` (`cancelled`); calls already placed finish normally. */
  async #cancel(): Promise<CampaignResult> {
    const { record, refusal } = this.#guard("cancel");
    if (refusal) return refusal;
    const now = currentClock().now();
    const skipped = this.#store.skipWaiting("cancelled", now);
    this.#store.audit({ at: now, decision: "skipped", reason: `cancelled: campaign cancelled, ${skipped} waiting contacts skipped` });
    return this.#saved(this.#transition("cancelled", now));
  }

  /** Deletes the campaign (draft, failed or cancelled only): the D1 row and this object's storage. */
  async #remove(): Promise<CampaignResult<{ id: string }>> {
    const { record, refusal } = this.#guard("delete");
    if (refusal) return refusal;
    // An alarm or call report handled while we await must not write the row back after its delete.
    this.#removing = true;
    try {
      await this.#mirroring;
      await this.#tenant(record).commit([this.#tenant(record).delete(batchCalls, record.id)]);
      await this.ctx.storage.deleteAlarm();
      await this.ctx.storage.deleteAll();
    } finally {
      this.#removing = false;
    }
    // deleteAll() dropped the store's tables while this object lives on: recreate them (empty),
    // so later calls find no campaign (not_found) instead of failing on "no such table".
    this.#store = new ContactStore(this.ctx.storage.sql);
    return { ok: true, value: { id: record.id } };
  }

  contacts(query: { status?: ContactStatus; limit: number; offset: number }) {
    const page = this.#store.listContacts(query);
    const attempts = this.#store.attemptsOf(page.rows.map((r) => r.seq));
    return { total: page.total, rows: page.rows.map((row) => ({ row, attempts: attempts.get(row.seq) ?? [] })) };
  }

  auditLog(query: { decision?: DialDecision; limit: number; offset: number }) {
    return this.#store.listDecisions(query);
  }

  /** The funnel and per-bucket activity of GET /analytics/campaigns/{id}; `bounds` is a JSON array of [startMs, endMs). */
  analytics(bounds: string) {
    return campaignFunnel(this.ctx.storage.sql, bounds);
  }

  // ---- call outcomes -----------------------------------------------------------------------

  /** The CallDO of a campaign call reports each change of its status here. */
  async callUpdated(report: CampaignCallReport): Promise<void> {
    const record = this.#record();
    const attempt = record ? this.#store.attempt(report.callId) : undefined;
    if (!record || !attempt || attempt.outcome !== null) return;
    const now = currentClock().now();
    const events = this.#settle(record, attempt, report, now);
    events.push(...this.#completeIfDone(now));
    if (events.length > 0) await this.#mirror(events);
    await this.#arm();
  }

  /** Applies a call's state to its attempt and contact; returns the contact's webhook event, if it changed. */
  #settle(record: CampaignRecord, attempt: AttemptRow, report: CampaignCallReport, nowMs: number): PendingWebhook[] {
    const result = attemptOutcome(report);
    if (result.live) {
      const previous = this.#store.noteLive(attempt, report.status, result.status, nowMs);
      const contact = this.#store.contact(attempt.contact_seq);
      return previous !== null && previous !== result.status && contact ? [this.#contactEvent(record, contact, previous)] : [];
    }
    this.#store.endAttempt(attempt.call_id, {
      callStatus: report.status,
      outcome: result.outcome,
      endReason: report.endReason,
      endedAt: report.endedAt ?? nowMs,
      durationSeconds: report.durationSeconds,
      costCredits: report.costCredits,
    });
    const contact = this.#store.contact(attempt.contact_seq);
    // A late report for an earlier attempt: the contact has moved on.
    if (!contact || contact.call_id !== attempt.call_id || !["dialing", "in_progress"].includes(contact.status)) return [];
    const previous = contact.status;
    const current = this.#record()!;
    const rule = effectiveRetryRule(current);
    const retryAt = RUNNING.includes(current.status) || current.status === "paused"
      ? redialAfter({ ...result, attemptsMade: contact.attempts, maxAttempts: rule.maxAttempts, policy: rule.policy, endedAtMs: report.endedAt ?? nowMs })
      : null;
    let next: { status: ContactStatus; dueAt: number | null; day: string | null } = { status: result.outcome, dueAt: null, day: null };
    if (retryAt !== null) {
      const window = campaignWindow(current);
      try {
        const at = nextWindowOpening(window, retryAt, contactConstraints(current, JSON.parse(contact.zones) as string[]));
        next = { status: "retry_scheduled", dueAt: at, day: campaignDay(window, at) };
      } catch (error) {
        if (!(error instanceof NoCallingWindowError)) throw error;
      }
    }
    this.#store.settleContact(contact.seq, report.status, next, nowMs);
    return [this.#contactEvent(current, this.#store.contact(contact.seq)!, previous)];
  }

  /** active → completed once no contact is waiting or on a call. */
  #completeIfDone(nowMs: number): PendingWebhook[] {
    const record = this.#record();
    if (!record || record.status !== "active") return [];
    if (this.#store.waitingCount() > 0 || this.#store.liveCount() > 0) return [];
    return this.#transition("completed", nowMs);
  }

  // ---- the alarm: start, dispatch, retries, checks -----------------------------------------

  async alarm(): Promise<void> {
    const record = this.#record();
    if (!record) return;
    const now = currentClock().now();
    const events: PendingWebhook[] = [];
    const startAt = this.#dispatchState().startAtMs;
    if (record.status === "scheduled" && startAt !== null && startAt <= now) events.push(...this.#transition("active", now));
    events.push(...(await this.#checkOverdueCalls(now)));
    await this.#retryPlacements(now);
    if (this.#record()!.status === "active") events.push(...(await this.#dispatch(now)));
    events.push(...this.#completeIfDone(now));
    await this.#mirror(events);
    await this.#arm();
  }

  /** Sets the alarm to the earliest thing that needs doing, or clears it. */
  async #arm(): Promise<void> {
    const record = this.#record();
    if (!record) return;
    const now = currentClock().now();
    const state = this.#dispatchState();
    const times: number[] = [];
    const check = this.#store.nextCheckAt();
    if (check !== null) times.push(check);
    if (this.#store.hasUnplaced()) times.push(now + PLACE_RETRY_MS);
    if (record.status === "scheduled" && state.startAtMs !== null) times.push(state.startAtMs);
    if (record.status === "active") {
      const due = this.#store.nextDueAt();
      const capacity = Math.min(record.maxConcurrentCalls, state.orgCallLimit) - this.#store.liveCount();
      // With no capacity left, the next call to end re-arms the alarm (callUpdated).
      if (due !== null && capacity > 0) times.push(Math.max(due, this.#nextNumberFree(record, state, now)));
      else if (due === null && this.#store.liveCount() === 0) times.push(now);
    }
    if (times.length === 0) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(alarmTime(Math.min(...times)));
  }

  /** When the first caller ID is usable again: after its pacing interval, or the next campaign day if all are capped today. */
  #nextNumberFree(record: CampaignRecord, state: DispatchState, nowMs: number): number {
    if (state.pool.length === 0) return nowMs;
    const window = campaignWindow(record);
    const today = campaignDay(window, nowMs);
    const capped = (n: PoolNumber) => record.maxCallsPerNumberPerDay !== null && this.#store.numberDialsOn(today, n.id) >= record.maxCallsPerNumberPerDay;
    if (record.rotation === "sequential") {
      // Only the number sequential sticks to counts (see #dispatch); another number being free
      // would wake the alarm at once, over and over, with nothing to dial.
      const index = pickNumber(state.pool, "sequential", state.cursor, (n) => !capped(n));
      return index === null ? nextCampaignDayStart(window, nowMs) : Math.max(nowMs, state.numberFreeAt[state.pool[index].id] ?? 0);
    }
    let earliest = Infinity;
    for (const n of state.pool) {
      earliest = Math.min(earliest, capped(n) ? nextCampaignDayStart(window, nowMs) : Math.max(nowMs, state.numberFreeAt[n.id] ?? 0));
    }
    return earliest;
  }

  #decide(contact: ContactRow, decision: DialDecision, reason: string | null, nowMs: number, callId: string | null = null): void {
    this.#store.audit({ at: nowMs, contact, attempt: contact.attempts + 1, decision, reason, callId });
  }

  #deferTo(contact: ContactRow, record: CampaignRecord, fromMs: number, reason: string, nowMs: number): PendingWebhook[] {
    const window = campaignWindow(record);
    try {
      const at = nextWindowOpening(window, fromMs, contactConstraints(record, JSON.parse(contact.zones) as string[]));
      this.#store.defer(contact.seq, at, campaignDay(window, at), nowMs);
      this.#decide(contact, "deferred", `${reason}; next try ${iso(at)}`, nowMs);
      return [];
    } catch (error) {
      if (!(error instanceof NoCallingWindowError)) throw error;
      this.#skip(contact.seq, "outside_window", "the calling window never holds in the recipient's time zones", nowMs);
      return [this.#contactEvent(record, this.#store.contact(contact.seq)!, contact.status)];
    }
  }

  /**
   * The caller ID for the next dial, with the org's permit for it (OrgLimiter.reserveDial):
   * pacing across every campaign of the org, and the destination's attempts in the last 24 h.
   * A number another campaign has just used is marked busy here and the next one is tried.
   */
  async #pickCallerId(
    record: CampaignRecord,
    contact: ContactRow,
    nowMs: number,
    capped: (n: PoolNumber) => boolean,
    pacing: (n: PoolNumber) => boolean,
  ): Promise<{ kind: "number"; number: PoolNumber } | { kind: "attempt_limit"; retryAt: number; count: number } | { kind: "none" }> {
    const limiter = this.env.ORG_LIMITER.get(this.env.ORG_LIMITER.idFromName(record.orgId));
    for (;;) {
      const state = this.#dispatchState();
      // `sequential` waits for its number while it only sits out the pacing interval: skipping
      // to the next number would turn a burst of due contacts into a round robin, where
      // sequential must stick to one number until it is capped.
      const index =
        record.rotation === "sequential"
          ? pickNumber(state.pool, "sequential", state.cursor, (n) => !capped(n))
          : pickNumber(state.pool, record.rotation, state.cursor, (n) => !pacing(n) && !capped(n));
      // Every caller ID is pacing or capped: the rest wait for the alarm at the next free one.
      if (index === null || pacing(state.pool[index])) return { kind: "none" };
      const number = state.pool[index];
      const permit = await limiter.reserveDial({
        numberId: number.id,
        phone: contact.phone_number,
        intervalMs: this.#dialIntervalMs,
        maxPerWindow: MAX_ATTEMPTS_PER_NUMBER_PER_DAY,
        windowMs: ATTEMPT_WINDOW_MS,
        nowMs,
      });
      if (permit.ok) {
        this.#changeDispatch((s) => {
          s.cursor = index;
          s.numberFreeAt[number.id] = nowMs + this.#dialIntervalMs;
        });
        return { kind: "number", number };
      }
      if (permit.reason === "attempt_limit") return { kind: "attempt_limit", retryAt: permit.retryAt, count: permit.count };
      this.#changeDispatch((s) => (s.numberFreeAt[number.id] = permit.retryAt));
    }
  }

  /**
   * Dials due contacts while there is capacity (campaign concurrency and the org's limit) and a
   * caller ID free under pacing and its daily cap, re-checking everything at this moment.
   */
  async #dispatch(nowMs: number): Promise<PendingWebhook[]> {
    const events: PendingWebhook[] = [];
    const store = this.#store;
    const record = this.#record()!;
    const due = store.due(nowMs, DISPATCH_BATCH);
    if (due.length === 0) return events;
    const facts = await loadDialFacts(this.#tenant(record), record.agentId, due.map((c) => c.phone_number));
    if (!facts.agent || facts.agent.status !== "active") {
      const reason = facts.agent ? `Agent ${record.agentId} is ${facts.agent.status}; activate it and resume` : `Agent ${record.agentId} was deleted`;
      return this.#record()!.status === "active" ? this.#transition("paused", nowMs, reason) : [];
    }
    const agent = facts.agent;
    this.#changeDispatch((s) => (s.orgCallLimit = facts.orgCallLimit));

    const window = campaignWindow(record);
    const today = campaignDay(window, nowMs);
    const placements: Placement[] = [];
    for (const listed of due) {
      // The campaign may have been paused or cancelled while the facts were being read.
      const current = this.#record()!;
      if (current.status !== "active") break;
      const state = this.#dispatchState();
      if (Math.min(current.maxConcurrentCalls, state.orgCallLimit) - store.liveCount() <= 0) break;
      const contact = store.contact(listed.seq);
      if (!contact || contact.due_at === null || contact.due_at > nowMs) continue;

      const constraints = contactConstraints(current, JSON.parse(contact.zones) as string[]);
      let openAt: number;
      try {
        openAt = nextWindowOpening(window, nowMs, constraints);
      } catch (error) {
        if (!(error instanceof NoCallingWindowError)) throw error;
        events.push(...this.#deferTo(contact, current, nowMs, "outside_window", nowMs));
        continue;
      }
      if (openAt > nowMs) {
        events.push(...this.#deferTo(contact, current, openAt, "outside_window: outside the calling window or quiet hours in the recipient's time zone", nowMs));
        continue;
      }
      if (current.maxCallsPerDay !== null && store.dialsOn(today) >= current.maxCallsPerDay) {
        events.push(...this.#deferTo(contact, current, nextCampaignDayStart(window, nowMs), `daily_cap: ${current.maxCallsPerDay} calls already placed today`, nowMs));
        continue;
      }
      if (facts.onDnc.has(contact.phone_number) || facts.optedOut.has(contact.phone_number)) {
        store.finish(contact.seq, "skipped", "dnc", nowMs);
        const why = facts.onDnc.has(contact.phone_number) ? "the number is on the do-not-call list" : "the contact opted out";
        this.#decide(contact, "skipped", `dnc: ${why}`, nowMs);
        events.push(this.#contactEvent(current, store.contact(contact.seq)!, contact.status));
        continue;
      }
      const capped = (n: PoolNumber) => current.maxCallsPerNumberPerDay !== null && store.numberDialsOn(today, n.id) >= current.maxCallsPerNumberPerDay;
      const pacing = (n: PoolNumber) => (this.#dispatchState().numberFreeAt[n.id] ?? 0) > nowMs;
      const permit = await this.#pickCallerId(current, contact, nowMs, capped, pacing);
      if (permit.kind === "none") break;
      if (permit.kind === "attempt_limit") {
        const reason = `attempt_limit: ${permit.count} campaign calls to this number in the last 24 h`;
        events.push(...this.#deferTo(contact, current, permit.retryAt, reason, nowMs));
        continue;
      }
      // The permit was awaited: the campaign may have been paused or cancelled meanwhile, or an
      // overlapping run of the alarm may have dialled this contact.
      if (this.#record()!.status !== "active") break;
      if (store.contact(contact.seq)?.due_at !== contact.due_at) continue;
      const { number } = permit;
      const callId = newId(nowMs);
      store.startAttempt({ contact, callId, numberId: number.id, fromNumber: number.phoneNumber, day: today, nowMs, checkAt: nowMs + state.callSpanMs });
      this.#decide(contact, "dialled", `from ${number.phoneNumber}`, nowMs, callId);
      events.push(this.#contactEvent(current, store.contact(contact.seq)!, contact.status));
      placements.push({ callId, contact, numberId: number.id });
    }
    await Promise.all(placements.map((p) => this.#place(agent, p, nowMs)));
    return events;
  }

  /**
   * Asks the call engine to create the attempt's call. Creation is idempotent on the call id, so
   * this is safe to repeat after a crash or a failure of which we cannot tell whether it went through.
   */
  async #place(agent: NonNullable<Awaited<ReturnType<typeof loadDialFacts>>["agent"]>, placement: Placement, nowMs: number): Promise<void> {
    const record = this.#record()!;
    const state = this.#dispatchState();
    const number = state.pool.find((n) => n.id === placement.numberId);
    const { contact } = placement;
    try {
      if (!number) throw new Error(`phone number ${placement.numberId} is no longer in the campaign's pool`);
      const custom = JSON.parse(contact.custom_fields) as Record<string, string>;
      const variables: Record<string, string> = { ...custom, phone_number: contact.phone_number };
      if (contact.first_name) variables.first_name = contact.first_name;
      if (contact.last_name) variables.last_name = contact.last_name;
      if (contact.email) variables.email = contact.email;
      await startOutboundCall(this.env, this.#tenant(record), nowMs, {
        id: placement.callId,
        agent,
        number,
        to: contact.phone_number,
        variables,
        metadata: { batch_call_id: record.id, campaign_id: record.id, contact_id: contact.contact_id },
        settings: {},
        batchCallId: record.id,
        concurrencyLimit: state.orgCallLimit,
      });
      this.#store.markPlaced(placement.callId);
    } catch (error) {
      const failures = this.#store.notePlaceFailure(placement.callId);
      console.error(JSON.stringify({ level: "error", message: "campaign dial failed", batch_call_id: record.id, call_id: placement.callId, failures, error: String(error) }));
      if (failures >= MAX_PLACE_FAILURES || !number) {
        const attempt = this.#store.attempt(placement.callId)!;
        const events = this.#settle(record, attempt, { callId: placement.callId, status: "failed", endReason: "provider_error", durationSeconds: null, costCredits: null, endedAt: nowMs }, nowMs);
        this.#decide(contact, "failed", `the call could not be created: ${String(error)}`, nowMs, placement.callId);
        await this.#mirror(events);
      }
    }
  }

  /** Placements left unconfirmed by a failure or a restart are retried with the same call id. */
  async #retryPlacements(nowMs: number): Promise<void> {
    const outstanding = this.#store.unplaced(DISPATCH_BATCH);
    if (outstanding.length === 0) return;
    const record = this.#record()!;
    const facts = await loadDialFacts(this.#tenant(record), record.agentId, []);
    const placements: Placement[] = [];
    for (const attempt of outstanding) {
      const contact = this.#store.contact(attempt.contact_seq);
      if (contact) placements.push({ callId: attempt.call_id, contact, numberId: attempt.number_id });
    }
    if (!facts.agent) {
      for (const p of placements) {
        const attempt = this.#store.attempt(p.callId)!;
        await this.#mirror(this.#settle(record, attempt, { callId: p.callId, status: "failed", endReason: "provider_error", durationSeconds: null, costCredits: null, endedAt: nowMs }, nowMs));
      }
      return;
    }
    await Promise.all(placements.map((p) => this.#place(facts.agent!, p, nowMs)));
  }

  /**
   * Calls that should have ended but never reported to us (a lost notification): ask each call
   * for its state and settle it, or look again later.
   */
  async #checkOverdueCalls(nowMs: number): Promise<PendingWebhook[]> {
    const events: PendingWebhook[] = [];
    const record = this.#record()!;
    for (const attempt of this.#store.overdue(nowMs, DISPATCH_BATCH)) {
      const call = await this.env.CALL.get(this.env.CALL.idFromName(attempt.call_id)).snapshot();
      if (call && ["completed", "failed", "cancelled"].includes(call.status)) {
        const fresh = this.#store.attempt(attempt.call_id);
        if (!fresh || fresh.outcome !== null) continue;
        events.push(
          ...this.#settle(
            record,
            fresh,
            {
              callId: attempt.call_id,
              status: call.status,
              endReason: call.end_reason,
              durationSeconds: call.duration_seconds,
              costCredits: call.cost_credits,
              endedAt: call.ended_at ? Date.parse(call.ended_at) : nowMs,
            },
            nowMs,
          ),
        );
      } else {
        this.#store.postponeCheck(attempt.call_id, nowMs + CALL_CHECK_RETRY_MS);
      }
    }
    return events;
  }
}
