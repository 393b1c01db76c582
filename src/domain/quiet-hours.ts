import { isWithinWindow, windowProblems, type CampaignWindow } from "./campaign-schedule";

/**
 * The platform's quiet-hours guard: calls only between 08:00 and 21:00 in the called person's
 * local time, every day (47 CFR 64.1200(c)(1), the TSR and Reg F all use 8 a.m.–9 p.m.;
 * reliability.md §5.1). It is applied on top of the campaign window, never instead of it, so no
 * campaign setting can widen it.
 */

export const QUIET_HOURS_START = "08:00";
export const QUIET_HOURS_END = "21:00";
const START_MIN = 8 * 60;
const END_MIN = 21 * 60;
const EVERY_DAY = [1, 2, 3, 4, 5, 6, 7] as const;

/**
 * The guard as one window per zone, to pass as `guards` to `scheduleSlots` and
 * `nextWindowOpening` so slots already respect it in each zone the recipient may be in.
 */
export function quietHoursWindows(zones: readonly string[]): CampaignWindow[] {
  return zones.map((timezone) => ({ timezone, startTime: QUIET_HOURS_START, endTime: QUIET_HOURS_END, workingDays: EVERY_DAY }));
}

/**
 * True only when local time is in [08:00, 21:00) in every zone. An empty list is never within:
 * an unknown zone cannot be shown to be compliant, so the caller passes the campaign's zone.
 */
export function withinQuietHoursGuard(zones: readonly string[], atMs: number): boolean {
  return zones.length > 0 && quietHoursWindows(zones).every((w) => isWithinWindow(w, atMs));
}

function minutes(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

function hhmm(min: number): string {
  return `${String(Math.floor(min / 60)).padStart(2, "0")}:${String(min % 60).padStart(2, "0")}`;
}

/**
 * The campaign window intersected with 08:00–21:00 on the same wall clock, for showing the
 * effective window and refusing one that can never call ([] = nothing left).
 *
 * A window that crosses midnight covers two stretches, the evening of the day it starts and
 * the morning after, and 08:00–21:00 can cut it into both: 19:00–10:00 becomes 19:00–21:00 on
 * its working days plus 08:00–10:00 on the day after each working day (the morning still
 * belongs to the evening before, so its weekdays shift by one). Hence up to two windows, in
 * that order. An all-day window becomes 08:00–21:00.
 *
 * This clamps in the window's own zone; the guard proper is in the recipient's zone, which is
 * what `quietHoursWindows` gives the scheduler.
 */
export function clampWindow(window: CampaignWindow): CampaignWindow[] {
  const problems = windowProblems(window);
  if (problems.length > 0) throw new RangeError(`Invalid campaign window: ${problems.join("; ")}`);
  const start = window.startTime == null ? 0 : minutes(window.startTime);
  const end = window.endTime == null ? 24 * 60 : minutes(window.endTime);
  const piece = (from: number, to: number, workingDays = window.workingDays): CampaignWindow => ({
    ...window,
    startTime: hhmm(from),
    endTime: hhmm(to),
    workingDays,
  });
  if (start === end) return [piece(START_MIN, END_MIN)];
  if (start < end) {
    const from = Math.max(start, START_MIN);
    const to = Math.min(end, END_MIN);
    return from < to ? [piece(from, to)] : [];
  }
  const pieces: CampaignWindow[] = [];
  if (start < END_MIN) pieces.push(piece(Math.max(start, START_MIN), END_MIN));
  if (end > START_MIN) {
    const nextDays = [...new Set(window.workingDays.map((d) => (d % 7) + 1))].sort((a, b) => a - b);
    pieces.push(piece(START_MIN, Math.min(end, END_MIN), nextDays));
  }
  return pieces;
}
