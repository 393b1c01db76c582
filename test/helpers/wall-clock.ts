import type { CampaignWindow } from "../../src/domain/campaign-schedule";

/**
 * A test oracle for local wall-clock time built on Intl.formatToParts, deliberately not on the
 * Temporal polyfill the code under test uses, so the two cannot share a mistake.
 */

const formats = new Map<string, Intl.DateTimeFormat>();
const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

export interface WallClock {
  /** `YYYY-MM-DD` */
  date: string;
  /** ISO weekday, 1 = Monday */
  weekday: number;
  /** Minutes after local midnight */
  minutes: number;
  /** `HH:MM` */
  hhmm: string;
}

export function wallClock(ms: number, timeZone: string): WallClock {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      weekday: "short",
    });
    formats.set(timeZone, format);
  }
  const p = Object.fromEntries(format.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return {
    date: `${p.year}-${p.month}-${p.day}`,
    weekday: WEEKDAYS.indexOf(p.weekday) + 1,
    minutes: Number(p.hour) * 60 + Number(p.minute),
    hhmm: `${p.hour}:${p.minute}`,
  };
}

const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));

/** Whether the wall clock at `ms` (in `timeZone`, default the window's) reads inside the window's HH:MM and working days. */
export function wallClockInWindow(window: CampaignWindow, ms: number, timeZone = window.timezone): boolean {
  const { weekday, minutes } = wallClock(ms, timeZone);
  const start = window.startTime == null ? 0 : toMinutes(window.startTime);
  const end = window.endTime == null ? 1440 : toMinutes(window.endTime);
  const works = (day: number) => window.workingDays.includes(day);
  if (start === end) return works(weekday);
  if (start < end) return works(weekday) && minutes >= start && minutes < end;
  const yesterday = ((weekday + 5) % 7) + 1;
  return (works(weekday) && minutes >= start) || (works(yesterday) && minutes < end);
}
