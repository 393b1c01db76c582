#!/usr/bin/env node
// `npm run deploy`: puts Truedy on a Cloudflare account (the one-time setup is in README.md,
// "Deploy"). It refuses to go on while the setup is incomplete, applies the D1 migrations to the
// remote database, then deploys the worker with production settings: the simulator off (which
// also stops loopback URLs from passing the SSRF rules) and PUBLIC_BASE_URL set to the real
// address, so carrier callbacks, media streams and recording links point at it.
//
//   TRUEDY_PUBLIC_BASE_URL=https://calls.example.com npm run deploy
//   npm run deploy -- --dry-run     bundles and checks everything offline (CI runs this)
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
process.chdir(root);
const dryRun = process.argv.includes("--dry-run");
const wranglerBin = path.join(root, "node_modules/wrangler/bin/wrangler.js");

/** wrangler.toml's placeholder database id: deploying with it would create nothing usable. */
const PLACEHOLDER_DATABASE_ID = "00000000-0000-0000-0000-000000000001";
/** Without these the platform cannot start or cannot keep what it stores secret. */
const REQUIRED_SECRETS = ["ADMIN_TOKEN", "ENCRYPTION_KEY"];

function fail(message) {
  console.error(`deploy: ${message}`);
  process.exit(1);
}

function wrangler(args, { capture = false } = {}) {
  const result = spawnSync(process.execPath, [wranglerBin, ...args], { stdio: capture ? ["ignore", "pipe", "pipe"] : "inherit", encoding: "utf8" });
  if (result.status !== 0) fail(`wrangler ${args[0]} failed${capture ? `:\n${result.stderr || result.stdout}` : ""}`);
  return result.stdout ?? "";
}

function publicBaseUrl() {
  if (dryRun) return "https://truedy.example.com";
  const raw = process.env.TRUEDY_PUBLIC_BASE_URL;
  if (!raw) fail("set TRUEDY_PUBLIC_BASE_URL to the https:// address the worker will answer on (its workers.dev or custom domain)");
  let url;
  try {
    url = new URL(raw);
  } catch {
    fail(`TRUEDY_PUBLIC_BASE_URL is not a URL: ${raw}`);
  }
  if (url.protocol !== "https:") fail("TRUEDY_PUBLIC_BASE_URL must be https: Twilio and Telnyx only call https webhooks and wss media URLs");
  return url.origin;
}

const productionVars = (baseUrl) => ["--var", `PUBLIC_BASE_URL:${baseUrl}`, "--var", "SIMULATOR_ENABLED:false"];

if (dryRun) {
  // Everything short of uploading: bundle, resolve bindings, check the config, report the size.
  const outDir = mkdtempSync(path.join(tmpdir(), "truedy-deploy-"));
  try {
    wrangler(["deploy", "--dry-run", "--outdir", outDir, ...productionVars(publicBaseUrl())]);
    const bundle = readdirSync(outDir).filter((f) => f.endsWith(".js"));
    if (bundle.length === 0) fail("the dry run produced no bundle");
    const bytes = bundle.reduce((sum, f) => sum + statSync(path.join(outDir, f)).size, 0);
    console.log(`deploy --dry-run: ok, bundle ${(bytes / 1024 / 1024).toFixed(2)} MiB (before compression)`);
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
  process.exit(0);
}

const config = readFileSync("wrangler.toml", "utf8");
if (config.includes(PLACEHOLDER_DATABASE_ID)) {
  fail("wrangler.toml still has the placeholder D1 database_id: run `npx wrangler d1 create truedy` and paste the id it prints (README.md, Deploy)");
}
const baseUrl = publicBaseUrl();
let secrets;
try {
  secrets = JSON.parse(wrangler(["secret", "list", "--format", "json"], { capture: true })).map((s) => s.name);
} catch {
  fail("could not list the worker's secrets; is `npx wrangler login` done?");
}
const missing = REQUIRED_SECRETS.filter((name) => !secrets.includes(name));
if (missing.length) fail(`missing secrets: ${missing.join(", ")} — set each with \`npx wrangler secret put NAME\` (README.md, Deploy)`);

console.log("Applying D1 migrations to the remote database…");
wrangler(["d1", "migrations", "apply", "DB", "--remote"]);
console.log("Deploying the worker…");
wrangler(["deploy", ...productionVars(baseUrl)]);
console.log(`Deployed. Dashboard: ${baseUrl}/app — API: ${baseUrl}/api/public/v1 — create an organization with the admin API (README.md, Deploy).`);
