import { describe, expect, it } from "vitest";
import {
  classifyResponse,
  excerpt,
  isSubscribed,
  MAX_ATTEMPTS,
  nextRetryDelaySeconds,
  parseRetryAfter,
  RETRY_SCHEDULE_SECONDS,
  shouldDisable,
} from "../../src/domain/webhooks";

describe("webhook retry rules", () => {
  it("publishes ten attempts over about a day, each delay within the queue's 12-hour ceiling", () => {
    expect(MAX_ATTEMPTS).toBe(10);
    const total = RETRY_SCHEDULE_SECONDS.reduce((a, b) => a + b, 0);
    expect(total / 3600).toBeGreaterThan(22);
    expect(total / 3600).toBeLessThan(25);
    expect(Math.max(...RETRY_SCHEDULE_SECONDS)).toBeLessThanOrEqual(43_200);
  });

  it("jitters each step by at most 20 % and stops after the last attempt", () => {
    expect(nextRetryDelaySeconds(1, undefined, 0)).toBe(4);
    expect(nextRetryDelaySeconds(1, undefined, 1)).toBe(6);
    expect(nextRetryDelaySeconds(2, undefined, 0.5)).toBe(30);
    expect(nextRetryDelaySeconds(9, undefined, 0.5)).toBe(43_200);
    expect(nextRetryDelaySeconds(10, undefined, 0.5)).toBeUndefined();
  });

  it("waits longer when Retry-After asks, never past 12 hours", () => {
    expect(nextRetryDelaySeconds(1, 120, 0.5)).toBe(120);
    expect(nextRetryDelaySeconds(3, 10, 0.5)).toBe(120);
    expect(nextRetryDelaySeconds(1, 999_999, 0.5)).toBe(43_200);
  });

  it("reads Retry-After as seconds or an HTTP date", () => {
    const now = Date.UTC(2026, 10, 25, 12, 0, 0);
    expect(parseRetryAfter("90", now)).toBe(90);
    expect(parseRetryAfter("Wed, 25 Nov 2026 12:02:00 GMT", now)).toBe(120);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it("classifies responses: 2xx success, 410 gone, everything else retried (3xx included)", () => {
    expect(classifyResponse(204)).toBe("succeeded");
    expect(classifyResponse(410)).toBe("gone");
    for (const status of [301, 400, 404, 429, 500, 503]) expect(classifyResponse(status)).toBe("retryable");
  });

  it("disables after three days of failures, not before", () => {
    const start = Date.UTC(2026, 10, 20);
    expect(shouldDisable(undefined, start)).toBe(false);
    expect(shouldDisable(start, start + 3 * 86_400_000 - 1)).toBe(false);
    expect(shouldDisable(start, start + 3 * 86_400_000)).toBe(true);
  });

  it("matches subscriptions and cuts excerpts at 4 KB on a character boundary", () => {
    expect(isSubscribed(["*"], "call.ended")).toBe(true);
    expect(isSubscribed(["call.ended"], "call.failed")).toBe(false);
    expect(excerpt("é".repeat(3000))).toHaveLength(2048);
    expect(excerpt("short")).toBe("short");
  });
});
