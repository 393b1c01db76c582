import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { agents, phoneNumbers } from "../../src/db/schema";
import { insertAgentRow } from "../helpers/agent-rows";

const db = () => drizzle(env.DB);

/** An agent row written straight to D1, so these tests do not depend on the agents API. */
export const insertAgent = (orgId: string, name = "Receptionist") => insertAgentRow(orgId, { name });

export async function renameAgent(id: string, name: string): Promise<void> {
  await db().update(agents).set({ name, systemPrompt: `You are ${name}.`, updatedAt: new Date().toISOString() }).where(eq(agents.id, id));
}

/** The stored row, read around the API, to see what is really at rest. */
export async function storedNumber(phoneNumber: string) {
  const [row] = await db().select().from(phoneNumbers).where(eq(phoneNumbers.phoneNumber, phoneNumber));
  return row;
}
