/**
 * Fixed one-minute windows aligned to the clock minute, as Truedy documents: the count resets
 * at the start of each minute and `reset_at` is that instant.
 */
export const RATE_WINDOW_MS = 60_000;

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Epoch ms when the current window ends. */
  resetAt: number;
}

export function windowStart(nowMs: number): number {
  return nowMs - (nowMs % RATE_WINDOW_MS);
}

/** Decides one request given how many the window has already admitted. */
export function decide(nowMs: number, limit: number, admittedSoFar: number): RateDecision {
  const resetAt = windowStart(nowMs) + RATE_WINDOW_MS;
  const allowed = admittedSoFar < limit;
  const used = allowed ? admittedSoFar + 1 : admittedSoFar;
  return { allowed, limit, remaining: Math.max(0, limit - used), resetAt };
}
