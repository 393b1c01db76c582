// bench/campaign: a 100,000-contact campaign through the simulator carrier on `wrangler dev`
// (local D1, Durable Objects, alarms), with the platform clock running CLOCK_SPEED times faster
// than real time so hours of calling window pass in a minute or two.
//
// Prints:
//   - time to create the campaign from a 100,000-contact folder and schedule it (the folder copied
//     into the CampaignDO's SQLite and every contact given its slot), and the ratio of that to
//     inserting the same rows in one better-sqlite3 transaction in the same run;
//   - dials/s while the dialler runs for DURATION_S real seconds;
//   - the most calls live at once (the org limiter's exact count) against the limit;
//   - dial lateness p50/p99: when each contact was dialled minus its scheduled_at, in campaign
//     time and in real time.
// The recipients are numbers of a city where it is now between 08:00 and 14:00, so the
// platform's quiet hours (08:00–21:00 in the recipient's zone) leave most of a day to call in.
//
//   node bench/campaign.mjs   (CONTACTS, SPEED, DURATION_S, NUMBERS, CONCURRENCY, BENCH_PORT override)
import Database from "better-sqlite3";
import { performance } from "node:perf_hooks";
import { CITIES, localHour } from "./calling-day.mjs";
import { createOrganization, startWorker } from "./lib.mjs";

const CONTACTS = Number(process.env.CONTACTS ?? 100_000);
const DURATION_S = Number(process.env.DURATION_S ?? 60);
const NUMBERS = Number(process.env.NUMBERS ?? 10);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 50);
const PORT = Number(process.env.BENCH_PORT ?? 8796);
/** Campaign seconds an answered simulated call lasts. */
const TALK_SECONDS = 5;

const city = CITIES.find((c) => localHour(c.zone) >= 8 && localHour(c.zone) < 14) ?? CITIES.find((c) => localHour(c.zone) >= 8 && localHour(c.zone) < 19);
if (!city) throw new Error("no city in the list is inside its calling day right now");

// Fast enough that the rest of today's window holds about TARGET_DIALS_PER_S real dials a second
// (what one local workerd comfortably sustains), so lateness measures the dialler, not a backlog.
const TARGET_DIALS_PER_S = 15;
const minutesLeft = (21 - localHour(city.zone)) * 60 - new Date().getMinutes();
const SPEED = Number(process.env.SPEED ?? Math.min(600, Math.max(1, Math.round((TARGET_DIALS_PER_S * minutesLeft * 60) / CONTACTS))));

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The same rows the CampaignDO stores, inserted in one better-sqlite3 transaction. */
function baselineInsert(phones) {
  const db = new Database(":memory:");
  db.exec(`CREATE TABLE contacts (seq INTEGER PRIMARY KEY, contact_id TEXT NOT NULL UNIQUE, phone_number TEXT NOT NULL, first_name TEXT,
    last_name TEXT, email TEXT, custom_fields TEXT NOT NULL DEFAULT '{}', timezone TEXT, zones TEXT NOT NULL DEFAULT '[]', status TEXT NOT NULL,
    skip_reason TEXT, scheduled_at INTEGER, due_at INTEGER, slot_day TEXT, attempts INTEGER NOT NULL DEFAULT 0, call_id TEXT, call_status TEXT,
    called_at INTEGER, updated_at INTEGER NOT NULL);
    CREATE INDEX contacts_due ON contacts (due_at) WHERE due_at IS NOT NULL;
    CREATE INDEX contacts_phone ON contacts (phone_number);
    CREATE INDEX contacts_status ON contacts (status, seq);`);
  const insert = db.prepare(
    "INSERT INTO contacts (contact_id, phone_number, first_name, zones, status, scheduled_at, due_at, slot_day, updated_at) VALUES (?, ?, ?, ?, 'scheduled', ?, ?, ?, ?)",
  );
  const started = performance.now();
  const now = Date.now();
  db.transaction(() => {
    phones.forEach((phone, i) => insert.run(`c-${i}`, phone, `Contact ${i}`, `["${city.zone}"]`, now + i, now + i, "2026-01-01", now));
  })();
  const seconds = (performance.now() - started) / 1000;
  db.close();
  return seconds;
}

const epoch = Date.now();
const worker = await startWorker({
  port: PORT,
  vars: { SIMULATOR_CALL_SECONDS: String(TALK_SECONDS), CLOCK_SPEED: String(SPEED), CLOCK_EPOCH_MS: String(epoch) },
});
try {
  const org = await createOrganization(worker, "Campaign benchmark");
  const admin = { authorization: `Bearer ${worker.adminToken}`, "content-type": "application/json" };
  await fetch(`${worker.baseUrl}/api/admin/v1/organizations/${org.id}`, { method: "PATCH", headers: admin, body: JSON.stringify({ max_concurrent_calls: CONCURRENCY }) });
  const auth = { authorization: `Bearer ${org.apiKey}` };
  const api = async (method, path, body) => {
    const res = await fetch(`${worker.baseUrl}/api/public/v1${path}`, {
      method,
      headers: { ...auth, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };

  const agent = (await api("POST", "/agents", { name: "Bench campaign agent", voice_id: "01900000-0000-7000-8000-000000000001", system_prompt: "Hi {{first_name}}" })).data;
  for (const available of (await api("POST", "/telephony/numbers/search", { area_code: "415", page_size: NUMBERS })).data.slice(0, NUMBERS)) {
    const number = (await api("POST", "/telephony/numbers/purchase", { phone_number: available.phone_number })).data;
    await api("POST", "/telephony/numbers/assign", { number_id: number.id, agent_id: agent.id, assignment_type: "outbound" });
  }

  // The folder: one CSV import (measured by bench/import; not part of this figure).
  const folder = (await api("POST", "/contacts/folders", { name: "Campaign bench" })).data;
  const phones = Array.from({ length: CONTACTS }, (_, i) => city.phone(i));
  const form = new FormData();
  form.set("file", new Blob([`phone,first_name\n${phones.map((p, i) => `${p},Contact ${i}`).join("\n")}\n`], { type: "text/csv" }), "contacts.csv");
  form.set("folder_id", folder.id);
  const imported = await fetch(`${worker.baseUrl}/api/public/v1/contacts/import`, { method: "POST", headers: auth, body: form }).then((r) => r.json());
  if (imported.data?.imported !== CONTACTS) throw new Error(`import: ${JSON.stringify(imported).slice(0, 500)}`);

  const createStarted = performance.now();
  const campaign = (
    await api("POST", "/batch-calls", {
      name: "Bench campaign",
      agent_id: agent.id,
      contact_folder_id: folder.id,
      timezone: city.zone,
      start_time: "08:00",
      end_time: "21:00",
      working_days: [1, 2, 3, 4, 5, 6, 7],
      max_concurrent_calls: CONCURRENCY,
      phone_rotation_strategy: "round_robin",
    })
  ).data;
  const scheduled = (await api("POST", `/batch-calls/${campaign.id}/schedule`, {})).data;
  const createSeconds = (performance.now() - createStarted) / 1000;
  if (scheduled.stats.scheduled !== CONTACTS) throw new Error(`scheduled ${scheduled.stats.scheduled} of ${CONTACTS}`);

  // Let the dialler run, sampling the campaign's own counters.
  const runStarted = performance.now();
  const firstAttempts = scheduled.stats.attempts;
  let attempts = firstAttempts;
  let maxLive = 0;
  while (performance.now() - runStarted < DURATION_S * 1000) {
    await sleep(1000);
    const { stats } = (await api("GET", `/batch-calls/${campaign.id}`)).data;
    attempts = stats.attempts;
    maxLive = Math.max(maxLive, stats.dialing + stats.in_progress);
  }
  const runSeconds = (performance.now() - runStarted) / 1000;
  await api("POST", `/batch-calls/${campaign.id}/pause`);
  const orgView = await fetch(`${worker.baseUrl}/api/admin/v1/organizations/${org.id}`, { headers: admin }).then((r) => r.json());

  // Lateness of every first dial so far: contacts are dialled in slot order, which is list order.
  const lateness = [];
  for (let offset = 0; offset < attempts; offset += 100) {
    const page = (await api("GET", `/batch-calls/${campaign.id}/contacts?limit=100&offset=${offset}`)).data;
    for (const contact of page) {
      const first = contact.attempts[0];
      if (first) lateness.push(Date.parse(first.dialed_at) - Date.parse(first.scheduled_at));
    }
    if (page.every((c) => c.attempts.length === 0)) break;
  }
  lateness.sort((a, b) => a - b);

  const baselineSeconds = baselineInsert(phones);
  const rowsPerSecond = CONTACTS / createSeconds;
  const baselineRowsPerSecond = CONTACTS / baselineSeconds;
  const p50 = percentile(lateness, 50);
  const p99 = percentile(lateness, 99);
  console.log(`campaign: ${CONTACTS} contacts in ${city.zone}, ${NUMBERS} caller IDs, concurrency ${CONCURRENCY}, clock ×${SPEED}`);
  console.log(`  create + schedule: ${createSeconds.toFixed(2)} s (${rowsPerSecond.toFixed(0)} contacts/s)`);
  console.log(`  baseline better-sqlite3 insert of the same rows: ${baselineSeconds.toFixed(2)} s (${baselineRowsPerSecond.toFixed(0)} rows/s); ratio ${(rowsPerSecond / baselineRowsPerSecond).toFixed(3)}`);
  console.log(`  dialled ${attempts - firstAttempts} in ${runSeconds.toFixed(0)} s real: ${((attempts - firstAttempts) / runSeconds).toFixed(1)} dials/s (${((attempts - firstAttempts) / (runSeconds * SPEED)).toFixed(2)} per campaign second)`);
  console.log(`  max live calls: ${maxLive} sampled, ${orgView.data.call_slots.max_active_observed} by the org limiter (limit ${CONCURRENCY})`);
  console.log(`  dial lateness vs scheduled_at (${lateness.length} dials): p50 ${(p50 / 1000).toFixed(1)} s / p99 ${(p99 / 1000).toFixed(1)} s campaign time = p50 ${(p50 / SPEED).toFixed(0)} ms / p99 ${(p99 / SPEED).toFixed(0)} ms real`);
} catch (error) {
  console.error(`${error}\n--- wrangler dev output (tail) ---\n${worker.output().slice(-4000)}`);
  process.exitCode = 1;
} finally {
  await worker.stop();
}
