import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  campaignDay,
  isWithinWindow,
  NoCallingWindowError,
  nextCampaignDayStart,
  nextWindowOpening,
  scheduleSlotDays,
  scheduleSlots,
  windowProblems,
  type CampaignWindow,
} from "../../src/domain/campaign-schedule";
import { quietHoursWindows, withinQuietHoursGuard } from "../../src/domain/quiet-hours";
import { isWithinWindowForAll } from "../../src/domain/recipient-timezone";
import { wallClock, wallClockInWindow } from "../helpers/wall-clock";

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const NY = "America/New_York";
const WEEKDAYS = [1, 2, 3, 4, 5];
const EVERY_DAY = [1, 2, 3, 4, 5, 6, 7];
const nineToFive: CampaignWindow = { timezone: NY, startTime: "09:00", endTime: "17:00", workingDays: WEEKDAYS };
const local = (ms: number, tz = NY) => {
  const w = wallClock(ms, tz);
  return `${w.date} ${w.hhmm}`;
};

describe("scheduleSlots: days, caps and the start", () => {
  it("starts inside today's window at startAt and spreads over what is left of it", () => {
    // Monday 2026-03-09, 13:00 EDT: four hours left, four contacts → one an hour.
    const slots = scheduleSlots({ count: 4, window: nineToFive, maxCallsPerDay: 4, startAt: at("2026-03-09T13:00:00-04:00") });
    expect(slots.map((s) => local(s))).toEqual(["2026-03-09 13:00", "2026-03-09 14:00", "2026-03-09 15:00", "2026-03-09 16:00"]);
  });

  it("starts after today's window on the next working day", () => {
    const slots = scheduleSlots({ count: 4, window: nineToFive, maxCallsPerDay: 4, startAt: at("2026-03-09T18:00:00-04:00") });
    expect(slots.map((s) => local(s))).toEqual(["2026-03-10 09:00", "2026-03-10 11:00", "2026-03-10 13:00", "2026-03-10 15:00"]);
  });

  it("skips the weekend", () => {
    const slots = scheduleSlots({ count: 2, window: nineToFive, maxCallsPerDay: 2, startAt: at("2026-03-13T18:00:00-04:00") });
    expect(slots.map((s) => local(s))).toEqual(["2026-03-16 09:00", "2026-03-16 13:00"]);
  });

  it("spills past the cap into the following working days, filling each in order", () => {
    const slots = scheduleSlots({ count: 5, window: nineToFive, maxCallsPerDay: 2, startAt: at("2026-03-12T08:00:00-04:00") });
    expect(slots.map((s) => local(s))).toEqual([
      "2026-03-12 09:00",
      "2026-03-12 13:00",
      "2026-03-13 09:00",
      "2026-03-13 13:00",
      "2026-03-16 09:00", // Friday is full, the weekend is not working
    ]);
  });

  it("puts everyone into the first day without a cap", () => {
    const slots = scheduleSlots({ count: 3, window: nineToFive, startAt: at("2026-03-09T00:00:00-04:00") });
    expect(slots.map((s) => local(s))).toEqual(["2026-03-09 09:00", "2026-03-09 11:40", "2026-03-09 14:20"]);
  });

  it("counts calls already placed today against the cap when rescheduling", () => {
    const startAt = at("2026-03-09T13:00:00-04:00");
    const used = { [campaignDay(nineToFive, startAt)]: 2 };
    const slots = scheduleSlots({ count: 2, window: nineToFive, maxCallsPerDay: 3, startAt, usedPerDay: used });
    expect(slots.map((s) => local(s))).toEqual(["2026-03-09 13:00", "2026-03-10 09:00"]);
  });

  it("returns nothing for no contacts and refuses a bad cap or count", () => {
    expect(scheduleSlots({ count: 0, window: nineToFive, startAt: 0 })).toEqual([]);
    expect(() => scheduleSlots({ count: 1, window: nineToFive, maxCallsPerDay: 0, startAt: 0 })).toThrow(RangeError);
    expect(() => scheduleSlots({ count: -1, window: nineToFive, startAt: 0 })).toThrow(RangeError);
    expect(() => scheduleSlots({ count: 1, window: { ...nineToFive, workingDays: [] }, startAt: 0 })).toThrow(RangeError);
  });
});

describe("scheduleSlots: DST and odd zones", () => {
  it("never produces a wall time in the 2026-03-08 New York gap", () => {
    const window: CampaignWindow = { timezone: NY, startTime: "01:00", endTime: "04:00", workingDays: EVERY_DAY };
    // 01:00 EST → 04:00 EDT is two real hours.
    const slots = scheduleSlots({ count: 4, window, maxCallsPerDay: 4, startAt: at("2026-03-07T22:00:00-05:00") });
    expect(slots.map(iso)).toEqual(["2026-03-08T06:00:00.000Z", "2026-03-08T06:30:00.000Z", "2026-03-08T07:00:00.000Z", "2026-03-08T07:30:00.000Z"]);
    expect(slots.map((s) => local(s).slice(11))).toEqual(["01:00", "01:30", "03:00", "03:30"]);
  });

  it("opens a window that starts in the gap when the gap ends, and skips a window wholly inside it", () => {
    const saturdayNight = at("2026-03-07T22:00:00-05:00");
    const fromGap: CampaignWindow = { timezone: NY, startTime: "02:30", endTime: "05:00", workingDays: EVERY_DAY };
    expect(iso(nextWindowOpening(fromGap, saturdayNight))).toBe("2026-03-08T07:00:00.000Z"); // 03:00 EDT
    const inGap: CampaignWindow = { timezone: NY, startTime: "02:00", endTime: "02:45", workingDays: EVERY_DAY };
    expect(local(nextWindowOpening(inGap, saturdayNight))).toBe("2026-03-09 02:00");
    expect(isWithinWindow(inGap, at("2026-03-08T07:10:00Z"))).toBe(false);
  });

  it("counts the 2026-11-01 New York repeat as real time: 01:00–03:00 holds three hours, nothing doubled", () => {
    const window: CampaignWindow = { timezone: NY, startTime: "01:00", endTime: "03:00", workingDays: EVERY_DAY };
    const slots = scheduleSlots({ count: 3, window, maxCallsPerDay: 3, startAt: at("2026-10-31T12:00:00-04:00") });
    // 01:00 EDT, 01:00 EST, 02:00 EST: distinct instants an hour apart.
    expect(slots.map(iso)).toEqual(["2026-11-01T05:00:00.000Z", "2026-11-01T06:00:00.000Z", "2026-11-01T07:00:00.000Z"]);
    expect(new Set(slots).size).toBe(3);
  });

  it("leaves out the part of the repeat whose wall clock is before a start inside it", () => {
    // 01:30 EDT–02:00 EDT (= 01:00 EST), then 01:30 EST–03:00 EST: 2 hours in two pieces.
    const window: CampaignWindow = { timezone: NY, startTime: "01:30", endTime: "03:00", workingDays: EVERY_DAY };
    const slots = scheduleSlots({ count: 4, window, maxCallsPerDay: 4, startAt: at("2026-10-31T12:00:00-04:00") });
    expect(slots.map(iso)).toEqual(["2026-11-01T05:30:00.000Z", "2026-11-01T06:30:00.000Z", "2026-11-01T07:00:00.000Z", "2026-11-01T07:30:00.000Z"]);
    expect(isWithinWindow(window, at("2026-11-01T06:15:00Z"))).toBe(false); // 01:15 EST
    for (const s of slots) expect(wallClockInWindow(window, s)).toBe(true);
  });

  it("never produces a wall time in the 2026-03-29 London gap", () => {
    const window: CampaignWindow = { timezone: "Europe/London", startTime: "00:30", endTime: "02:30", workingDays: [7] };
    // 00:30 GMT → 01:00 GMT = 02:00 BST → 02:30 BST: one real hour.
    const slots = scheduleSlots({ count: 2, window, maxCallsPerDay: 2, startAt: at("2026-03-28T12:00:00Z") });
    expect(slots.map(iso)).toEqual(["2026-03-29T00:30:00.000Z", "2026-03-29T01:00:00.000Z"]);
    expect(slots.map((s) => local(s, "Europe/London").slice(11))).toEqual(["00:30", "02:00"]);
  });

  it("works in Asia/Kathmandu (+05:45)", () => {
    const window: CampaignWindow = { timezone: "Asia/Kathmandu", startTime: "09:00", endTime: "17:00", workingDays: WEEKDAYS };
    const slots = scheduleSlots({ count: 2, window, maxCallsPerDay: 2, startAt: at("2026-06-01T00:00:00Z") });
    expect(slots.map(iso)).toEqual(["2026-06-01T03:15:00.000Z", "2026-06-01T07:15:00.000Z"]);
  });
});

describe("windows crossing midnight", () => {
  const evenings: CampaignWindow = { timezone: NY, startTime: "22:00", endTime: "02:00", workingDays: WEEKDAYS };

  it("belong to the day they start on, including the small hours", () => {
    const tuesday1am = at("2026-03-10T01:00:00-04:00");
    expect(isWithinWindow(evenings, tuesday1am)).toBe(true);
    expect(campaignDay(evenings, tuesday1am)).toBe("2026-03-09");
    expect(isWithinWindow(evenings, at("2026-03-14T01:00:00-04:00"))).toBe(true); // Friday night into Saturday
    expect(isWithinWindow(evenings, at("2026-03-16T01:00:00-04:00"))).toBe(false); // Sunday night is not working
    expect(isWithinWindow(evenings, at("2026-03-10T02:00:00-04:00"))).toBe(false); // end is exclusive
  });

  it("schedule the rest of a window already open, then the next evening", () => {
    const slots = scheduleSlots({ count: 3, window: evenings, maxCallsPerDay: 2, startAt: at("2026-03-10T01:00:00-04:00") });
    expect(slots.map((s) => local(s))).toEqual(["2026-03-10 01:00", "2026-03-10 01:30", "2026-03-10 22:00"]);
  });

  it("treat equal times as the whole calendar day", () => {
    const allDay: CampaignWindow = { timezone: NY, startTime: "09:00", endTime: "09:00", workingDays: [1] };
    expect(isWithinWindow(allDay, at("2026-03-09T00:00:00-04:00"))).toBe(true);
    expect(isWithinWindow(allDay, at("2026-03-10T08:00:00-04:00"))).toBe(false);
  });
});

describe("nextWindowOpening", () => {
  it("is the instant itself inside the window, else the next opening", () => {
    const inside = at("2026-03-09T10:00:00-04:00");
    expect(nextWindowOpening(nineToFive, inside)).toBe(inside);
    expect(local(nextWindowOpening(nineToFive, at("2026-03-09T17:00:00-04:00")))).toBe("2026-03-10 09:00");
    expect(local(nextWindowOpening(nineToFive, at("2026-03-14T10:00:00-04:00")))).toBe("2026-03-16 09:00");
  });

  it("honours recipient zones and guards, and gives up when they never meet", () => {
    const opening = nextWindowOpening(nineToFive, at("2026-03-09T08:00:00-04:00"), { windowZones: [NY, "America/Los_Angeles"] });
    expect(local(opening)).toBe("2026-03-09 12:00");
    // +14 and -11: the same 09:00–10:00 is 19:00–20:00Z in one and 20:00–21:00Z in the other, every day.
    const hour: CampaignWindow = { timezone: "Pacific/Kiritimati", startTime: "09:00", endTime: "10:00", workingDays: EVERY_DAY };
    expect(() => nextWindowOpening(hour, at("2026-01-01T00:00:00Z"), { windowZones: ["Pacific/Kiritimati", "Pacific/Pago_Pago"] })).toThrow(NoCallingWindowError);
  });

  it("finds zones that only meet while their DST calendars disagree, months ahead", () => {
    // 09:00–14:00 in New York and in London meet only when they are 4 hours apart, not 5:
    // from the US change (03-08) to the UK one (03-29), and from the UK's (10-25) to the US's (11-01).
    const window: CampaignWindow = { timezone: NY, startTime: "09:00", endTime: "14:00", workingDays: EVERY_DAY };
    const both = { windowZones: [NY, "Europe/London"] };
    expect(iso(nextWindowOpening(window, at("2026-01-10T00:00:00Z"), both))).toBe("2026-03-08T13:00:00.000Z");
    expect(iso(nextWindowOpening(window, at("2026-04-01T00:00:00Z"), both))).toBe("2026-10-25T13:00:00.000Z");
  });
});

describe("recipient zones and quiet hours in scheduling", () => {
  it("schedules only where the window holds in every candidate zone", () => {
    const slots = scheduleSlots({
      count: 5,
      window: nineToFive,
      maxCallsPerDay: 5,
      startAt: at("2026-03-09T00:00:00-04:00"),
      windowZones: [NY, "America/Los_Angeles"],
    });
    expect(slots.map((s) => local(s))).toEqual(["2026-03-09 12:00", "2026-03-09 13:00", "2026-03-09 14:00", "2026-03-09 15:00", "2026-03-09 16:00"]);
  });

  it("keeps a wide campaign window inside the recipient's 08:00–21:00", () => {
    const wide: CampaignWindow = { timezone: NY, startTime: "06:00", endTime: "23:00", workingDays: WEEKDAYS };
    const slots = scheduleSlots({
      count: 3,
      window: wide,
      maxCallsPerDay: 3,
      startAt: at("2026-03-09T00:00:00-04:00"),
      guards: quietHoursWindows(["Pacific/Honolulu"]),
    });
    // Honolulu 08:00–21:00 HST is 14:00–03:00 EDT; the campaign stops at 23:00 EDT.
    expect(slots.map((s) => local(s))).toEqual(["2026-03-09 14:00", "2026-03-09 17:00", "2026-03-09 20:00"]);
  });
});

describe("windowProblems", () => {
  it("names each problem", () => {
    expect(windowProblems(nineToFive)).toEqual([]);
    expect(windowProblems({ timezone: "Mars/Base", startTime: "9:00", endTime: "24:00", workingDays: [0, 8] })).toHaveLength(4);
    expect(windowProblems({ ...nineToFive, timezone: "+05:00" })).toHaveLength(1);
    expect(windowProblems({ ...nineToFive, workingDays: [] })).toHaveLength(1);
  });
});

// Properties over random windows. Fixed seed and bounded runs keep them fast and reproducible.
const ZONES = [NY, "Europe/London", "Asia/Kathmandu", "Australia/Lord_Howe", "America/Santiago", "Pacific/Honolulu", "UTC"];
// 2026 plus a margin: covers every DST change of the zones above.
const YEAR_START = at("2026-01-01T00:00:00Z");
const YEAR_END = at("2027-01-01T00:00:00Z");
const hhmm = fc.integer({ min: 0, max: 1439 }).map((m) => `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`);
const windowArb: fc.Arbitrary<CampaignWindow> = fc.record({
  timezone: fc.constantFrom(...ZONES),
  startTime: fc.option(hhmm, { nil: null }),
  endTime: fc.option(hhmm, { nil: null }),
  workingDays: fc.uniqueArray(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 7 }),
});
// Half the starts land within a day of a DST change, where the interesting cases are.
const DST_EDGES = ["2026-03-08T07:00:00Z", "2026-11-01T06:00:00Z", "2026-03-29T01:00:00Z", "2026-10-25T01:00:00Z", "2026-04-05T03:00:00Z", "2026-09-06T04:00:00Z", "2026-04-04T15:00:00Z", "2026-10-03T16:00:00Z"].map(at);
const startArb = fc.oneof(
  fc.integer({ min: YEAR_START, max: YEAR_END }),
  fc.tuple(fc.constantFrom(...DST_EDGES), fc.integer({ min: -86_400_000, max: 86_400_000 })).map(([edge, d]) => edge + d),
);
const PROPS = { seed: 20260308, numRuns: 150 };

describe("scheduleSlots properties", () => {
  it("keeps the count, order, start, window and cap", () => {
    fc.assert(
      fc.property(windowArb, startArb, fc.integer({ min: 0, max: 40 }), fc.option(fc.integer({ min: 1, max: 12 }), { nil: null }), (window, startAt, count, cap) => {
        const slots = scheduleSlots({ count, window, maxCallsPerDay: cap, startAt });
        expect(slots).toHaveLength(count);
        const perDay = new Map<string, number>();
        slots.forEach((slot, i) => {
          expect(Number.isInteger(slot)).toBe(true);
          expect(slot).toBeGreaterThanOrEqual(startAt);
          if (i > 0) expect(slot).toBeGreaterThanOrEqual(slots[i - 1]);
          expect(wallClockInWindow(window, slot)).toBe(true);
          expect(isWithinWindow(window, slot)).toBe(true);
          const day = campaignDay(window, slot);
          perDay.set(day, (perDay.get(day) ?? 0) + 1);
        });
        if (cap !== null) {
          const counts = [...perDay.values()];
          for (const n of counts) expect(n).toBeLessThanOrEqual(cap);
          // Days are filled in order: only the last day used may be short.
          for (const n of counts.slice(0, -1)) expect(n).toBe(cap);
        }
        if (count > 0) expect(slots[0]).toBe(nextWindowOpening(window, startAt));
      }),
      PROPS,
    );
  });

  it("with recipient zones and quiet hours, every slot passes the dial-time checks", () => {
    fc.assert(
      fc.property(windowArb, startArb, fc.uniqueArray(fc.constantFrom(...ZONES), { minLength: 1, maxLength: 3 }), fc.integer({ min: 1, max: 8 }), (window, startAt, zones, count) => {
        let slots: number[];
        try {
          slots = scheduleSlots({ count, window, maxCallsPerDay: 3, startAt, windowZones: zones, guards: quietHoursWindows(zones) });
        } catch (err) {
          // Zones far enough apart can leave no common time; that is reported, never papered over.
          expect(err).toBeInstanceOf(NoCallingWindowError);
          return;
        }
        expect(slots).toHaveLength(count);
        for (const slot of slots) {
          expect(slot).toBeGreaterThanOrEqual(startAt);
          expect(isWithinWindowForAll(window, zones, slot)).toBe(true);
          expect(withinQuietHoursGuard(zones, slot)).toBe(true);
          for (const zone of zones) expect(wallClockInWindow(window, slot, zone)).toBe(true);
        }
      }),
      { seed: 20261101, numRuns: 40 },
    );
  });
});

describe("nextWindowOpening and isWithinWindow properties", () => {
  it("the opening is inside the window, and nothing between the instant and the opening is", () => {
    fc.assert(
      fc.property(windowArb, startArb, (window, t) => {
        const opening = nextWindowOpening(window, t);
        expect(opening).toBeGreaterThanOrEqual(t);
        expect(isWithinWindow(window, opening)).toBe(true);
        if (opening > t) {
          expect(isWithinWindow(window, t)).toBe(false);
          expect(isWithinWindow(window, opening - 1)).toBe(false);
        }
      }),
      PROPS,
    );
  });

  it("inside the window means the wall clock reads inside it", () => {
    fc.assert(
      fc.property(windowArb, startArb, (window, t) => {
        if (isWithinWindow(window, t)) expect(wallClockInWindow(window, t)).toBe(true);
      }),
      PROPS,
    );
  });
});

const nextKey = (key: string) => new Date(Date.parse(`${key}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
const addDays = (key: string, n: number) => new Date(Date.parse(`${key}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

describe("scheduleSlotDays", () => {
  it("groups the slots by campaign day", () => {
    const days = scheduleSlotDays({ count: 5, window: nineToFive, maxCallsPerDay: 2, startAt: at("2026-03-12T08:00:00-04:00") });
    expect(days.map((d) => d.key)).toEqual(["2026-03-12", "2026-03-13", "2026-03-16"]);
    expect(days.map((d) => d.slots.map((s) => local(s)))).toEqual([
      ["2026-03-12 09:00", "2026-03-12 13:00"],
      ["2026-03-13 09:00", "2026-03-13 13:00"],
      ["2026-03-16 09:00"],
    ]);
  });

  it("leaves out days already full and fills the rest of a partly used one", () => {
    const startAt = at("2026-03-09T08:00:00-04:00");
    const days = scheduleSlotDays({ count: 3, window: nineToFive, maxCallsPerDay: 2, startAt, usedPerDay: { "2026-03-09": 2, "2026-03-10": 1 } });
    expect(days.map((d) => [d.key, d.slots.length])).toEqual([
      ["2026-03-10", 1],
      ["2026-03-11", 2],
    ]);
    expect(local(days[0].slots[0])).toBe("2026-03-10 09:00");
  });

  it("keys a crossing-midnight window's small hours by the evening it started", () => {
    const evenings: CampaignWindow = { timezone: NY, startTime: "22:00", endTime: "02:00", workingDays: WEEKDAYS };
    const days = scheduleSlotDays({ count: 3, window: evenings, maxCallsPerDay: 2, startAt: at("2026-03-10T01:00:00-04:00") });
    expect(days.map((d) => d.key)).toEqual(["2026-03-09", "2026-03-10"]);
    expect(days[0].slots.map((s) => local(s))).toEqual(["2026-03-10 01:00", "2026-03-10 01:30"]);
  });

  it("returns no days for no contacts", () => {
    expect(scheduleSlotDays({ count: 0, window: nineToFive, maxCallsPerDay: 2, startAt: at("2026-03-09T08:00:00-04:00") })).toEqual([]);
  });

  it("property: flattens to scheduleSlots, respects the room left per day, keys increase and match campaignDay", () => {
    fc.assert(
      fc.property(
        windowArb,
        startArb,
        fc.integer({ min: 0, max: 30 }),
        fc.option(fc.integer({ min: 1, max: 8 }), { nil: null }),
        fc.array(fc.integer({ min: 0, max: 10 }), { minLength: 10, maxLength: 10 }),
        (window, startAt, count, cap, usedCounts) => {
          // Usage on the first ten campaign days, some of them over the cap.
          const firstKey = campaignDay(window, startAt);
          const usedPerDay: Record<string, number> = {};
          usedCounts.forEach((n, i) => {
            if (n > 0) usedPerDay[addDays(firstKey, i)] = n;
          });
          const input = { count, window, maxCallsPerDay: cap, startAt, usedPerDay };
          const days = scheduleSlotDays(input);
          expect(days.flatMap((d) => d.slots)).toEqual(scheduleSlots(input));
          expect(days.reduce((sum, d) => sum + d.slots.length, 0)).toBe(count);
          days.forEach((day, i) => {
            expect(day.slots.length).toBeGreaterThan(0);
            if (cap !== null) expect(day.slots.length).toBeLessThanOrEqual(cap - (usedPerDay[day.key] ?? 0));
            if (i > 0) expect(day.key > days[i - 1].key).toBe(true);
            expect(day.key >= firstKey).toBe(true);
            for (const slot of day.slots) expect(campaignDay(window, slot)).toBe(day.key);
          });
        },
      ),
      { seed: 20260309, numRuns: 150 },
    );
  });
});

describe("nextCampaignDayStart", () => {
  const check = (window: CampaignWindow, atMs: number) => {
    const next = nextCampaignDayStart(window, atMs);
    expect(next).toBeGreaterThan(atMs);
    expect(campaignDay(window, next)).toBe(nextKey(campaignDay(window, atMs)));
    expect(campaignDay(window, next - 1)).toBe(campaignDay(window, atMs));
    return next;
  };

  it("is the next opening of the window's start time, working day or not", () => {
    expect(local(check(nineToFive, at("2026-03-09T10:00:00-04:00")))).toBe("2026-03-10 09:00");
    expect(local(check(nineToFive, at("2026-03-09T08:59:00-04:00")))).toBe("2026-03-09 09:00"); // still Sunday's campaign day
    expect(local(check(nineToFive, at("2026-03-13T18:00:00-04:00")))).toBe("2026-03-14 09:00"); // Saturday: not working, still a day
    // Exactly at an opening, the next day starts a day later.
    expect(local(check(nineToFive, at("2026-03-10T09:00:00-04:00")))).toBe("2026-03-11 09:00");
  });

  it("handles the 2026-03-08 New York spring-forward", () => {
    // 09:00 EST on Saturday → 09:00 EDT on Sunday: 23 real hours later.
    const saturday = at("2026-03-07T09:00:00-05:00");
    const sunday = check(nineToFive, saturday);
    expect(iso(sunday)).toBe("2026-03-08T13:00:00.000Z");
    expect(sunday - saturday).toBe(23 * 3_600_000);
    // A start inside the gap opens when the gap ends, 03:00 EDT.
    const fromGap: CampaignWindow = { timezone: NY, startTime: "02:30", endTime: "05:00", workingDays: EVERY_DAY };
    expect(iso(check(fromGap, at("2026-03-07T12:00:00-05:00")))).toBe("2026-03-08T07:00:00.000Z");
    expect(iso(check(fromGap, at("2026-03-08T07:00:00Z")))).toBe("2026-03-09T06:30:00.000Z");
  });

  it("handles the 2026-11-01 New York fall-back", () => {
    // 09:00 EDT on Saturday → 09:00 EST on Sunday: 25 real hours later.
    const saturday = at("2026-10-31T09:00:00-04:00");
    const sunday = check(nineToFive, saturday);
    expect(iso(sunday)).toBe("2026-11-01T14:00:00.000Z");
    expect(sunday - saturday).toBe(25 * 3_600_000);
    // A start inside the repeat opens on its first pass (01:30 EDT); the second pass (01:30 EST) is the same day.
    const fromRepeat: CampaignWindow = { timezone: NY, startTime: "01:30", endTime: "03:00", workingDays: EVERY_DAY };
    expect(iso(check(fromRepeat, at("2026-10-31T12:00:00-04:00")))).toBe("2026-11-01T05:30:00.000Z");
    expect(campaignDay(fromRepeat, at("2026-11-01T06:45:00Z"))).toBe("2026-11-01"); // 01:45 EST
    expect(iso(check(fromRepeat, at("2026-11-01T06:45:00Z")))).toBe("2026-11-02T06:30:00.000Z");
    expect(iso(check(fromRepeat, at("2026-11-01T06:15:00Z")))).toBe("2026-11-02T06:30:00.000Z"); // 01:15 EST
  });

  it("handles a window crossing midnight", () => {
    const evenings: CampaignWindow = { timezone: NY, startTime: "22:00", endTime: "02:00", workingDays: WEEKDAYS };
    // Tuesday 01:00 belongs to Monday evening; the next day starts Tuesday 22:00.
    expect(local(check(evenings, at("2026-03-10T01:00:00-04:00")))).toBe("2026-03-10 22:00");
    expect(local(check(evenings, at("2026-03-10T21:59:00-04:00")))).toBe("2026-03-10 22:00");
    expect(local(check(evenings, at("2026-03-10T22:00:00-04:00")))).toBe("2026-03-11 22:00");
    // Across the spring-forward: Saturday 22:00 EST → Sunday 22:00 EDT is 23 hours.
    const sat = at("2026-03-07T23:30:00-05:00");
    expect(iso(check(evenings, sat))).toBe("2026-03-09T02:00:00.000Z");
  });

  it("property: later than the instant, starts the next campaign day, and the instant before is still this one", () => {
    fc.assert(
      fc.property(windowArb, startArb, (window, t) => {
        check(window, t);
      }),
      { seed: 20261101, numRuns: 200 },
    );
  });
});
