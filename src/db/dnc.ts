import { eq, getTableColumns, inArray, sql, type SQL } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { DncDraft, DncSource } from "../domain/dnc";
import { ApiError } from "../lib/errors";
import { newId } from "../lib/ids";
import { IMPORT_CHUNK_BYTES, JsonArrayChunks } from "./contacts";
import { contacts, dncNumbers } from "./schema";
import type { TenantDb } from "./tenant";

/**
 * Do-not-call list reads and writes, all org-scoped. Listing a number and flagging the org's
 * contacts with that number `opted_out` always go in one D1 batch: no reader ever sees a listed
 * number whose contacts are not yet flagged.
 */

export type DncRow = typeof dncNumbers.$inferSelect;

const ON_PHONE = { target: [dncNumbers.orgId, dncNumbers.phoneNumber] };

export async function findDncEntry(tenant: TenantDb, phoneNumber: string): Promise<DncRow | undefined> {
  const [row] = await tenant.findWhere(dncNumbers, eq(dncNumbers.phoneNumber, phoneNumber));
  return row;
}

/** Lists the number unless it already is; returns the new row, or nothing when it was listed. */
function insertDncEntry(tenant: TenantDb, entry: { id: string; phoneNumber: string; reason: string | null; source: DncSource; createdAt: string }) {
  return tenant.insert(dncNumbers, entry).onConflictDoNothing(ON_PHONE).returning();
}

/**
 * Flags `opted_out` every contact whose number is listed by the entries matching `newEntries`.
 * Callers name the entries by the ids they just tried to insert, so the flag follows only numbers
 * this very batch added: re-adding a listed number does not undo a deliberate `opted_out: false`.
 * Contacts already flagged keep their original `opted_out_at`.
 */
function optOutContactsOfEntries(tenant: TenantDb, newEntries: SQL, now: string) {
  const listedPhones = tenant.db.select({ phone: dncNumbers.phoneNumber }).from(dncNumbers).where(tenant.scope(dncNumbers, newEntries));
  return tenant.updateWhere(
    contacts,
    { optedOut: true, optedOutAt: now, updatedAt: now },
    eq(contacts.optedOut, false),
    inArray(contacts.phoneNumber, listedPhones),
  );
}

/**
 * The two statements that list a number under a fresh id: the entry (unless the number is
 * listed already) and the flags on its contacts. Run them in the caller's batch.
 */
export function listingStatements(tenant: TenantDb, input: { phoneNumber: string; reason: string | null; source: DncSource; nowMs: number }) {
  const id = newId(input.nowMs);
  const now = new Date(input.nowMs).toISOString();
  return [
    insertDncEntry(tenant, { id, phoneNumber: input.phoneNumber, reason: input.reason, source: input.source, createdAt: now }),
    optOutContactsOfEntries(tenant, eq(dncNumbers.id, id), now),
  ] as const;
}

/**
 * Adds one number: the entry and the contact flags in one batch. Answers the entry and whether it
 * is new; an already-listed number answers its existing entry, unchanged (adding is idempotent).
 */
export async function addDncNumber(
  tenant: TenantDb,
  input: { phoneNumber: string; reason: string | null; source: DncSource; nowMs: number },
): Promise<{ entry: DncRow; created: boolean }> {
  // A listed number deleted between the insert and the read of its entry lost a race with that
  // delete; one more try settles it either way.
  for (let attempt = 0; attempt < 2; attempt++) {
    const [inserted] = await tenant.batch([...listingStatements(tenant, input)]);
    if (inserted[0]) return { entry: inserted[0], created: true };
    const existing = await findDncEntry(tenant, input.phoneNumber);
    if (existing) return { entry: existing, created: false };
  }
  throw new ApiError("conflict", `${input.phoneNumber} was being removed from the do-not-call list at the same time; retry the request`);
}

// ---------------------------------------------------------------------------------------------
// CSV import

/** An import's entries as compact JSON arrays `[id, phone, reason]`, chunked as the contact import's rows are. */
export class DncImportRows {
  private readonly chunks: JsonArrayChunks;

  constructor(
    private readonly nowMs: number,
    chunkBytes = IMPORT_CHUNK_BYTES,
  ) {
    this.chunks = new JsonArrayChunks(chunkBytes);
  }

  add(draft: DncDraft): void {
    this.chunks.push([newId(this.nowMs), draft.phoneNumber, draft.reason]);
  }

  done(): { chunks: string[]; count: number } {
    return { chunks: this.chunks.done(), count: this.chunks.count };
  }
}

function insertChunkStatement(tenant: TenantDb, json: string, now: string) {
  // Typed as a full record, so a column added to the table cannot be forgotten here.
  const selected: Record<keyof DncRow, SQL> = {
    id: sql.raw("value ->> 0"),
    orgId: sql`${tenant.orgId}`,
    phoneNumber: sql.raw("value ->> 1"),
    reason: sql.raw("value ->> 2"),
    source: sql`${"import" satisfies DncSource}`,
    createdAt: sql`${now}`,
  };
  const columns = Object.keys(getTableColumns(dncNumbers)) as (keyof DncRow)[];
  // `where true` is SQLite's required disambiguation between an upsert's ON and a join's ON.
  return tenant.db
    .insert(dncNumbers)
    .select(sql`select ${sql.join(columns.map((column) => selected[column]), sql`, `)} from json_each(${json}) where true`)
    .onConflictDoNothing(ON_PHONE);
}

/**
 * Lists an import's numbers and flags their contacts as one D1 batch, i.e. one transaction: every
 * entry lands or none does. Numbers already listed are left as they are (`ON CONFLICT DO
 * NOTHING`; the change counts tell how many were new) and their contacts are not touched.
 */
export async function writeDncImport(tenant: TenantDb, rows: { chunks: string[]; count: number }, nowMs: number): Promise<{ imported: number; skipped: number }> {
  if (rows.chunks.length === 0) return { imported: 0, skipped: 0 };
  const now = new Date(nowMs).toISOString();
  const inserts = rows.chunks.map((json) => insertChunkStatement(tenant, json, now));
  const flags = rows.chunks.map((json) =>
    optOutContactsOfEntries(tenant, sql`${dncNumbers.id} in (select value ->> 0 from json_each(${json}))`, now),
  );
  const statements = [...inserts, ...flags] as BatchItem<"sqlite">[];
  const results = (await tenant.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]])) as D1Result[];
  const imported = results.slice(0, inserts.length).reduce((sum, r) => sum + (r.meta?.changes ?? 0), 0);
  return { imported, skipped: rows.count - imported };
}
