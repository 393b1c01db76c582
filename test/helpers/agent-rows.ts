import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { agents } from "../../src/db/schema";
import { newId } from "../../src/lib/ids";
import { CATALOGUE_VOICE_ID } from "./api";

/**
 * Writes agent rows straight into D1, for tests of objects agents refer to (voices, tools,
 * knowledge bases, numbers) that must not depend on the agents API.
 */

const db = () => drizzle(env.DB);

export async function insertAgentRow(
  orgId: string,
  refs: { name?: string; voiceId?: string; toolIds?: string[]; knowledgeBaseIds?: string[] } = {},
): Promise<string> {
  const id = newId();
  const now = new Date().toISOString();
  await db()
    .insert(agents)
    .values({
      id,
      orgId,
      name: refs.name ?? "Reference holder",
      status: "active",
      voiceId: refs.voiceId ?? CATALOGUE_VOICE_ID,
      systemPrompt: "You are a test agent.",
      model: "gpt-4o-mini",
      temperature: 0.3,
      toolIds: refs.toolIds ?? [],
      knowledgeBaseIds: refs.knowledgeBaseIds ?? [],
      recordingEnabled: false,
      maxDuration: 1800,
      joinTimeout: 30,
      inactivityTimeout: 10,
      llm: { provider: "openai", model: "gpt-4o-mini" },
      stt: { provider: "deepgram", model: "nova-3" },
      createdAt: now,
      updatedAt: now,
    });
  return id;
}

export async function deleteAgentRow(id: string): Promise<void> {
  await db().delete(agents).where(eq(agents.id, id));
}
