import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { agents, phoneNumbers } from "../../src/db/schema";
import { CATALOGUE_VOICE_ID } from "../helpers/api";

const db = () => drizzle(env.DB);

/** An agent row written straight to D1, so these tests do not depend on the agents API. */
export async function insertAgent(orgId: string, name = "Receptionist"): Promise<string> {
  const id = crypto.randomUUID();
  const now = new Date().toISOString();
  await db()
    .insert(agents)
    .values({
      id,
      orgId,
      name,
      status: "active",
      voiceId: CATALOGUE_VOICE_ID,
      systemPrompt: "Answer the phone politely.",
      model: "gpt-4o-mini",
      temperature: 0.3,
      toolIds: [],
      knowledgeBaseIds: [],
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

export async function renameAgent(id: string, name: string): Promise<void> {
  await db().update(agents).set({ name, systemPrompt: `You are ${name}.`, updatedAt: new Date().toISOString() }).where(eq(agents.id, id));
}

/** The stored row, read around the API, to see what is really at rest. */
export async function storedNumber(phoneNumber: string) {
  const [row] = await db().select().from(phoneNumbers).where(eq(phoneNumbers.phoneNumber, phoneNumber));
  return row;
}
