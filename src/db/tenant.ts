import { and, count, eq, isNull, or, type SQL } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { drizzle, type DrizzleD1Database } from "drizzle-orm/d1";
import type { SQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";
import { notFound } from "../lib/errors";
import * as schema from "./schema";

export type Database = DrizzleD1Database<typeof schema>;

/**
 * One drizzle instance per D1 binding for the isolate's life: building one walks the whole schema
 * (its relational config), which bench/load's CPU profile showed on every request and alarm.
 */
const databases = new WeakMap<D1Database, Database>();

export function openDatabase(d1: D1Database): Database {
  let db = databases.get(d1);
  if (!db) databases.set(d1, (db = drizzle(d1, { schema })));
  return db;
}

/** Any table that belongs to an organization. */
export type TenantTable = SQLiteTable & { id: SQLiteColumn; orgId: SQLiteColumn };
type Row<T extends TenantTable> = T["$inferSelect"];
type NewRow<T extends TenantTable> = Omit<T["$inferInsert"], "orgId">;
/** Column values for an update; a `sql` expression may compute one from the row (`attempt_count + 1`). */
type RowChanges<T extends TenantTable> = { [K in keyof NewRow<T>]?: NewRow<T>[K] | SQL };

export interface ListOptions {
  where?: (SQL | undefined)[];
  orderBy?: SQL | SQL[];
  limit: number;
  offset: number;
}

/**
 * The one door to tenant data. Built once per request from the authenticated API key (or, in
 * background work, from the org id stored on the row being processed), it adds `org_id = ?` to
 * every statement, so no handler can read or change another organization's rows by forgetting a
 * condition. Another org's id simply does not exist here, which is why the API answers 404.
 *
 * Writes return un-executed statements so callers can group them in one atomic `batch`.
 */
export class TenantDb {
  constructor(
    readonly db: Database,
    readonly orgId: string,
  ) {}

  /** `org_id = ?` plus the caller's conditions. */
  scope<T extends TenantTable>(table: T, ...conditions: (SQL | undefined)[]): SQL {
    return and(eq(table.orgId, this.orgId), ...conditions) as SQL;
  }

  /** Like `scope`, but also admits platform rows (`org_id IS NULL`), e.g. the voice catalogue. */
  scopeWithShared<T extends TenantTable>(table: T, ...conditions: (SQL | undefined)[]): SQL {
    return and(or(eq(table.orgId, this.orgId), isNull(table.orgId)), ...conditions) as SQL;
  }

  async find<T extends TenantTable>(table: T, id: string, options: { shared?: boolean } = {}): Promise<Row<T> | undefined> {
    const where = options.shared ? this.scopeWithShared(table, eq(table.id, id)) : this.scope(table, eq(table.id, id));
    const rows = (await this.db.select().from(table as SQLiteTable).where(where).limit(1)) as Row<T>[];
    return rows[0];
  }

  /** `find` that turns absence into the API's 404, naming the resource. */
  async get<T extends TenantTable>(table: T, id: string, resource: string, options: { shared?: boolean } = {}): Promise<Row<T>> {
    const row = await this.find(table, id, options);
    if (!row) throw notFound(resource, id);
    return row;
  }

  async findWhere<T extends TenantTable>(table: T, ...conditions: (SQL | undefined)[]): Promise<Row<T>[]> {
    return (await this.db.select().from(table as SQLiteTable).where(this.scope(table, ...conditions))) as Row<T>[];
  }

  async count<T extends TenantTable>(table: T, ...conditions: (SQL | undefined)[]): Promise<number> {
    const [row] = await this.db.select({ n: count() }).from(table as SQLiteTable).where(this.scope(table, ...conditions));
    return row?.n ?? 0;
  }

  /** One page plus the total, in a single D1 round trip. */
  async list<T extends TenantTable>(
    table: T,
    options: ListOptions & { shared?: boolean },
  ): Promise<{ rows: Row<T>[]; total: number }> {
    const where = options.shared
      ? this.scopeWithShared(table, ...(options.where ?? []))
      : this.scope(table, ...(options.where ?? []));
    const orderBy = options.orderBy === undefined ? [] : Array.isArray(options.orderBy) ? options.orderBy : [options.orderBy];
    const [rows, totals] = await this.db.batch([
      this.db
        .select()
        .from(table as SQLiteTable)
        .where(where)
        .orderBy(...orderBy)
        .limit(options.limit)
        .offset(options.offset),
      this.db.select({ n: count() }).from(table as SQLiteTable).where(where),
    ]);
    return { rows: rows as Row<T>[], total: totals[0]?.n ?? 0 };
  }

  insert<T extends TenantTable>(table: T, values: NewRow<T> | NewRow<T>[]) {
    const withOrg = (Array.isArray(values) ? values : [values]).map((v) => ({ ...v, orgId: this.orgId }));
    return this.db.insert(table).values(withOrg as T["$inferInsert"][]);
  }

  update<T extends TenantTable>(table: T, id: string, values: RowChanges<T>) {
    return this.updateWhere(table, values, eq(table.id, id));
  }

  updateWhere<T extends TenantTable>(table: T, values: RowChanges<T>, ...conditions: (SQL | undefined)[]) {
    const { orgId: _ignored, ...safe } = values as Record<string, unknown>;
    return this.db
      .update(table)
      .set(safe as Partial<T["$inferInsert"]>)
      .where(this.scope(table, ...conditions));
  }

  delete<T extends TenantTable>(table: T, id: string) {
    return this.deleteWhere(table, eq(table.id, id));
  }

  deleteWhere<T extends TenantTable>(table: T, ...conditions: (SQL | undefined)[]) {
    return this.db.delete(table).where(this.scope(table, ...conditions));
  }

  /** Runs a list of writes as one D1 transaction, when their results are not needed. */
  async commit(statements: BatchItem<"sqlite">[]): Promise<void> {
    if (statements.length === 0) return;
    await this.db.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
  }

  /** Runs the statements as one D1 transaction: all or nothing. */
  batch<U extends BatchItem<"sqlite">, R extends [U, ...U[]]>(statements: R) {
    return this.db.batch(statements);
  }
}
