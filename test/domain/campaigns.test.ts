import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CallStatus, EndReason } from "../../src/domain/calls";
import {
  attemptOutcome,
  CAMPAIGN_ACTIONS,
  CAMPAIGN_STATUSES,
  campaignStats,
  canCampaign,
  CONTACT_STATUSES,
  DEFAULT_RETRY_POLICY,
  effectiveRetryRule,
  isFinishedContact,
  pickNumber,
  redialAfter,
  statusesAllowing,
  statusOnResume,
  type CampaignAction,
  type CampaignStatus,
  type ContactCounts,
  type PoolNumber,
  type RetryPolicy,
  type RotationStrategy,
} from "../../src/domain/campaigns";

const at = (iso: string) => Date.parse(iso);
const MIN = 60_000;

describe("campaign status machine", () => {
  // The whole table, written out independently of the source: every pair not listed is a 409.
  const EXPECTED: Record<CampaignStatus, CampaignAction[]> = {
    draft: ["schedule", "cancel", "fail", "edit", "delete", "add_contacts"],
    scheduled: ["start", "pause", "cancel", "complete", "edit", "add_contacts"],
    active: ["pause", "cancel", "complete", "add_contacts"],
    paused: ["resume", "cancel", "edit", "add_contacts"],
    completed: [],
    failed: ["delete"],
    cancelled: ["delete"],
  };

  for (const status of CAMPAIGN_STATUSES) {
    it(`${status} admits exactly ${EXPECTED[status].join(", ") || "nothing"}`, () => {
      const admitted = CAMPAIGN_ACTIONS.filter((action) => canCampaign(status, action));
      expect(admitted).toEqual(EXPECTED[status]);
    });
  }

  it("answers the headline cases", () => {
    expect(canCampaign("draft", "schedule")).toBe(true);
    expect(canCampaign("draft", "start")).toBe(false);
    expect(canCampaign("active", "edit")).toBe(false);
    expect(canCampaign("active", "delete")).toBe(false);
    expect(canCampaign("active", "resume")).toBe(false);
    expect(canCampaign("paused", "resume")).toBe(true);
    expect(canCampaign("paused", "pause")).toBe(false);
    expect(canCampaign("paused", "delete")).toBe(false);
    expect(canCampaign("scheduled", "resume")).toBe(false);
    expect(canCampaign("scheduled", "start")).toBe(true);
    for (const action of CAMPAIGN_ACTIONS) {
      expect(canCampaign("completed", action)).toBe(false);
      expect(canCampaign("failed", action)).toBe(action === "delete");
      expect(canCampaign("cancelled", action)).toBe(action === "delete");
    }
  });

  it("statusesAllowing lists the statuses an action may be taken from, in status order", () => {
    const expected: Record<CampaignAction, CampaignStatus[]> = {
      schedule: ["draft"],
      start: ["scheduled"],
      pause: ["scheduled", "active"],
      resume: ["paused"],
      cancel: ["draft", "scheduled", "active", "paused"],
      complete: ["scheduled", "active"],
      fail: ["draft"],
      edit: ["draft", "scheduled", "paused"],
      delete: ["draft", "failed", "cancelled"],
      add_contacts: ["draft", "scheduled", "active", "paused"],
    };
    for (const action of CAMPAIGN_ACTIONS) expect(statusesAllowing(action), action).toEqual(expected[action]);
  });

  it("statusesAllowing agrees with canCampaign for every pair", () => {
    for (const action of CAMPAIGN_ACTIONS) {
      for (const status of CAMPAIGN_STATUSES) {
        expect(statusesAllowing(action).includes(status), `${status}/${action}`).toBe(canCampaign(status, action));
      }
    }
  });
});

describe("statusOnResume", () => {
  const now = at("2026-03-09T12:00:00Z");
  it("goes back to scheduled while the start is ahead", () => {
    expect(statusOnResume(now + 1, now)).toBe("scheduled");
    expect(statusOnResume(now + 86_400_000, now)).toBe("scheduled");
  });
  it("goes to active when the start is now or past", () => {
    expect(statusOnResume(now, now)).toBe("active");
    expect(statusOnResume(now - 1, now)).toBe("active");
    expect(statusOnResume(0, now)).toBe("active");
  });
});

describe("isFinishedContact", () => {
  it("is false for waiting and live statuses, true for the rest", () => {
    const unfinished = ["pending", "scheduled", "retry_scheduled", "dialing", "in_progress"];
    for (const s of CONTACT_STATUSES) expect(isFinishedContact(s), s).toBe(!unfinished.includes(s));
  });
});

describe("attemptOutcome", () => {
  const REASONS: (EndReason | null)[] = [null, "voicemail", "no_answer", "busy", "carrier_error", "provider_error", "cancelled", "hangup_by_contact"];
  const outcome = (status: CallStatus, endReason: EndReason | null) => attemptOutcome({ status, endReason });

  it("queued and ringing are live and dialing, whatever the reason", () => {
    for (const status of ["queued", "ringing"] as const) {
      for (const r of REASONS) expect(outcome(status, r)).toEqual({ live: true, status: "dialing" });
    }
  });

  it("in_progress is live and in_progress", () => {
    for (const r of REASONS) expect(outcome("in_progress", r)).toEqual({ live: true, status: "in_progress" });
  });

  it("completed is a completed, final attempt unless a machine answered", () => {
    expect(outcome("completed", "voicemail")).toEqual({ live: false, outcome: "voicemail", retryable: true });
    for (const r of [null, "hangup_by_contact", "hangup_by_agent", "max_duration", "transferred", "no_answer", "busy"] as const) {
      expect(outcome("completed", r), String(r)).toEqual({ live: false, outcome: "completed", retryable: false });
    }
  });

  it("a cancelled call is a failed attempt that is never redialled", () => {
    for (const r of REASONS) expect(outcome("cancelled", r), String(r)).toEqual({ live: false, outcome: "failed", retryable: false });
  });

  it("a failed call maps its reason to the outcome; only a cancel is final", () => {
    expect(outcome("failed", "no_answer")).toEqual({ live: false, outcome: "no_answer", retryable: true });
    expect(outcome("failed", "busy")).toEqual({ live: false, outcome: "busy", retryable: true });
    expect(outcome("failed", "voicemail")).toEqual({ live: false, outcome: "voicemail", retryable: true });
    expect(outcome("failed", "carrier_error")).toEqual({ live: false, outcome: "failed", retryable: true });
    expect(outcome("failed", "provider_error")).toEqual({ live: false, outcome: "failed", retryable: true });
    expect(outcome("failed", "hangup_by_contact")).toEqual({ live: false, outcome: "failed", retryable: true });
    expect(outcome("failed", null)).toEqual({ live: false, outcome: "failed", retryable: true });
    expect(outcome("failed", "cancelled")).toEqual({ live: false, outcome: "failed", retryable: false });
  });
});

describe("effectiveRetryRule", () => {
  it("allows one attempt when retry_failed is off, however many retries are configured", () => {
    for (const n of [0, 1, 2, 5]) expect(effectiveRetryRule({ retryFailed: false, maxRetryAttempts: n }).maxAttempts).toBe(1);
  });

  it("counts the first dial plus the retries when retry_failed is on", () => {
    expect(effectiveRetryRule({ retryFailed: true, maxRetryAttempts: 2 }).maxAttempts).toBe(3);
    expect(effectiveRetryRule({ retryFailed: true, maxRetryAttempts: 0 }).maxAttempts).toBe(1);
    expect(effectiveRetryRule({ retryFailed: true, maxRetryAttempts: 5 }).maxAttempts).toBe(6);
  });

  it("uses the default policy without one", () => {
    const expected = { no_answer: { delay_minutes: 120 }, busy: { delay_minutes: 15 }, failed: { delay_minutes: 30 }, voicemail: null };
    expect(DEFAULT_RETRY_POLICY).toEqual(expected);
    expect(effectiveRetryRule({ retryFailed: true, maxRetryAttempts: 1 }).policy).toEqual(expected);
    expect(effectiveRetryRule({ retryFailed: true, maxRetryAttempts: 1, retryPolicy: null }).policy).toEqual(expected);
    expect(effectiveRetryRule({ retryFailed: true, maxRetryAttempts: 1, retryPolicy: {} }).policy).toEqual(expected);
  });

  it("overrides only the outcomes a partial policy names", () => {
    const { policy } = effectiveRetryRule({ retryFailed: true, maxRetryAttempts: 2, retryPolicy: { busy: { delay_minutes: 5 }, voicemail: { delay_minutes: 60 } } });
    expect(policy).toEqual({ no_answer: { delay_minutes: 120 }, busy: { delay_minutes: 5 }, failed: { delay_minutes: 30 }, voicemail: { delay_minutes: 60 } });
    const off = effectiveRetryRule({ retryFailed: true, maxRetryAttempts: 2, retryPolicy: { no_answer: null } }).policy;
    expect(off).toEqual({ no_answer: null, busy: { delay_minutes: 15 }, failed: { delay_minutes: 30 }, voicemail: null });
  });

  it("does not mutate the default policy", () => {
    effectiveRetryRule({ retryFailed: true, maxRetryAttempts: 2, retryPolicy: { busy: { delay_minutes: 1 } } });
    expect(DEFAULT_RETRY_POLICY.busy).toEqual({ delay_minutes: 15 });
  });
});

describe("redialAfter", () => {
  const endedAtMs = at("2026-03-09T15:00:00Z");
  const policy: RetryPolicy = { no_answer: { delay_minutes: 120 }, busy: { delay_minutes: 15 }, failed: { delay_minutes: 30 }, voicemail: { delay_minutes: 45 } };
  const base = { retryable: true, attemptsMade: 1, maxAttempts: 3, policy, endedAtMs };

  it("redials after exactly the outcome's delay", () => {
    expect(redialAfter({ ...base, outcome: "no_answer" })).toBe(endedAtMs + 120 * MIN);
    expect(redialAfter({ ...base, outcome: "busy" })).toBe(endedAtMs + 15 * MIN);
    expect(redialAfter({ ...base, outcome: "failed" })).toBe(endedAtMs + 30 * MIN);
    expect(redialAfter({ ...base, outcome: "voicemail" })).toBe(endedAtMs + 45 * MIN);
    expect(redialAfter({ ...base, outcome: "busy", policy: { ...policy, busy: { delay_minutes: 0 } } })).toBe(endedAtMs);
  });

  it("never redials a completed attempt, even if marked retryable", () => {
    expect(redialAfter({ ...base, outcome: "completed" })).toBeNull();
  });

  it("never redials a non-retryable attempt", () => {
    expect(redialAfter({ ...base, outcome: "failed", retryable: false })).toBeNull();
    expect(redialAfter({ ...base, outcome: "no_answer", retryable: false })).toBeNull();
  });

  it("never redials once the attempts are used up", () => {
    expect(redialAfter({ ...base, outcome: "busy", attemptsMade: 2, maxAttempts: 3 })).toBe(endedAtMs + 15 * MIN);
    expect(redialAfter({ ...base, outcome: "busy", attemptsMade: 3, maxAttempts: 3 })).toBeNull();
    expect(redialAfter({ ...base, outcome: "busy", attemptsMade: 4, maxAttempts: 3 })).toBeNull();
    expect(redialAfter({ ...base, outcome: "busy", attemptsMade: 1, maxAttempts: 1 })).toBeNull();
  });

  it("never redials an outcome whose policy entry is null", () => {
    expect(redialAfter({ ...base, outcome: "voicemail", policy: DEFAULT_RETRY_POLICY })).toBeNull();
    expect(redialAfter({ ...base, outcome: "no_answer", policy: { ...policy, no_answer: null } })).toBeNull();
  });

  it("chains with attemptOutcome and effectiveRetryRule", () => {
    const rule = effectiveRetryRule({ retryFailed: true, maxRetryAttempts: 2 });
    const o = attemptOutcome({ status: "failed", endReason: "no_answer" });
    if (o.live) throw new Error("expected an ended attempt");
    expect(redialAfter({ ...o, attemptsMade: 1, ...rule, endedAtMs })).toBe(endedAtMs + 120 * MIN);
    expect(redialAfter({ ...o, attemptsMade: 3, ...rule, endedAtMs })).toBeNull();
    const noRetry = effectiveRetryRule({ retryFailed: false, maxRetryAttempts: 2 });
    expect(redialAfter({ ...o, attemptsMade: 1, ...noRetry, endedAtMs })).toBeNull();
  });
});

describe("pickNumber", () => {
  const pool: PoolNumber[] = ["a", "b", "c", "d"].map((id, i) => ({ id, phoneNumber: `+1555000000${i}`, provider: "simulator" }));
  const only = (...ids: string[]) => (n: PoolNumber) => ids.includes(n.id);
  const all = () => true;
  const none = () => false;

  it("returns null for an empty pool or when nothing is usable, for every strategy", () => {
    for (const s of ["random", "sequential", "round_robin"] as const) {
      expect(pickNumber([], s, 0, all, () => 0.5)).toBeNull();
      expect(pickNumber([], s, -1, all, () => 0.5)).toBeNull();
      expect(pickNumber(pool, s, 0, none, () => 0.5)).toBeNull();
    }
  });

  it("round_robin cycles in order from the one after the cursor", () => {
    expect(pickNumber(pool, "round_robin", -1, all)).toBe(0); // nothing used yet
    let cursor = -1;
    const picked: number[] = [];
    for (let i = 0; i < 9; i++) {
      cursor = pickNumber(pool, "round_robin", cursor, all)!;
      picked.push(cursor);
    }
    expect(picked).toEqual([0, 1, 2, 3, 0, 1, 2, 3, 0]);
  });

  it("round_robin skips unusable numbers and wraps", () => {
    expect(pickNumber(pool, "round_robin", 0, only("a", "c"))).toBe(2);
    expect(pickNumber(pool, "round_robin", 2, only("a", "c"))).toBe(0);
    expect(pickNumber(pool, "round_robin", 3, only("b", "d"))).toBe(1);
    // Only the number used last is usable: it is used again.
    expect(pickNumber(pool, "round_robin", 1, only("b"))).toBe(1);
  });

  it("sequential keeps the cursor's number while usable, then moves on", () => {
    expect(pickNumber(pool, "sequential", -1, all)).toBe(0);
    expect(pickNumber(pool, "sequential", 2, all)).toBe(2);
    expect(pickNumber(pool, "sequential", 2, all)).toBe(2);
    expect(pickNumber(pool, "sequential", 2, only("a", "b", "d"))).toBe(3);
    expect(pickNumber(pool, "sequential", 3, only("a", "b"))).toBe(0);
    expect(pickNumber(pool, "sequential", 1, only("a"))).toBe(0);
  });

  it("random picks only usable numbers, chosen by the injected random", () => {
    const usable = only("b", "d");
    expect(pickNumber(pool, "random", 0, usable, () => 0)).toBe(1);
    expect(pickNumber(pool, "random", 0, usable, () => 0.49)).toBe(1);
    expect(pickNumber(pool, "random", 0, usable, () => 0.5)).toBe(3);
    expect(pickNumber(pool, "random", 0, usable, () => 0.999999)).toBe(3);
    // Out-of-contract 1 is clamped rather than running off the end.
    expect(pickNumber(pool, "random", 0, usable, () => 1)).toBe(3);
    // The cursor plays no part.
    expect(pickNumber(pool, "random", 1, usable, () => 0)).toBe(1);
  });

  it("random is uniform over the usable numbers", () => {
    const counts = [0, 0, 0, 0];
    const usable = only("a", "c", "d");
    for (let k = 0; k < 300; k++) counts[pickNumber(pool, "random", 0, usable, () => k / 300)!]++;
    expect(counts).toEqual([100, 0, 100, 100]);
  });

  it("property: the index is always usable, and null only when nothing is", () => {
    const strategy = fc.constantFrom<RotationStrategy>("random", "sequential", "round_robin");
    fc.assert(
      fc.property(
        fc.array(fc.boolean(), { maxLength: 8 }),
        strategy,
        fc.integer({ min: -1, max: 12 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (mask, strat, cursor, r) => {
          const numbers: PoolNumber[] = mask.map((_, i) => ({ id: `n${i}`, phoneNumber: `+1555${String(i).padStart(7, "0")}`, provider: "twilio" }));
          const usableIds = new Set(numbers.filter((_, i) => mask[i]).map((n) => n.id));
          const result = pickNumber(numbers, strat, cursor, (n) => usableIds.has(n.id), () => r);
          if (usableIds.size === 0) {
            expect(result).toBeNull();
            return;
          }
          expect(result).not.toBeNull();
          expect(Number.isInteger(result)).toBe(true);
          expect(result!).toBeGreaterThanOrEqual(0);
          expect(result!).toBeLessThan(numbers.length);
          expect(mask[result!]).toBe(true);
          // The non-random strategies take the first usable number in cyclic order from their start.
          if (strat !== "random") {
            const start = strat === "sequential" ? Math.max(0, cursor) : cursor + 1;
            let expected = -1;
            for (let k = 0; k < numbers.length && expected < 0; k++) {
              const i = (start + k) % numbers.length;
              if (mask[i]) expected = i;
            }
            expect(result).toBe(expected);
          }
        },
      ),
      { seed: 42, numRuns: 200 },
    );
  });
});

describe("campaignStats", () => {
  const nowMs = at("2026-03-09T15:00:00Z");
  const base = {
    counts: {} as ContactCounts,
    called: 0,
    attempts: 0,
    costCredits: 0,
    lastDueAtMs: null as number | null,
    nowMs,
    numbers: 2,
    dialIntervalMs: 10_000,
    concurrency: 10,
    averageCallMs: 60_000,
    running: true,
  };
  const iso = (ms: number) => new Date(ms).toISOString();

  it("totals every status and passes the counters through", () => {
    const counts: ContactCounts = {};
    CONTACT_STATUSES.forEach((s, i) => (counts[s] = 2 ** i)); // distinct bits: any missed or doubled status shows
    const stats = campaignStats({ ...base, counts, called: 17, attempts: 23, running: false });
    expect(stats.total).toBe(2 ** CONTACT_STATUSES.length - 1);
    expect(stats).toMatchObject({
      pending: 1,
      scheduled: 2,
      dialing: 4,
      in_progress: 8,
      completed: 16,
      failed: 32,
      no_answer: 64,
      busy: 128,
      voicemail: 256,
      retry_scheduled: 512,
      skipped: 1024,
      called: 17,
      attempts: 23,
    });
  });

  it("reads missing statuses as zero", () => {
    const stats = campaignStats({ ...base, counts: { completed: 3 }, running: false });
    expect(stats.total).toBe(3);
    expect(stats.pending).toBe(0);
    expect(stats.skipped).toBe(0);
    expect(stats.estimated_finish_at).toBeNull();
  });

  it("rounds the cost to 4 decimals", () => {
    expect(campaignStats({ ...base, costCredits: 1.23456 }).cost_credits).toBe(1.2346);
    expect(campaignStats({ ...base, costCredits: 1.23454 }).cost_credits).toBe(1.2345);
    expect(campaignStats({ ...base, costCredits: 0.00004 }).cost_credits).toBe(0);
    expect(campaignStats({ ...base, costCredits: 2.99999 }).cost_credits).toBe(3);
    expect(campaignStats({ ...base, costCredits: 12.5 }).cost_credits).toBe(12.5);
  });

  it("has no estimate when not running", () => {
    expect(campaignStats({ ...base, counts: { pending: 10 }, running: false }).estimated_finish_at).toBeNull();
  });

  it("has no estimate when nothing is left to dial or end", () => {
    expect(campaignStats({ ...base, counts: {} }).estimated_finish_at).toBeNull();
    expect(campaignStats({ ...base, counts: { completed: 5, failed: 2, no_answer: 1, busy: 1, voicemail: 1, skipped: 3 } }).estimated_finish_at).toBeNull();
  });

  it("is limited by concurrency when calls are long", () => {
    // Pacing: 2 numbers / 10 s = 0.2/s. Concurrency: 10 / 60 s ≈ 0.167/s, the lower.
    // 10 waiting → 60 s to drain, plus one 60 s call.
    const stats = campaignStats({ ...base, counts: { pending: 6, scheduled: 2, retry_scheduled: 2, completed: 7 } });
    expect(stats.estimated_finish_at).toBe(iso(nowMs + 120_000));
  });

  it("is limited by pacing when numbers are few", () => {
    // Pacing: 1 number / 30 s ≈ 0.033/s, below concurrency 10 / 60 s. 4 waiting → 120 s, plus one call.
    const stats = campaignStats({ ...base, counts: { pending: 4 }, numbers: 1, dialIntervalMs: 30_000 });
    expect(stats.estimated_finish_at).toBe(iso(nowMs + 120_000 + 60_000));
    // More numbers lift the pacing limit until concurrency takes over: 10 numbers → 0.333/s, concurrency 0.167/s.
    const more = campaignStats({ ...base, counts: { pending: 4 }, numbers: 10, dialIntervalMs: 30_000 });
    expect(more.estimated_finish_at).toBe(iso(nowMs + 24_000 + 60_000));
  });

  it("with only live calls left, is one average call away", () => {
    const stats = campaignStats({ ...base, counts: { dialing: 1, in_progress: 2, completed: 9 } });
    expect(stats.estimated_finish_at).toBe(iso(nowMs + 60_000));
  });

  it("is no earlier than the last due slot plus one call", () => {
    const lastDueAtMs = nowMs + 3_600_000;
    const stats = campaignStats({ ...base, counts: { pending: 10 }, lastDueAtMs });
    expect(stats.estimated_finish_at).toBe(iso(lastDueAtMs + 60_000));
    // A past last slot does not pull the estimate before the drain time.
    const past = campaignStats({ ...base, counts: { pending: 10 }, lastDueAtMs: nowMs - 3_600_000 });
    expect(past.estimated_finish_at).toBe(iso(nowMs + 120_000));
  });

  it("property: the estimate is at least the last due slot and the drain time, plus one call", () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 500 }),
        fc.nat({ max: 20 }),
        fc.option(fc.integer({ min: -86_400_000, max: 7 * 86_400_000 }), { nil: null }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 120_000 }),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1_000, max: 600_000 }),
        (waiting, live, due, numbers, dialIntervalMs, concurrency, averageCallMs) => {
          const lastDueAtMs = due === null ? null : nowMs + due;
          const stats = campaignStats({ ...base, counts: { pending: waiting, in_progress: live }, lastDueAtMs, numbers, dialIntervalMs, concurrency, averageCallMs });
          if (waiting + live === 0) {
            expect(stats.estimated_finish_at).toBeNull();
            return;
          }
          const finish = Date.parse(stats.estimated_finish_at!);
          const rate = Math.min((numbers * 1000) / dialIntervalMs, concurrency / (averageCallMs / 1000));
          const drain = nowMs + (waiting / rate) * 1000;
          expect(finish).toBeGreaterThanOrEqual(Math.round(Math.max(lastDueAtMs ?? nowMs, drain) + averageCallMs) - 1);
          expect(finish).toBeLessThanOrEqual(Math.round(Math.max(lastDueAtMs ?? nowMs, drain) + averageCallMs) + 1);
          if (lastDueAtMs !== null) expect(finish).toBeGreaterThanOrEqual(lastDueAtMs + averageCallMs);
        },
      ),
      { seed: 42, numRuns: 200 },
    );
  });
});
