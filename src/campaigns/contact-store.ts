import {
  CONTACT_STATUSES,
  LIVE_STATUSES,
  WAITING_STATUSES,
  type AttemptOutcome,
  type ContactCounts,
  type ContactStatus,
  type DialDecision,
  type SkipReason,
} from "../domain/campaigns";
import type { CallStatus, EndReason } from "../domain/calls";
import { zonesFor } from "../domain/recipient-timezone";

/**
 * The campaign's contacts, attempts, audit log and counters in the CampaignDO's own SQLite.
 * Everything here is synchronous SQL on the object's storage; the object decides, this stores.
 *
 * Status counts and attempt totals are kept by triggers, so the stats shown on every change
 * cost a handful of row reads, not a scan of 100,000 contacts.
 */

export interface NewCampaignContact {
  /** The org contact's id, or a fresh id for contacts given inline or by CSV. */
  contactId: string;
  phoneNumber: string;
  firstName?: string | null;
  lastName?: string | null;
  email?: string | null;
  timezone?: string | null;
  customFields?: Record<string, string>;
}

export type ContactRow = {
  seq: number;
  contact_id: string;
  phone_number: string;
  first_name: string | null;
  last_name: string | null;
  email: string | null;
  custom_fields: string;
  timezone: string | null;
  /** JSON array of the zones the recipient may be in ([] = unknown). */
  zones: string;
  status: ContactStatus;
  skip_reason: SkipReason | null;
  scheduled_at: number | null;
  due_at: number | null;
  slot_day: string | null;
  attempts: number;
  call_id: string | null;
  call_status: CallStatus | null;
  called_at: number | null;
  updated_at: number;
};

export type AttemptRow = {
  call_id: string;
  contact_seq: number;
  attempt: number;
  number_id: string;
  from_number: string;
  scheduled_at: number | null;
  dialed_at: number;
  /** 1 once the call engine accepted the call; 0 while a (re)placement is outstanding. */
  placed: number;
  place_failures: number;
  /** When to ask the call itself how it ended, should its own report never arrive. */
  check_at: number | null;
  call_status: CallStatus | null;
  outcome: AttemptOutcome | null;
  end_reason: EndReason | null;
  ended_at: number | null;
  duration_seconds: number | null;
  cost_credits: number | null;
};

export type DecisionRow = {
  seq: number;
  at: number;
  contact_seq: number | null;
  contact_id: string | null;
  phone_number: string | null;
  attempt: number | null;
  decision: DialDecision;
  reason: string | null;
  call_id: string | null;
};

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS contacts (
  seq INTEGER PRIMARY KEY,
  contact_id TEXT NOT NULL UNIQUE,
  phone_number TEXT NOT NULL,
  first_name TEXT, last_name TEXT, email TEXT,
  custom_fields TEXT NOT NULL DEFAULT '{}',
  timezone TEXT,
  zones TEXT NOT NULL DEFAULT '[]',
  status TEXT NOT NULL,
  skip_reason TEXT,
  scheduled_at INTEGER,
  due_at INTEGER,
  slot_day TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  call_id TEXT, call_status TEXT, called_at INTEGER,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS contacts_due ON contacts (due_at) WHERE due_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS contacts_phone ON contacts (phone_number);
CREATE INDEX IF NOT EXISTS contacts_status ON contacts (status, seq);
CREATE TABLE IF NOT EXISTS attempts (
  call_id TEXT PRIMARY KEY,
  contact_seq INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  number_id TEXT NOT NULL,
  from_number TEXT NOT NULL,
  scheduled_at INTEGER,
  dialed_at INTEGER NOT NULL,
  placed INTEGER NOT NULL DEFAULT 0,
  place_failures INTEGER NOT NULL DEFAULT 0,
  check_at INTEGER,
  call_status TEXT, outcome TEXT, end_reason TEXT, ended_at INTEGER,
  duration_seconds INTEGER, cost_credits REAL,
  UNIQUE (contact_seq, attempt)
);
CREATE INDEX IF NOT EXISTS attempts_open ON attempts (check_at) WHERE outcome IS NULL;
CREATE INDEX IF NOT EXISTS attempts_unplaced ON attempts (dialed_at) WHERE placed = 0 AND outcome IS NULL;
-- Daily activity for analytics (src/campaigns/analytics.ts): attempts by dial instant.
CREATE INDEX IF NOT EXISTS attempts_dialed ON attempts (dialed_at);
CREATE TABLE IF NOT EXISTS decisions (
  seq INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  contact_seq INTEGER, contact_id TEXT, phone_number TEXT, attempt INTEGER,
  decision TEXT NOT NULL, reason TEXT, call_id TEXT
);
CREATE INDEX IF NOT EXISTS decisions_kind ON decisions (decision, seq);
CREATE TABLE IF NOT EXISTS day_dials (day TEXT PRIMARY KEY, dials INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS number_day_dials (day TEXT NOT NULL, number_id TEXT NOT NULL, dials INTEGER NOT NULL, PRIMARY KEY (day, number_id));
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value REAL NOT NULL);
CREATE TRIGGER IF NOT EXISTS contacts_counted_insert AFTER INSERT ON contacts BEGIN
  UPDATE counters SET value = value + 1 WHERE name = 'status:' || NEW.status;
END;
CREATE TRIGGER IF NOT EXISTS contacts_counted_update AFTER UPDATE OF status ON contacts WHEN OLD.status != NEW.status BEGIN
  UPDATE counters SET value = value - 1 WHERE name = 'status:' || OLD.status;
  UPDATE counters SET value = value + 1 WHERE name = 'status:' || NEW.status;
END;
CREATE TRIGGER IF NOT EXISTS attempts_counted_insert AFTER INSERT ON attempts BEGIN
  UPDATE counters SET value = value + 1 WHERE name = 'attempts';
  UPDATE counters SET value = value + 1 WHERE name = 'called' AND NEW.attempt = 1;
END;
CREATE TRIGGER IF NOT EXISTS attempts_counted_end AFTER UPDATE OF outcome ON attempts WHEN OLD.outcome IS NULL AND NEW.outcome IS NOT NULL BEGIN
  UPDATE counters SET value = value + coalesce(NEW.cost_credits, 0) WHERE name = 'cost';
  UPDATE counters SET value = value + 1 WHERE name = 'ended';
  UPDATE counters SET value = value + coalesce(NEW.duration_seconds, 0) WHERE name = 'talk_seconds';
END;
`;

const COUNTER_NAMES = [...CONTACT_STATUSES.map((s) => `status:${s}`), "attempts", "called", "cost", "ended", "talk_seconds"];

/** Rows per statement when adding or slotting contacts in bulk (each row is a JSON array of a few hundred bytes). */
const ADD_CHUNK = 2_000;

const inList = (values: readonly string[]) => values.map((v) => `'${v}'`).join(", ");
const WAITING = inList(WAITING_STATUSES);
const LIVE = inList(LIVE_STATUSES);

export class ContactStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(SCHEMA);
    for (const name of COUNTER_NAMES) sql.exec("INSERT OR IGNORE INTO counters (name, value) VALUES (?, 0)", name);
  }

  /**
   * The meta rows as stored (JSON), read from SQLite once: the campaign reads its record and
   * dispatch state many times per alarm and per call update, and only this store writes them.
   * Each read parses afresh, so a caller may change what it got without touching the cache.
   */
  #meta = new Map<string, string | undefined>();

  getMeta<T>(key: string): T | undefined {
    if (!this.#meta.has(key)) this.#meta.set(key, this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]?.value);
    const value = this.#meta.get(key);
    return value === undefined ? undefined : (JSON.parse(value) as T);
  }

  setMeta(key: string, value: unknown): void {
    const json = JSON.stringify(value);
    this.sql.exec("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", key, json);
    this.#meta.set(key, json);
  }

  /**
   * Adds contacts in `status`, in the order given. The same org contact given twice is ignored
   * (a folder copy that is retried adds nothing); a phone number already in the campaign is
   * stored as `skipped` with `duplicate`, so the list shows why it will not be called.
   *
   * Rows go in as one JSON array per statement (a few thousand at a time) rather than one
   * INSERT each, after two lookups per chunk find the ids and phones already present: a
   * 100,000-contact folder is then about a hundred statements.
   */
  add(contacts: readonly NewCampaignContact[], status: ContactStatus, nowMs: number): { added: number; duplicates: number; ignored: number } {
    let added = 0;
    let duplicates = 0;
    let ignored = 0;
    for (let i = 0; i < contacts.length; i += ADD_CHUNK) {
      const chunk = contacts.slice(i, i + ADD_CHUNK);
      const knownIds = new Set(
        this.sql
          .exec<{ contact_id: string }>("SELECT contact_id FROM contacts WHERE contact_id IN (SELECT value FROM json_each(?))", JSON.stringify(chunk.map((c) => c.contactId)))
          .toArray()
          .map((r) => r.contact_id),
      );
      const takenPhones = new Set(
        this.sql
          .exec<{ phone_number: string }>(
            "SELECT phone_number FROM contacts WHERE phone_number IN (SELECT value FROM json_each(?)) AND skip_reason IS NOT 'duplicate'",
            JSON.stringify(chunk.map((c) => c.phoneNumber)),
          )
          .toArray()
          .map((r) => r.phone_number),
      );
      const rows: unknown[][] = [];
      for (const c of chunk) {
        if (knownIds.has(c.contactId)) {
          ignored++;
          continue;
        }
        knownIds.add(c.contactId);
        const duplicate = takenPhones.has(c.phoneNumber);
        takenPhones.add(c.phoneNumber);
        if (duplicate) duplicates++;
        else added++;
        rows.push([
          c.contactId,
          c.phoneNumber,
          c.firstName ?? null,
          c.lastName ?? null,
          c.email ?? null,
          JSON.stringify(c.customFields ?? {}),
          c.timezone ?? null,
          JSON.stringify(zonesFor(c.phoneNumber, c.timezone)),
          duplicate ? "skipped" : status,
          duplicate ? "duplicate" : null,
        ]);
      }
      if (rows.length === 0) continue;
      this.sql.exec(
        `INSERT INTO contacts (contact_id, phone_number, first_name, last_name, email, custom_fields, timezone, zones, status, skip_reason, updated_at)
         SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, value ->> 7, value ->> 8, value ->> 9, ?
         FROM json_each(?) ORDER BY key`,
        nowMs,
        JSON.stringify(rows),
      );
    }
    return { added, duplicates, ignored };
  }

  counts(): ContactCounts {
    const counts: ContactCounts = {};
    for (const row of this.sql.exec<{ name: string; value: number }>("SELECT name, value FROM counters WHERE name LIKE 'status:%'")) {
      counts[row.name.slice("status:".length) as ContactStatus] = row.value;
    }
    return counts;
  }

  counter(name: "attempts" | "called" | "cost" | "ended" | "talk_seconds"): number {
    return this.sql.exec<{ value: number }>("SELECT value FROM counters WHERE name = ?", name).one().value;
  }

  waitingCount(): number {
    const counts = this.counts();
    return WAITING_STATUSES.reduce((n, s) => n + (counts[s] ?? 0), 0);
  }

  liveCount(): number {
    const counts = this.counts();
    return LIVE_STATUSES.reduce((n, s) => n + (counts[s] ?? 0), 0);
  }

  /** Contacts in `statuses` grouped by their zone list, each group in contact order: the scheduler's input. */
  waitingGroups(statuses: readonly ContactStatus[]): { zones: string[]; seqs: number[] }[] {
    const groups = new Map<string, number[]>();
    for (const row of this.sql.exec<{ seq: number; zones: string }>(`SELECT seq, zones FROM contacts WHERE status IN (${inList(statuses)}) ORDER BY seq`)) {
      let seqs = groups.get(row.zones);
      if (!seqs) groups.set(row.zones, (seqs = []));
      seqs.push(row.seq);
    }
    return [...groups].map(([zones, seqs]) => ({ zones: JSON.parse(zones) as string[], seqs }));
  }

  /** Contacts waiting for a redial. */
  waitingRedials(): ContactRow[] {
    return this.sql.exec<ContactRow>("SELECT * FROM contacts WHERE status = 'retry_scheduled' ORDER BY seq").toArray();
  }

  /**
   * Gives waiting contacts their slots; `pending` becomes `scheduled`, a pending redial stays
   * `retry_scheduled`. One statement per few thousand contacts, as in `add`.
   */
  slot(slots: readonly { seq: number; atMs: number; day: string | null }[], nowMs: number): void {
    for (let i = 0; i < slots.length; i += ADD_CHUNK) {
      const chunk = slots.slice(i, i + ADD_CHUNK).map((s) => [s.seq, s.atMs, s.day]);
      this.sql.exec(
        `UPDATE contacts SET status = CASE status WHEN 'retry_scheduled' THEN 'retry_scheduled' ELSE 'scheduled' END,
           scheduled_at = s.at, due_at = s.at, slot_day = s.day, updated_at = ?
         FROM (SELECT value ->> 0 AS seq, value ->> 1 AS at, value ->> 2 AS day FROM json_each(?)) AS s
         WHERE contacts.seq = s.seq`,
        nowMs,
        JSON.stringify(chunk),
      );
    }
  }

  /** Slots per campaign day already given to waiting contacts (for adding contacts to a running campaign). */
  slottedPerDay(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const row of this.sql.exec<{ slot_day: string; n: number }>(
      `SELECT slot_day, count(*) AS n FROM contacts WHERE status IN (${WAITING}) AND slot_day IS NOT NULL GROUP BY slot_day`,
    )) {
      out[row.slot_day] = row.n;
    }
    return out;
  }

  /** Due contacts, earliest slot first. */
  due(nowMs: number, limit: number): ContactRow[] {
    return this.sql.exec<ContactRow>("SELECT * FROM contacts WHERE due_at IS NOT NULL AND due_at <= ? ORDER BY due_at LIMIT ?", nowMs, limit).toArray();
  }

  nextDueAt(): number | null {
    return this.sql.exec<{ at: number | null }>("SELECT min(due_at) AS at FROM contacts WHERE due_at IS NOT NULL").one().at;
  }

  lastDueAt(): number | null {
    return this.sql.exec<{ at: number | null }>("SELECT max(due_at) AS at FROM contacts WHERE due_at IS NOT NULL").one().at;
  }

  contact(seq: number): ContactRow | undefined {
    return this.sql.exec<ContactRow>("SELECT * FROM contacts WHERE seq = ?", seq).toArray()[0];
  }

  /** Moves a due contact to a later instant without dialling it (window, cap, attempt limit). */
  defer(seq: number, atMs: number, day: string | null, nowMs: number): void {
    this.sql.exec("UPDATE contacts SET scheduled_at = ?, due_at = ?, slot_day = ?, updated_at = ? WHERE seq = ?", atMs, atMs, day, nowMs, seq);
  }

  /** Final status for a contact that will not be called (again). */
  finish(seq: number, status: ContactStatus, skipReason: SkipReason | null, nowMs: number): void {
    this.sql.exec("UPDATE contacts SET status = ?, skip_reason = ?, due_at = NULL, updated_at = ? WHERE seq = ?", status, skipReason, nowMs, seq);
  }

  /** Every contact still waiting for a dial becomes `skipped` with `reason`; returns how many. */
  skipWaiting(reason: SkipReason, nowMs: number): number {
    // Counted with RETURNING: `rowsWritten` also counts the counter rows the status trigger
    // updates, which made the cancel audit entry report several times too many contacts.
    return this.sql
      .exec(`UPDATE contacts SET status = 'skipped', skip_reason = ?, due_at = NULL, updated_at = ? WHERE status IN (${WAITING}) RETURNING seq`, reason, nowMs)
      .toArray().length;
  }

  /**
   * Records the dial decision before the call exists: the contact turns `dialing` and the
   * attempt row holds the call id the engine will be asked to create. Any later retry of the
   * placement reuses that id, so one attempt can never become two calls.
   */
  startAttempt(input: {
    contact: ContactRow;
    callId: string;
    numberId: string;
    fromNumber: string;
    day: string;
    nowMs: number;
    checkAt: number;
  }): number {
    const attempt = input.contact.attempts + 1;
    this.sql.exec(
      `INSERT INTO attempts (call_id, contact_seq, attempt, number_id, from_number, scheduled_at, dialed_at, check_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      input.callId,
      input.contact.seq,
      attempt,
      input.numberId,
      input.fromNumber,
      input.contact.scheduled_at,
      input.nowMs,
      input.checkAt,
    );
    this.sql.exec(
      `UPDATE contacts SET status = 'dialing', skip_reason = NULL, due_at = NULL, attempts = ?, call_id = ?, call_status = 'queued', called_at = ?, updated_at = ? WHERE seq = ?`,
      attempt,
      input.callId,
      input.nowMs,
      input.nowMs,
      input.contact.seq,
    );
    this.sql.exec("INSERT INTO day_dials (day, dials) VALUES (?, 1) ON CONFLICT(day) DO UPDATE SET dials = dials + 1", input.day);
    this.sql.exec(
      "INSERT INTO number_day_dials (day, number_id, dials) VALUES (?, ?, 1) ON CONFLICT(day, number_id) DO UPDATE SET dials = dials + 1",
      input.day,
      input.numberId,
    );
    return attempt;
  }

  dialsOn(day: string): number {
    return this.sql.exec<{ dials: number }>("SELECT dials FROM day_dials WHERE day = ?", day).toArray()[0]?.dials ?? 0;
  }

  numberDialsOn(day: string, numberId: string): number {
    return this.sql.exec<{ dials: number }>("SELECT dials FROM number_day_dials WHERE day = ? AND number_id = ?", day, numberId).toArray()[0]?.dials ?? 0;
  }

  /** Dials made per campaign day, counted against the daily cap when unfinished contacts are rescheduled. */
  dialsPerDay(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const row of this.sql.exec<{ day: string; dials: number }>("SELECT day, dials FROM day_dials")) out[row.day] = row.dials;
    return out;
  }

  attempt(callId: string): AttemptRow | undefined {
    return this.sql.exec<AttemptRow>("SELECT * FROM attempts WHERE call_id = ?", callId).toArray()[0];
  }

  /** Attempts whose placement is outstanding (never confirmed by the engine), oldest first. */
  unplaced(limit: number): AttemptRow[] {
    return this.sql.exec<AttemptRow>("SELECT * FROM attempts WHERE placed = 0 AND outcome IS NULL ORDER BY dialed_at LIMIT ?", limit).toArray();
  }

  markPlaced(callId: string): void {
    this.sql.exec("UPDATE attempts SET placed = 1 WHERE call_id = ?", callId);
  }

  notePlaceFailure(callId: string): number {
    return this.sql.exec<{ place_failures: number }>("UPDATE attempts SET place_failures = place_failures + 1 WHERE call_id = ? RETURNING place_failures", callId).one()
      .place_failures;
  }

  /** Attempts still open whose check time has come (their call never told us how it ended). */
  overdue(nowMs: number, limit: number): AttemptRow[] {
    return this.sql.exec<AttemptRow>("SELECT * FROM attempts WHERE outcome IS NULL AND placed = 1 AND check_at <= ? ORDER BY check_at LIMIT ?", nowMs, limit).toArray();
  }

  nextCheckAt(): number | null {
    return this.sql.exec<{ at: number | null }>("SELECT min(check_at) AS at FROM attempts WHERE outcome IS NULL AND placed = 1").one().at;
  }

  hasUnplaced(): boolean {
    return this.sql.exec("SELECT 1 FROM attempts WHERE placed = 0 AND outcome IS NULL LIMIT 1").toArray().length > 0;
  }

  postponeCheck(callId: string, atMs: number): void {
    this.sql.exec("UPDATE attempts SET check_at = ? WHERE call_id = ?", atMs, callId);
  }

  /** The contact's live call moved on (ringing, answered): shown as `call_status`, and `in_progress` once answered. */
  noteLive(attempt: AttemptRow, callStatus: CallStatus, contactStatus: "dialing" | "in_progress", nowMs: number): ContactStatus | null {
    this.sql.exec("UPDATE attempts SET call_status = ? WHERE call_id = ?", callStatus, attempt.call_id);
    const before = this.contact(attempt.contact_seq);
    if (!before || before.call_id !== attempt.call_id) return null;
    this.sql.exec("UPDATE contacts SET status = ?, call_status = ?, updated_at = ? WHERE seq = ?", contactStatus, callStatus, nowMs, attempt.contact_seq);
    return before.status;
  }

  endAttempt(
    callId: string,
    result: { callStatus: CallStatus; outcome: AttemptOutcome; endReason: EndReason | null; endedAt: number; durationSeconds: number | null; costCredits: number | null },
  ): void {
    this.sql.exec(
      "UPDATE attempts SET call_status = ?, end_reason = ?, ended_at = ?, duration_seconds = ?, cost_credits = ?, check_at = NULL, placed = 1, outcome = ? WHERE call_id = ?",
      result.callStatus,
      result.endReason,
      result.endedAt,
      result.durationSeconds,
      result.costCredits,
      result.outcome,
      callId,
    );
  }

  /** After an attempt ended: either a final status, or `retry_scheduled` with its next slot. */
  settleContact(seq: number, callStatus: CallStatus, next: { status: ContactStatus; dueAt: number | null; day: string | null; skipReason?: SkipReason | null }, nowMs: number): void {
    this.sql.exec(
      "UPDATE contacts SET status = ?, skip_reason = ?, call_status = ?, scheduled_at = coalesce(?, scheduled_at), due_at = ?, slot_day = ?, updated_at = ? WHERE seq = ?",
      next.status,
      next.skipReason ?? null,
      callStatus,
      next.dueAt,
      next.dueAt,
      next.day,
      nowMs,
      seq,
    );
  }

  audit(entry: { at: number; contact?: ContactRow; attempt?: number | null; decision: DialDecision; reason?: string | null; callId?: string | null }): void {
    this.sql.exec(
      "INSERT INTO decisions (at, contact_seq, contact_id, phone_number, attempt, decision, reason, call_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      entry.at,
      entry.contact?.seq ?? null,
      entry.contact?.contact_id ?? null,
      entry.contact?.phone_number ?? null,
      entry.attempt ?? null,
      entry.decision,
      entry.reason ?? null,
      entry.callId ?? null,
    );
  }

  listContacts(options: { status?: ContactStatus; limit: number; offset: number }): { rows: ContactRow[]; total: number } {
    const where = options.status ? "WHERE status = ?" : "";
    const args = options.status ? [options.status] : [];
    const rows = this.sql.exec<ContactRow>(`SELECT * FROM contacts ${where} ORDER BY seq LIMIT ? OFFSET ?`, ...args, options.limit, options.offset).toArray();
    const counts = this.counts();
    const total = options.status ? (counts[options.status] ?? 0) : CONTACT_STATUSES.reduce((n, s) => n + (counts[s] ?? 0), 0);
    return { rows, total };
  }

  attemptsOf(seqs: readonly number[]): Map<number, AttemptRow[]> {
    const out = new Map<number, AttemptRow[]>();
    if (seqs.length === 0) return out;
    for (const row of this.sql.exec<AttemptRow>(`SELECT * FROM attempts WHERE contact_seq IN (${seqs.map(() => "?").join(", ")}) ORDER BY contact_seq, attempt`, ...seqs)) {
      let list = out.get(row.contact_seq);
      if (!list) out.set(row.contact_seq, (list = []));
      list.push(row);
    }
    return out;
  }

  listDecisions(options: { decision?: DialDecision; limit: number; offset: number }): { rows: DecisionRow[]; total: number } {
    const where = options.decision ? "WHERE decision = ?" : "";
    const args = options.decision ? [options.decision] : [];
    const rows = this.sql.exec<DecisionRow>(`SELECT * FROM decisions ${where} ORDER BY seq LIMIT ? OFFSET ?`, ...args, options.limit, options.offset).toArray();
    const total = this.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM decisions ${where}`, ...args).one().n;
    return { rows, total };
  }
}
