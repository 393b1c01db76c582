import { and, eq } from "drizzle-orm";
import { openCredentials } from "../carriers";
import { calls, phoneNumbers } from "../db/schema";
import { TenantDb, type Database } from "../db/tenant";

/**
 * The rows a carrier callback is about. A carrier knows no org: the call is found by the id in
 * our own callback URL (or by the carrier's call id), the number by the dialled E.164, which is
 * unique across orgs. Every later read or write goes through TenantDb with the org of the row
 * found here, never an org named on the wire.
 */

export type CallRow = typeof calls.$inferSelect;
export type NumberRow = typeof phoneNumbers.$inferSelect;

export async function findCall(db: Database, callId: string): Promise<CallRow | undefined> {
  const [row] = await db.select().from(calls).where(eq(calls.id, callId)).limit(1);
  return row;
}

export async function findCallByProviderId(db: Database, provider: "twilio" | "telnyx", providerCallId: string): Promise<CallRow | undefined> {
  const [row] = await db
    .select()
    .from(calls)
    .where(and(eq(calls.providerCallId, providerCallId), eq(calls.provider, provider)))
    .limit(1);
  return row;
}

export async function findNumber(db: Database, phoneNumber: string): Promise<NumberRow | undefined> {
  const [row] = await db.select().from(phoneNumbers).where(eq(phoneNumbers.phoneNumber, phoneNumber)).limit(1);
  return row;
}

/** The number a call was placed from or received on, read within the call's own org. */
export async function numberOfCall(db: Database, call: CallRow): Promise<NumberRow | undefined> {
  if (!call.phoneNumberId) return undefined;
  return new TenantDb(db, call.orgId).find(phoneNumbers, call.phoneNumberId);
}

/**
 * The auth token Twilio signs a number's callbacks with: the customer's own for an imported
 * (BYOC) Twilio number, otherwise the platform account's.
 */
export async function twilioAuthToken(env: Env, number: NumberRow | undefined): Promise<string> {
  if (number?.provider === "twilio") {
    const credentials = await openCredentials(env, number.credentialsEncrypted);
    if (credentials?.kind === "twilio") return credentials.auth_token;
  }
  return env.TWILIO_AUTH_TOKEN;
}
