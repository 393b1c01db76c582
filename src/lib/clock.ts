/** Injected time source: production reads the wall clock, tests substitute a controllable one. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

let current: Clock = systemClock;

/** The clock request handlers use. */
export function currentClock(): Clock {
  return current;
}

/**
 * Replaces the clock for this isolate. Tests run in the same isolate as the worker, so they use
 * this to move time (rate-limit windows, idempotency expiry) without sleeping.
 */
export function useClock(clock: Clock): () => void {
  current = clock;
  return () => {
    current = systemClock;
  };
}

/** A clock that only moves when told to. */
export function manualClock(startMs: number) {
  let now = startMs;
  return {
    now: () => now,
    set: (ms: number) => {
      now = ms;
    },
    advance: (ms: number) => {
      now += ms;
    },
  };
}

