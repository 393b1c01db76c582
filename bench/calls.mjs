// bench/calls: 1,000 simulator calls created as fast as the API takes them, with the org's
// concurrency at 100, on `wrangler dev` (local D1, Durable Objects, alarms). Prints calls/s set up,
// p50/p99 from POST to `ringing` (the call's own queued_at → ringing_at), the most calls ever
// holding a slot at once (must equal the limit, never exceed it), and the ratio of setup
// throughput to a plain POST /contacts at the same concurrency in the same run.
//
//   node bench/calls.mjs        (CALLS=200 and BENCH_PORT=8795 override the defaults)
import { performance } from "node:perf_hooks";
import { createOrganization, startWorker } from "./lib.mjs";

const CALLS = Number(process.env.CALLS ?? 1000);
const PORT = Number(process.env.BENCH_PORT ?? 8795);
const LIMIT = 100;
const CONCURRENCY = 50;

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function inParallel(count, concurrency, task) {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) await task(next++);
  }));
}

const worker = await startWorker({ port: PORT, vars: { SIMULATOR_CALL_SECONDS: "2" } });
try {
  const org = await createOrganization(worker, "Calls benchmark");
  const admin = { authorization: `Bearer ${worker.adminToken}`, "content-type": "application/json" };
  await fetch(`${worker.baseUrl}/api/admin/v1/organizations/${org.id}`, { method: "PATCH", headers: admin, body: JSON.stringify({ max_concurrent_calls: LIMIT }) });
  const headers = { authorization: `Bearer ${org.apiKey}`, "content-type": "application/json" };
  const api = async (method, path, body) => {
    const res = await fetch(`${worker.baseUrl}/api/public/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const json = await res.json();
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const agent = (await api("POST", "/agents", { name: "Bench caller", voice_id: "01900000-0000-7000-8000-000000000001", system_prompt: "Hi" })).data;
  const [available] = (await api("POST", "/telephony/numbers/search", { area_code: "415", page_size: 1 })).data;
  const number = (await api("POST", "/telephony/numbers/purchase", { phone_number: available.phone_number })).data;
  await api("POST", "/telephony/numbers/assign", { number_id: number.id, agent_id: agent.id, assignment_type: "outbound" });

  const started = performance.now();
  await inParallel(CALLS, CONCURRENCY, (i) => api("POST", "/calls", { agent_id: agent.id, phone_number: `+1${200 + (i % 700)}555${String(i % 10_000).padStart(4, "0")}` }));
  const setupSeconds = (performance.now() - started) / 1000;

  // Wait for every call to end, then read their own timestamps.
  for (;;) {
    const live = (await api("GET", "/calls?status=queued&limit=1")).pagination.total + (await api("GET", "/calls?status=ringing&limit=1")).pagination.total + (await api("GET", "/calls?status=in_progress&limit=1")).pagination.total;
    if (live === 0) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  const ringDelays = [];
  for (let offset = 0; offset < CALLS; offset += 100) {
    for (const call of (await api("GET", `/calls?limit=100&offset=${offset}`)).data) {
      if (call.ringing_at) ringDelays.push(Date.parse(call.ringing_at) - Date.parse(call.queued_at));
    }
  }
  ringDelays.sort((a, b) => a - b);
  const orgView = await fetch(`${worker.baseUrl}/api/admin/v1/organizations/${org.id}`, { headers: admin }).then((r) => r.json());

  // The floor: a plain create of the same weight class at the same concurrency, same run.
  const folder = (await api("POST", "/contacts/folders", { name: "floor" })).data;
  const floorStarted = performance.now();
  await inParallel(CALLS, CONCURRENCY, (i) => api("POST", "/contacts", { folder_id: folder.id, phone_number: `+1628${2_000_000 + i}` }));
  const floorSeconds = (performance.now() - floorStarted) / 1000;

  const setupRate = CALLS / setupSeconds;
  const floorRate = CALLS / floorSeconds;
  console.log(`calls: ${CALLS} simulator calls, org concurrency ${LIMIT}, ${CONCURRENCY} concurrent clients`);
  console.log(`  setup: ${setupRate.toFixed(0)} calls/s (POST /calls)`);
  console.log(`  POST → ringing: p50 ${percentile(ringDelays, 50)} ms, p99 ${percentile(ringDelays, 99)} ms (${ringDelays.length} calls rang)`);
  console.log(`  max concurrent calls observed: ${orgView.data.call_slots.max_active_observed} (limit ${LIMIT})`);
  console.log(`  baseline POST /contacts: ${floorRate.toFixed(0)} req/s; ratio calls/baseline ${(setupRate / floorRate).toFixed(2)}`);
} catch (error) {
  // What the worker printed is usually the explanation (a crash, an overloaded object).
  console.error(`${error}\n--- wrangler dev output (tail) ---\n${worker.output().slice(-4000)}`);
  process.exitCode = 1;
} finally {
  await worker.stop();
}
