import { DurableObject } from "cloudflare:workers";
import { callsToGrant, type SlotRow } from "../src/domain/call-slots";
import { decide, windowStart, type RateDecision } from "../src/domain/rate-limit";
import { alarmTime, configureClock, currentClock } from "../src/lib/clock";

/**
 * One per organization (`idFromName(orgId)`): the exact per-minute API rate limit and the call
 * concurrency slots. Single-threaded execution makes each read-count-write atomic without locks.
 */
export type DialPermit = { ok: true } | { ok: false; reason: "pacing"; retryAt: number } | { ok: false; reason: "attempt_limit"; retryAt: number; count: number };

export class OrgLimiter extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    configureClock(env);
    ctx.blockConcurrencyWhile(async () => {
      ctx.storage.sql.exec(`
        CREATE TABLE IF NOT EXISTS rate_windows (window_start INTEGER PRIMARY KEY, admitted INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS call_slots (
          call_id TEXT PRIMARY KEY,
          state TEXT NOT NULL CHECK (state IN ('granted', 'waiting')),
          requested_at INTEGER NOT NULL,
          lease_ms INTEGER NOT NULL,
          lease_until INTEGER
        );
        CREATE TABLE IF NOT EXISTS slot_stats (id INTEGER PRIMARY KEY CHECK (id = 1), max_granted INTEGER NOT NULL, call_limit INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS caller_id_dials (number_id TEXT PRIMARY KEY, last_at INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS destination_dials (phone TEXT NOT NULL, at INTEGER NOT NULL);
        CREATE INDEX IF NOT EXISTS destination_dials_phone ON destination_dials (phone, at);
        CREATE INDEX IF NOT EXISTS destination_dials_at ON destination_dials (at);
      `);
    });
  }

  /** Counts one API request against the org's per-minute limit. `nowMs` comes from the caller's clock. */
  hitRateLimit(limit: number, nowMs: number): RateDecision {
    const sql = this.ctx.storage.sql;
    const start = windowStart(nowMs);
    const row = sql.exec<{ admitted: number }>("SELECT admitted FROM rate_windows WHERE window_start = ?", start).toArray()[0];
    const decision = decide(nowMs, limit, row?.admitted ?? 0);
    if (decision.allowed) {
      sql.exec(
        "INSERT INTO rate_windows (window_start, admitted) VALUES (?, 1) ON CONFLICT(window_start) DO UPDATE SET admitted = admitted + 1",
        start,
      );
      // Older windows can never matter again.
      if (!row) sql.exec("DELETE FROM rate_windows WHERE window_start < ?", start);
    }
    return decision;
  }

  #slots(): SlotRow[] {
    return this.ctx.storage.sql
      .exec<{ call_id: string; state: "granted" | "waiting"; requested_at: number; lease_until: number | null }>(
        "SELECT call_id, state, requested_at, lease_until FROM call_slots",
      )
      .toArray()
      .map((r) => ({ callId: r.call_id, state: r.state, requestedAt: r.requested_at, leaseUntil: r.lease_until }));
  }

  /** Grants waiting calls while slots are free; returns the ids granted. */
  #grant(limit: number, nowMs: number): string[] {
    const sql = this.ctx.storage.sql;
    const ids = callsToGrant(this.#slots(), limit);
    for (const id of ids) {
      sql.exec("UPDATE call_slots SET state = 'granted', lease_until = ? + lease_ms WHERE call_id = ?", nowMs, id);
    }
    const granted = sql.exec<{ n: number }>("SELECT count(*) AS n FROM call_slots WHERE state = 'granted'").one().n;
    sql.exec(
      `INSERT INTO slot_stats (id, max_granted, call_limit) VALUES (1, ?, ?)
       ON CONFLICT(id) DO UPDATE SET max_granted = max(max_granted, excluded.max_granted), call_limit = excluded.call_limit`,
      granted,
      limit,
    );
    return ids;
  }

  async #armLeaseAlarm() {
    const next = this.ctx.storage.sql
      .exec<{ at: number | null }>("SELECT min(lease_until) AS at FROM call_slots WHERE state = 'granted'")
      .one().at;
    if (next === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(alarmTime(next));
  }

  /**
   * Asks for a slot for a call. `granted` means dial now; `waiting` means the call will be told
   * (CallDO.slotGranted) when one frees. Asking again for the same call is harmless.
   */
  async acquireCallSlot(callId: string, limit: number, leaseMs: number, nowMs: number): Promise<"granted" | "waiting"> {
    const sql = this.ctx.storage.sql;
    sql.exec(
      "INSERT INTO call_slots (call_id, state, requested_at, lease_ms) VALUES (?, 'waiting', ?, ?) ON CONFLICT(call_id) DO NOTHING",
      callId,
      nowMs,
      leaseMs,
    );
    this.#grant(limit, nowMs);
    await this.#armLeaseAlarm();
    const row = sql.exec<{ state: "granted" | "waiting" }>("SELECT state FROM call_slots WHERE call_id = ?", callId).one();
    return row.state;
  }

  /** Frees a call's slot (or its place in line) and hands freed slots to the calls waiting longest. */
  async releaseCallSlot(callId: string, limit: number, nowMs: number): Promise<void> {
    this.ctx.storage.sql.exec("DELETE FROM call_slots WHERE call_id = ?", callId);
    const granted = this.#grant(limit, nowMs);
    await this.#armLeaseAlarm();
    await Promise.all(granted.map((id) => this.env.CALL.get(this.env.CALL.idFromName(id)).slotGranted()));
  }

  /** Leases past their end belong to calls whose carrier went silent: free them and tell the call. */
  async alarm(): Promise<void> {
    const now = currentClock().now();
    const expired = this.#slots().filter((s) => s.state === "granted" && s.leaseUntil !== null && s.leaseUntil <= now);
    for (const slot of expired) this.ctx.storage.sql.exec("DELETE FROM call_slots WHERE call_id = ?", slot.callId);
    const limit = this.ctx.storage.sql.exec<{ call_limit: number }>("SELECT call_limit FROM slot_stats WHERE id = 1").toArray()[0]?.call_limit;
    const granted = limit === undefined ? [] : this.#grant(limit, now);
    await this.#armLeaseAlarm();
    const call = (id: string) => this.env.CALL.get(this.env.CALL.idFromName(id));
    await Promise.all([...expired.map((s) => call(s.callId).slotLeaseExpired()), ...granted.map((id) => call(id).slotGranted())]);
  }

  /**
   * A campaign asks here right before each dial, so two campaigns of the org cannot together
   * break what each keeps alone: a caller ID dials at most once per `intervalMs` (carriers flag
   * faster callers as spam), and a destination gets at most `maxPerWindow` campaign calls per
   * `windowMs`. Granting records the dial; a refusal says when to try again.
   */
  reserveDial(input: { numberId: string; phone: string; intervalMs: number; maxPerWindow: number; windowMs: number; nowMs: number }): DialPermit {
    const sql = this.ctx.storage.sql;
    const { numberId, phone, nowMs } = input;
    const last = sql.exec<{ last_at: number }>("SELECT last_at FROM caller_id_dials WHERE number_id = ?", numberId).toArray()[0]?.last_at;
    if (last !== undefined && last + input.intervalMs > nowMs) return { ok: false, reason: "pacing", retryAt: last + input.intervalMs };
    sql.exec("DELETE FROM destination_dials WHERE at <= ?", nowMs - input.windowMs);
    const recent = sql.exec<{ at: number }>("SELECT at FROM destination_dials WHERE phone = ? ORDER BY at", phone).toArray();
    if (recent.length >= input.maxPerWindow) {
      return { ok: false, reason: "attempt_limit", retryAt: recent[recent.length - input.maxPerWindow].at + input.windowMs, count: recent.length };
    }
    sql.exec("INSERT INTO destination_dials (phone, at) VALUES (?, ?)", phone, nowMs);
    sql.exec("INSERT INTO caller_id_dials (number_id, last_at) VALUES (?, ?) ON CONFLICT(number_id) DO UPDATE SET last_at = excluded.last_at", numberId, nowMs);
    return { ok: true };
  }

  /** For operators and tests: calls holding slots, waiting, and the most ever held at once. */
  callSlotStats() {
    const slots = this.#slots();
    const stats = this.ctx.storage.sql.exec<{ max_granted: number }>("SELECT max_granted FROM slot_stats WHERE id = 1").toArray()[0];
    return {
      granted: slots.filter((s) => s.state === "granted").length,
      waiting: slots.filter((s) => s.state === "waiting").length,
      maxGranted: stats?.max_granted ?? 0,
    };
  }
}
