import { DurableObject } from "cloudflare:workers";
import { decide, windowStart, type RateDecision } from "../src/domain/rate-limit";

/**
 * One per organization (`idFromName(orgId)`). Single-threaded execution makes each
 * read-count-write atomic without locks, which is what makes the limit exact.
 */
export class OrgLimiter extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      ctx.storage.sql.exec(
        "CREATE TABLE IF NOT EXISTS rate_windows (window_start INTEGER PRIMARY KEY, admitted INTEGER NOT NULL)",
      );
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
}
