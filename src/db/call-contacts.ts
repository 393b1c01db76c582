import { and, eq, sql } from "drizzle-orm";
import type { LastCallOutcome } from "../domain/call-analysis";
import { calls, contacts } from "./schema";
import type { TenantDb } from "./tenant";

/**
 * How a call reaches the contact it was made to: `metadata.contact_id` (campaign calls carry it;
 * an API call may too), and only while that contact still has the number that was called, so a
 * stale or mistyped id never touches another person's record. Org-scoped like every write.
 */
export interface CallContact {
  contactId: string;
  phoneNumber: string;
  /** When the call ended (ISO): the contact's `last_called_at`. */
  endedAt: string;
}

/** The contact a call was made to, from its metadata; null when it names none (or the call has not ended). */
export function callContact(metadata: Record<string, string> | null | undefined, to: string, endedAt: string | null): CallContact | null {
  const contactId = metadata?.contact_id;
  if (typeof contactId !== "string" || contactId === "" || !endedAt) return null;
  return { contactId, phoneNumber: to, endedAt };
}

/**
 * At the end of a call: one more call on the contact's count and, unless a later call already
 * ended (calls to one number can overlap when placed through the API), this call's time and
 * outcome as the contact's last.
 */
export function recordContactCall(tenant: TenantDb, contact: CallContact, outcome: LastCallOutcome, nowIso: string) {
  const latest = sql`(${contacts.lastCalledAt} IS NULL OR ${contacts.lastCalledAt} <= ${contact.endedAt})`;
  return tenant.updateWhere(
    contacts,
    {
      callCount: sql`${contacts.callCount} + 1`,
      lastCallOutcome: sql`CASE WHEN ${latest} THEN ${outcome} ELSE ${contacts.lastCallOutcome} END`,
      lastCalledAt: sql`CASE WHEN ${latest} THEN ${contact.endedAt} ELSE ${contacts.lastCalledAt} END`,
      updatedAt: nowIso,
    },
    eq(contacts.id, contact.contactId),
    eq(contacts.phoneNumber, contact.phoneNumber),
  );
}

/**
 * After the call's analysis: its finer outcome (interested, not interested…), while this call is
 * still the contact's last one, and only once the analysis of call `callId` by attempt `attempt`
 * was stored by the statement before it in the same batch (a superseded attempt changes nothing).
 */
export function refineContactOutcome(
  tenant: TenantDb,
  contact: CallContact,
  outcome: LastCallOutcome,
  settled: { callId: string; attempt: number; status: "completed" | "failed" },
  nowIso: string,
) {
  const stored = tenant.db
    .select({ one: sql`1` })
    .from(calls)
    .where(tenant.scope(calls, and(eq(calls.id, settled.callId), eq(calls.analysisStatus, settled.status), eq(calls.analysisAttempts, settled.attempt))));
  return tenant.updateWhere(
    contacts,
    { lastCallOutcome: outcome, updatedAt: nowIso },
    eq(contacts.id, contact.contactId),
    eq(contacts.phoneNumber, contact.phoneNumber),
    eq(contacts.lastCalledAt, contact.endedAt),
    sql`exists ${stored}`,
  );
}
