// bench/api: the public API on `wrangler dev` (local D1) under autocannon, 50 connections, a fixed
// number of requests per scenario:
//   - GET /agents/{id}
//   - GET /contacts, a page of 50 from a folder of 10,000
//   - POST /contacts
// against the floor of a bare Hono route doing one D1 read by id (bench/baseline/worker.ts) on the
// same local database in the same run. Prints requests/s, p50/p99 latency and the ratio to the floor.
//
//   node bench/api.mjs      (API_REQUESTS=5000 and BENCH_PORT=8792 override the defaults)
import autocannon from "autocannon";
import { createOrganization, startWorker } from "./lib.mjs";

const REQUESTS = Number(process.env.API_REQUESTS ?? 3000);
const PORT = Number(process.env.BENCH_PORT ?? 8792);
const CONNECTIONS = 50;
const FOLDER_SIZE = 10_000;

function run(name, options) {
  return new Promise((resolve, reject) => {
    autocannon({ connections: CONNECTIONS, amount: REQUESTS, timeout: 30, ...options }, (error, result) => {
      if (error) return reject(error);
      const bad = result.non2xx + result.errors + result.timeouts;
      if (bad > 0) return reject(new Error(`${name}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`));
      resolve({ name, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 });
    });
  });
}

async function seed(worker, apiKey) {
  const headers = { authorization: `Bearer ${apiKey}`, "content-type": "application/json" };
  const api = (path, body) =>
    fetch(`${worker.baseUrl}/api/public/v1${path}`, { method: "POST", headers, body: JSON.stringify(body) }).then(async (r) => {
      const json = await r.json();
      if (r.status >= 300) throw new Error(`${path}: ${r.status} ${JSON.stringify(json)}`);
      return json.data;
    });
  const agent = await api("/agents", { name: "Bench agent", voice_id: "01900000-0000-7000-8000-000000000001", system_prompt: "Hello {{first_name}}" });
  const folder = await api("/contacts/folders", { name: "Ten thousand" });
  const lines = ["phone,first_name,last_name,email"];
  for (let i = 0; i < FOLDER_SIZE; i++) lines.push(`+1415${3_000_000 + i},First${i},Last${i},u${i}@example.com`);
  const form = new FormData();
  form.append("file", new Blob([lines.join("\n")], { type: "text/csv" }), "contacts.csv");
  form.append("folder_id", folder.id);
  const imported = await fetch(`${worker.baseUrl}/api/public/v1/contacts/import`, { method: "POST", headers: { authorization: headers.authorization }, body: form }).then((r) => r.json());
  if (imported.data?.imported !== FOLDER_SIZE) throw new Error(`seeding contacts failed: ${JSON.stringify(imported).slice(0, 500)}`);
  const postFolder = await api("/contacts/folders", { name: "POST target" });
  return { agentId: agent.id, folderId: folder.id, postFolderId: postFolder.id };
}

const worker = await startWorker({ port: PORT });
let baseline;
try {
  const org = await createOrganization(worker, "API benchmark");
  const { agentId, folderId, postFolderId } = await seed(worker, org.apiKey);
  const auth = { authorization: `Bearer ${org.apiKey}` };
  baseline = await startWorker({ port: PORT + 1, config: "bench/baseline/wrangler.toml", persistTo: worker.persistTo, migrate: false });

  const results = [];
  results.push(await run("baseline: bare Hono + one D1 read", { url: `${baseline.baseUrl}/baseline/${agentId}` }));
  results.push(await run("GET /agents/{id}", { url: `${worker.baseUrl}/api/public/v1/agents/${agentId}`, headers: auth }));
  results.push(
    await run("GET /contacts (page of 50 of 10,000)", {
      url: `${worker.baseUrl}/api/public/v1/contacts?folder_id=${folderId}&limit=50&offset=5000`,
      headers: auth,
    }),
  );
  let n = 0;
  results.push(
    await run("POST /contacts", {
      url: `${worker.baseUrl}/api/public/v1/contacts`,
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      requests: [
        {
          setupRequest: (request) => ({
            ...request,
            body: JSON.stringify({ folder_id: postFolderId, phone_number: `+1628${2_000_000 + n++}`, first_name: "Bench" }),
          }),
        },
      ],
    }),
  );

  const floor = results[0].rps;
  console.log(`api: ${REQUESTS} requests per scenario, ${CONNECTIONS} connections, wrangler dev --local`);
  for (const r of results) {
    console.log(`  ${r.name.padEnd(40)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${String(r.p50).padStart(4)} ms  p99 ${String(r.p99).padStart(4)} ms  ratio ${(r.rps / floor).toFixed(2)}`);
  }
} finally {
  await baseline?.stop({ keepData: true });
  await worker.stop();
}
