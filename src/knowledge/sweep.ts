import { and, asc, eq, lt } from "drizzle-orm";
import { knowledgeSources } from "../db/schema";
import type { Database } from "../db/tenant";
import { failSource } from "./store";

/**
 * A source still `processing` this long after it was queued will not finish: its message was
 * lost, or the consumer (and the dead-letter consumer) died on it every time. Four attempts with
 * their back-off and a long crawl take minutes, not an hour.
 */
export const STUCK_INGESTION_MS = 60 * 60_000;
const SWEEP_LIMIT = 100;

/**
 * The cron's safety net for ingestion: a source never stays `processing` forever; it fails with
 * an error that says what to do. Guarded by the ingest token like every ingestion write, so a
 * re-ingest queued meanwhile is left alone.
 */
export async function sweepStuckIngestions(db: Database, d1: D1Database, nowMs: number): Promise<number> {
  const stuck = await db
    .select({ id: knowledgeSources.id, orgId: knowledgeSources.orgId, token: knowledgeSources.ingestToken })
    .from(knowledgeSources)
    .where(and(eq(knowledgeSources.status, "processing"), lt(knowledgeSources.updatedAt, new Date(nowMs - STUCK_INGESTION_MS).toISOString())))
    .orderBy(asc(knowledgeSources.updatedAt))
    .limit(SWEEP_LIMIT);
  const now = new Date(nowMs).toISOString();
  let failed = 0;
  for (const source of stuck) {
    const error = "Ingestion did not finish within an hour; re-ingest the source to try again";
    if (await failSource(d1, { orgId: source.orgId, sourceId: source.id, token: source.token ?? "" }, error, now)) failed++;
  }
  return failed;
}
