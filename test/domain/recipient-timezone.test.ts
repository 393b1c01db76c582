import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isValidTimeZone, isWithinWindow, type CampaignWindow } from "../../src/domain/campaign-schedule";
import { PHONE_TIMEZONES } from "../../src/domain/data/phone-timezones";
import { isWithinWindowForAll, zonesFor } from "../../src/domain/recipient-timezone";

const at = (iso: string) => Date.parse(iso);
const nineToFive = (timezone: string): CampaignWindow => ({ timezone, startTime: "09:00", endTime: "17:00", workingDays: [1, 2, 3, 4, 5] });

describe("zonesFor", () => {
  it("maps US area codes to their zone", () => {
    expect(zonesFor("+12125551234")).toEqual(["America/New_York"]);
    expect(zonesFor("+18085551234")).toEqual(["Pacific/Honolulu"]);
    expect(zonesFor("+1 (212) 555-1234")).toEqual(["America/New_York"]);
  });

  it("uses the longest listed prefix", () => {
    // 1907 is Alaska (two zones); 1907581 is listed on its own.
    expect(zonesFor("+19072221234")).toEqual(["America/Juneau"]);
    expect(zonesFor("+19075811234")).toEqual(["Pacific/Honolulu"]);
    expect(zonesFor("+19079991234")).toEqual(["America/Adak", "America/Anchorage"]);
  });

  it("gives every zone of a prefix that spans several", () => {
    expect(zonesFor("+14805551234")).toEqual(["America/Denver", "America/Phoenix"]);
    expect(zonesFor("+12085551234")).toEqual(["America/Boise", "America/Los_Angeles"]);
  });

  it("maps UK numbers, with the Crown Dependencies where the prefix says so", () => {
    expect(zonesFor("+442071234567")).toEqual(["Europe/London"]);
    expect(zonesFor("+441481123456")).toEqual(["Europe/Guernsey"]);
    // UK mobiles (+447…) are only known down to the country code.
    expect(zonesFor("+447700900123")).toEqual(["Europe/Guernsey", "Europe/Isle_of_Man", "Europe/Jersey", "Europe/London"]);
  });

  it("maps Nepal to its +05:45 zone", () => {
    expect(zonesFor("+9771234567")).toEqual(["Asia/Katmandu"]);
  });

  it("returns nothing for an unknown prefix", () => {
    expect(zonesFor("+80012345678")).toEqual([]);
    expect(zonesFor("")).toEqual([]);
  });

  it("prefers a valid contact time zone and ignores an invalid one", () => {
    expect(zonesFor("+12125551234", "Europe/Paris")).toEqual(["Europe/Paris"]);
    expect(zonesFor("+12125551234", "Mars/Olympus_Mons")).toEqual(["America/New_York"]);
    expect(zonesFor("+12125551234", "+05:00")).toEqual(["America/New_York"]);
    expect(zonesFor("+12125551234", null)).toEqual(["America/New_York"]);
  });

  it("hands out copies, so a caller cannot alter the table", () => {
    zonesFor("+12125551234").push("Europe/Paris");
    expect(zonesFor("+12125551234")).toEqual(["America/New_York"]);
  });

  it("only names zones this runtime knows, legacy spellings (Asia/Katmandu) included", () => {
    const zones = new Set(PHONE_TIMEZONES.flatMap(([list]) => list.split("&")));
    expect([...zones].filter((zone) => !isValidTimeZone(zone))).toEqual([]);
  });

  it("answers every prefix in the table with that prefix's zones", () => {
    for (const [zones, prefixes] of PHONE_TIMEZONES) {
      for (const prefix of prefixes.split(" ")) expect(zonesFor(`+${prefix}`)).toEqual(zones.split("&"));
    }
  });
});

describe("isWithinWindowForAll", () => {
  // 2026-07-01 (Wednesday): Denver is UTC−6 (MDT), Phoenix UTC−7 all year.
  const arizona = zonesFor("+14805551234");
  const window = nineToFive("America/New_York");

  it("holds only while the window is open in every candidate zone", () => {
    expect(isWithinWindowForAll(window, arizona, at("2026-07-01T15:30:00Z"))).toBe(false); // 09:30 Denver, 08:30 Phoenix
    expect(isWithinWindowForAll(window, arizona, at("2026-07-01T16:30:00Z"))).toBe(true);
    expect(isWithinWindowForAll(window, arizona, at("2026-07-01T22:30:00Z"))).toBe(true); // 16:30, 15:30
    expect(isWithinWindowForAll(window, arizona, at("2026-07-01T23:30:00Z"))).toBe(false); // 17:30 Denver
  });

  it("applies the working days in each zone", () => {
    // Friday 2026-07-03 17:30 in Honolulu is Saturday 03:30 in Auckland.
    const friday = at("2026-07-04T03:30:00Z");
    const lateWindow: CampaignWindow = { timezone: "UTC", startTime: "00:00", endTime: "23:59", workingDays: [1, 2, 3, 4, 5] };
    expect(isWithinWindowForAll(lateWindow, ["Pacific/Honolulu"], friday)).toBe(true);
    expect(isWithinWindowForAll(lateWindow, ["Pacific/Honolulu", "Pacific/Auckland"], friday)).toBe(false);
  });

  it("reads an unknown zone as the window's own", () => {
    expect(isWithinWindowForAll(window, [], at("2026-07-01T14:00:00Z"))).toBe(true); // 10:00 New York
    expect(isWithinWindowForAll(window, [], at("2026-07-01T12:00:00Z"))).toBe(false);
  });

  it("is the conjunction of the single-zone checks", () => {
    const zones = ["America/New_York", "America/Chicago", "Europe/London", "Asia/Kathmandu", "Pacific/Honolulu"];
    fc.assert(
      fc.property(fc.subarray(zones, { minLength: 1 }), fc.integer({ min: at("2026-01-01T00:00:00Z"), max: at("2027-01-01T00:00:00Z") }), (subset, t) => {
        const expected = subset.every((timezone) => isWithinWindow({ ...window, timezone }, t));
        expect(isWithinWindowForAll(window, subset, t)).toBe(expected);
      }),
      { seed: 1212, numRuns: 100 },
    );
  });
});
