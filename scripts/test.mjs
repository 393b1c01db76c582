#!/usr/bin/env node
// `npm test`: type-checks, runs the whole vitest suite inside workerd, then the browser tests
// (test/browser: Chromium against `wrangler dev`, vitest.browser.config.ts), and ends with one line
// `N passed, N failed` summing both (CI reads that line, not vitest's summaries). Exits non-zero on
// any failure or when no test ran. Extra arguments pick one run: `npm test -- test/agents` runs
// only the workerd suite with them, `npm test -- test/browser/…` only the browser run.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
process.chdir(root);
Object.assign(process.env, {
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_HIDE_BANNER: "true",
  XDG_CONFIG_HOME: path.join(root, ".xdg"),
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: "1",
});

const bin = (name) => path.join(root, "node_modules", ".bin", name);

const typecheck = spawnSync(bin("tsc"), ["-p", "."], { stdio: "inherit" });
if (typecheck.status !== 0) {
  console.log("type check failed");
  console.log("0 passed, 1 failed");
  process.exit(1);
}

/** One vitest run with its own JSON report → its passed and failed counts. */
function vitestRun(name, configArgs, args) {
  const report = path.join(root, ".vitest", `${name}.json`);
  rmSync(report, { force: true });
  const run = spawnSync(bin("vitest"), ["run", ...configArgs, "--reporter=default", "--reporter=json", `--outputFile.json=${report}`, ...args], { stdio: "inherit" });
  let passed = 0;
  let failed = 0;
  if (existsSync(report)) {
    const result = JSON.parse(readFileSync(report, "utf8"));
    passed = result.numPassedTests ?? 0;
    // Files that fail to load count as failures even though they report no tests.
    failed = (result.numFailedTests ?? 0) + (result.testResults ?? []).filter((f) => f.status === "failed" && f.assertionResults?.length === 0).length;
  }
  // A run that died without a report (a global setup that threw) is a failure too.
  if (run.status !== 0 && failed === 0) failed = 1;
  return { passed, failed };
}

const args = process.argv.slice(2);
const browserOnly = args.length > 0 && args[0].replace(/^\.\//, "").startsWith("test/browser");
const runs = [];
if (!browserOnly) runs.push(vitestRun("result", [], args));
if (browserOnly || args.length === 0) runs.push(vitestRun("browser-result", ["--config", "vitest.browser.config.ts"], args));

const passed = runs.reduce((sum, r) => sum + r.passed, 0);
const failed = runs.reduce((sum, r) => sum + r.failed, 0);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
