import { defineConfig } from "vitest/config";

/**
 * The browser tests (test/browser): plain Node, one file at a time, against one `wrangler dev`
 * and one Chromium that test/browser/global-setup.ts starts for the whole run. Run by
 * scripts/test.mjs after the workerd suite (vitest.config.ts includes `*.test.ts` only, so the
 * two never pick up each other's files).
 */
export default defineConfig({
  test: {
    include: ["test/browser/**/*.browser.ts"],
    environment: "node",
    globalSetup: ["./test/browser/global-setup.ts"],
    // Scenarios share the worker and the browser; run side by side they would also fight
    // over the machine's two cores and time each other out.
    fileParallelism: false,
    // A scenario waits on real time: a campaign's dials, a conversation, a webhook delivery.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // A timed-out scenario is a failure to look at, not one to retry into a pass.
    retry: 0,
  },
});
