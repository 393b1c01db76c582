/** How the dashboard writes times, durations and money: plain, unambiguous, UTC. */

/** `2026-03-02 09:00:05 UTC`; a dash for nothing. */
export function dateTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** `1:05` for 65 seconds, `1:02:03` past an hour. */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return "—";
  const s = Math.max(0, Math.round(seconds));
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${rest}` : `${minutes}:${rest}`;
}

/** A position in a call, from milliseconds: `0:12.4`. */
export function offset(ms: number): string {
  const tenths = Math.floor((ms % 1000) / 100);
  return `${duration(Math.floor(ms / 1000))}.${tenths}`;
}

export function credits(value: number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  return `${Number(value.toFixed(4))} credits`;
}

/** snake_case enum values as words: `hangup_by_contact` → `hangup by contact`. */
export function words(value: string | null | undefined): string {
  return value ? value.replaceAll("_", " ") : "—";
}
