import type { CallStatus, EndReason } from "./calls";

/**
 * Campaign (batch call) rules as pure functions: the campaign status machine, what a finished
 * call means for its campaign contact, when that contact is dialled again, which caller ID the
 * next dial uses, and the numbers shown on the campaign. The CampaignDO stores and schedules;
 * every decision it makes comes from here or from campaign-schedule.ts.
 */

export const CAMPAIGN_STATUSES = ["draft", "scheduled", "active", "paused", "completed", "failed", "cancelled"] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

export const CONTACT_STATUSES = [
  "pending",
  "scheduled",
  "dialing",
  "in_progress",
  "completed",
  "failed",
  "no_answer",
  "busy",
  "voicemail",
  "retry_scheduled",
  "skipped",
] as const;
export type ContactStatus = (typeof CONTACT_STATUSES)[number];

/** `cancelled` is ours: the campaign was cancelled before the contact was reached. */
export const SKIP_REASONS = ["dnc", "invalid_number", "outside_window", "duplicate", "cancelled"] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

export const ROTATION_STRATEGIES = ["random", "sequential", "round_robin"] as const;
export type RotationStrategy = (typeof ROTATION_STRATEGIES)[number];

/** Contact statuses that still await a dial. */
export const WAITING_STATUSES = ["pending", "scheduled", "retry_scheduled"] as const satisfies readonly ContactStatus[];
/** Contact statuses with a call placed and not yet ended: these count against concurrency. */
export const LIVE_STATUSES = ["dialing", "in_progress"] as const satisfies readonly ContactStatus[];

export function isFinishedContact(status: ContactStatus): boolean {
  return !(WAITING_STATUSES as readonly string[]).includes(status) && !(LIVE_STATUSES as readonly string[]).includes(status);
}

export const CAMPAIGN_ACTIONS = ["schedule", "start", "pause", "resume", "cancel", "complete", "fail", "edit", "delete", "add_contacts"] as const;
export type CampaignAction = (typeof CAMPAIGN_ACTIONS)[number];

/** Which actions each status admits. Everything not listed is a 409. */
const ALLOWED: Record<CampaignStatus, readonly CampaignAction[]> = {
  draft: ["schedule", "cancel", "fail", "edit", "delete", "add_contacts"],
  scheduled: ["start", "pause", "cancel", "complete", "edit", "add_contacts"],
  active: ["pause", "cancel", "complete", "add_contacts"],
  paused: ["resume", "cancel", "edit", "add_contacts"],
  completed: [],
  failed: ["delete"],
  cancelled: ["delete"],
};

export function canCampaign(status: CampaignStatus, action: CampaignAction): boolean {
  return ALLOWED[status].includes(action);
}

/** The statuses an action may be taken from, for error messages. */
export function statusesAllowing(action: CampaignAction): CampaignStatus[] {
  return CAMPAIGN_STATUSES.filter((s) => ALLOWED[s].includes(action));
}

/** Resume goes back to `scheduled` while the start is still ahead, else straight to `active`. */
export function statusOnResume(startAtMs: number, nowMs: number): "scheduled" | "active" {
  return startAtMs > nowMs ? "scheduled" : "active";
}

/** The outcomes a finished attempt can have, each with its own redial rule. */
export const ATTEMPT_OUTCOMES = ["completed", "no_answer", "busy", "voicemail", "failed"] as const;
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];
export type RetryableOutcome = Exclude<AttemptOutcome, "completed">;

/**
 * The campaign contact's status while its call is live, or the attempt's outcome once the call
 * has ended. A cancelled call (by API, or the campaign cancelled before it was dialled) is a
 * `failed` attempt that is never redialled.
 */
export function attemptOutcome(call: { status: CallStatus; endReason: EndReason | null }):
  | { live: true; status: "dialing" | "in_progress" }
  | { live: false; outcome: AttemptOutcome; retryable: boolean } {
  switch (call.status) {
    case "queued":
    case "ringing":
      return { live: true, status: "dialing" };
    case "in_progress":
      return { live: true, status: "in_progress" };
    case "completed":
      return call.endReason === "voicemail" ? { live: false, outcome: "voicemail", retryable: true } : { live: false, outcome: "completed", retryable: false };
    case "cancelled":
      return { live: false, outcome: "failed", retryable: false };
    case "failed":
      if (call.endReason === "no_answer") return { live: false, outcome: "no_answer", retryable: true };
      if (call.endReason === "busy") return { live: false, outcome: "busy", retryable: true };
      if (call.endReason === "voicemail") return { live: false, outcome: "voicemail", retryable: true };
      return { live: false, outcome: "failed", retryable: call.endReason !== "cancelled" };
  }
}

/** Minutes to wait before redialling after each outcome; null = never redial after it. */
export type RetryPolicy = Record<RetryableOutcome, { delay_minutes: number } | null>;

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  no_answer: { delay_minutes: 120 },
  busy: { delay_minutes: 15 },
  failed: { delay_minutes: 30 },
  voicemail: null,
};

/** At most this many attempts per phone number per rolling 24 h, across all of an org's campaigns. */
export const MAX_ATTEMPTS_PER_NUMBER_PER_DAY = 3;
export const ATTEMPT_WINDOW_MS = 24 * 3_600_000;

/**
 * `retry_failed` + `max_retry_attempts` (the public API) and `retry_policy` (ours) as one rule:
 * no retries unless `retry_failed`; then up to `max_retry_attempts` redials (the first dial is
 * not a retry), each outcome waiting its policy's delay, defaults filled in per outcome.
 */
export function effectiveRetryRule(input: {
  retryFailed: boolean;
  maxRetryAttempts: number;
  retryPolicy?: Partial<RetryPolicy> | null;
}): { maxAttempts: number; policy: RetryPolicy } {
  const given = Object.entries(input.retryPolicy ?? {}).filter(([, rule]) => rule !== undefined);
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...Object.fromEntries(given) };
  return { maxAttempts: input.retryFailed ? 1 + input.maxRetryAttempts : 1, policy };
}

/**
 * After an attempt ends: the epoch ms at or after which the contact may be redialled, or null
 * when its status is final. The dispatcher then moves that instant into the next calling window
 * (and past the daily and per-number caps).
 */
export function redialAfter(input: {
  outcome: AttemptOutcome;
  retryable: boolean;
  attemptsMade: number;
  maxAttempts: number;
  policy: RetryPolicy;
  endedAtMs: number;
}): number | null {
  if (input.outcome === "completed" || !input.retryable || input.attemptsMade >= input.maxAttempts) return null;
  const rule = input.policy[input.outcome];
  return rule === null ? null : input.endedAtMs + rule.delay_minutes * 60_000;
}

export interface PoolNumber {
  id: string;
  phoneNumber: string;
  provider: "twilio" | "telnyx" | "custom_sip" | "simulator";
}

/**
 * Picks the caller ID for the next dial among the pool's numbers that are `usable` now (not
 * waiting out their pacing interval, not at their daily cap), or null when none is.
 * - `round_robin`: the next usable number after the one used last (`cursor`).
 * - `sequential`: the number used last while it is usable, else the next one: a number keeps
 *   calling until it is capped, then the campaign moves on.
 * - `random`: any usable number, uniformly (`random` in [0, 1)).
 * Returns the chosen index, which the caller stores as the new cursor.
 */
export function pickNumber(
  pool: readonly PoolNumber[],
  strategy: RotationStrategy,
  cursor: number,
  usable: (n: PoolNumber) => boolean,
  random: () => number = Math.random,
): number | null {
  if (pool.length === 0) return null;
  if (strategy === "random") {
    const candidates = pool.map((n, i) => (usable(n) ? i : -1)).filter((i) => i >= 0);
    return candidates.length === 0 ? null : candidates[Math.min(candidates.length - 1, Math.floor(random() * candidates.length))];
  }
  const start = strategy === "sequential" ? Math.max(0, cursor) : cursor + 1;
  for (let k = 0; k < pool.length; k++) {
    const i = (((start + k) % pool.length) + pool.length) % pool.length;
    if (usable(pool[i])) return i;
  }
  return null;
}

export type ContactCounts = Partial<Record<ContactStatus, number>>;

export interface CampaignStats {
  total: number;
  pending: number;
  scheduled: number;
  retry_scheduled: number;
  dialing: number;
  in_progress: number;
  completed: number;
  failed: number;
  no_answer: number;
  busy: number;
  voicemail: number;
  skipped: number;
  /** Contacts dialled at least once. */
  called: number;
  attempts: number;
  cost_credits: number;
  estimated_finish_at: string | null;
}

/**
 * The figures shown on the campaign. The finish estimate is the later of the last slot still
 * ahead and the time the dialler needs for what is left at its best sustained rate (numbers ×
 * pacing, or concurrency over the average call length, whichever is lower), plus one average
 * call for the last to end. Null once nothing is left to dial or end.
 */
export function campaignStats(input: {
  counts: ContactCounts;
  called: number;
  attempts: number;
  costCredits: number;
  lastDueAtMs: number | null;
  nowMs: number;
  numbers: number;
  dialIntervalMs: number;
  concurrency: number;
  averageCallMs: number;
  running: boolean;
}): CampaignStats {
  const n = (s: ContactStatus) => input.counts[s] ?? 0;
  const waiting = n("pending") + n("scheduled") + n("retry_scheduled");
  const live = n("dialing") + n("in_progress");
  let estimate: number | null = null;
  if (input.running && waiting + live > 0) {
    const perSecondByPacing = (Math.max(1, input.numbers) * 1000) / Math.max(1, input.dialIntervalMs);
    const perSecondByConcurrency = Math.max(1, input.concurrency) / Math.max(1, input.averageCallMs / 1000);
    const rate = Math.max(1e-6, Math.min(perSecondByPacing, perSecondByConcurrency));
    const drain = input.nowMs + (waiting / rate) * 1000;
    estimate = Math.max(input.lastDueAtMs ?? input.nowMs, drain) + input.averageCallMs;
  }
  return {
    total: CONTACT_STATUSES.reduce((sum, s) => sum + n(s), 0),
    pending: n("pending"),
    scheduled: n("scheduled"),
    retry_scheduled: n("retry_scheduled"),
    dialing: n("dialing"),
    in_progress: n("in_progress"),
    completed: n("completed"),
    failed: n("failed"),
    no_answer: n("no_answer"),
    busy: n("busy"),
    voicemail: n("voicemail"),
    skipped: n("skipped"),
    called: input.called,
    attempts: input.attempts,
    cost_credits: Math.round(input.costCredits * 10_000) / 10_000,
    estimated_finish_at: estimate === null ? null : new Date(Math.round(estimate)).toISOString(),
  };
}

/** Why a due contact was not dialled at this moment, as written to the audit log. */
export const DIAL_DECISIONS = ["dialled", "skipped", "deferred", "failed"] as const;
export type DialDecision = (typeof DIAL_DECISIONS)[number];
