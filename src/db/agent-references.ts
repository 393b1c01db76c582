import { eq, sql, type SQL } from "drizzle-orm";
import { ApiError } from "../lib/errors";
import { agents } from "./schema";
import type { TenantDb } from "./tenant";

/**
 * Agents point at voices, tools and knowledge bases without foreign keys (tool and knowledge-base
 * ids live in JSON arrays), so deleting one of those objects checks here first: an agent must
 * never be left referencing something that no longer exists.
 */

export const usesVoice = (voiceId: string): SQL => eq(agents.voiceId, voiceId);

export const usesTool = (toolId: string): SQL =>
  sql`exists (select 1 from json_each(${agents.toolIds}) where json_each.value = ${toolId})`;

export const usesKnowledgeBase = (knowledgeBaseId: string): SQL =>
  sql`exists (select 1 from json_each(${agents.knowledgeBaseIds}) where json_each.value = ${knowledgeBaseId})`;

/** Throws 409 `resource_in_use` listing the org's agents that match `uses`. */
export async function assertNotUsedByAgents(tenant: TenantDb, resource: string, id: string, uses: SQL): Promise<void> {
  const rows = await tenant.db.select({ id: agents.id }).from(agents).where(tenant.scope(agents, uses)).orderBy(agents.id);
  if (rows.length === 0) return;
  const agentIds = rows.map((r) => r.id);
  throw new ApiError(
    "resource_in_use",
    `${resource} ${id} is used by ${agentIds.length} agent${agentIds.length === 1 ? "" : "s"}; remove it from them first`,
    { details: { id, agent_ids: agentIds } },
  );
}
