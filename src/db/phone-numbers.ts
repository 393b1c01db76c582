import { asc, eq, inArray, or } from "drizzle-orm";
import { agents, phoneNumbers } from "./schema";
import type { TenantDb } from "./tenant";

export type PhoneNumberRow = typeof phoneNumbers.$inferSelect;

export interface AgentSummary {
  id: string;
  name: string;
}

/**
 * Whether a write failed on a unique index. D1 reports it as SQLite's message, which drizzle may
 * wrap in its own error with the original as `cause`.
 */
export function isUniqueViolation(error: unknown): boolean {
  for (let current = error; current instanceof Error; current = current.cause) {
    if (current.message.includes("UNIQUE constraint failed")) return true;
  }
  return false;
}

/** Names of the org's agents among `ids`; ids of agents that do not exist are simply absent. */
export async function agentSummaries(tenant: TenantDb, ids: string[]): Promise<Map<string, AgentSummary>> {
  if (ids.length === 0) return new Map();
  const rows = await tenant.db
    .select({ id: agents.id, name: agents.name })
    .from(agents)
    .where(tenant.scope(agents, inArray(agents.id, ids)));
  return new Map(rows.map((row) => [row.id, row]));
}

/** The numbers assigned to an agent, split by direction, in number order (as on the agent object). */
export async function numbersOfAgent(tenant: TenantDb, agentId: string) {
  const rows = await tenant.db
    .select({
      id: phoneNumbers.id,
      phone_number: phoneNumbers.phoneNumber,
      inboundAgentId: phoneNumbers.inboundAgentId,
      outboundAgentId: phoneNumbers.outboundAgentId,
    })
    .from(phoneNumbers)
    .where(tenant.scope(phoneNumbers, or(eq(phoneNumbers.inboundAgentId, agentId), eq(phoneNumbers.outboundAgentId, agentId))))
    .orderBy(asc(phoneNumbers.phoneNumber));
  const pick = (row: (typeof rows)[number]) => ({ id: row.id, phone_number: row.phone_number });
  return {
    inbound: rows.filter((row) => row.inboundAgentId === agentId).map(pick),
    outbound: rows.filter((row) => row.outboundAgentId === agentId).map(pick),
  };
}
