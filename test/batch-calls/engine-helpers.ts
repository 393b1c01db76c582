import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { manualClock } from "../../src/lib/clock";
import { callStub, tick, type Org } from "../calls/helpers";
import { campaignStub, liveCallIds, MONDAY_10AM_NY, orgWithCaller, tickCampaign } from "./helpers";

/**
 * Event-driven helpers for the dispatch tests: instead of stepping a fixed interval, time jumps
 * straight to the next alarm of the campaign or of one of its live calls, so a campaign spread
 * over days runs in a few dozen steps and every dial happens at the exact instant it is due.
 */

export type Clock = ReturnType<typeof manualClock>;

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
/** 10:00 New York on Monday 2030-01-07 is 15:00 UTC (EST, UTC−5). */
export const NY = (hours: number, minutes = 0, day = 0) => MONDAY_10AM_NY + (hours - 10) * HOUR + minutes * MINUTE + day * DAY;
export const iso = (ms: number) => new Date(ms).toISOString();

export async function alarmOf(stub: DurableObjectStub): Promise<number | null> {
  return runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
}

/** Runs SQL in the campaign object's own SQLite (for inspecting it, or simulating a crash). */
export async function campaignSql<T extends Record<string, SqlStorageValue>>(batchId: string, query: string, ...args: SqlStorageValue[]): Promise<T[]> {
  return runInDurableObject(campaignStub(batchId), (_instance, state) => state.storage.sql.exec<T>(query, ...args).toArray());
}

/**
 * Fires every alarm due at the clock's time (the campaigns', then their live calls', again until
 * none is due), calls `onStep`, then moves the clock to the next alarm; stops once nothing is
 * left to happen or the next thing is after `untilMs` (the clock is then set to `untilMs`).
 */
export async function runUntil(
  clock: Clock,
  orgId: string,
  batchIds: string | string[],
  untilMs: number,
  options: { onStep?: (live: string[], nowMs: number) => void | Promise<void>; maxSteps?: number } = {},
): Promise<void> {
  const ids = [batchIds].flat();
  const live = async () => (await Promise.all(ids.map((id) => liveCallIds(orgId, id)))).flat();
  for (let step = 0; step < (options.maxSteps ?? 1000); step++) {
    for (let round = 0; ; round++) {
      if (round > 20) throw new Error(`alarms keep coming due at ${iso(clock.now())}`);
      let fired = false;
      for (const id of ids) {
        const at = await alarmOf(campaignStub(id));
        if (at !== null && at <= clock.now()) {
          await tickCampaign(id);
          fired = true;
        }
      }
      for (const callId of await live()) {
        const at = await alarmOf(callStub(callId));
        if (at !== null && at <= clock.now()) {
          await tick(callId);
          fired = true;
        }
      }
      if (!fired) break;
    }
    const liveNow = await live();
    await options.onStep?.(liveNow, clock.now());
    let next = Infinity;
    for (const id of ids) next = Math.min(next, (await alarmOf(campaignStub(id))) ?? Infinity);
    for (const callId of liveNow) next = Math.min(next, (await alarmOf(callStub(callId))) ?? Infinity);
    if (next > untilMs) {
      if (Number.isFinite(untilMs)) clock.set(Math.max(clock.now(), untilMs));
      return;
    }
    clock.set(Math.max(clock.now(), next));
  }
  throw new Error(`still running after ${options.maxSteps ?? 1000} steps at ${iso(clock.now())}`);
}

/** An org with an active agent and one simulator caller ID, plus `extra` more caller IDs (not assigned to the agent). */
export async function orgWithNumbers(extra = 0) {
  const base = await orgWithCaller();
  const numbers = [{ id: base.numberId, phoneNumber: base.from }];
  for (let i = 0; i < extra; i++) {
    const id = crypto.randomUUID();
    const phone = `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`;
    const at = new Date().toISOString();
    await env.DB.prepare(
      `INSERT INTO phone_numbers (id, org_id, phone_number, provider, ownership, capabilities, created_at, updated_at)
       VALUES (?, ?, ?, 'simulator', 'managed', '["voice"]', ?, ?)`,
    )
      .bind(id, base.org.orgId, phone, at, at)
      .run();
    numbers.push({ id, phoneNumber: phone });
  }
  return { ...base, numbers };
}

/** Window 10:00–10:05 New York on weekdays: the usual test campaign. */
export const SHORT_WINDOW = { timezone: "America/New_York", start_time: "10:00", end_time: "10:05", working_days: [1, 2, 3, 4, 5] };

/** Creates a draft campaign and schedules it; returns its id. */
export async function startCampaign(org: Org, body: Record<string, unknown>): Promise<string> {
  const created = await org.post("/batch-calls", { name: "Test campaign", ...SHORT_WINDOW, ...body });
  if (created.status !== 201) throw new Error(`create failed: ${created.status} ${JSON.stringify(created.body)}`);
  const id = created.body.data.id as string;
  const scheduled = await org.post(`/batch-calls/${id}/schedule`, {});
  if (scheduled.status !== 200) throw new Error(`schedule failed: ${scheduled.status} ${JSON.stringify(scheduled.body)}`);
  return id;
}

export async function batch(org: Org, id: string) {
  return (await org.get(`/batch-calls/${id}`)).body.data;
}

export async function contactsOf(org: Org, id: string): Promise<any[]> {
  const res = await org.get(`/batch-calls/${id}/contacts?limit=100`);
  if (res.status !== 200) throw new Error(`contacts failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data;
}

export async function auditOf(org: Org, id: string): Promise<any[]> {
  const res = await org.get(`/batch-calls/${id}/audit-log?limit=100`);
  if (res.status !== 200) throw new Error(`audit failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data;
}

export async function callRows(orgId: string, batchId: string) {
  const rows = await env.DB.prepare(
    "SELECT id, to_number, from_number, status, end_reason, created_at, ended_at, metadata, variables, cost_credits FROM calls WHERE org_id = ? AND batch_call_id = ? ORDER BY created_at, id",
  )
    .bind(orgId, batchId)
    .all<{ id: string; to_number: string; from_number: string; status: string; end_reason: string | null; created_at: string; ended_at: string | null; metadata: string; variables: string; cost_credits: number | null }>();
  return rows.results;
}

export async function eventsOf(orgId: string) {
  const rows = await env.DB.prepare("SELECT type, data FROM events WHERE org_id = ? ORDER BY created_at, rowid").bind(orgId).all<{ type: string; data: string }>();
  return rows.results.map((r) => ({ type: r.type, data: JSON.parse(r.data) as Record<string, any> }));
}

/** The most calls of `rows` live at once, from their created and ended times. */
export function maxOverlap(rows: { created_at: string; ended_at: string | null }[]): number {
  const edges = rows.flatMap((r) => [
    [Date.parse(r.created_at), 1],
    [r.ended_at ? Date.parse(r.ended_at) : Infinity, -1],
  ]);
  // Ends before starts at the same instant: a slot freed at t may be reused at t.
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let live = 0;
  let max = 0;
  for (const [, d] of edges) max = Math.max(max, (live += d));
  return max;
}

/** For each caller ID, the gaps in ms between its consecutive dials. */
export function dialGaps(rows: { from_number: string; created_at: string }[]): Map<string, number[]> {
  const byNumber = new Map<string, number[]>();
  for (const r of rows) byNumber.set(r.from_number, [...(byNumber.get(r.from_number) ?? []), Date.parse(r.created_at)]);
  return new Map([...byNumber].map(([n, times]) => [n, times.sort((a, b) => a - b).slice(1).map((t, i) => t - times[i])]));
}
