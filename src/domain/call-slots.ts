/**
 * Per-organization call concurrency: a fixed number of slots, handed out first come first
 * served, each held under a lease so a call whose carrier goes silent cannot hold it forever.
 */
export interface SlotRow {
  callId: string;
  state: "granted" | "waiting";
  requestedAt: number;
  leaseUntil: number | null;
}

/** Which waiting calls get a slot now, oldest first, without exceeding the limit. */
export function callsToGrant(rows: SlotRow[], limit: number): string[] {
  const granted = rows.filter((r) => r.state === "granted").length;
  const free = Math.max(0, limit - granted);
  return rows
    .filter((r) => r.state === "waiting")
    .sort((a, b) => a.requestedAt - b.requestedAt || a.callId.localeCompare(b.callId))
    .slice(0, free)
    .map((r) => r.callId);
}
