import { and, desc, eq, isNull } from "drizzle-orm";
import type { Clock } from "../lib/clock";
import { randomAlphanumeric, sha256Hex } from "../lib/crypto";
import { newId } from "../lib/ids";
import { apiKeys, organizations } from "./schema";
import type { Database } from "./tenant";

/**
 * Platform-level data: organizations and their API keys. These are the only queries that are not
 * org-scoped, because they are what establishes the org in the first place.
 */

export const API_KEY_PREFIX = "truedy_";

export type OrganizationRow = typeof organizations.$inferSelect;
export type ApiKeyRow = typeof apiKeys.$inferSelect;

export function generateApiKey(): string {
  return API_KEY_PREFIX + randomAlphanumeric(32);
}

export function apiKeyView(row: ApiKeyRow) {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    last4: row.last4,
    created_at: row.createdAt,
    last_used_at: row.lastUsedAt,
    revoked_at: row.revokedAt,
  };
}

export async function createOrganization(db: Database, clock: Clock, name: string) {
  const now = new Date(clock.now()).toISOString();
  const org: OrganizationRow = {
    id: newId(clock.now()),
    name,
    rateLimitPerMinute: null,
    maxConcurrentCalls: 10,
    createdAt: now,
    updatedAt: now,
  };
  const key = await prepareApiKey(clock, org.id, "Default key");
  await db.batch([db.insert(organizations).values(org), db.insert(apiKeys).values(key.row)]);
  return { org, apiKey: key.plaintext, apiKeyRow: key.row };
}

async function prepareApiKey(clock: Clock, orgId: string, name: string) {
  const plaintext = generateApiKey();
  const row: ApiKeyRow = {
    id: newId(clock.now()),
    orgId,
    name,
    keyHash: await sha256Hex(plaintext),
    prefix: plaintext.slice(0, API_KEY_PREFIX.length + 4),
    last4: plaintext.slice(-4),
    lastUsedAt: null,
    revokedAt: null,
    createdAt: new Date(clock.now()).toISOString(),
  };
  return { plaintext, row };
}

export async function issueApiKey(db: Database, clock: Clock, orgId: string, name: string) {
  const key = await prepareApiKey(clock, orgId, name);
  await db.insert(apiKeys).values(key.row);
  return key;
}

export async function findOrganization(db: Database, id: string) {
  return db.query.organizations.findFirst({ where: eq(organizations.id, id) });
}

/** Resolves a presented key to its org; revoked keys and unknown keys both resolve to nothing. */
export async function authenticateApiKey(db: Database, plaintext: string) {
  const keyHash = await sha256Hex(plaintext);
  const [row] = await db
    .select({ apiKeyId: apiKeys.id, orgId: apiKeys.orgId, lastUsedAt: apiKeys.lastUsedAt, rateLimitPerMinute: organizations.rateLimitPerMinute })
    .from(apiKeys)
    .innerJoin(organizations, eq(organizations.id, apiKeys.orgId))
    .where(and(eq(apiKeys.keyHash, keyHash), isNull(apiKeys.revokedAt)))
    .limit(1);
  return row;
}

export function touchApiKey(db: Database, apiKeyId: string, at: string) {
  return db.update(apiKeys).set({ lastUsedAt: at }).where(eq(apiKeys.id, apiKeyId));
}

export function listApiKeys(db: Database, orgId: string) {
  return db.select().from(apiKeys).where(eq(apiKeys.orgId, orgId)).orderBy(desc(apiKeys.createdAt));
}

export async function findApiKey(db: Database, orgId: string, id: string) {
  const [row] = await db.select().from(apiKeys).where(and(eq(apiKeys.orgId, orgId), eq(apiKeys.id, id))).limit(1);
  return row;
}

/** Revocation takes effect on the very next request: keys are looked up in D1 every time, never cached. */
export async function revokeApiKey(db: Database, clock: Clock, orgId: string, id: string) {
  const at = new Date(clock.now()).toISOString();
  const [row] = await db
    .update(apiKeys)
    .set({ revokedAt: at })
    .where(and(eq(apiKeys.orgId, orgId), eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
    .returning();
  return row ?? (await findApiKey(db, orgId, id));
}
