import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isWithinWindow, type CampaignWindow } from "../../src/domain/campaign-schedule";
import { clampWindow, quietHoursWindows, withinQuietHoursGuard } from "../../src/domain/quiet-hours";

const at = (iso: string) => Date.parse(iso);
const NY = "America/New_York";
const WEEKDAYS = [1, 2, 3, 4, 5];
const w = (startTime: string | null, endTime: string | null, workingDays = WEEKDAYS): CampaignWindow => ({ timezone: NY, startTime, endTime, workingDays });
const times = (windows: CampaignWindow[]) => windows.map((x) => `${x.startTime}-${x.endTime} ${x.workingDays.join("")}`);

describe("withinQuietHoursGuard", () => {
  it("allows [08:00, 21:00) local time, every day of the week", () => {
    expect(withinQuietHoursGuard([NY], at("2026-03-14T07:59:00-04:00"))).toBe(false);
    expect(withinQuietHoursGuard([NY], at("2026-03-14T08:00:00-04:00"))).toBe(true);
    expect(withinQuietHoursGuard([NY], at("2026-03-14T20:59:00-04:00"))).toBe(true);
    expect(withinQuietHoursGuard([NY], at("2026-03-14T21:00:00-04:00"))).toBe(false);
  });

  it("needs every candidate zone to be in its hours", () => {
    expect(withinQuietHoursGuard([NY, "America/Los_Angeles"], at("2026-03-09T09:00:00-04:00"))).toBe(false); // 06:00 in LA
    expect(withinQuietHoursGuard([NY, "America/Los_Angeles"], at("2026-03-09T12:00:00-04:00"))).toBe(true);
    expect(withinQuietHoursGuard(["Asia/Kathmandu"], at("2026-03-09T02:15:00Z"))).toBe(true); // 08:00 NPT
    expect(withinQuietHoursGuard(["Asia/Kathmandu"], at("2026-03-09T02:14:00Z"))).toBe(false);
  });

  it("refuses when no zone is known", () => {
    expect(withinQuietHoursGuard([], at("2026-03-09T12:00:00-04:00"))).toBe(false);
  });

  it("is the guard windows the scheduler uses", () => {
    expect(quietHoursWindows(["Europe/London"])).toEqual([{ timezone: "Europe/London", startTime: "08:00", endTime: "21:00", workingDays: [1, 2, 3, 4, 5, 6, 7] }]);
  });
});

describe("clampWindow", () => {
  it("narrows a window to 08:00–21:00 and keeps one already inside", () => {
    expect(times(clampWindow(w("07:00", "22:00")))).toEqual(["08:00-21:00 12345"]);
    expect(times(clampWindow(w("09:00", "17:00")))).toEqual(["09:00-17:00 12345"]);
    expect(times(clampWindow(w("06:00", "12:00")))).toEqual(["08:00-12:00 12345"]);
  });

  it("makes an all-day window 08:00–21:00", () => {
    expect(times(clampWindow(w(null, null)))).toEqual(["08:00-21:00 12345"]);
    expect(times(clampWindow(w("10:00", "10:00")))).toEqual(["08:00-21:00 12345"]);
    expect(times(clampWindow(w("18:00", null)))).toEqual(["18:00-21:00 12345"]);
  });

  it("leaves nothing of a window wholly in quiet hours", () => {
    expect(clampWindow(w("21:30", "23:00"))).toEqual([]);
    expect(clampWindow(w("05:00", "08:00"))).toEqual([]);
    expect(clampWindow(w("22:00", "02:00"))).toEqual([]);
  });

  it("splits a window crossing midnight into its evening and the next morning", () => {
    expect(times(clampWindow(w("19:00", "10:00")))).toEqual(["19:00-21:00 12345", "08:00-10:00 23456"]);
    expect(times(clampWindow(w("20:00", "07:00")))).toEqual(["20:00-21:00 12345"]);
    expect(times(clampWindow(w("23:00", "09:00", [5, 6, 7])))).toEqual(["08:00-09:00 167"]);
    expect(times(clampWindow(w("06:00", "05:00")))).toEqual(["08:00-21:00 12345"]);
  });

  it("allows exactly what the window and the guard allow together", () => {
    const hhmm = fc.integer({ min: 0, max: 1439 }).map((m) => `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`);
    fc.assert(
      fc.property(
        fc.option(hhmm, { nil: null }),
        fc.option(hhmm, { nil: null }),
        fc.uniqueArray(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 7 }),
        fc.constantFrom(NY, "Europe/London", "Asia/Kathmandu"),
        fc.integer({ min: at("2026-01-01T00:00:00Z"), max: at("2027-01-01T00:00:00Z") }),
        (startTime, endTime, workingDays, timezone, t) => {
          const window: CampaignWindow = { timezone, startTime, endTime, workingDays };
          const clamped = clampWindow(window).some((piece) => isWithinWindow(piece, t));
          expect(clamped).toBe(isWithinWindow(window, t) && withinQuietHoursGuard([timezone], t));
        },
      ),
      { seed: 2100, numRuns: 150 },
    );
  });
});
