// Recipient cities for the campaign benchmarks (bench/campaign, bench/load): the simulator dials
// numbers of one city, and the platform's quiet hours (08:00–21:00 in the recipient's zone) decide
// when it may, so a benchmark picks a city where it is now inside that day.
export const CITIES = [
  { zone: "America/New_York", phone: (i) => `+1212${2_000_000 + i}` },
  { zone: "America/Los_Angeles", phone: (i) => `+1415${2_000_000 + i}` },
  { zone: "America/Sao_Paulo", phone: (i) => `+5511${30_000_000 + i}` },
  { zone: "Europe/London", phone: (i) => `+44207${1_000_000 + i}` },
  { zone: "Europe/Paris", phone: (i) => `+331${42_000_000 + i}` },
  { zone: "Asia/Kolkata", phone: (i) => `+9198${20_000_000 + i}` },
  { zone: "Asia/Tokyo", phone: (i) => `+813${50_000_000 + i}` },
  { zone: "Australia/Sydney", phone: (i) => `+612${91_000_000 + i}` },
];

export const localHour = (zone, at = new Date()) => Number(new Intl.DateTimeFormat("en-GB", { timeZone: zone, hour: "numeric", hourCycle: "h23" }).format(at));

/** Minutes since local midnight in `zone` at `at`. */
export function localMinutes(zone, at = new Date()) {
  const parts = new Intl.DateTimeFormat("en-GB", { timeZone: zone, hour: "numeric", minute: "numeric", hourCycle: "h23" }).formatToParts(at);
  const part = (type) => Number(parts.find((p) => p.type === type).value);
  return part("hour") * 60 + part("minute");
}
