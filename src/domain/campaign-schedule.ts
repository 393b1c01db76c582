import { Temporal } from "temporal-polyfill";

/**
 * Campaign scheduling as pure functions: no clock, no storage. Every instant is epoch ms and
 * every wall-clock question is answered through temporal-polyfill's named import (never the
 * global `Temporal`, never `Temporal.Now`: workerd once shipped a native Temporal whose clock
 * was stuck at 0, see reliability.md §6.3).
 *
 * A window is local wall-clock `HH:MM` in an IANA zone plus ISO weekdays. For one day it is
 * exactly the set of instants whose local wall clock lies in [start, end), worked out piece by
 * piece between UTC-offset changes:
 * - wall times inside a spring-forward gap never occur, so a window starting at 02:30 on
 *   2026-03-08 in New York opens when the gap ends (03:00 EDT) and no slot can read 02:30;
 * - wall times in the autumn repeat occur twice and both passes count, so 01:00–03:00 on
 *   2026-11-01 in New York holds three real hours; a window starting at 01:30 that day opens at
 *   01:30 EDT, leaves out 01:00–01:29 EST and resumes at 01:30 EST, so that day it is two
 *   intervals.
 * Slots are spread by elapsed real time over those intervals, so no slot is doubled by the
 * repeat and none lands on a wall time outside the window or one that does not exist.
 */

/** A campaign's calling window, as stored on the batch. */
export interface CampaignWindow {
  /** IANA zone, e.g. `America/New_York`. */
  timezone: string;
  /**
   * `HH:MM`. An end before the start means the window crosses midnight and belongs to the day
   * it starts on; equal times or both absent mean the whole calendar day. A missing start is
   * 00:00, a missing end is the next midnight.
   */
  startTime?: string | null;
  endTime?: string | null;
  /** ISO weekdays, 1 = Monday … 7 = Sunday, of the days a window may start on. */
  workingDays: readonly number[];
}

/** No instant ahead satisfies every window (e.g. recipient zones 20 hours apart with a 1-hour window). */
export class NoCallingWindowError extends Error {
  constructor() {
    super("The calling window never holds in every required time zone");
    this.name = "NoCallingWindowError";
  }
}

const MINUTES_PER_DAY = 1440;
const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** UTC offsets lie within −12:00…+14:00; 15 hours covers either side. */
const OFFSET_MARGIN_MS = 15 * 3_600_000;
/**
 * How many consecutive campaign days without any callable time end a search. A year, because
 * windows that only overlap across zones while their DST rules disagree open a few weeks a year.
 */
const EMPTY_DAY_LIMIT = 370;
/** While no zone involved changes offset, the callable pattern repeats every week. */
const WEEK = 7;
const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

const knownZones = new Set<string>();

/** True for IANA zone names (and `UTC`) the runtime knows; bare offsets such as `+05:00` are refused, they have no DST rules. */
export function isValidTimeZone(timeZone: string): boolean {
  if (knownZones.has(timeZone)) return true;
  if (typeof timeZone !== "string" || timeZone === "" || /^[+-]/.test(timeZone)) return false;
  try {
    Temporal.Instant.fromEpochMilliseconds(0).toZonedDateTimeISO(timeZone);
  } catch {
    return false;
  }
  knownZones.add(timeZone);
  return true;
}

/** What is wrong with a window, for the API's 422 (empty when it is usable). */
export function windowProblems(window: CampaignWindow): string[] {
  const problems: string[] = [];
  if (!isValidTimeZone(window.timezone)) problems.push(`timezone "${window.timezone}" is not an IANA time zone`);
  for (const [field, value] of [["start_time", window.startTime], ["end_time", window.endTime]] as const) {
    if (value != null && !HHMM.test(value)) problems.push(`${field} must be HH:MM (00:00–23:59)`);
  }
  if (window.workingDays.length === 0) problems.push("working_days must name at least one day");
  if (window.workingDays.some((d) => !Number.isInteger(d) || d < 1 || d > 7)) {
    problems.push("working_days must be integers 1 (Monday) to 7 (Sunday)");
  }
  return problems;
}

interface ResolvedWindow {
  timeZone: string;
  /** Minutes after local midnight, 0–1439. */
  startMin: number;
  /** Minutes after local midnight of the closing day, 1–1440 (1440 = the following midnight). */
  endMin: number;
  /** The window closes on the day after it opens. */
  crossesMidnight: boolean;
  days: ReadonlySet<number>;
}

type Interval = [number, number];

function minutesOf(hhmm: string): number {
  const m = HHMM.exec(hhmm)!;
  return Number(m[1]) * 60 + Number(m[2]);
}

function resolve(window: CampaignWindow): ResolvedWindow {
  const problems = windowProblems(window);
  if (problems.length > 0) throw new RangeError(`Invalid campaign window: ${problems.join("; ")}`);
  const start = window.startTime == null ? 0 : minutesOf(window.startTime);
  const end = window.endTime == null ? MINUTES_PER_DAY : minutesOf(window.endTime);
  // Equal times are "all day"; anchoring that on the calendar day (not on the start time)
  // keeps working days meaning calendar days, which is what a user choosing it expects.
  const allDay = start === end || (start === 0 && end === MINUTES_PER_DAY);
  return {
    timeZone: window.timezone,
    startMin: allDay ? 0 : start,
    endMin: allDay ? MINUTES_PER_DAY : end,
    crossesMidnight: !allDay && end < start,
    days: new Set(window.workingDays),
  };
}

/*
 * Local calendar days are day numbers (days since 1970-01-01) and a local wall time is "wall
 * ms": the epoch ms it would be in UTC, so the instant is wall ms − UTC offset. Calendar
 * arithmetic is then plain integer arithmetic and only zone questions go to Temporal, whose
 * polyfilled calls cost tens of microseconds each; the conversions repeat across neighbouring
 * days and campaigns, so they are remembered (bounded: the map is dropped when full).
 */
const isoWeekday = (day: number) => ((((day + 3) % 7) + 7) % 7) + 1; // day 0 was a Thursday
const dayKey = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10);
const wallOf = (day: number, minutes: number) => day * DAY_MS + minutes * MINUTE_MS;

interface Zoned {
  ms: number;
  offsetMs: number;
}

const CONVERSION_CACHE_LIMIT = 20_000;
const conversions = new Map<string, Zoned>();

/**
 * Temporal's reading of a wall time in a zone: for a repeated time "earlier" is the first pass
 * and "later" the second; for a time in a gap they land before and after the gap.
 */
function wallToInstant(timeZone: string, wallMs: number, disambiguation: "earlier" | "later"): Zoned {
  const key = `${timeZone}|${wallMs}|${disambiguation}`;
  let zoned = conversions.get(key);
  if (zoned === undefined) {
    const d = new Date(wallMs);
    const wall = new Temporal.PlainDateTime(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes());
    const z = wall.toZonedDateTime(timeZone, { disambiguation });
    zoned = { ms: z.epochMilliseconds, offsetMs: z.offsetNanoseconds / 1e6 };
    if (conversions.size >= CONVERSION_CACHE_LIMIT) conversions.clear();
    conversions.set(key, zoned);
  }
  return zoned;
}

function zonedAt(timeZone: string, ms: number): Temporal.ZonedDateTime {
  return Temporal.Instant.fromEpochMilliseconds(ms).toZonedDateTimeISO(timeZone);
}

function nextTransition(timeZone: string, ms: number): number | null {
  return zonedAt(timeZone, ms).getTimeZoneTransition("next")?.epochMilliseconds ?? null;
}

function localDay(ms: number, timeZone: string): number {
  return Math.floor((ms + zonedAt(timeZone, ms).offsetNanoseconds / 1e6) / DAY_MS);
}

/** The first instant whose wall clock reads `wallMs` or later: its first occurrence, or the end of the gap it falls in. */
function firstInstantAtOrAfter(timeZone: string, wallMs: number): number {
  // For a time in a gap "earlier" lands before the gap with a different wall time, which is
  // how the gap is recognised; the next transition from there is the instant the gap ends.
  const zoned = wallToInstant(timeZone, wallMs, "earlier");
  return zoned.ms + zoned.offsetMs === wallMs ? zoned.ms : nextTransition(timeZone, zoned.ms)!;
}

/** The instants whose wall clock lies in [fromWall, toWall), in order. */
function wallRangeToIntervals(timeZone: string, fromWall: number, toWall: number): Interval[] {
  // Every such instant lies between the first occurrence of `fromWall` and the last of
  // `toWall` (for a time in a gap, the instant just before or after the gap).
  const first = wallToInstant(timeZone, fromWall, "earlier");
  const last = wallToInstant(timeZone, toWall, "later");
  if (first.offsetMs === last.offsetMs) {
    // One offset throughout (no zone changes offset within a day and back again).
    return fromWall < toWall ? [[fromWall - first.offsetMs, toWall - first.offsetMs]] : [];
  }
  // A DST day: between offset changes instant = wall − offset, so each stretch keeps the
  // instants whose wall time is in range; stretches that meet are merged back together.
  const out: Interval[] = [];
  let offset = first.offsetMs;
  for (let at = first.ms; at < last.ms; ) {
    const transition = nextTransition(timeZone, at);
    const stretchEnd = transition !== null && transition < last.ms ? transition : last.ms;
    const lo = Math.max(at, fromWall - offset);
    const hi = Math.min(stretchEnd, toWall - offset);
    if (lo < hi) {
      if (out.length > 0 && out[out.length - 1][1] === lo) out[out.length - 1][1] = hi;
      else out.push([lo, hi]);
    }
    at = stretchEnd;
    offset = zonedAt(timeZone, at).offsetNanoseconds / 1e6;
  }
  return out;
}

/** The instants of `day`'s window (none when it is not a working day). */
function windowOn(w: ResolvedWindow, day: number): Interval[] {
  if (!w.days.has(isoWeekday(day))) return [];
  return wallRangeToIntervals(w.timeZone, wallOf(day, w.startMin), wallOf(w.crossesMidnight ? day + 1 : day, w.endMin));
}

/** The parts of [from, to) inside `w`, in order. */
function openIntervals(w: ResolvedWindow, from: number, to: number): Interval[] {
  const out: Interval[] = [];
  // A day's window lies within two days of wall time shifted by at most one offset, so these
  // days are all that can reach [from, to), yesterday's crossing-midnight window included.
  const firstDay = Math.floor((from - OFFSET_MARGIN_MS) / DAY_MS) - 1;
  const lastDay = Math.floor((to + OFFSET_MARGIN_MS) / DAY_MS);
  for (let day = firstDay; day <= lastDay; day++) {
    for (const [open, close] of windowOn(w, day)) {
      const lo = Math.max(open, from);
      const hi = Math.min(close, to);
      if (lo < hi) out.push([lo, hi]);
    }
  }
  // Days' windows never overlap, but a fall-back just after midnight could put the tail of
  // one day's window after the start of the next day's.
  return out.sort((a, b) => a[0] - b[0]);
}

/** When `day`'s window opens (whether or not it is a working day): campaign days run from one opening to the next. */
function dayStart(w: ResolvedWindow, day: number): number {
  return firstInstantAtOrAfter(w.timeZone, wallOf(day, w.startMin));
}

/** The campaign day `ms` counts for, so the small hours of a window crossing midnight belong to the evening it started. */
function windowDayOf(w: ResolvedWindow, ms: number): number {
  const day = localDay(ms, w.timeZone);
  return ms < dayStart(w, day) ? day - 1 : day;
}

/** True when `atMs` is inside the window in the window's own zone. */
export function isWithinWindow(window: CampaignWindow, atMs: number): boolean {
  return openIntervals(resolve(window), atMs, atMs + 1).length > 0;
}

/**
 * The campaign day (`YYYY-MM-DD` in the window's zone) that `atMs` counts against for
 * `max_calls_per_day`: the day whose window opening most recently passed, so the small hours
 * of a window crossing midnight count for the evening it started. Key for `usedPerDay`.
 */
export function campaignDay(window: CampaignWindow, atMs: number): string {
  return dayKey(windowDayOf(resolve(window), atMs));
}

/** The first instant of the campaign day after the one containing `atMs`: where a day whose cap is spent resumes. */
export function nextCampaignDayStart(window: CampaignWindow, atMs: number): number {
  const anchor = resolve(window);
  return dayStart(anchor, windowDayOf(anchor, atMs) + 1);
}

/** Extra places and rules a slot must satisfy besides the campaign window in its own zone. */
export interface WindowConstraints {
  /**
   * The zones the campaign window's HH:MM and working days must hold in, all at once: a
   * contact's candidate zones when `respect_recipient_timezone` is on. Absent or empty → the
   * window's own zone. Days and the daily cap are still counted in the window's own zone.
   */
  windowZones?: readonly string[];
  /** Further windows that must also hold, each in its own zone: the platform quiet hours (`quietHoursWindows`). */
  guards?: readonly CampaignWindow[];
}

function intersect(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const lo = Math.max(a[i][0], b[j][0]);
    const hi = Math.min(a[i][1], b[j][1]);
    if (lo < hi) out.push([lo, hi]);
    if (a[i][1] < b[j][1]) i++;
    else j++;
  }
  return out;
}

/** Walks the campaign days from the one containing `fromMs`, giving each day's callable intervals at or after `fromMs`. */
class CallableDays {
  private readonly anchor: ResolvedWindow;
  private readonly rules: ResolvedWindow[];
  private readonly zones: ReadonlySet<string>;
  private readonly firstDay: number;
  private day: number;
  /** First day of the current run of days without callable time, or null. */
  private emptySince: number | null = null;
  /** First day of that run after which no zone has changed offset. */
  private stableSince = 0;

  constructor(window: CampaignWindow, constraints: WindowConstraints, private readonly fromMs: number) {
    this.anchor = resolve(window);
    const zones = constraints.windowZones?.length ? constraints.windowZones : [window.timezone];
    this.rules = [...zones.map((timezone) => resolve({ ...window, timezone })), ...(constraints.guards ?? []).map(resolve)];
    this.zones = new Set([this.anchor.timeZone, ...this.rules.map((r) => r.timeZone)]);
    this.firstDay = this.day = windowDayOf(this.anchor, fromMs);
  }

  /** The next campaign day: its key, and its callable intervals when `wanted` (skipping the work for days already full). */
  next(wanted: (key: string) => boolean): { key: string; intervals: Interval[] } {
    const day = this.day++;
    const key = dayKey(day);
    if (!wanted(key)) {
      this.emptySince = null; // a day not looked at cannot vouch for the weekly pattern
      return { key, intervals: [] };
    }
    const from = Math.max(dayStart(this.anchor, day), this.fromMs);
    const to = dayStart(this.anchor, day + 1);
    let intervals: Interval[] = from < to ? [[from, to]] : [];
    for (const rule of this.rules) {
      if (intervals.length === 0) break;
      intervals = intersect(intervals, openIntervals(rule, from, to));
    }
    if (intervals.length > 0) this.emptySince = null;
    else this.noteEmpty(day);
    return { key, intervals };
  }

  /**
   * Gives up after a year of empty days, and skips ahead when a whole week was empty with no
   * offset change: every later day up to the next change repeats one of that week's days.
   * The first day is cut short by `fromMs`, so it never stands for its weekday.
   */
  private noteEmpty(day: number): void {
    if (this.emptySince === null) {
      this.emptySince = day;
      this.stableSince = day === this.firstDay ? day + 1 : day;
    }
    if (day - this.emptySince >= EMPTY_DAY_LIMIT) throw new NoCallingWindowError();
    if (day - this.stableSince < WEEK - 1) return;
    const since = dayStart(this.anchor, this.stableSince);
    const changes = [...this.zones].map((zone) => nextTransition(zone, since)).filter((t): t is number => t !== null);
    // No zone ever changes offset again: the empty week repeats forever.
    if (changes.length === 0) throw new NoCallingWindowError();
    const changeDay = windowDayOf(this.anchor, Math.min(...changes));
    this.day = Math.max(this.day, changeDay);
    this.stableSince = changeDay + 1;
  }
}

/**
 * The earliest instant at or after `afterMs` when a call may be placed: `afterMs` itself when
 * the window is open then. For the dispatcher that finds a due contact outside its window and
 * for retries pushed into a later window. Throws NoCallingWindowError when the constraints
 * never hold together.
 */
export function nextWindowOpening(window: CampaignWindow, afterMs: number, constraints: WindowConstraints = {}): number {
  const days = new CallableDays(window, constraints, afterMs);
  for (;;) {
    const { intervals } = days.next(() => true);
    if (intervals.length > 0) return intervals[0][0];
  }
}

export interface ScheduleInput extends WindowConstraints {
  /** How many slots (contacts) to place. */
  count: number;
  window: CampaignWindow;
  /** At most this many slots per campaign day (see `campaignDay`); null or absent = no cap. */
  maxCallsPerDay?: number | null;
  /** Epoch ms: `scheduled_at`, or now. No slot is earlier. */
  startAt: number;
  /**
   * Calls already placed or slotted per campaign day (`campaignDay` keys), counted against the
   * cap: lets a PATCH reschedule the unfinished contacts mid-day without overfilling today.
   */
  usedPerDay?: Readonly<Record<string, number>>;
}

/**
 * One slot (epoch ms) per contact, in contact order. Days are filled in order from the first
 * campaign day whose window is still ahead of `startAt`, each up to the cap; a day's n slots
 * sit at `open + i × length / n` across the part of its window that is still ahead (so when
 * `startAt` falls inside today's window, today starts at `startAt`). With recipient zones or
 * guards a day's callable time can be several intervals: they are laid end to end and the same
 * spacing runs over their total length. Without a cap every contact goes into the first day;
 * pacing is the dispatcher's job.
 */
export function scheduleSlots(input: ScheduleInput): number[] {
  return scheduleSlotDays(input).flatMap((day) => day.slots);
}

/** `scheduleSlots` grouped by campaign day (in order), for callers that count slots per day. */
export function scheduleSlotDays(input: ScheduleInput): { key: string; slots: number[] }[] {
  const { count, maxCallsPerDay, startAt, usedPerDay = {} } = input;
  if (!Number.isInteger(count) || count < 0) throw new RangeError("count must be a non-negative integer");
  if (maxCallsPerDay != null && (!Number.isInteger(maxCallsPerDay) || maxCallsPerDay < 1)) {
    throw new RangeError("maxCallsPerDay must be an integer ≥ 1");
  }
  if (!Number.isFinite(startAt)) throw new RangeError("startAt must be epoch milliseconds");
  const days: { key: string; slots: number[] }[] = [];
  let placed = 0;
  if (count === 0) return days;
  const roomOn = (key: string) => (maxCallsPerDay == null ? Infinity : maxCallsPerDay - (usedPerDay[key] ?? 0));
  const walk = new CallableDays(input.window, input, startAt);
  while (placed < count) {
    const { key, intervals } = walk.next((k) => roomOn(k) > 0);
    if (intervals.length === 0) continue;
    const n = Math.min(count - placed, roomOn(key));
    const total = intervals.reduce((sum, [lo, hi]) => sum + (hi - lo), 0);
    const slots: number[] = [];
    // Offsets grow with i, so one pass over the intervals maps them all; each offset is < total,
    // hence inside some interval, and i × total stays far below 2^53 for any real campaign.
    let k = 0;
    let before = 0;
    for (let i = 0; i < n; i++) {
      const offset = Math.floor((i * total) / n);
      while (offset >= before + (intervals[k][1] - intervals[k][0])) {
        before += intervals[k][1] - intervals[k][0];
        k++;
      }
      slots.push(intervals[k][0] + (offset - before));
    }
    days.push({ key, slots });
    placed += n;
  }
  return days;
}
