import { and, asc, eq, gt, inArray, or } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { agents, contacts, dncNumbers, organizations, phoneNumbers } from "../db/schema";
import type { TenantDb } from "../db/tenant";
import type { PoolNumber } from "../domain/campaigns";
import type { NewCampaignContact } from "./contact-store";

/**
 * What a CampaignDO reads from D1: the facts that must be fresh at the moment of dialling (agent
 * still active, org limit, do-not-call list and opted-out contacts) in one round trip,
 * the caller-ID pool, and the contacts of a folder or of a list of ids.
 */

type AgentRow = typeof agents.$inferSelect;

/** D1 takes at most 100 bound parameters per statement; the org id takes one more. */
const IN_CHUNK = 90;

function chunks<T>(items: readonly T[], size = IN_CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export interface DialFacts {
  agent: AgentRow | undefined;
  orgCallLimit: number;
  onDnc: ReadonlySet<string>;
  /** Numbers of the org's contacts marked opted out (normally also on the DNC list, but not if that entry was removed). */
  optedOut: ReadonlySet<string>;
}

export async function loadDialFacts(tenant: TenantDb, agentId: string, phones: readonly string[]): Promise<DialFacts> {
  const groups = chunks([...new Set(phones)]);
  const statements = [
    tenant.db.select().from(agents).where(tenant.scope(agents, eq(agents.id, agentId))),
    tenant.db.select({ limit: organizations.maxConcurrentCalls }).from(organizations).where(eq(organizations.id, tenant.orgId)),
    ...groups.map((group) => tenant.db.select({ phone: dncNumbers.phoneNumber }).from(dncNumbers).where(tenant.scope(dncNumbers, inArray(dncNumbers.phoneNumber, group)))),
    ...groups.map((group) =>
      tenant.db
        .selectDistinct({ phone: contacts.phoneNumber })
        .from(contacts)
        .where(tenant.scope(contacts, inArray(contacts.phoneNumber, group), eq(contacts.optedOut, true))),
    ),
  ];
  const results = (await tenant.db.batch(statements as unknown as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]])) as unknown[][];
  const [agentRows, orgRows] = results as [AgentRow[], { limit: number }[]];
  const dncRows = results.slice(2, 2 + groups.length).flat() as { phone: string }[];
  const optedOutRows = results.slice(2 + groups.length).flat() as { phone: string }[];
  return {
    agent: agentRows[0],
    orgCallLimit: orgRows[0]?.limit ?? 10,
    onDnc: new Set(dncRows.map((r) => r.phone)),
    optedOut: new Set(optedOutRows.map((r) => r.phone)),
  };
}

/** The campaign's caller IDs: the given org numbers, or the agent's outbound numbers. Missing ids are reported, not dropped. */
export async function loadNumberPool(
  tenant: TenantDb,
  input: { agentId: string; phoneNumberIds: readonly string[] | null },
): Promise<{ pool: PoolNumber[]; missing: string[] }> {
  const condition = input.phoneNumberIds ? inArray(phoneNumbers.id, [...input.phoneNumberIds]) : eq(phoneNumbers.outboundAgentId, input.agentId);
  const rows = await tenant.db
    .select({ id: phoneNumbers.id, phoneNumber: phoneNumbers.phoneNumber, provider: phoneNumbers.provider })
    .from(phoneNumbers)
    .where(tenant.scope(phoneNumbers, condition));
  if (!input.phoneNumberIds) return { pool: rows.sort((a, b) => a.phoneNumber.localeCompare(b.phoneNumber)), missing: [] };
  const byId = new Map(rows.map((r) => [r.id, r]));
  return {
    pool: input.phoneNumberIds.flatMap((id) => byId.get(id) ?? []),
    missing: input.phoneNumberIds.filter((id) => !byId.has(id)),
  };
}

type ContactRow = typeof contacts.$inferSelect;

const asCampaignContact = (row: ContactRow): NewCampaignContact => ({
  contactId: row.id,
  phoneNumber: row.phoneNumber,
  firstName: row.firstName,
  lastName: row.lastName,
  email: row.email,
  timezone: row.timezone,
  customFields: row.customFields,
});

/** Org contacts by id, in the order given; ids that are not the org's come back in `missing`. */
export async function loadContactsById(tenant: TenantDb, ids: readonly string[]): Promise<{ found: NewCampaignContact[]; missing: string[] }> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return { found: [], missing: [] };
  const groups = chunks(unique);
  const statements = groups.map((group) => tenant.db.select().from(contacts).where(tenant.scope(contacts, inArray(contacts.id, group))));
  const rows = ((await tenant.db.batch(statements as unknown as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]])) as ContactRow[][]).flat();
  const byId = new Map(rows.map((r) => [r.id, r]));
  return { found: unique.flatMap((id) => (byId.has(id) ? [asCampaignContact(byId.get(id)!)] : [])), missing: unique.filter((id) => !byId.has(id)) };
}

/**
 * A folder's contacts in pages, oldest first, keyset-paged on (created_at, id) so a 100,000-row
 * folder is read in a few dozen indexed queries rather than with growing offsets.
 */
export async function* folderContactPages(tenant: TenantDb, folderId: string, pageSize = 5_000): AsyncGenerator<NewCampaignContact[]> {
  let after: { createdAt: string; id: string } | null = null;
  for (;;) {
    const page: ContactRow[] = await tenant.db
      .select()
      .from(contacts)
      .where(
        tenant.scope(
          contacts,
          eq(contacts.folderId, folderId),
          after ? or(gt(contacts.createdAt, after.createdAt), and(eq(contacts.createdAt, after.createdAt), gt(contacts.id, after.id))) : undefined,
        ),
      )
      .orderBy(asc(contacts.createdAt), asc(contacts.id))
      .limit(pageSize);
    if (page.length === 0) return;
    yield page.map(asCampaignContact);
    const last = page[page.length - 1];
    after = { createdAt: last.createdAt, id: last.id };
    if (page.length < pageSize) return;
  }
}
