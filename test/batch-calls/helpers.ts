import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { manualClock } from "../../src/lib/clock";
import { orgWithCaller, tick } from "../calls/helpers";

export { orgWithCaller };

/** 2030-01-07 is a Monday; 15:00 UTC is 10:00 in New York, inside a 09:00–17:00 window and quiet hours. */
export const MONDAY_10AM_NY = Date.UTC(2030, 0, 7, 15, 0, 0);

export function campaignStub(id: string) {
  return env.CAMPAIGN.get(env.CAMPAIGN.idFromName(id));
}

/** Fires the campaign's alarm (whatever is due at the injected clock's time). */
export function tickCampaign(id: string) {
  return runDurableObjectAlarm(campaignStub(id));
}

export async function liveCallIds(orgId: string, batchId: string): Promise<string[]> {
  const rows = await env.DB.prepare("SELECT id FROM calls WHERE org_id = ? AND batch_call_id = ? AND status IN ('queued', 'ringing', 'in_progress')")
    .bind(orgId, batchId)
    .all<{ id: string }>();
  return rows.results.map((r) => r.id);
}

export async function campaignCalls(orgId: string, batchId: string) {
  const rows = await env.DB.prepare("SELECT id, to_number, from_number, status, end_reason, created_at FROM calls WHERE org_id = ? AND batch_call_id = ? ORDER BY created_at, id")
    .bind(orgId, batchId)
    .all<{ id: string; to_number: string; from_number: string; status: string; end_reason: string | null; created_at: string }>();
  return rows.results;
}

/**
 * Moves time forward in `stepMs` steps, each time firing the campaign's alarm and the alarms of
 * its live calls (the simulator carrier's script), the way the runtime would. `onStep` sees every
 * step, e.g. to check concurrency.
 */
export async function drive(
  clock: ReturnType<typeof manualClock>,
  orgId: string,
  batchId: string,
  options: { steps: number; stepMs: number; onStep?: (live: string[]) => void | Promise<void> },
) {
  for (let i = 0; i < options.steps; i++) {
    await tickCampaign(batchId);
    const live = await liveCallIds(orgId, batchId);
    await options.onStep?.(live);
    for (const id of live) await tick(id);
    clock.advance(options.stepMs);
  }
}
