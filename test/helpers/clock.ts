import { afterEach, beforeEach } from "vitest";
import { manualClock, useClock } from "../../src/lib/clock";

/**
 * Installs a fresh manual clock reading `startMs` before each test of the file (and restores the
 * real one after): time moves only when the test says. The returned clock always drives the
 * current test's.
 */
export function manualClockPerTest(startMs: number) {
  let clock = manualClock(startMs);
  let restore = () => {};
  beforeEach(() => {
    clock = manualClock(startMs);
    restore = useClock(clock);
  });
  afterEach(() => restore());
  return {
    now: () => clock.now(),
    set: (ms: number) => clock.set(ms),
    advance: (ms: number) => clock.advance(ms),
  };
}
