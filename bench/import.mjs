// bench/import: a 100,000-row CSV through POST /contacts/import on `wrangler dev` (local D1),
// against the floor of inserting the same rows into a plain SQLite file with better-sqlite3 in
// one transaction, in the same run. Prints rows/s for both and their ratio.
//
//   node bench/import.mjs            (IMPORT_ROWS=200000 and BENCH_PORT=8790 override the defaults)
import Database from "better-sqlite3";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { createOrganization, root, startWorker } from "./lib.mjs";

const ROWS = Number(process.env.IMPORT_ROWS ?? 100_000);
const PORT = Number(process.env.BENCH_PORT ?? 8790);

/** A UUIDv7 like src/lib/ids.ts, so the baseline's primary-key index grows in order as D1's does. */
function uuidv7() {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(Date.now(), 0, 6);
  bytes[6] = (bytes[6] & 0x0f) | 0x70;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Distinct, valid US numbers: +1 415 200-0000 onwards (exchange 200 is assignable). */
const phoneFor = (i) => `+1415${2_000_000 + i}`;

function generate(rows) {
  const lines = ["phone,first_name,last_name,email,company_name,crm_id"];
  const records = [];
  for (let i = 0; i < rows; i++) {
    const record = {
      id: uuidv7(),
      phone: phoneFor(i),
      firstName: `First${i}`,
      lastName: `Last${i}`,
      email: `user${i}@example.com`,
      company: `Company ${i % 997}`,
      customFields: JSON.stringify({ crm_id: `CRM-${i}` }),
    };
    records.push(record);
    lines.push(`${record.phone},${record.firstName},${record.lastName},${record.email},${record.company},CRM-${i}`);
  }
  return { csv: `${lines.join("\n")}\n`, records };
}

async function importThroughApi(csv) {
  const worker = await startWorker({ port: PORT });
  try {
    const org = await createOrganization(worker, "Import benchmark");
    const auth = { authorization: `Bearer ${org.apiKey}` };
    const form = new FormData();
    form.append("file", new Blob([csv], { type: "text/csv" }), "contacts.csv");
    const started = performance.now();
    const res = await fetch(`${worker.baseUrl}/api/public/v1/contacts/import`, { method: "POST", headers: auth, body: form }).catch((error) => {
      throw new Error(`import request failed: ${error.message} (${error.cause?.message ?? "no cause"})\n${worker.output()}`);
    });
    const body = await res.json();
    const seconds = (performance.now() - started) / 1000;
    if (res.status !== 200) throw new Error(`import failed: ${res.status} ${JSON.stringify(body).slice(0, 2000)}\n${worker.output()}`);
    const check = await fetch(`${worker.baseUrl}/api/public/v1/contacts?folder_id=${body.data.folder_id}&limit=1`, { headers: auth });
    const stored = (await check.json()).pagination.total;
    return { seconds, result: body.data, stored };
  } finally {
    await worker.stop();
  }
}

/**
 * Same 19 columns as D1's `contacts`, the two indexes, one prepared INSERT per row, one transaction.
 * The rows, ids included, are built before the clock starts: this is the cost of the writes alone.
 */
function insertWithSqlite(records) {
  const dir = path.join(root, "bench", ".data");
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `import-baseline-${process.pid}.sqlite`);
  rmSync(file, { force: true });
  const db = new Database(file);
  try {
    db.exec(`
      CREATE TABLE contacts (
        id text PRIMARY KEY NOT NULL, org_id text NOT NULL, folder_id text NOT NULL, phone_number text NOT NULL,
        first_name text, last_name text, email text, company_name text, industry text, location text, pin_code text,
        keywords text, timezone text, custom_fields text NOT NULL, call_count integer DEFAULT 0 NOT NULL,
        last_called_at text, last_call_outcome text, created_at text NOT NULL, updated_at text NOT NULL
      );
      CREATE UNIQUE INDEX contacts_folder_phone_idx ON contacts (org_id, folder_id, phone_number);
      CREATE INDEX contacts_org_created_idx ON contacts (org_id, created_at);
    `);
    const insert = db.prepare(`
      INSERT INTO contacts (id, org_id, folder_id, phone_number, first_name, last_name, email, company_name, industry,
        location, pin_code, keywords, timezone, custom_fields, call_count, last_called_at, last_call_outcome, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, NULL, NULL, ?, 0, NULL, NULL, ?, ?)`);
    const orgId = randomUUID();
    const folderId = randomUUID();
    const now = new Date().toISOString();
    const started = performance.now();
    db.transaction(() => {
      for (const r of records) {
        insert.run(r.id, orgId, folderId, r.phone, r.firstName, r.lastName, r.email, r.company, r.customFields, now, now);
      }
    })();
    const seconds = (performance.now() - started) / 1000;
    const stored = db.prepare("SELECT count(*) AS n FROM contacts").get().n;
    return { seconds, stored };
  } finally {
    db.close();
    rmSync(file, { force: true });
  }
}

const fmt = (n) => Math.round(n).toLocaleString("en-US");

const { csv, records } = generate(ROWS);
const megabytes = Buffer.byteLength(csv) / 1024 / 1024;
console.log(`bench/import: ${fmt(ROWS)}-row CSV (${megabytes.toFixed(1)} MB), POST /api/public/v1/contacts/import on wrangler dev (local D1)`);

const api = await importThroughApi(csv);
if (api.result.imported !== ROWS || api.stored !== ROWS) {
  throw new Error(`expected ${ROWS} contacts, got ${JSON.stringify({ ...api.result, error_details: undefined })} with ${api.stored} stored`);
}
const apiRate = ROWS / api.seconds;
console.log(
  `  api       ${api.seconds.toFixed(2).padStart(7)} s  ${fmt(apiRate).padStart(9)} rows/s  (imported ${api.result.imported}, skipped ${api.result.skipped}, errors ${api.result.errors}; upload, parse, validate, write)`,
);

const sqlite = insertWithSqlite(records);
if (sqlite.stored !== ROWS) throw new Error(`baseline stored ${sqlite.stored} rows, expected ${ROWS}`);
const sqliteRate = ROWS / sqlite.seconds;
console.log(
  `  baseline  ${sqlite.seconds.toFixed(2).padStart(7)} s  ${fmt(sqliteRate).padStart(9)} rows/s  (better-sqlite3, file DB, one transaction, same columns, 2 indexes)`,
);
console.log(`  ratio api/baseline: ${(apiRate / sqliteRate).toFixed(3)}  (the baseline is ${(sqliteRate / apiRate).toFixed(1)}x faster)`);
console.log(
  JSON.stringify({
    bench: "import",
    rows: ROWS,
    csv_bytes: Buffer.byteLength(csv),
    api_seconds: Number(api.seconds.toFixed(3)),
    api_rows_per_s: Math.round(apiRate),
    baseline_seconds: Number(sqlite.seconds.toFixed(3)),
    baseline_rows_per_s: Math.round(sqliteRate),
    ratio: Number((apiRate / sqliteRate).toFixed(4)),
  }),
);
