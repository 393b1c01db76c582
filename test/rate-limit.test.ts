import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { manualClock, useClock } from "../src/lib/clock";
import { decide, windowStart } from "../src/domain/rate-limit";
import { adminFetch, newOrg } from "./helpers/api";

let restoreClock = () => {};
afterEach(() => restoreClock());

describe("rate-limit decisions", () => {
  it("admits up to the limit within a minute and reports the window end", () => {
    const now = Date.UTC(2026, 10, 25, 12, 0, 30);
    expect(decide(now, 2, 0)).toEqual({ allowed: true, limit: 2, remaining: 1, resetAt: Date.UTC(2026, 10, 25, 12, 1) });
    expect(decide(now, 2, 1).remaining).toBe(0);
    expect(decide(now, 2, 2).allowed).toBe(false);
    expect(windowStart(Date.UTC(2026, 10, 25, 12, 0, 59, 999))).toBe(Date.UTC(2026, 10, 25, 12, 0));
  });
});

describe("per-organization rate limit", () => {
  it("answers 429 with details, Retry-After and RateLimit headers, then resets next minute", async () => {
    const clock = manualClock(Date.UTC(2026, 10, 25, 12, 0, 10));
    restoreClock = useClock(clock);
    const org = await newOrg();
    await adminFetch(`/organizations/${org.orgId}`, { method: "PATCH", body: { rate_limit_per_minute: 3 } });

    for (let i = 0; i < 3; i++) {
      const res = await org.get("/agents");
      expect(res.status).toBe(200);
      expect(res.headers.get("RateLimit-Remaining")).toBe(String(2 - i));
      expect(res.headers.get("RateLimit-Limit")).toBe("3");
    }
    const limited = await org.get("/agents");
    expect(limited.status).toBe(429);
    expect(limited.body.error).toEqual({
      code: "rate_limit_exceeded",
      message: "Rate limit exceeded",
      details: { limit: 3, reset_at: "2026-11-25T12:01:00.000Z" },
    });
    expect(limited.headers.get("Retry-After")).toBe("50");
    expect(limited.headers.get("RateLimit-Remaining")).toBe("0");

    clock.set(Date.UTC(2026, 10, 25, 12, 1, 0));
    expect((await org.get("/agents")).status).toBe(200);
  });

  it("counts each organization separately", async () => {
    restoreClock = useClock(manualClock(Date.UTC(2026, 10, 25, 13, 0, 0)));
    const busy = await newOrg();
    const quiet = await newOrg();
    await adminFetch(`/organizations/${busy.orgId}`, { method: "PATCH", body: { rate_limit_per_minute: 1 } });
    expect((await busy.get("/agents")).status).toBe(200);
    expect((await busy.get("/agents")).status).toBe(429);
    expect((await quiet.get("/agents")).status).toBe(200);
  });

  it("keeps only the current window in the limiter's storage", async () => {
    const clock = manualClock(Date.UTC(2026, 10, 25, 14, 0, 0));
    restoreClock = useClock(clock);
    const org = await newOrg();
    await org.get("/agents");
    clock.advance(120_000);
    await org.get("/agents");
    const stub = env.ORG_LIMITER.get(env.ORG_LIMITER.idFromName(org.orgId));
    const windows = await runInDurableObject(stub, (_instance, state) =>
      state.storage.sql.exec("SELECT window_start FROM rate_windows").toArray(),
    );
    expect(windows).toEqual([{ window_start: Date.UTC(2026, 10, 25, 14, 2, 0) }]);
  });
});
