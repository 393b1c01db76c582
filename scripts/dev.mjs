#!/usr/bin/env node
// `npm run dev`: prepares a local environment with no Cloudflare account and no outside network,
// then serves the API on 127.0.0.1:8787.
//  1. writes .dev.vars with a fresh ADMIN_TOKEN and ENCRYPTION_KEY when it is missing;
//  2. applies the D1 migrations to the local database;
//  3. seeds a "Dev organization" with an API key (kept in .wrangler/dev-api-key) and prints it;
//  4. runs `wrangler dev --local`.
import { execFileSync, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
process.chdir(root);

// Quiet, offline wrangler: no telemetry, no Request.cf download, no prompts, config kept in the repo.
Object.assign(process.env, {
  CI: "true",
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_HIDE_BANNER: "true",
  XDG_CONFIG_HOME: path.join(root, ".xdg"),
});

const wrangler = (...args) =>
  execFileSync(process.execPath, [path.join(root, "node_modules/wrangler/bin/wrangler.js"), ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });

function ensureDevVars() {
  if (existsSync(".dev.vars")) return;
  const template = readFileSync(".dev.vars.example", "utf8");
  const filled = template
    .replace(/^ADMIN_TOKEN=.*$/m, `ADMIN_TOKEN=${randomBytes(24).toString("hex")}`)
    .replace(/^ENCRYPTION_KEY=.*$/m, `ENCRYPTION_KEY=${randomBytes(32).toString("base64")}`);
  writeFileSync(".dev.vars", filled, { mode: 0o600 });
  console.log("Wrote .dev.vars with a fresh ADMIN_TOKEN and ENCRYPTION_KEY");
}

const sqlString = (value) => `'${String(value).replaceAll("'", "''")}'`;

function query(sql) {
  const out = wrangler("d1", "execute", "DB", "--local", "--json", "--command", sql);
  return JSON.parse(out)[0]?.results ?? [];
}

/** Same shape as src/lib/ids.ts newId(): a UUIDv7. */
function uuidv7() {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(Date.now(), 0, 6);
  bytes[6] = (bytes[6] & 0x0f) | 0x70;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function randomAlphanumeric(length) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  let out = "";
  while (out.length < length) for (const b of randomBytes(length)) if (b < 248 && out.length < length) out += alphabet[b % 62];
  return out;
}

function seedDevOrganization() {
  const keyFile = path.join(".wrangler", "dev-api-key");
  const [org] = query("SELECT id FROM organizations WHERE name = 'Dev organization' ORDER BY created_at LIMIT 1");
  if (org && existsSync(keyFile)) {
    const saved = readFileSync(keyFile, "utf8").trim();
    const hash = createHash("sha256").update(saved).digest("hex");
    if (query(`SELECT id FROM api_keys WHERE key_hash = ${sqlString(hash)} AND revoked_at IS NULL`).length) return saved;
  }
  const now = new Date().toISOString();
  const orgId = org?.id ?? uuidv7();
  const apiKey = `truedy_${randomAlphanumeric(32)}`;
  const hash = createHash("sha256").update(apiKey).digest("hex");
  const statements = [];
  if (!org) {
    statements.push(
      `INSERT INTO organizations (id, name, max_concurrent_calls, created_at, updated_at) VALUES (${sqlString(orgId)}, 'Dev organization', 10, ${sqlString(now)}, ${sqlString(now)});`,
    );
  }
  statements.push(
    `INSERT INTO api_keys (id, org_id, name, key_hash, prefix, last4, created_at) VALUES (${sqlString(uuidv7())}, ${sqlString(orgId)}, 'Dev key', ${sqlString(hash)}, ${sqlString(apiKey.slice(0, 11))}, ${sqlString(apiKey.slice(-4))}, ${sqlString(now)});`,
  );
  query(statements.join("\n"));
  mkdirSync(".wrangler", { recursive: true });
  writeFileSync(keyFile, apiKey, { mode: 0o600 });
  return apiKey;
}

ensureDevVars();
process.stdout.write("Applying D1 migrations to the local database… ");
wrangler("d1", "migrations", "apply", "DB", "--local");
console.log("done");
const apiKey = seedDevOrganization();
const adminToken = readFileSync(".dev.vars", "utf8").match(/^ADMIN_TOKEN=(.*)$/m)?.[1];

console.log(`
  Truedy is starting on http://127.0.0.1:8787
  API docs:     http://127.0.0.1:8787/docs
  Dev API key:  ${apiKey}
  Admin token:  ${adminToken}   (for /api/admin/v1)

  Try: curl -H "Authorization: Bearer ${apiKey}" http://127.0.0.1:8787/api/public/v1/voices
`);

const dev = spawn(
  process.execPath,
  [path.join(root, "node_modules/wrangler/bin/wrangler.js"), "dev", "--local", "--ip", "127.0.0.1", "--port", "8787", ...process.argv.slice(2)],
  { stdio: "inherit" },
);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => dev.kill(signal));
dev.on("exit", (code) => process.exit(code ?? 0));
