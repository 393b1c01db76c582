import type { batchCalls } from "../db/schema";
import type { CampaignWindow } from "../domain/campaign-schedule";
import { quietHoursWindows } from "../domain/quiet-hours";
import type { CampaignStats, CampaignStatus, PoolNumber, RetryPolicy, RotationStrategy } from "../domain/campaigns";

/** A campaign's settings and lifecycle, as the CampaignDO stores them (and mirrors to D1). */
export interface CampaignRecord {
  id: string;
  orgId: string;
  name: string;
  agentId: string;
  status: CampaignStatus;
  statusReason: string | null;
  phoneNumberIds: string[] | null;
  rotation: RotationStrategy;
  contactSource: "csv" | "folder" | "manual";
  contactFolderId: string | null;
  scheduleType: "immediate" | "scheduled";
  /** ISO instant the schedule starts at (`scheduled`), as given. */
  scheduledAt: string | null;
  timezone: string;
  startTime: string | null;
  endTime: string | null;
  workingDays: number[];
  maxConcurrentCalls: number;
  maxCallsPerDay: number | null;
  maxCallsPerNumberPerDay: number | null;
  retryFailed: boolean;
  maxRetryAttempts: number;
  retryPolicy: RetryPolicy;
  respectRecipientTimezone: boolean;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  pausedAt: string | null;
  completedAt: string | null;
  cancelledAt: string | null;
}

/** What the dispatcher keeps between alarms besides the record. */
export interface DispatchState {
  /** When the schedule starts (epoch ms), set by `schedule`. */
  startAtMs: number | null;
  /** Whether the folder's contacts were copied in (done once, at scheduling). */
  folderCopied: boolean;
  pool: PoolNumber[];
  /** Index in `pool` of the number used last (rotation). */
  cursor: number;
  /** Per number id: no dial on it before this instant (pacing). */
  numberFreeAt: Record<string, number>;
  /** The org's concurrent-call limit, refreshed at every dispatch. */
  orgCallLimit: number;
  /** How long after a dial its call must have ended (ring timeout + max duration + slack). */
  callSpanMs: number;
}

export type BatchCallRow = typeof batchCalls.$inferSelect;

export function campaignWindow(record: Pick<CampaignRecord, "timezone" | "startTime" | "endTime" | "workingDays">): CampaignWindow {
  return { timezone: record.timezone, startTime: record.startTime, endTime: record.endTime, workingDays: record.workingDays };
}

/**
 * Where and when one contact may be called: the campaign window (in the contact's zones with
 * `respect_recipient_timezone`), always inside the 08:00–21:00 quiet-hours guard of the zones the
 * recipient may be in (the campaign's zone when the number says nothing).
 */
export function contactConstraints(record: CampaignRecord, zones: readonly string[]) {
  const recipientZones = zones.length > 0 ? zones : [record.timezone];
  return {
    windowZones: record.respectRecipientTimezone ? recipientZones : undefined,
    guards: quietHoursWindows(recipientZones),
  };
}

/** The D1 mirror row of a campaign. */
export function mirrorRow(record: CampaignRecord, stats: CampaignStats): Omit<BatchCallRow, "orgId"> {
  return {
    id: record.id,
    name: record.name,
    status: record.status,
    statusReason: record.statusReason,
    agentId: record.agentId,
    phoneNumberIds: record.phoneNumberIds,
    phoneRotationStrategy: record.rotation,
    contactSource: record.contactSource,
    contactFolderId: record.contactFolderId,
    scheduleType: record.scheduleType,
    scheduledAt: record.scheduledAt,
    timezone: record.timezone,
    startTime: record.startTime,
    endTime: record.endTime,
    workingDays: record.workingDays,
    maxConcurrentCalls: record.maxConcurrentCalls,
    maxCallsPerDay: record.maxCallsPerDay,
    maxCallsPerNumberPerDay: record.maxCallsPerNumberPerDay,
    retryFailed: record.retryFailed,
    maxRetryAttempts: record.maxRetryAttempts,
    retryPolicy: record.retryPolicy,
    respectRecipientTimezone: record.respectRecipientTimezone,
    totalContacts: stats.total,
    stats,
    startedAt: record.startedAt,
    pausedAt: record.pausedAt,
    completedAt: record.completedAt,
    cancelledAt: record.cancelledAt,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}
