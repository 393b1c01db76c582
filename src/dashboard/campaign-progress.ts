import type { CampaignStats, CampaignStatus } from "../domain/campaigns";

/**
 * The figures the campaign page shows and `live.json` returns, from the API's campaign object
 * (`stats` counts contacts by campaign-contact status) and, when available, the analytics
 * funnel's `success` (contacts whose call analysis says it succeeded; the campaign itself does
 * not know it).
 */

/** The contact counts of the API's campaign `stats` that the page reads. */
export type CampaignStatsInput = Omit<CampaignStats, "attempts" | "cost_credits" | "estimated_finish_at">;

/** Statuses after which a campaign never changes again: live updates stop there. */
const FINISHED_CAMPAIGN_STATUSES: readonly CampaignStatus[] = ["completed", "failed", "cancelled"];

export const LIVE_STAT_LABELS = {
  dialled: "Dialled",
  answered: "Answered",
  success: "Successful",
  failed: "Not reached",
  skipped: "Skipped",
  remaining: "Remaining",
} as const;

export type LiveStatKey = keyof typeof LIVE_STAT_LABELS;

export interface CampaignProgress {
  status: CampaignStatus;
  status_label: string;
  finished: boolean;
  total: number;
  /** Contacts with nothing left to do: reached, given up on or skipped. */
  done: number;
  percent: number;
  progress_text: string;
  /** `success` is absent when the analytics funnel could not be read. */
  stats: Partial<Record<LiveStatKey, number>>;
}

export const statusLabel = (status: string) => status.replaceAll("_", " ");

export function campaignProgress(campaign: { status: CampaignStatus; stats: CampaignStatsInput }, success: number | null): CampaignProgress {
  const s = campaign.stats;
  const remaining = s.pending + s.scheduled + s.retry_scheduled + s.dialing + s.in_progress;
  const done = Math.max(0, s.total - remaining);
  const percent = s.total === 0 ? 0 : Math.floor((done / s.total) * 100);
  const stats: CampaignProgress["stats"] = {
    dialled: s.called,
    // Answered by a person (completed) or by a machine (voicemail), as the analytics funnel counts.
    answered: s.completed + s.voicemail,
    failed: s.failed + s.no_answer + s.busy,
    skipped: s.skipped,
    remaining,
  };
  if (success !== null) stats.success = success;
  return {
    status: campaign.status,
    status_label: statusLabel(campaign.status),
    finished: FINISHED_CAMPAIGN_STATUSES.includes(campaign.status),
    total: s.total,
    done,
    percent,
    progress_text: s.total === 0 ? "No contacts yet" : `${done.toLocaleString("en-US")} of ${s.total.toLocaleString("en-US")} contacts done (${percent}%)`,
    stats,
  };
}
