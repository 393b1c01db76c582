import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { KNOWLEDGE_DLQ_NAME, KNOWLEDGE_QUEUE_NAME, MAX_ATTEMPTS } from "../../src/knowledge/ingest";
import { sweepStuckIngestions } from "../../src/knowledge/sweep";
import { openDatabase } from "../../src/db/tenant";
import { toBase64 } from "../../src/lib/crypto";
import { newOrg, type ApiClient } from "../helpers/api";
import {
  addDocument,
  addText,
  createKb,
  DOCX,
  eventually,
  fixture,
  ftsHits,
  ready,
  setSitePage,
  settled,
  sitePathsRequested,
  siteUrl,
  storedChunks,
  uniqueName,
  utf8,
} from "./helpers";

const sentences = (topic: string, n: number) => Array.from({ length: n }, (_, i) => `Fact ${i} about ${topic} is written here at some length for the index.`).join(" ");

async function query(client: ApiClient, kbId: string, text: string, topK = 5) {
  const res = await client.post(`/knowledge-bases/${kbId}/query`, { query: text, top_k: topK });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.data as { mode: string; warnings: string[]; results: { source_id: string; source_name: string; text: string; url: string | null; score: number; keyword: any; vector: any }[] };
}

describe("document ingestion", () => {
  it("indexes a text file: overlapping chunks, counts on the source and the knowledge base", async () => {
    const org = await newOrg();
    const kb = await createKb(org);
    const text = `${sentences("gardening", 30)}\n\n${sentences("plumbing", 30)}`;
    const source = await addText(org, kb.id, "Manual", text);
    const done = await ready(org, kb.id, source.id);

    const chunks = await storedChunks(source.id);
    expect(chunks.length).toBeGreaterThan(3);
    expect(done.chunk_count).toBe(chunks.length);
    expect(done.error).toBeNull();
    expect(done.page_count).toBeNull();
    expect(chunks.map((c) => c.ordinal)).toEqual(chunks.map((_, i) => i));
    for (const chunk of chunks) {
      expect(chunk.text.length).toBeLessThanOrEqual(800);
      expect(chunk.embedding_bytes).toBeNull(); // no embedding model on this knowledge base
    }
    // Consecutive chunks overlap: the next one starts with a sentence the previous one has.
    for (let i = 1; i < chunks.length; i++) {
      const opening = /^Fact \d+ about \w+/.exec(chunks[i].text)![0];
      expect(chunks[i - 1].text).toContain(opening);
    }
    expect(await ftsHits(source.id, "plumbing")).toBeGreaterThan(0);
    expect((await org.get(`/knowledge-bases/${kb.id}`)).body.data).toMatchObject({ status: "ready", source_count: 1, chunk_count: chunks.length });
  });

  it("indexes markdown as plain text", async () => {
    const org = await newOrg();
    const kb = await createKb(org);
    const md = "# Opening hours\n\nWe are open **Monday to Friday**, see [the map](https://acme.test/map).\n\n- Saturdays: `closed`\n";
    const source = await addDocument(org, kb.id, "Hours", "hours.md", "text/markdown", utf8(md));
    await ready(org, kb.id, source.id);
    const [chunk] = await storedChunks(source.id);
    expect(chunk.text).toBe("Opening hours\n\nWe are open Monday to Friday, see the map.\n\nSaturdays: closed");
  });

  it("indexes a real two-page PDF", async () => {
    const org = await newOrg();
    const kb = await createKb(org);
    const source = await addDocument(org, kb.id, "Support handbook", "handbook.pdf", "application/pdf", toBase64(await fixture("handbook.pdf")));
    const done = await ready(org, kb.id, source.id);
    expect(done.page_count).toBe(2);
    const text = (await storedChunks(source.id)).map((c) => c.text).join(" ");
    expect(text).toContain("Refunds are processed within fourteen business days.");
    expect(text).toContain("Hardware warranty coverage lasts twenty four months.");
    const found = await query(org, kb.id, "How long is the hardware warranty?");
    expect(found.results[0]).toMatchObject({ source_id: source.id, source_name: "Support handbook" });
    expect(found.results[0].text).toContain("twenty four months");
  });

  it("indexes a real DOCX: paragraphs, table cells, tabs and entities; tracked deletions left out", async () => {
    const org = await newOrg();
    const kb = await createKb(org);
    const source = await addDocument(org, kb.id, "Onboarding", "onboarding.docx", DOCX, toBase64(await fixture("handbook.docx")));
    await ready(org, kb.id, source.id);
    const text = (await storedChunks(source.id)).map((c) => c.text).join("\n\n");
    expect(text).toContain("Onboarding Guide\n\nNew agents shadow a senior colleague for three shifts before taking calls alone.");
    expect(text).toContain("Escalations go to the duty manager & are logged in the incident tracker.");
    expect(text).toContain("06:00 14:00");
    expect(text).toContain("Parking is free for staff.");
    expect(text).not.toContain("parking permits");
    expect(text).not.toMatch(/<w:|xml/);
  });

  it("fails a broken PDF with a clear error and indexes nothing", async () => {
    const org = await newOrg();
    const kb = await createKb(org);
    const source = await addDocument(org, kb.id, "Broken", "broken.pdf", "application/pdf", utf8("%PDF-1.7\nthis is not really a pdf\n%%EOF\n"));
    const done = await settled(org, kb.id, source.id);
    expect(done.status).toBe("failed");
    expect(done.error).toMatch(/^Could not read the PDF/);
    expect(done.chunk_count).toBe(0);
    expect(await storedChunks(source.id)).toEqual([]);
    expect((await org.get(`/knowledge-bases/${kb.id}`)).body.data).toMatchObject({ status: "failed", chunk_count: 0 });
  });

  it("fails a PDF without text, and a corrupt DOCX, saying why", async () => {
    const org = await newOrg();
    const kb = await createKb(org);
    const emptyPdf =
      "%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n" +
      "3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";
    const pdf = await addDocument(org, kb.id, "Scan", "scan.pdf", "application/pdf", utf8(emptyPdf));
    const docx = await addDocument(org, kb.id, "Cut", "cut.docx", DOCX, toBase64(new Uint8Array([0x50, 0x4b, 0x03, 0x04, 1, 2, 3, 4, 5, 6])));
    expect(await settled(org, kb.id, pdf.id)).toMatchObject({ status: "failed", error: expect.stringMatching(/no extractable text/) });
    expect(await settled(org, kb.id, docx.id)).toMatchObject({ status: "failed", error: expect.stringMatching(/^Not a valid DOCX file/) });
  });
});

describe("web ingestion", () => {
  it("crawls same-site links to the depth asked, skipping script, style and nav text, off-site links and unsafe redirects", async () => {
    const org = await newOrg();
    const kb = await createKb(org);
    const ns = uniqueName("crawl");
    const res = await org.post(`/knowledge-bases/${kb.id}/sources/web`, { name: "Help centre", urls: [siteUrl(ns)], max_depth: 1 });
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({ status: "processing", crawl: { max_depth: 1, max_pages: 20 } });
    const done = await ready(org, kb.id, res.body.data.id);

    const requested = await sitePathsRequested(ns);
    expect(new Set(requested)).toEqual(new Set(["/", "/shipping", "/pricing", "/missing", "/redirect-internal", "/moved", "/redirect-metadata"]));
    expect(requested.filter((p) => p === "/shipping")).toHaveLength(1); // the #fragment link is the same page
    // Depth 2, other hosts and non-pages were never fetched.
    for (const path of ["/shipping/international", "/deep", "/offsite-host", "/manual.pdf"]) expect(requested).not.toContain(path);

    expect(done.page_count).toBe(4); // index, shipping, pricing, and the redirect target
    const chunks = await storedChunks(done.id);
    const all = chunks.map((c) => c.text).join("\n");
    expect(all).toContain("Acme accepts returns within thirty days of delivery.");
    expect(all).toContain("We don’t refund gift cards.");
    expect(all).toContain("Returns & refunds");
    expect(all).toContain("Standard shipping takes five working days.");
    expect(all).toContain("The premium plan costs forty dollars per month.");
    expect(all).toContain("Loyalty points never expire");
    for (const hidden of ["SCRIPT TEXT", "secretScriptText", "NAVIGATION MENU TEXT", "STYLE TEXT", "NOSCRIPT TEXT", "color: red"]) expect(all).not.toContain(hidden);
    expect(new Set(chunks.map((c) => c.url))).toEqual(new Set([siteUrl(ns), siteUrl(ns, "/shipping"), siteUrl(ns, "/pricing"), siteUrl(ns, "/moved")]));

    const found = await query(org, kb.id, "How long does standard shipping take?");
    expect(found.results[0].url).toBe(siteUrl(ns, "/shipping"));
  });

  it("goes one level deeper with max_depth 2, and stops at max_pages", async () => {
    const org = await newOrg();
    const kb = await createKb(org);
    const deep = uniqueName("deep");
    const wide = uniqueName("wide");
    const a = (await org.post(`/knowledge-bases/${kb.id}/sources/web`, { name: "Deep", urls: [siteUrl(deep)], max_depth: 2 })).body.data;
    const b = (await org.post(`/knowledge-bases/${kb.id}/sources/web`, { name: "Wide", urls: [siteUrl(wide, "/wide")], max_depth: 1, max_pages: 5 })).body.data;
    await ready(org, kb.id, a.id);
    const deepPaths = await sitePathsRequested(deep);
    expect(deepPaths).toContain("/shipping/international");
    expect(deepPaths).not.toContain("/deep");

    const wideDone = await ready(org, kb.id, b.id);
    const widePaths = await sitePathsRequested(wide);
    expect(widePaths).toEqual(["/wide", "/wide/1", "/wide/2", "/wide/3", "/wide/4"]);
    expect(wideDone.page_count).toBe(5);
  });

  it("reads a plain-text page", async () => {
    const org = await newOrg();
    const kb = await createKb(org);
    const ns = uniqueName("plain");
    const source = (await org.post(`/knowledge-bases/${kb.id}/sources/web`, { name: "Hours", urls: [siteUrl(ns, "/plain.txt")] })).body.data;
    await ready(org, kb.id, source.id);
    expect((await storedChunks(source.id)).map((c) => c.text)).toEqual(["Plain text page about opening hours: nine to five."]);
  });

  it("fails when no page can be read: an HTTP error, or a redirect to a private address", async () => {
    const org = await newOrg();
    const kb = await createKb(org);
    const ns = uniqueName("bad");
    const missing = (await org.post(`/knowledge-bases/${kb.id}/sources/web`, { name: "Gone", urls: [siteUrl(ns, "/missing")] })).body.data;
    const metadata = (await org.post(`/knowledge-bases/${kb.id}/sources/web`, { name: "Metadata", urls: [siteUrl(ns, "/redirect-metadata")] })).body.data;
    expect(await settled(org, kb.id, missing.id)).toMatchObject({ status: "failed", error: `No page could be read: ${siteUrl(ns, "/missing")} answered HTTP 404` });
    const refused = await settled(org, kb.id, metadata.id);
    expect(refused.status).toBe("failed");
    expect(refused.error).toBe(
      `No page could be read: refused https://169.254.169.254/latest/meta-data/: Must not target a private, loopback or link-local address`,
    );
  });

  it("re-ingests a changed page: the new text replaces the old, without duplicates", async () => {
    const org = await newOrg();
    const kb = await createKb(org);
    const ns = uniqueName("change");
    const path = `/site/${ns}/news`;
    await setSitePage(path, "<html><body><p>The old announcement mentions the summer sale.</p></body></html>");
    const source = (await org.post(`/knowledge-bases/${kb.id}/sources/web`, { name: "News", urls: [siteUrl(ns, "/news")], max_depth: 0 })).body.data;
    const first = await ready(org, kb.id, source.id);
    expect((await storedChunks(source.id)).map((c) => c.text)).toEqual(["The old announcement mentions the summer sale."]);

    await setSitePage(path, "<html><body><p>The new announcement mentions the winter sale.</p><p>Doors open at eight.</p></body></html>");
    const again = await org.post(`/knowledge-bases/${kb.id}/sources/${source.id}/reingest`);
    expect(again.status).toBe(202);
    expect(again.body.data).toMatchObject({ id: source.id, status: "processing", error: null });
    const second = await eventually(() => org.get(`/knowledge-bases/${kb.id}/sources/${source.id}`), (r) => r.body.data.status === "ready" && r.body.data.updated_at !== first.updated_at, "re-ingestion");
    const chunks = await storedChunks(source.id);
    expect(chunks.map((c) => c.text)).toEqual(["The new announcement mentions the winter sale.\n\nDoors open at eight."]);
    expect(second.body.data.chunk_count).toBe(1);
    expect(await ftsHits(source.id, "summer")).toBe(0);
    expect(await ftsHits(source.id, "winter")).toBe(1);
  });
});

/** The source row as the consumer sees it. */
const sourceRow = (id: string) => env.DB.prepare("SELECT status, error, chunk_count, ingest_token FROM knowledge_sources WHERE id = ?").bind(id).first<{ status: string; error: string | null; chunk_count: number; ingest_token: string }>();

async function runConsumer(queue: string, body: unknown, attempts = 1, testEnv: Env = env) {
  const batch = createMessageBatch(queue, [{ id: `m-${crypto.randomUUID()}`, timestamp: new Date(), attempts, body }]);
  const ctx = createExecutionContext();
  await worker.queue(batch, testEnv);
  return getQueueResult(batch, ctx);
}

describe("the ingestion consumer", () => {
  it("is idempotent: a redelivered message replaces its chunks, a stale one changes nothing", async () => {
    const org = await newOrg();
    const kb = await createKb(org);
    const source = await addText(org, kb.id, "Policy", sentences("refunds", 40));
    const done = await ready(org, kb.id, source.id);
    const before = await storedChunks(source.id);
    const { ingest_token } = (await sourceRow(source.id))!;

    const redelivered = await runConsumer(KNOWLEDGE_QUEUE_NAME, { kind: "ingest", org_id: org.orgId, source_id: source.id, token: ingest_token }, 2);
    expect(redelivered.explicitAcks).toHaveLength(1);
    const after = await storedChunks(source.id);
    expect(after.map((c) => c.text)).toEqual(before.map((c) => c.text));
    expect((await sourceRow(source.id))!.chunk_count).toBe(done.chunk_count);
    expect(await ftsHits(source.id, "refunds")).toBe(before.length);

    const stale = await runConsumer(KNOWLEDGE_QUEUE_NAME, { kind: "ingest", org_id: org.orgId, source_id: source.id, token: "an-old-token" });
    expect(stale.explicitAcks).toHaveLength(1);
    expect((await storedChunks(source.id)).map((c) => c.id)).toEqual(after.map((c) => c.id));

    // Another org's id with the right token finds nothing either.
    const other = await newOrg();
    await runConsumer(KNOWLEDGE_QUEUE_NAME, { kind: "ingest", org_id: other.orgId, source_id: source.id, token: ingest_token });
    expect((await storedChunks(source.id)).map((c) => c.id)).toEqual(after.map((c) => c.id));
  });

  it("retries a transient failure, fails the source after the last attempt, and drops malformed messages", async () => {
    const org = await newOrg();
    const kb = await createKb(org, { embedding_model: "text-embedding-3-small" });
    const source = await addText(org, kb.id, "Policy", "Embeddings will be unreachable for this one.");
    await ready(org, kb.id, source.id);
    await env.DB.prepare("UPDATE knowledge_sources SET status = 'processing', ingest_token = 'tok-retry' WHERE id = ?").bind(source.id).run();
    const unreachable = { ...env, OPENAI_BASE_URL: "http://127.0.0.1:9/v1" } as Env;
    const message = { kind: "ingest", org_id: org.orgId, source_id: source.id, token: "tok-retry" };

    const first = await runConsumer(KNOWLEDGE_QUEUE_NAME, message, 1, unreachable);
    expect(first.retryMessages).toHaveLength(1);
    expect((await sourceRow(source.id))!.status).toBe("processing");

    const last = await runConsumer(KNOWLEDGE_QUEUE_NAME, message, MAX_ATTEMPTS, unreachable);
    expect(last.explicitAcks).toHaveLength(1);
    const failed = (await sourceRow(source.id))!;
    expect(failed.status).toBe("failed");
    expect(failed.error).toMatch(new RegExp(`^Ingestion failed after ${MAX_ATTEMPTS} attempts: The embeddings request failed`));
    expect(failed.chunk_count).toBe(0);
    expect(await storedChunks(source.id)).toEqual([]);

    const malformed = await runConsumer(KNOWLEDGE_QUEUE_NAME, { kind: "ingest", source_id: 42 });
    expect(malformed.explicitAcks).toHaveLength(1);
  });

  it("fails the source of a dead-lettered message", async () => {
    const org = await newOrg();
    const kb = await createKb(org);
    const source = await addText(org, kb.id, "Doc", "Some text.");
    await ready(org, kb.id, source.id);
    await env.DB.prepare("UPDATE knowledge_sources SET status = 'processing', ingest_token = 'tok-dlq' WHERE id = ?").bind(source.id).run();
    const result = await runConsumer(KNOWLEDGE_DLQ_NAME, { kind: "ingest", org_id: org.orgId, source_id: source.id, token: "tok-dlq" }, 1);
    expect(result.explicitAcks).toHaveLength(1);
    expect(await sourceRow(source.id)).toMatchObject({ status: "failed", error: expect.stringMatching(/repeated attempts/), chunk_count: 0 });
  });

  it("fails a source left processing for an hour (its message lost) from the cron, and leaves a recent one alone", async () => {
    const org = await newOrg();
    const kb = await createKb(org);
    const lost = await addText(org, kb.id, "Lost", "Text whose re-ingest message was lost.");
    const recent = await addText(org, kb.id, "Recent", "Text being re-ingested right now.");
    await ready(org, kb.id, lost.id);
    await ready(org, kb.id, recent.id);
    const now = Date.parse("2026-11-25T12:00:00Z");
    const set = (id: string, token: string, minutesAgo: number) =>
      env.DB.prepare("UPDATE knowledge_sources SET status = 'processing', ingest_token = ?, updated_at = ? WHERE id = ?")
        .bind(token, new Date(now - minutesAgo * 60_000).toISOString(), id)
        .run();
    await set(lost.id, "tok-lost", 61);
    await set(recent.id, "tok-recent", 10);
    expect(await sweepStuckIngestions(openDatabase(env.DB), env.DB, now)).toBeGreaterThanOrEqual(1);
    expect(await sourceRow(lost.id)).toMatchObject({ status: "failed", error: expect.stringMatching(/did not finish within an hour; re-ingest/), chunk_count: 0 });
    expect(await sourceRow(recent.id)).toMatchObject({ status: "processing" });
    expect(await ftsHits(lost.id, "whose")).toBe(0);
    expect(await ftsHits(recent.id, "being")).toBe(1);
  });
});

describe("removing indexed content", () => {
  it("deleting a source or a knowledge base removes its chunks from the table and the FTS index", async () => {
    const org = await newOrg();
    const kb = await createKb(org);
    const a = await addText(org, kb.id, "A", "Alpha document about zebras.");
    const b = await addText(org, kb.id, "B", "Beta document about zebras too.");
    await ready(org, kb.id, a.id);
    await ready(org, kb.id, b.id);
    expect((await query(org, kb.id, "zebras")).results).toHaveLength(2);

    expect((await org.delete(`/knowledge-bases/${kb.id}/sources/${a.id}`)).status).toBe(200);
    expect(await storedChunks(a.id)).toEqual([]);
    expect(await ftsHits(a.id, "zebras")).toBe(0);
    const left = await query(org, kb.id, "zebras");
    expect(left.results.map((r) => r.source_id)).toEqual([b.id]);
    expect((await org.get(`/knowledge-bases/${kb.id}`)).body.data).toMatchObject({ source_count: 1, chunk_count: 1 });

    expect((await org.delete(`/knowledge-bases/${kb.id}`)).status).toBe(200);
    const remaining = await env.DB.prepare("SELECT count(*) AS n FROM knowledge_chunks WHERE knowledge_base_id = ?").bind(kb.id).first<{ n: number }>();
    expect(remaining?.n).toBe(0);
    const fts = await env.DB.prepare("SELECT count(*) AS n FROM knowledge_chunks_fts WHERE knowledge_chunks_fts MATCH 'zebras'").first<{ n: number }>();
    expect(fts?.n).toBe(0);
  });
});
