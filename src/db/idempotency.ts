import { and, eq, lt, or } from "drizzle-orm";
import { idempotencyKeys } from "./schema";
import type { Database } from "./tenant";

export type IdempotencyRow = typeof idempotencyKeys.$inferSelect;

/** Stored responses are kept this long; the cron sweep deletes older rows. */
export const IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60 * 1000;
/** A first request that has not finished within this time is presumed crashed and may be taken over. */
export const IDEMPOTENCY_LOCK_MS = 60_000;

const keyOf = (orgId: string, route: string, key: string) =>
  and(eq(idempotencyKeys.orgId, orgId), eq(idempotencyKeys.route, route), eq(idempotencyKeys.key, key));

/**
 * Claims the key for this request. Returns `claimed` when the caller should run the handler,
 * otherwise the row already held by an earlier request.
 */
export async function claimIdempotencyKey(
  db: Database,
  claim: { orgId: string; route: string; key: string; requestHash: string; now: number },
): Promise<{ claimed: true } | { claimed: false; existing: IdempotencyRow }> {
  const fresh = {
    ...claim,
    state: "in_progress" as const,
    lockedUntil: claim.now + IDEMPOTENCY_LOCK_MS,
    createdAt: claim.now,
    responseStatus: null,
    responseBody: null,
  };
  const inserted = await db.insert(idempotencyKeys).values(fresh).onConflictDoNothing().returning({ key: idempotencyKeys.key });
  if (inserted.length) return { claimed: true };

  // Expired rows, and in-flight rows whose holder crashed, are taken over atomically.
  const takenOver = await db
    .update(idempotencyKeys)
    .set(fresh)
    .where(
      and(
        keyOf(claim.orgId, claim.route, claim.key),
        or(
          lt(idempotencyKeys.createdAt, claim.now - IDEMPOTENCY_RETENTION_MS),
          and(eq(idempotencyKeys.state, "in_progress"), eq(idempotencyKeys.requestHash, claim.requestHash), lt(idempotencyKeys.lockedUntil, claim.now)),
        ),
      ),
    )
    .returning({ key: idempotencyKeys.key });
  if (takenOver.length) return { claimed: true };

  const [existing] = await db.select().from(idempotencyKeys).where(keyOf(claim.orgId, claim.route, claim.key)).limit(1);
  // Deleted between our insert and select (its first request failed): let this one run.
  if (!existing) return claimIdempotencyKey(db, claim);
  return { claimed: false, existing };
}

export function completeIdempotencyKey(db: Database, orgId: string, route: string, key: string, status: number, body: string) {
  return db
    .update(idempotencyKeys)
    .set({ state: "done", responseStatus: status, responseBody: body })
    .where(keyOf(orgId, route, key));
}

/** A request that did not succeed stores nothing, so the client can safely retry with the same key. */
export function releaseIdempotencyKey(db: Database, orgId: string, route: string, key: string) {
  return db.delete(idempotencyKeys).where(keyOf(orgId, route, key));
}

export function purgeExpiredIdempotencyKeys(db: Database, now: number) {
  return db.delete(idempotencyKeys).where(lt(idempotencyKeys.createdAt, now - IDEMPOTENCY_RETENTION_MS));
}
