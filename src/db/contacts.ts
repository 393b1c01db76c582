import { asc, desc, eq, getTableColumns, sql, type SQL } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { ContactDraft } from "../domain/contacts";
import { newId } from "../lib/ids";
import { contactFolders, contacts, dncNumbers } from "./schema";
import type { TenantDb } from "./tenant";

/** Contact and folder queries that TenantDb's generic methods cannot express; all org-scoped. */

export type FolderRow = typeof contactFolders.$inferSelect;
export type FolderWithCount = FolderRow & { contactCount: number };
export type ContactRow = typeof contacts.$inferSelect;

export const FOLDER_SORTS = ["name", "created_at", "contact_count"] as const;
export type FolderSort = (typeof FOLDER_SORTS)[number];

/**
 * A correlated count per folder row, answered from the (org_id, folder_id, phone_number) index,
 * so a page of folders costs one query however many folders it holds.
 */
function contactCount(tenant: TenantDb): SQL<number> {
  return sql<number>`(select count(*) from ${contacts} where ${tenant.scope(contacts, eq(contacts.folderId, contactFolders.id))})`.mapWith(
    Number,
  );
}

function selectFoldersWithCount(tenant: TenantDb) {
  return tenant.db.select({ ...getTableColumns(contactFolders), contactCount: contactCount(tenant) }).from(contactFolders);
}

export async function listFolders(
  tenant: TenantDb,
  options: { sortBy: FolderSort; order: "asc" | "desc"; limit: number; offset: number },
): Promise<{ rows: FolderWithCount[]; total: number }> {
  const direction = options.order === "asc" ? asc : desc;
  const sortKey = {
    name: sql`${contactFolders.name} collate nocase`,
    created_at: contactFolders.createdAt,
    contact_count: contactCount(tenant),
  }[options.sortBy];
  const where = tenant.scope(contactFolders);
  const [rows, totals] = await tenant.batch([
    selectFoldersWithCount(tenant)
      .where(where)
      // rowid (insertion order) breaks ties, e.g. folders created in the same millisecond.
      .orderBy(direction(sortKey), direction(sql`rowid`))
      .limit(options.limit)
      .offset(options.offset),
    tenant.db.select({ n: sql<number>`count(*)`.mapWith(Number) }).from(contactFolders).where(where),
  ]);
  return { rows, total: totals[0]?.n ?? 0 };
}

export async function findFolderWithCount(tenant: TenantDb, id: string): Promise<FolderWithCount | undefined> {
  const [row] = await selectFoldersWithCount(tenant).where(tenant.scope(contactFolders, eq(contactFolders.id, id))).limit(1);
  return row;
}

/**
 * The org's default folder, created on first use. Two requests may both find none; the partial
 * unique index (one `is_default` folder per org) lets exactly one insert win and the other's
 * `ON CONFLICT DO NOTHING` fall through to reading the winner's row.
 */
export async function ensureDefaultFolder(tenant: TenantDb, nowMs: number): Promise<FolderRow> {
  const isDefault = eq(contactFolders.isDefault, true);
  const [existing] = await tenant.findWhere(contactFolders, isDefault);
  if (existing) return existing;
  const now = new Date(nowMs).toISOString();
  await tenant
    .insert(contactFolders, {
      id: newId(nowMs),
      name: "Default",
      description: "Contacts added without a folder",
      isDefault: true,
      createdAt: now,
      updatedAt: now,
    })
    .onConflictDoNothing();
  const [created] = await tenant.findWhere(contactFolders, isDefault);
  return created;
}

/** D1 reports constraint failures only in error messages, which drizzle may wrap in its own error. */
export function constraintFailure(error: unknown): "unique" | "foreign_key" | undefined {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (e.message.includes("UNIQUE constraint failed")) return "unique";
    if (e.message.includes("FOREIGN KEY constraint failed")) return "foreign_key";
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Bulk import

/**
 * D1 caps a statement at 100 bound parameters, which would allow only 5 contacts per multi-row
 * INSERT (19 columns) and 20,000 statements for a 100,000-row file: far past the 1,000 queries a
 * Worker invocation may make. Instead each statement binds one JSON array of rows and expands it
 * with `json_each`, so a statement carries as many rows as fit in this many bytes. D1 caps a
 * string value at 2 MB; 1 MB leaves room for multi-byte text. A 100,000-row file of typical
 * contacts (about 5,900 rows per statement) becomes 17 statements and the 200,000-row cap 34, all
 * sent in one batch, i.e. one transaction, well inside the 1,000 queries and D1's 30 s per query.
 * Measured locally (wrangler 4.86): one batch took 1,000,000 such rows (171 statements) in 35 s
 * and the capped 200,000 in 4.4 s, so the local runtime is not what bounds the design; the
 * production limits above are.
 */
export const IMPORT_CHUNK_BYTES = 1_000_000;

/** The fields each row carries in its JSON array, read back by the INSERT as `value ->> index`. */
const ROW_FIELDS = [
  "id",
  "phoneNumber",
  "firstName",
  "lastName",
  "email",
  "companyName",
  "industry",
  "location",
  "pinCode",
  "keywords",
  "timezone",
  "customFields",
] as const satisfies readonly (keyof ContactRow)[];
const PHONE_INDEX = ROW_FIELDS.indexOf("phoneNumber");

/** Fields an `overwrite_existing` import may change; an empty cell keeps the stored value. */
const OVERWRITTEN_FIELDS = [
  "firstName",
  "lastName",
  "email",
  "companyName",
  "industry",
  "location",
  "pinCode",
  "keywords",
  "timezone",
] as const satisfies readonly (keyof ContactRow)[];

const encoder = new TextEncoder();
const utf8Length = (text: string) => (/^[\x00-\x7f]*$/.test(text) ? text.length : encoder.encode(text).length);

/** Builds JSON arrays of at most `maxBytes` each (a larger item gets an array of its own), one item at a time. */
export class JsonArrayChunks {
  private readonly chunks: string[] = [];
  private parts: string[] = [];
  private bytes = 2;
  private items = 0;

  constructor(private readonly maxBytes: number) {}

  get count(): number {
    return this.items;
  }

  push(item: unknown): void {
    const json = JSON.stringify(item);
    const size = utf8Length(json) + 1;
    if (this.parts.length > 0 && this.bytes + size > this.maxBytes) this.flush();
    this.parts.push(json);
    this.bytes += size;
    this.items++;
  }

  done(): string[] {
    if (this.parts.length > 0) this.flush();
    return this.chunks;
  }

  private flush() {
    this.chunks.push(`[${this.parts.join(",")}]`);
    this.parts = [];
    this.bytes = 2;
  }
}

/**
 * An import's contacts, encoded for the INSERT as they are read: a row costs its JSON text (about
 * 150 bytes) instead of an object of a dozen properties, which keeps a 200,000-row import well
 * inside a Worker's memory.
 */
export class ImportRows {
  private readonly chunks: JsonArrayChunks;

  constructor(
    private readonly nowMs: number,
    chunkBytes = IMPORT_CHUNK_BYTES,
  ) {
    this.chunks = new JsonArrayChunks(chunkBytes);
  }

  add(draft: ContactDraft): void {
    this.chunks.push(ROW_FIELDS.map((field) => (field === "id" ? newId(this.nowMs) : draft[field])));
  }

  done(): { chunks: string[]; count: number } {
    return { chunks: this.chunks.done(), count: this.chunks.count };
  }
}

/** Whether the row's phone is on the org's do-not-call list (its unique index answers it). */
function onDncList(tenant: TenantDb, phone: SQL): SQL {
  return sql`exists ${tenant.db.select({ one: sql`1` }).from(dncNumbers).where(tenant.scope(dncNumbers, eq(dncNumbers.phoneNumber, phone)))}`;
}

function insertRowsStatement(tenant: TenantDb, folderId: string, now: string, json: string, overwrite: boolean) {
  const fromRow = Object.fromEntries(ROW_FIELDS.map((field, i) => [field, sql.raw(`value ->> ${i}`)])) as Record<
    (typeof ROW_FIELDS)[number],
    SQL
  >;
  // Typed as a full record, so a column added to the table cannot be forgotten here.
  const selected: Record<keyof ContactRow, SQL> = {
    ...fromRow,
    orgId: sql`${tenant.orgId}`,
    folderId: sql`${folderId}`,
    callCount: sql`0`,
    lastCalledAt: sql`null`,
    lastCallOutcome: sql`null`,
    // A number already on the do-not-call list brings its contact in opted out, as listing it would have.
    optedOut: onDncList(tenant, fromRow.phoneNumber),
    optedOutAt: sql`case when ${onDncList(tenant, fromRow.phoneNumber)} then ${now} end`,
    createdAt: sql`${now}`,
    updatedAt: sql`${now}`,
  };
  const columns = Object.keys(getTableColumns(contacts)) as (keyof ContactRow)[];
  // `where true` is SQLite's required disambiguation between an upsert's ON and a join's ON.
  const insert = tenant.db.insert(contacts).select(
    sql`select ${sql.join(
      columns.map((column) => selected[column]),
      sql`, `,
    )} from json_each(${json}) where true`,
  );
  const target = [contacts.orgId, contacts.folderId, contacts.phoneNumber];
  if (!overwrite) return insert.onConflictDoNothing({ target });
  const excluded = (field: keyof ContactRow) => sql.raw(`excluded.${JSON.stringify(contacts[field].name)}`);
  return insert.onConflictDoUpdate({
    target,
    set: {
      ...Object.fromEntries(OVERWRITTEN_FIELDS.map((field) => [field, sql`coalesce(${excluded(field)}, ${contacts[field]})`])),
      customFields: sql`json_patch(${contacts.customFields}, ${excluded("customFields")})`,
      updatedAt: sql`${excluded("updatedAt")}`,
    },
    setWhere: tenant.scope(contacts),
  });
}

/** How many of a chunk's phones the folder already holds (the unique index answers it). */
function countExistingStatement(tenant: TenantDb, folderId: string, json: string) {
  return tenant.db
    .select({ n: sql<number>`count(*)`.mapWith(Number) })
    .from(contacts)
    .where(
      tenant.scope(
        contacts,
        eq(contacts.folderId, folderId),
        sql`${contacts.phoneNumber} in (select value ->> ${sql.raw(String(PHONE_INDEX))} from json_each(${json}))`,
      ),
    );
}

export interface ImportWrite {
  imported: number;
  updated: number;
  /** Already in the folder, without `overwrite`. */
  skipped: number;
}

/**
 * Writes an import's rows into a folder as one D1 batch, which D1 runs as one transaction: either
 * every row lands or, on any failure, none does. A phone the folder already holds is left alone
 * (`ON CONFLICT DO NOTHING`; the statements' change counts tell how many were new) or, with
 * `overwrite`, updated in place with its id, call history and creation time kept; the counts of
 * existing phones then run first in the same transaction, so `updated` is exact even under
 * concurrent writes.
 */
export async function writeImportedContacts(
  tenant: TenantDb,
  input: { folderId: string; rows: { chunks: string[]; count: number }; overwrite: boolean; nowMs: number },
): Promise<ImportWrite> {
  const { folderId, rows, overwrite } = input;
  if (rows.chunks.length === 0) return { imported: 0, updated: 0, skipped: 0 };
  const now = new Date(input.nowMs).toISOString();
  const counts = overwrite ? rows.chunks.map((json) => countExistingStatement(tenant, folderId, json)) : [];
  const inserts = rows.chunks.map((json) => insertRowsStatement(tenant, folderId, now, json, overwrite));
  const statements = [...counts, ...inserts] as BatchItem<"sqlite">[];
  const results = await tenant.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);

  if (overwrite) {
    const updated = (results.slice(0, counts.length) as { n: number }[][]).reduce((sum, [row]) => sum + (row?.n ?? 0), 0);
    return { imported: rows.count - updated, updated, skipped: 0 };
  }
  const imported = (results as D1Result[]).reduce((sum, r) => sum + (r.meta?.changes ?? 0), 0);
  return { imported, updated: 0, skipped: rows.count - imported };
}
