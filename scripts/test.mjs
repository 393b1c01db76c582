#!/usr/bin/env node
// `npm test`: type-checks, runs the whole vitest suite inside workerd, and ends with one line
// `N passed, N failed` (CI reads that line, not vitest's summary). Exits non-zero on any failure
// or when no test ran. Extra arguments go to vitest (e.g. `npm test -- test/agents`).
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
});

const bin = (name) => path.join(root, "node_modules", ".bin", name);

const typecheck = spawnSync(bin("tsc"), ["-p", "."], { stdio: "inherit" });
if (typecheck.status !== 0) {
  console.log("type check failed");
  console.log("0 passed, 1 failed");
  process.exit(1);
}

const report = path.join(root, ".vitest", "result.json");
rmSync(report, { force: true });
const run = spawnSync(
  bin("vitest"),
  ["run", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`, ...process.argv.slice(2)],
  { stdio: "inherit" },
);

let passed = 0;
let failed = 0;
if (existsSync(report)) {
  const result = JSON.parse(readFileSync(report, "utf8"));
  passed = result.numPassedTests ?? 0;
  // Files that fail to load count as failures even though they report no tests.
  failed = (result.numFailedTests ?? 0) + (result.testResults ?? []).filter((f) => f.status === "failed" && f.assertionResults?.length === 0).length;
}
if (run.status !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
