/** Injected time source: production reads the wall clock, tests substitute a controllable one. */
export interface Clock {
  now(): number;
  /** The real instant at which this clock will read `ms`; absent when the two are the same. */
  wallTime?(ms: number): number;
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


/** What to pass to `setAlarm` for an alarm due when the current clock reads `ms`. */
export function alarmTime(ms: number): number {
  return current.wallTime ? current.wallTime(ms) : ms;
}

/**
 * A clock running `speed` times faster than real time from `epochMs` on (where both agree).
 * Only for benchmarks that need days of campaign time in minutes: alarms are set at the real
 * instant the fast clock reaches their time, so every object keeps using `now()` unchanged.
 */
export function acceleratedClock(epochMs: number, speed: number): Clock {
  return {
    now: () => epochMs + (Date.now() - epochMs) * speed,
    wallTime: (ms) => epochMs + (ms - epochMs) / speed,
  };
}

let configured = false;

/**
 * Installs the accelerated clock when `CLOCK_SPEED` (and its `CLOCK_EPOCH_MS`) are set, once per
 * isolate. Every entry point (worker handlers, Durable Object constructors) calls it, since any
 * of them may be the first code an isolate runs.
 */
export function configureClock(env: object): void {
  if (configured) return;
  configured = true;
  // Not declared in wrangler.toml: only a benchmark passes them (`wrangler dev --var`).
  const vars = env as { CLOCK_SPEED?: string; CLOCK_EPOCH_MS?: string };
  const speed = Number(vars.CLOCK_SPEED ?? "1");
  const epoch = Number(vars.CLOCK_EPOCH_MS ?? "");
  if (!Number.isFinite(speed) || speed <= 1) return;
  if (!Number.isFinite(epoch) || epoch <= 0) throw new Error("CLOCK_SPEED needs CLOCK_EPOCH_MS (epoch ms where the fast clock starts)");
  useClock(acceleratedClock(epoch, speed));
}
