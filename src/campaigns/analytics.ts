/**
 * A campaign's funnel and daily activity, counted in the CampaignDO's own SQLite from its
 * `contacts` and `attempts` rows (src/campaigns/contact-store.ts), for GET /analytics/campaigns/{id}.
 *
 * An attempt was answered when its call connected: it is (or was last seen) `in_progress`, it
 * ended `completed` (only an answered call can; a machine answering counts), or it billed
 * seconds (a call that failed after the answer).
 */

const ANSWERED = "(call_status IN ('in_progress', 'completed') OR duration_seconds > 0)";

export interface CampaignFunnelCounts {
  /** Contacts in the campaign. */
  scheduled: number;
  /** Contacts with at least one attempt. */
  dialled: number;
  /** Contacts with an answered attempt. */
  answered: number;
  /** Per bucket index: the attempts dialled in it, those answered, and their cost. */
  days: { bucket: number; dialled: number; answered: number; cost: number }[];
}

/** `bounds` is a JSON array of `[startMs, endMs)` pairs, bucketed by the attempt's dial instant. */
export function campaignFunnel(sql: SqlStorage, bounds: string): CampaignFunnelCounts {
  const funnel = sql
    .exec<{ scheduled: number; dialled: number; answered: number }>(
      `SELECT (SELECT count(*) FROM contacts) AS scheduled,
              (SELECT count(DISTINCT contact_seq) FROM attempts) AS dialled,
              (SELECT count(DISTINCT contact_seq) FROM attempts WHERE ${ANSWERED}) AS answered`,
    )
    .one();
  // Buckets outermost: each is a range seek on the attempts' dial-time index.
  const days = sql
    .exec<{ bucket: number; dialled: number; answered: number; cost: number }>(
      `SELECT b.bucket, count(*) AS dialled, count(CASE WHEN ${ANSWERED} THEN 1 END) AS answered, total(a.cost_credits) AS cost
       FROM (SELECT key AS bucket, value ->> 0 AS lo, value ->> 1 AS hi FROM json_each(?)) AS b
         CROSS JOIN attempts AS a ON a.dialed_at >= b.lo AND a.dialed_at < b.hi
       GROUP BY b.bucket`,
      bounds,
    )
    .toArray();
  return { ...funnel, days };
}
