import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { manualClock, useClock } from "../../src/lib/clock";
import { toBase64 } from "../../src/lib/crypto";
import { newOrg, type ApiClient } from "../helpers/api";
import { deleteAgentRow, insertAgentRow } from "../helpers/agent-rows";
import { ready, settled } from "./helpers";

let restoreClock = () => {};
afterEach(() => restoreClock());

/** Creation times a second apart, so list order does not hinge on same-millisecond ids. */
function steppingClock() {
  const clock = manualClock(Date.UTC(2026, 10, 25, 12, 0, 0));
  restoreClock = useClock(clock);
  return clock;
}

const DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
const utf8 = (text: string) => toBase64(new TextEncoder().encode(text));
const bytes = (...values: number[]) => toBase64(new Uint8Array(values));

const textDocument = (text = "Returns are accepted within 30 days.") => ({
  name: "Returns policy",
  file: { filename: "returns.txt", content_type: "text/plain", data: utf8(text) },
});

async function createKb(client: ApiClient, name = "Product FAQ") {
  const res = await client.post("/knowledge-bases", { name, description: "Answers" });
  expect(res.status).toBe(201);
  return res.body.data as { id: string };
}

const objectKey = (orgId: string, kbId: string, sourceId: string) => `kb/${orgId}/${kbId}/${sourceId}`;

/**
 * A source row written straight to D1, with no ingestion queued (no ingest token): for tests of
 * listing and status rules that must not race the real ingestion consumer.
 */
async function insertSource(orgId: string, kbId: string, fields: { name: string; kind?: "document" | "web"; status: string; chunkCount?: number; createdAt: string }) {
  const id = crypto.randomUUID();
  await env.DB.prepare(
    `INSERT INTO knowledge_sources (id, org_id, knowledge_base_id, name, kind, status, chunk_count, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  )
    .bind(id, orgId, kbId, fields.name, fields.kind ?? "document", fields.status, fields.chunkCount ?? 0, fields.createdAt, fields.createdAt)
    .run();
  return { id };
}

async function expectFieldError(res: { status: number; body: any }, field: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(422);
  expect(res.body.error.code).toBe("validation_error");
  expect(res.body.error.details.field).toBe(field);
}

describe("knowledge base CRUD", () => {
  it("creates an empty, ready knowledge base", async () => {
    const org = await newOrg();
    const res = await org.post("/knowledge-bases", { name: "Product FAQ", description: "Answers to common questions" });
    expect(res.status).toBe(201);
    expect(res.body.data).toEqual({
      id: expect.any(String),
      name: "Product FAQ",
      description: "Answers to common questions",
      status: "ready",
      source_count: 0,
      chunk_count: 0,
      embedding_model: null,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    expect((await org.get(`/knowledge-bases/${res.body.data.id}`)).body.data).toEqual(res.body.data);
  });

  it("validates name and description", async () => {
    const org = await newOrg();
    await expectFieldError(await org.post("/knowledge-bases", {}), "name");
    await expectFieldError(await org.post("/knowledge-bases", { name: "x".repeat(256) }), "name");
    await expectFieldError(await org.post("/knowledge-bases", { name: "ok", description: "x".repeat(1001) }), "description");
    await expectFieldError(await org.patch(`/knowledge-bases/${(await createKb(org)).id}`, { name: "" }), "name");
  });

  it("updates only the given fields", async () => {
    const org = await newOrg();
    const kb = await createKb(org);
    const renamed = await org.patch(`/knowledge-bases/${kb.id}`, { name: "Renamed" });
    expect(renamed.status).toBe(200);
    expect(renamed.body.data).toMatchObject({ name: "Renamed", description: "Answers" });
    const cleared = await org.patch(`/knowledge-bases/${kb.id}`, { description: null });
    expect(cleared.body.data).toMatchObject({ name: "Renamed", description: null });
  });

  it("lists with a name filter, pagination and per-base counts", async () => {
    const clock = steppingClock();
    const org = await newOrg();
    const faq = await createKb(org, "Product FAQ");
    clock.advance(1000);
    await createKb(org, "Pricing");
    clock.advance(1000);
    await createKb(org, "faq archive");
    await org.post(`/knowledge-bases/${faq.id}/sources/document`, textDocument());
    await org.post(`/knowledge-bases/${faq.id}/sources/web`, { name: "Help", urls: ["https://help.example.com/"] });

    const filtered = await org.get("/knowledge-bases?name=FAQ");
    expect(filtered.body.data.map((k: any) => k.name)).toEqual(["faq archive", "Product FAQ"]);
    expect(filtered.body.data[1]).toMatchObject({ source_count: 2, chunk_count: 0, status: "processing" });
    expect(filtered.body.data[0]).toMatchObject({ source_count: 0, status: "ready" });

    const page = await org.get("/knowledge-bases?limit=2&offset=1");
    expect(page.body.data.map((k: any) => k.name)).toEqual(["Pricing", "Product FAQ"]);
    expect(page.body.pagination).toEqual({ total: 3, limit: 2, offset: 1, has_more: false });
  });

  it("derives the status from the sources", async () => {
    const org = await newOrg();
    const kb = await createKb(org);
    const pending = await insertSource(org.orgId, kb.id, { name: "Pending", status: "processing", createdAt: "2026-11-25T12:00:00.000Z" });
    expect((await org.get(`/knowledge-bases/${kb.id}`)).body.data.status).toBe("processing");

    await env.DB.prepare("UPDATE knowledge_sources SET status = 'failed', error = 'unreadable' WHERE id = ?").bind(pending.id).run();
    expect((await org.get(`/knowledge-bases/${kb.id}`)).body.data.status).toBe("failed");

    // A real ingestion: the source becomes ready and its chunks count for the knowledge base.
    const second = (await org.post(`/knowledge-bases/${kb.id}/sources/document`, textDocument())).body.data;
    const done = await ready(org, kb.id, second.id);
    expect(done.chunk_count).toBe(1);
    expect((await org.get(`/knowledge-bases/${kb.id}`)).body.data).toMatchObject({ status: "ready", source_count: 2, chunk_count: 1 });
    expect((await org.get(`/knowledge-bases/${kb.id}/sources/${pending.id}`)).body.data).toMatchObject({ status: "failed", error: "unreadable" });
  });

  it("deletes a knowledge base with its sources and stored files", async () => {
    const org = await newOrg();
    const kb = await createKb(org);
    const doc = (await org.post(`/knowledge-bases/${kb.id}/sources/document`, textDocument())).body.data;
    const key = objectKey(org.orgId, kb.id, doc.id);
    expect(await env.FILES.head(key)).not.toBeNull();

    const res = await org.delete(`/knowledge-bases/${kb.id}`);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ id: kb.id, deleted: true });
    expect((await org.get(`/knowledge-bases/${kb.id}`)).status).toBe(404);
    expect(await env.FILES.head(key)).toBeNull();
    const left = await env.DB.prepare("SELECT count(*) AS n FROM knowledge_sources WHERE knowledge_base_id = ?").bind(kb.id).first<{ n: number }>();
    expect(left?.n).toBe(0);
  });

  it("refuses to delete a knowledge base an agent uses", async () => {
    const org = await newOrg();
    const kb = await createKb(org);
    const agentId = await insertAgentRow(org.orgId, { knowledgeBaseIds: [kb.id] });
    const res = await org.delete(`/knowledge-bases/${kb.id}`);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("resource_in_use");
    expect(res.body.error.details.agent_ids).toEqual([agentId]);
    expect((await org.get(`/knowledge-bases/${kb.id}`)).status).toBe(200);
    await deleteAgentRow(agentId);
    expect((await org.delete(`/knowledge-bases/${kb.id}`)).status).toBe(200);
  });

  it("replays a create sent again with the same idempotency key", async () => {
    const org = await newOrg();
    const first = await org.post("/knowledge-bases", { name: "Once" }, { "Idempotency-Key": "kb-once" });
    const second = await org.post("/knowledge-bases", { name: "Once" }, { "Idempotency-Key": "kb-once" });
    expect(second.body.data.id).toBe(first.body.data.id);
    expect((await org.get("/knowledge-bases")).body.pagination.total).toBe(1);
  });
});

describe("document sources", () => {
  it("stores the decoded file in R2 and the source as processing", async () => {
    const org = await newOrg();
    const kb = await createKb(org);
    const text = "# Returns\n\nReturns are accepted within **30 days**. Café ☕";
    const res = await org.post(`/knowledge-bases/${kb.id}/sources/document`, {
      name: "Returns",
      description: "Policy page",
      file: { filename: "returns.md", content_type: "text/markdown", data: utf8(text) },
    });
    expect(res.status).toBe(201);
    const size = new TextEncoder().encode(text).byteLength;
    expect(res.body.data).toEqual({
      id: expect.any(String),
      knowledge_base_id: kb.id,
      name: "Returns",
      description: "Policy page",
      type: "document",
      status: "processing",
      error: null,
      file_name: "returns.md",
      content_type: "text/markdown",
      size_bytes: size,
      urls: null,
      crawl: null,
      chunk_count: 0,
      page_count: null,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    const object = await env.FILES.get(objectKey(org.orgId, kb.id, res.body.data.id));
    expect(object).not.toBeNull();
    expect(await object!.text()).toBe(text);
    expect(object!.httpMetadata?.contentType).toBe("text/markdown");
  });

  it("accepts PDF and DOCX files whose bytes match their type", async () => {
    const org = await newOrg();
    const kb = await createKb(org);
    const pdf = await org.post(`/knowledge-bases/${kb.id}/sources/document`, {
      name: "Manual",
      file: { filename: "Manual.PDF", content_type: "application/pdf", data: utf8("%PDF-1.7\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\n%%EOF\n") },
    });
    expect(pdf.status).toBe(201);
    const docx = await org.post(`/knowledge-bases/${kb.id}/sources/document`, {
      name: "Terms",
      file: { filename: "terms.docx", content_type: DOCX, data: bytes(0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00) },
    });
    expect(docx.status).toBe(201);
    expect(docx.body.data.size_bytes).toBe(8);
    const stored = await env.FILES.get(objectKey(org.orgId, kb.id, docx.body.data.id));
    expect(new Uint8Array(await stored!.arrayBuffer())).toEqual(new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00]));
  });

  it("refuses bad files with 422 naming the field, storing nothing", async () => {
    const org = await newOrg();
    const kb = await createKb(org);
    const post = (file: Record<string, unknown>) =>
      org.post(`/knowledge-bases/${kb.id}/sources/document`, { name: "Doc", file: { filename: "a.txt", content_type: "text/plain", data: utf8("hello"), ...file } });

    await expectFieldError(await post({ data: "aGVsbG8*d29ybGQ=" }), "file.data");
    await expectFieldError(await post({ data: "aGVsbG8=d29ybGQ=" }), "file.data");
    await expectFieldError(await post({ data: "aGVsbG8gd" }), "file.data");
    await expectFieldError(await post({ data: "" }), "file.data");
    await expectFieldError(await post({ content_type: "image/png", filename: "a.png" }), "file.content_type");
    await expectFieldError(await post({ content_type: "application/pdf" }), "file.content_type");
    await expectFieldError(await post({ filename: "README" }), "file.filename");
    await expectFieldError(await post({ filename: "a.pdf", content_type: "application/pdf", data: utf8("just text") }), "file.data");
    await expectFieldError(await post({ filename: "a.docx", content_type: DOCX, data: utf8("not a zip") }), "file.data");
    await expectFieldError(await post({ data: bytes(0xff, 0xfe, 0x41, 0x00) }), "file.data");
    await expectFieldError(await post({ filename: "a.md", content_type: "text/markdown", data: bytes(0xc3, 0x28) }), "file.data");
    await expectFieldError(await org.post(`/knowledge-bases/${kb.id}/sources/document`, { file: { filename: "a.txt", content_type: "text/plain", data: utf8("x") } }), "name");

    const listed = await env.FILES.list({ prefix: `kb/${org.orgId}/` });
    expect(listed.objects).toHaveLength(0);
    expect((await org.get(`/knowledge-bases/${kb.id}/sources`)).body.pagination.total).toBe(0);
  });

  it("refuses a file over 50 MB with 413", async () => {
    const org = await newOrg();
    const kb = await createKb(org);
    // 50 MB + 3 bytes of base64 'A's fits the 70 MB body limit but decodes past the file limit.
    const data = "A".repeat(Math.ceil(((50 * 1024 * 1024 + 3) * 4) / 3));
    const res = await org.post(`/knowledge-bases/${kb.id}/sources/document`, {
      name: "Huge",
      file: { filename: "huge.txt", content_type: "text/plain", data },
    });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe("payload_too_large");
    expect(res.body.error.details).toMatchObject({ field: "file.data", max_bytes: 50 * 1024 * 1024 });
  });

  it("answers 404 for a knowledge base that does not exist", async () => {
    const org = await newOrg();
    const res = await org.post("/knowledge-bases/nope/sources/document", textDocument());
    expect(res.status).toBe(404);
  });
});

describe("web sources", () => {
  it("stores the URLs once each, as processing", async () => {
    const org = await newOrg();
    const kb = await createKb(org);
    const res = await org.post(`/knowledge-bases/${kb.id}/sources/web`, {
      name: "Help centre",
      urls: ["https://help.example.com/returns", "https://HELP.example.com/returns", "https://help.example.com/shipping"],
    });
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({
      type: "web",
      status: "processing",
      urls: ["https://help.example.com/returns", "https://help.example.com/shipping"],
      crawl: { max_depth: 1, max_pages: 20 },
      file_name: null,
      content_type: null,
      size_bytes: null,
    });
  });

  it("refuses unsafe or malformed URLs, naming the entry", async () => {
    const org = await newOrg();
    const kb = await createKb(org);
    const post = (urls: unknown) => org.post(`/knowledge-bases/${kb.id}/sources/web`, { name: "Web", urls });
    await expectFieldError(await post(["https://example.com/", "http://example.com/"]), "urls.1");
    await expectFieldError(await post(["https://169.254.169.254/latest"]), "urls.0");
    await expectFieldError(await post(["https://db.internal/"]), "urls.0");
    await expectFieldError(await post(["https://example.com/?token=abc"]), "urls.0");
    await expectFieldError(await post(["nope"]), "urls.0");
    await expectFieldError(await post([]), "urls");
    await expectFieldError(await post(Array.from({ length: 101 }, (_, i) => `https://example.com/${i}`)), "urls");
    await expectFieldError(await org.post(`/knowledge-bases/${kb.id}/sources/web`, { name: "Web", urls: ["https://example.com/"], max_depth: 4 }), "max_depth");
    await expectFieldError(await org.post(`/knowledge-bases/${kb.id}/sources/web`, { name: "Web", urls: ["https://example.com/"], max_pages: 0 }), "max_pages");
    await expectFieldError(await org.post(`/knowledge-bases/${kb.id}/sources/web`, { name: "Web", urls: ["https://example.com/"], max_pages: 101 }), "max_pages");
    expect((await org.get(`/knowledge-bases/${kb.id}/sources`)).body.pagination.total).toBe(0);
  });
});

describe("listing, reading and removing sources", () => {
  it("lists a knowledge base's sources with status and type filters and pagination", async () => {
    const org = await newOrg();
    const kb = await createKb(org);
    const other = await createKb(org, "Other");
    const a = await insertSource(org.orgId, kb.id, { name: "a", status: "processing", createdAt: "2026-11-25T12:00:00.000Z" });
    const b = await insertSource(org.orgId, kb.id, { name: "b", kind: "web", status: "ready", createdAt: "2026-11-25T12:00:01.000Z" });
    const c = await insertSource(org.orgId, kb.id, { name: "c", kind: "web", status: "processing", createdAt: "2026-11-25T12:00:02.000Z" });
    await insertSource(org.orgId, other.id, { name: "elsewhere", kind: "web", status: "processing", createdAt: "2026-11-25T12:00:03.000Z" });

    const all = await org.get(`/knowledge-bases/${kb.id}/sources`);
    expect(all.body.data.map((s: any) => s.id)).toEqual([a.id, b.id, c.id]);
    expect(all.body.pagination).toEqual({ total: 3, limit: 50, offset: 0, has_more: false });
    expect((await org.get(`/knowledge-bases/${kb.id}/sources?status=processing`)).body.data.map((s: any) => s.id)).toEqual([a.id, c.id]);
    expect((await org.get(`/knowledge-bases/${kb.id}/sources?type=document`)).body.data.map((s: any) => s.id)).toEqual([a.id]);
    const page = await org.get(`/knowledge-bases/${kb.id}/sources?limit=1&offset=1`);
    expect(page.body.data.map((s: any) => s.id)).toEqual([b.id]);
    expect(page.body.pagination.has_more).toBe(true);
    await expectFieldError(await org.get(`/knowledge-bases/${kb.id}/sources?status=done`), "status");
  });

  it("gets and deletes a source, removing its stored file", async () => {
    const org = await newOrg();
    const kb = await createKb(org);
    const created = (await org.post(`/knowledge-bases/${kb.id}/sources/document`, textDocument())).body.data;
    const doc = await settled(org, kb.id, created.id);
    expect(doc).toEqual({ ...created, status: "ready", chunk_count: 1, updated_at: expect.any(String) });
    const key = objectKey(org.orgId, kb.id, doc.id);
    expect((await org.get(`/knowledge-bases/${kb.id}/sources/${doc.id}`)).body.data).toEqual(doc);

    const res = await org.delete(`/knowledge-bases/${kb.id}/sources/${doc.id}`);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ id: doc.id, deleted: true });
    expect(await env.FILES.head(key)).toBeNull();
    expect((await org.get(`/knowledge-bases/${kb.id}/sources/${doc.id}`)).status).toBe(404);
    expect((await org.get(`/knowledge-bases/${kb.id}`)).body.data).toMatchObject({ source_count: 0, status: "ready" });
  });

  it("does not find a source through another knowledge base of the same organization", async () => {
    const org = await newOrg();
    const kb = await createKb(org);
    const other = await createKb(org, "Other");
    const doc = (await org.post(`/knowledge-bases/${kb.id}/sources/document`, textDocument())).body.data;
    expect((await org.get(`/knowledge-bases/${other.id}/sources/${doc.id}`)).status).toBe(404);
    expect((await org.delete(`/knowledge-bases/${other.id}/sources/${doc.id}`)).status).toBe(404);
    expect(await env.FILES.head(objectKey(org.orgId, kb.id, doc.id))).not.toBeNull();
  });
});

describe("knowledge bases across organizations", () => {
  it("answers 404 on every /knowledge-bases/{id} route, sources included, and leaves the owner's data unchanged", async () => {
    const [owner, intruder] = await Promise.all([newOrg(), newOrg()]);
    const kb = (await owner.post("/knowledge-bases", { name: "Secret", description: "Owner's" })).body.data;
    const created = (await owner.post(`/knowledge-bases/${kb.id}/sources/document`, textDocument())).body.data;
    const doc = await ready(owner, kb.id, created.id);
    const key = objectKey(owner.orgId, kb.id, doc.id);
    const base = `/knowledge-bases/${kb.id}`;

    const attempts = [
      await intruder.get(base),
      await intruder.patch(base, { name: "Hijacked" }),
      await intruder.delete(base),
      await intruder.post(`${base}/sources/document`, textDocument("intruder")),
      await intruder.post(`${base}/sources/web`, { name: "x", urls: ["https://example.com/"] }),
      await intruder.get(`${base}/sources`),
      await intruder.get(`${base}/sources/${doc.id}`),
      await intruder.delete(`${base}/sources/${doc.id}`),
      await intruder.post(`${base}/sources/${doc.id}/reingest`),
      await intruder.post(`${base}/query`, { query: "returns" }),
    ];
    for (const res of attempts) {
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe("not_found");
    }
    expect((await intruder.get("/knowledge-bases")).body.pagination.total).toBe(0);

    const after = (await owner.get(base)).body.data;
    expect(after).toMatchObject({ name: "Secret", description: "Owner's", source_count: 1, chunk_count: 1 });
    expect(after.updated_at).toBe(kb.updated_at);
    expect((await owner.post(`${base}/query`, { query: "returns" })).body.data.results).toHaveLength(1);
    expect((await owner.get(`${base}/sources/${doc.id}`)).body.data).toEqual(doc);
    expect(await env.FILES.head(key)).not.toBeNull();
    expect((await env.FILES.list({ prefix: `kb/${intruder.orgId}/` })).objects).toHaveLength(0);
  });

  it("does not count another organization's agents as users of a knowledge base", async () => {
    const [owner, other] = await Promise.all([newOrg(), newOrg()]);
    const kb = await createKb(owner);
    const agentId = await insertAgentRow(other.orgId, { knowledgeBaseIds: [kb.id] });
    expect((await owner.delete(`/knowledge-bases/${kb.id}`)).status).toBe(200);
    await deleteAgentRow(agentId);
  });
});
