import { afterEach, describe, expect, it } from "vitest";
import { acceleratedClock, alarmTime, currentClock, manualClock, systemClock, useClock } from "../../src/lib/clock";

let restore: (() => void) | undefined;
afterEach(() => {
  restore?.();
  restore = undefined;
});

describe("acceleratedClock", () => {
  it("maps its own reading back to the real time", () => {
    const epoch = Date.now() - 10_000;
    const clock = acceleratedClock(epoch, 60);
    const fast = clock.now();
    const real = Date.now();
    // Ten real seconds since the epoch are ten fast minutes.
    expect(Math.abs(fast - (epoch + 600_000))).toBeLessThanOrEqual(60 * 5);
    expect(Math.abs(clock.wallTime!(fast) - real)).toBeLessThanOrEqual(5);
  });

  it("agrees with real time at the epoch and runs speed times faster after it", () => {
    const epoch = Date.UTC(2026, 2, 9, 12, 0, 0);
    const clock = acceleratedClock(epoch, 1000);
    expect(clock.wallTime!(epoch)).toBe(epoch);
    expect(clock.wallTime!(epoch + 1000 * 1000)).toBe(epoch + 1000);
    expect(clock.wallTime!(epoch + 86_400_000)).toBe(epoch + 86_400);
    const double = acceleratedClock(epoch, 2);
    expect(double.wallTime!(epoch + 2 * 1000)).toBe(epoch + 1000);
    expect(double.wallTime!(epoch + 3_600_000)).toBe(epoch + 1_800_000);
  });

  it("reads ahead of the real clock once past its epoch", () => {
    const epoch = Date.now() - 1_000;
    expect(acceleratedClock(epoch, 10).now()).toBeGreaterThanOrEqual(Date.now() + 8_000);
  });
});

describe("alarmTime", () => {
  const ms = Date.UTC(2026, 2, 9, 15, 30, 0);

  it("returns the time unchanged under the system clock", () => {
    expect(currentClock()).toBe(systemClock);
    expect(alarmTime(ms)).toBe(ms);
  });

  it("returns the time unchanged under a manual clock", () => {
    const clock = manualClock(ms - 3_600_000);
    restore = useClock(clock);
    expect(alarmTime(ms)).toBe(ms);
    clock.advance(10 * 3_600_000);
    expect(alarmTime(ms)).toBe(ms);
  });

  it("converts to the real instant under an accelerated clock", () => {
    const epoch = Date.UTC(2026, 2, 9, 12, 0, 0);
    restore = useClock(acceleratedClock(epoch, 100));
    expect(alarmTime(epoch + 100 * 1000)).toBe(epoch + 1000);
    expect(alarmTime(epoch + 3_600_000)).toBe(epoch + 36_000);
    expect(alarmTime(epoch)).toBe(epoch);
  });

  it("stops converting once the clock is restored", () => {
    const epoch = Date.UTC(2026, 2, 9, 12, 0, 0);
    const undo = useClock(acceleratedClock(epoch, 100));
    expect(alarmTime(epoch + 100_000)).toBe(epoch + 1000);
    undo();
    expect(currentClock()).toBe(systemClock);
    expect(alarmTime(epoch + 100_000)).toBe(epoch + 100_000);
  });
});
