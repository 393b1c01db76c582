// bench/kb: knowledge-base ingestion and retrieval on `wrangler dev` (local D1, R2 and Queues).
// 2,000 pages of text (~2,000 characters each) are uploaded as 200 ten-page text documents;
// ingestion runs through the truedy-knowledge queue (extract, chunk, index in FTS5). Then 100
// questions go through POST /knowledge-bases/{id}/query one after another.
//
// Baselines, measured in the same run on the same data with better-sqlite3 in this process: the
// very chunks the worker stored (read back from its local D1 file) inserted into the same
// FTS5-indexed table in one transaction, and the same 100 questions as a plain FTS5 MATCH ...
// ORDER BY bm25 LIMIT 5. Prints pages/s and query p50/p99 for both, and their ratios.
//
//   node bench/kb.mjs       (KB_PAGES=4000, KB_QUERIES=200, BENCH_PORT=8798 override the defaults)
import Database from "better-sqlite3";
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { createOrganization, root, startWorker } from "./lib.mjs";

const PAGES = Number(process.env.KB_PAGES ?? 2000);
const PAGES_PER_DOCUMENT = 10;
const QUERIES = Number(process.env.KB_QUERIES ?? 100);
const PORT = Number(process.env.BENCH_PORT ?? 8798);
const UPLOADS_IN_FLIGHT = 8;

// ---- Data: deterministic pseudo-random prose, one unique keyword per page ----

let seed = 42;
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};
const VOCABULARY = (
  "account address agent answer appointment balance billing booking cancel card charge claim contract customer delivery " +
  "deposit device discount email error fee form guarantee hardware help hours installation invoice issue item license " +
  "login manager membership message network order package password payment phone plan policy price product refund " +
  "renewal repair request reservation return schedule service shipping software status subscription support ticket " +
  "transfer upgrade warranty website"
).split(" ");
const word = () => VOCABULARY[Math.floor(random() * VOCABULARY.length)];
const keyword = (i) => `zq${i.toString(36)}x`;

function sentence() {
  const n = 8 + Math.floor(random() * 10);
  const words = Array.from({ length: n }, word);
  return `${words[0][0].toUpperCase()}${words[0].slice(1)} ${words.slice(1).join(" ")}.`;
}

function page(i) {
  const paragraphs = [];
  let length = 0;
  let p = 0;
  while (length < 2000) {
    const sentences = Array.from({ length: 4 }, sentence);
    if (p === 1) sentences.splice(2, 0, `The reference code ${keyword(i)} belongs to case ${i}.`);
    const paragraph = sentences.join(" ");
    paragraphs.push(paragraph);
    length += paragraph.length + 2;
    p++;
  }
  return paragraphs.join("\n\n");
}

const pages = Array.from({ length: PAGES }, (_, i) => page(i));
const documents = [];
for (let i = 0; i < PAGES; i += PAGES_PER_DOCUMENT) documents.push(pages.slice(i, i + PAGES_PER_DOCUMENT).join("\n\n"));
const queryPages = Array.from({ length: QUERIES }, (_, i) => Math.floor((i * PAGES) / QUERIES) + (i % PAGES_PER_DOCUMENT));
const questions = queryPages.map((i) => `What do we know about the ${word()} for reference code ${keyword(i)}?`);

// The FTS expression the worker builds (src/domain/knowledge.ts: queryTerms / ftsMatchExpression).
const STOPWORDS = new Set(
  "a an and are as at be but by can could do does did for from had has have how i if in into is it its me my of on or our so than that the their them then there these they this to was we were what when where which who whom why will with would you your".split(" "),
);
const matchExpression = (q) => [...new Set(q.toLowerCase().match(/[\p{L}\p{N}]+/gu).filter((w) => !STOPWORDS.has(w)))].map((t) => `"${t}"`).join(" OR ");

// ---- The worker ----

async function api(worker, apiKey, method, pathName, body) {
  const res = await fetch(`${worker.baseUrl}/api/public/v1${pathName}`, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json();
  if (res.status >= 300) throw new Error(`${method} ${pathName}: ${res.status} ${JSON.stringify(json).slice(0, 500)}\n${worker.output()}`);
  return json;
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

/** The local D1 file wrangler keeps for the worker under its persist directory. */
function d1File(persistTo) {
  const dir = path.join(persistTo, "v3", "d1", "miniflare-D1DatabaseObject");
  const files = readdirSync(dir).filter((f) => f.endsWith(".sqlite")).map((f) => path.join(dir, f));
  if (files.length === 0) throw new Error(`no D1 database under ${dir}`);
  return files.sort((a, b) => statSync(b).size - statSync(a).size)[0];
}

async function throughWorker() {
  const worker = await startWorker({ port: PORT });
  let keepData = false;
  try {
    const org = await createOrganization(worker, "KB benchmark");
    const kb = (await api(worker, org.apiKey, "POST", "/knowledge-bases", { name: "Bench", embedding_model: null })).data;

    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: UPLOADS_IN_FLIGHT }, async () => {
        while (next < documents.length) {
          const i = next++;
          await api(worker, org.apiKey, "POST", `/knowledge-bases/${kb.id}/sources/document`, {
            name: `Document ${i}`,
            file: { filename: `doc-${i}.txt`, content_type: "text/plain", data: Buffer.from(documents[i]).toString("base64") },
          });
        }
      }),
    );
    const uploaded = performance.now();
    let view;
    for (;;) {
      view = (await api(worker, org.apiKey, "GET", `/knowledge-bases/${kb.id}`)).data;
      if (view.status !== "processing") break;
      if (performance.now() - started > 600_000) throw new Error(`ingestion did not finish in 10 minutes: ${JSON.stringify(view)}`);
      await sleep(50);
    }
    const seconds = (performance.now() - started) / 1000;
    if (view.status !== "ready" || view.source_count !== documents.length) throw new Error(`ingestion ended ${JSON.stringify(view)}`);

    const latencies = [];
    let hits = 0;
    for (let q = 0; q < questions.length; q++) {
      const t0 = performance.now();
      const result = (await api(worker, org.apiKey, "POST", `/knowledge-bases/${kb.id}/query`, { query: questions[q], top_k: 5 })).data;
      latencies.push(performance.now() - t0);
      if (result.results[0]?.text.includes(keyword(queryPages[q]))) hits++;
    }
    keepData = true;
    return { seconds, uploadSeconds: (uploaded - started) / 1000, chunks: view.chunk_count, latencies, hits, persistTo: worker.persistTo, stop: worker.stop };
  } finally {
    if (!keepData) await worker.stop();
  }
}

// ---- The baseline ----

function baseline(chunkTexts) {
  const file = path.join(root, "bench", ".data", `kb-baseline-${process.pid}.sqlite`);
  rmSync(file, { force: true });
  const db = new Database(file);
  try {
    db.exec(`
      CREATE TABLE knowledge_chunks (id integer PRIMARY KEY NOT NULL, org_id text NOT NULL, knowledge_base_id text NOT NULL, source_id text NOT NULL,
        ordinal integer NOT NULL, text text NOT NULL, url text, embedding blob, created_at text NOT NULL);
      CREATE UNIQUE INDEX knowledge_chunks_source_ordinal_idx ON knowledge_chunks (source_id, ordinal);
      CREATE INDEX knowledge_chunks_kb_idx ON knowledge_chunks (org_id, knowledge_base_id);
    `);
    // The FTS table and triggers exactly as migration 0012 creates them.
    const migration = readFileSync(path.join(root, "migrations", "0012_kb_chunks_fts.sql"), "utf8");
    for (const statement of migration.split("--> statement-breakpoint")) db.exec(statement);

    const insert = db.prepare(
      "INSERT INTO knowledge_chunks (org_id, knowledge_base_id, source_id, ordinal, text, url, embedding, created_at) VALUES ('org', 'kb', ?, ?, ?, NULL, NULL, ?)",
    );
    const now = new Date().toISOString();
    const started = performance.now();
    db.transaction(() => {
      chunkTexts.forEach((c) => insert.run(c.source_id, c.ordinal, c.text, now));
    })();
    const seconds = (performance.now() - started) / 1000;

    const search = db.prepare(
      `SELECT c.id, c.text, bm25(knowledge_chunks_fts) AS bm25 FROM knowledge_chunks_fts JOIN knowledge_chunks c ON c.id = knowledge_chunks_fts.rowid
       WHERE knowledge_chunks_fts MATCH ? AND c.org_id = 'org' AND c.knowledge_base_id IN ('kb') ORDER BY bm25 LIMIT 5`,
    );
    const latencies = [];
    let hits = 0;
    for (let q = 0; q < questions.length; q++) {
      const t0 = performance.now();
      const rows = search.all(matchExpression(questions[q]));
      latencies.push(performance.now() - t0);
      if (rows[0]?.text.includes(keyword(queryPages[q]))) hits++;
    }
    return { seconds, latencies, hits };
  } finally {
    db.close();
    rmSync(file, { force: true });
  }
}

// ---- Run ----

const fmt = (n, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const characters = pages.reduce((n, p) => n + p.length, 0);
console.log(
  `bench/kb: ${fmt(PAGES)} pages (${(characters / 1e6).toFixed(1)} M characters) as ${documents.length} text documents through the ingestion queue, then ${QUERIES} queries, on wrangler dev`,
);

const worker = await throughWorker();
let chunkTexts;
try {
  await worker.stop({ keepData: true });
  const d1 = new Database(d1File(worker.persistTo), { readonly: true });
  chunkTexts = d1.prepare("SELECT source_id, ordinal, text FROM knowledge_chunks ORDER BY id").all();
  d1.close();
} finally {
  rmSync(worker.persistTo, { recursive: true, force: true });
}
if (chunkTexts.length !== worker.chunks) throw new Error(`the worker reported ${worker.chunks} chunks but stored ${chunkTexts.length}`);
const base = baseline(chunkTexts);

const apiRate = PAGES / worker.seconds;
const baseRate = PAGES / base.seconds;
const sortedApi = [...worker.latencies].sort((a, b) => a - b);
const sortedBase = [...base.latencies].sort((a, b) => a - b);
const [apiP50, apiP99, baseP50, baseP99] = [percentile(sortedApi, 50), percentile(sortedApi, 99), percentile(sortedBase, 50), percentile(sortedBase, 99)];

console.log(
  `  ingest    api ${worker.seconds.toFixed(2).padStart(7)} s  ${fmt(apiRate, 1).padStart(9)} pages/s  (${fmt(worker.chunks)} chunks; uploads took ${worker.uploadSeconds.toFixed(2)} s, then queue → extract → chunk → D1/FTS5)`,
);
console.log(`            baseline ${base.seconds.toFixed(3).padStart(6)} s  ${fmt(baseRate, 0).padStart(9)} pages/s  (better-sqlite3: the same chunks, same table, FTS5 and triggers, one transaction)`);
console.log(`            ratio api/baseline: ${(apiRate / baseRate).toFixed(4)}  (the baseline is ${fmt(baseRate / apiRate, 0)}x faster)`);
console.log(`  query     api      p50 ${apiP50.toFixed(2).padStart(7)} ms  p99 ${apiP99.toFixed(2).padStart(7)} ms  (POST /knowledge-bases/{id}/query, top_k 5; top hit right ${worker.hits}/${QUERIES})`);
console.log(`            baseline p50 ${baseP50.toFixed(3).padStart(7)} ms  p99 ${baseP99.toFixed(3).padStart(7)} ms  (plain FTS5 MATCH ... ORDER BY bm25 LIMIT 5 in-process; top hit right ${base.hits}/${QUERIES})`);
console.log(`            ratio p50 api/baseline: ${fmt(apiP50 / baseP50, 1)}  p99: ${fmt(apiP99 / baseP99, 1)}`);
console.log(
  JSON.stringify({
    bench: "kb",
    pages: PAGES,
    documents: documents.length,
    chunks: worker.chunks,
    ingest_seconds: Number(worker.seconds.toFixed(3)),
    ingest_pages_per_s: Number(apiRate.toFixed(1)),
    baseline_ingest_pages_per_s: Math.round(baseRate),
    ingest_ratio: Number((apiRate / baseRate).toFixed(5)),
    query_p50_ms: Number(apiP50.toFixed(2)),
    query_p99_ms: Number(apiP99.toFixed(2)),
    baseline_query_p50_ms: Number(baseP50.toFixed(4)),
    baseline_query_p99_ms: Number(baseP99.toFixed(4)),
    query_p50_ratio: Number((apiP50 / baseP50).toFixed(2)),
    query_hits: worker.hits,
    baseline_query_hits: base.hits,
  }),
);
if (worker.hits < QUERIES * 0.9) throw new Error(`only ${worker.hits}/${QUERIES} queries found their page first`);
