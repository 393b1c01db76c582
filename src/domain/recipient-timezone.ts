import { isValidTimeZone, isWithinWindow, type CampaignWindow } from "./campaign-schedule";
import { PHONE_TIMEZONES } from "./data/phone-timezones";

/**
 * Which time zones a called person may be in (reliability.md §6.1). The number's prefix is only
 * a proxy (mobiles travel and port), so an explicit contact zone wins, and where a prefix spans
 * several zones (many NANP area codes, and +1 itself) a call must suit all of them.
 */

let table: Map<string, readonly string[]> | undefined;
let longestPrefix = 0;

/** Built on first use, so isolates that never look a number up never pay for the ~3,000 entries. */
function prefixTable(): Map<string, readonly string[]> {
  if (table === undefined) {
    table = new Map();
    for (const [zones, prefixes] of PHONE_TIMEZONES) {
      const list = Object.freeze(zones.split("&"));
      for (const prefix of prefixes.split(" ")) {
        table.set(prefix, list);
        longestPrefix = Math.max(longestPrefix, prefix.length);
      }
    }
  }
  return table;
}

/**
 * The zones `e164` may be in: `[contactTimezone]` when it is a valid IANA zone (an invalid one
 * is ignored, not trusted), otherwise the zones of the longest matching prefix of the number's
 * digits; `[]` when nothing matches, and the caller decides (the campaign's zone).
 */
export function zonesFor(e164: string, contactTimezone?: string | null): string[] {
  if (contactTimezone && isValidTimeZone(contactTimezone)) return [contactTimezone];
  const digits = e164.replace(/\D/g, "");
  const prefixes = prefixTable();
  for (let len = Math.min(digits.length, longestPrefix); len > 0; len--) {
    const zones = prefixes.get(digits.slice(0, len));
    if (zones !== undefined) return [...zones];
  }
  return [];
}

/**
 * With `respect_recipient_timezone`: true when the window's HH:MM and working days hold at
 * `atMs` in every zone the recipient may be in. An empty list means the zone is unknown and is
 * read as the window's own zone, never as "no constraint".
 */
export function isWithinWindowForAll(window: CampaignWindow, zones: readonly string[], atMs: number): boolean {
  if (zones.length === 0) return isWithinWindow(window, atMs);
  return zones.every((timezone) => isWithinWindow({ ...window, timezone }, atMs));
}
