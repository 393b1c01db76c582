/**
 * Webhook delivery rules, free of I/O. The retry schedule is published in the API reference, so
 * changing it is an API change.
 */

export const WEBHOOK_EVENT_TYPES = [
  "call.started",
  "call.ringing",
  "call.answered",
  "call.ended",
  "call.failed",
  "call.analyzed",
  "batch.status.changed",
  "batch.contact.updated",
  "batch.completed",
  "voice.training.completed",
  "voice.training.failed",
  "webhook.test",
  "webhook.disabled",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/**
 * Seconds to wait after failed attempt n (index n-1) before attempt n+1: ten attempts spread over
 * about 23 hours. Each step stays within a Queue message's 12-hour delay ceiling.
 */
export const RETRY_SCHEDULE_SECONDS = [5, 30, 120, 600, 1800, 3600, 10_800, 21_600, 43_200] as const;
export const MAX_ATTEMPTS = RETRY_SCHEDULE_SECONDS.length + 1;
export const MAX_DELAY_SECONDS = 43_200;
/** ± this share of each step, so endpoints that failed together do not all retry in the same second. */
export const RETRY_JITTER = 0.2;

export const DELIVERY_TIMEOUT_MS = 10_000;
export const DISABLE_AFTER_FAILING_MS = 3 * 24 * 3600 * 1000;
export const ROTATION_OVERLAP_MS = 24 * 3600 * 1000;
export const RESPONSE_EXCERPT_BYTES = 4096;

export type AttemptOutcome = "succeeded" | "gone" | "retryable";

/** 2xx succeeds; 410 Gone means "stop sending"; anything else (3xx included) is worth retrying. */
export function classifyResponse(status: number): AttemptOutcome {
  if (status >= 200 && status < 300) return "succeeded";
  if (status === 410) return "gone";
  return "retryable";
}

/** `Retry-After` as delta-seconds or an HTTP date, in seconds from now; undefined when absent or unreadable. */
export function parseRetryAfter(header: string | null | undefined, nowMs: number): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - nowMs) / 1000));
}

/**
 * Delay before the next attempt, or undefined when the round's attempts are used up.
 * `attemptInRound` is 1 for the first attempt of a round. A receiver's `Retry-After` is honoured
 * when it asks for longer than the schedule would wait (up to the 12-hour ceiling).
 */
export function nextRetryDelaySeconds(attemptInRound: number, retryAfterSeconds: number | undefined, random: number): number | undefined {
  const step = RETRY_SCHEDULE_SECONDS[attemptInRound - 1];
  if (step === undefined) return undefined;
  const jittered = Math.round(step * (1 - RETRY_JITTER + 2 * RETRY_JITTER * random));
  return Math.min(MAX_DELAY_SECONDS, Math.max(jittered, retryAfterSeconds ?? 0));
}

export function isSubscribed(subscribed: string[], type: string): boolean {
  return subscribed.includes("*") || subscribed.includes(type);
}

/** An endpoint is disabled once every attempt for three days has failed. */
export function shouldDisable(failingSinceMs: number | undefined, nowMs: number): boolean {
  return failingSinceMs !== undefined && nowMs - failingSinceMs >= DISABLE_AFTER_FAILING_MS;
}

/** The body's first 4 KB, cut on a character boundary. */
export function excerpt(text: string): string {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= RESPONSE_EXCERPT_BYTES) return text;
  return new TextDecoder().decode(bytes.slice(0, RESPONSE_EXCERPT_BYTES)).replace(/\uFFFD$/, "");
}
