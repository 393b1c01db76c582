/** Counts, rates and latencies as the contacts, campaigns, webhooks and analytics pages write them (times: format.ts). */

export const formatCount = (n: number) => n.toLocaleString("en-US");

export const formatPercent = (rate: number | null) => (rate === null ? "—" : `${(rate * 100).toLocaleString("en-US", { maximumFractionDigits: 1 })}%`);

export const formatMs = (ms: number | null) => (ms === null ? "—" : `${formatCount(Math.round(ms))} ms`);

/** An id as one safe path segment of an API or page URL. */
export const seg = (id: string) => encodeURIComponent(id);
