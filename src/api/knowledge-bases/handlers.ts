import { and, asc, count, desc, eq, getTableColumns, sql, type SQL } from "drizzle-orm";
import { assertNotUsedByAgents, usesKnowledgeBase } from "../../db/agent-references";
import { knowledgeBases, knowledgeSources } from "../../db/schema";
import type { TenantDb } from "../../db/tenant";
import { decodeDocument, MAX_DOCUMENT_BYTES } from "../../domain/documents";
import { checkOutboundUrl, urlPolicyFor } from "../../domain/url-safety";
import { embeddingsConfigured } from "../../knowledge/embeddings";
import { enqueueIngestion, newIngestToken } from "../../knowledge/ingest";
import { searchKnowledge } from "../../knowledge/retrieve";
import { deleteKnowledgeBaseChunks, deleteSourceChunks } from "../../knowledge/store";
import type { Clock } from "../../lib/clock";
import { ok, okList } from "../../lib/envelope";
import { ApiError, invalidField, notFound } from "../../lib/errors";
import { newId } from "../../lib/ids";
import type { AppRouteHandler } from "../../lib/types";
import type * as routes from "./routes";

type KnowledgeBaseRow = typeof knowledgeBases.$inferSelect;
type SourceRow = typeof knowledgeSources.$inferSelect;

interface SourceStats {
  sourceCount: number;
  processingCount: number;
  failedCount: number;
  chunkCount: number;
}

/** The rule documented on the KnowledgeBase schema: processing wins, then all-failed, else ready. */
function knowledgeBaseStatus(stats: SourceStats): "ready" | "processing" | "failed" {
  if (stats.processingCount > 0) return "processing";
  if (stats.sourceCount > 0 && stats.failedCount === stats.sourceCount) return "failed";
  return "ready";
}

const knowledgeBaseView = (kb: KnowledgeBaseRow, stats: SourceStats) => ({
  id: kb.id,
  name: kb.name,
  description: kb.description,
  status: knowledgeBaseStatus(stats),
  source_count: stats.sourceCount,
  chunk_count: stats.chunkCount,
  embedding_model: kb.embeddingModel,
  created_at: kb.createdAt,
  updated_at: kb.updatedAt,
});

const sourceView = (s: SourceRow) => ({
  id: s.id,
  knowledge_base_id: s.knowledgeBaseId,
  name: s.name,
  description: s.description,
  type: s.kind,
  status: s.status,
  error: s.error,
  file_name: s.fileName,
  content_type: s.contentType,
  size_bytes: s.sizeBytes,
  urls: s.urls,
  crawl: s.crawl,
  chunk_count: s.chunkCount,
  page_count: s.pageCount,
  created_at: s.createdAt,
  updated_at: s.updatedAt,
});

const NO_SOURCES: SourceStats = { sourceCount: 0, processingCount: 0, failedCount: 0, chunkCount: 0 };

/**
 * Knowledge bases with their source statistics aggregated in the same statement (one query per
 * page, not one per knowledge base). Both sides of the join are scoped to the org.
 */
function knowledgeBasesWithStats(tenant: TenantDb, ...conditions: (SQL | undefined)[]) {
  return tenant.db
    .select({
      kb: getTableColumns(knowledgeBases),
      sourceCount: sql<number>`count(${knowledgeSources.id})`.mapWith(Number),
      processingCount: sql<number>`coalesce(sum(${knowledgeSources.status} = 'processing'), 0)`.mapWith(Number),
      failedCount: sql<number>`coalesce(sum(${knowledgeSources.status} = 'failed'), 0)`.mapWith(Number),
      chunkCount: sql<number>`coalesce(sum(${knowledgeSources.chunkCount}), 0)`.mapWith(Number),
    })
    .from(knowledgeBases)
    .leftJoin(
      knowledgeSources,
      and(eq(knowledgeSources.knowledgeBaseId, knowledgeBases.id), tenant.scope(knowledgeSources)),
    )
    .where(tenant.scope(knowledgeBases, ...conditions))
    .groupBy(knowledgeBases.id);
}

async function getKnowledgeBaseView(tenant: TenantDb, id: string) {
  const [row] = await knowledgeBasesWithStats(tenant, eq(knowledgeBases.id, id));
  if (!row) throw notFound("Knowledge base", id);
  return knowledgeBaseView(row.kb, row);
}

async function findSource(tenant: TenantDb, knowledgeBaseId: string, sourceId: string): Promise<SourceRow> {
  const [source] = await tenant.findWhere(knowledgeSources, eq(knowledgeSources.id, sourceId), eq(knowledgeSources.knowledgeBaseId, knowledgeBaseId));
  if (!source) throw notFound("Knowledge source", sourceId);
  return source;
}

/** Every stored file of a knowledge base lives under this prefix, so it can be removed in one sweep. */
const objectPrefix = (orgId: string, knowledgeBaseId: string) => `kb/${orgId}/${knowledgeBaseId}/`;

async function deleteObjectsUnder(bucket: R2Bucket, prefix: string): Promise<void> {
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix, cursor });
    if (page.objects.length) await bucket.delete(page.objects.map((o) => o.key));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
}

/** A drizzle statement as the D1 prepared statement it compiles to, to batch it with raw SQL. */
function toD1(db: D1Database, statement: { toSQL(): { sql: string; params: unknown[] } }): D1PreparedStatement {
  const { sql: text, params } = statement.toSQL();
  return db.prepare(text).bind(...params);
}

/**
 * Queues the ingestion of a source just stored as `processing` with its token. If the queue
 * refuses the message, the source says so (`failed`, re-ingest to retry) rather than staying
 * `processing` forever.
 */
async function startIngestion(env: Env, tenant: TenantDb, clock: Clock, source: SourceRow): Promise<SourceRow> {
  try {
    await enqueueIngestion(env.KNOWLEDGE_QUEUE, tenant.orgId, source.id, source.ingestToken!);
    return source;
  } catch (error) {
    console.error(JSON.stringify({ level: "error", message: "could not queue a knowledge ingestion", source_id: source.id, error: String(error) }));
    const [failed] = await tenant
      .update(knowledgeSources, source.id, {
        status: "failed",
        error: "Could not queue the ingestion; re-ingest the source to try again",
        updatedAt: new Date(clock.now()).toISOString(),
      })
      .returning();
    return failed ?? source;
  }
}

export const listKnowledgeBases: AppRouteHandler<typeof routes.listKnowledgeBases> = async (c) => {
  const { limit, offset, name } = c.req.valid("query");
  const tenant = c.get("tenant");
  const nameFilter = name ? sql`instr(lower(${knowledgeBases.name}), ${name.toLowerCase()}) > 0` : undefined;
  const [rows, totals] = await tenant.batch([
    knowledgeBasesWithStats(tenant, nameFilter)
      .orderBy(desc(knowledgeBases.createdAt), desc(knowledgeBases.id))
      .limit(limit)
      .offset(offset),
    tenant.db.select({ n: count() }).from(knowledgeBases).where(tenant.scope(knowledgeBases, nameFilter)),
  ]);
  return okList(
    c,
    rows.map((row) => knowledgeBaseView(row.kb, row)),
    { total: totals[0]?.n ?? 0, limit, offset },
  );
};

export const getKnowledgeBase: AppRouteHandler<typeof routes.getKnowledgeBase> = async (c) => {
  return ok(c, await getKnowledgeBaseView(c.get("tenant"), c.req.valid("param").id));
};

export const createKnowledgeBase: AppRouteHandler<typeof routes.createKnowledgeBase> = async (c) => {
  const body = c.req.valid("json");
  const embeddingModel = body.embedding_model === undefined ? c.env.KNOWLEDGE_EMBEDDING_MODEL?.trim() || null : body.embedding_model;
  if (embeddingModel && !embeddingsConfigured(c.env)) {
    if (body.embedding_model === undefined) throw new ApiError("provider_not_configured", "KNOWLEDGE_EMBEDDING_MODEL is set but OPENAI_API_KEY is not");
    throw new ApiError("provider_not_configured", "Embeddings need OPENAI_API_KEY, which this deployment does not set; create the knowledge base with embedding_model: null", {
      details: { field: "embedding_model" },
    });
  }
  const now = new Date(c.get("clock").now()).toISOString();
  const [kb] = await c
    .get("tenant")
    .insert(knowledgeBases, {
      id: newId(c.get("clock").now()),
      name: body.name,
      description: body.description ?? null,
      embeddingModel,
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  return ok(c, knowledgeBaseView(kb, NO_SOURCES), 201);
};

export const updateKnowledgeBase: AppRouteHandler<typeof routes.updateKnowledgeBase> = async (c) => {
  const { id } = c.req.valid("param");
  const body = c.req.valid("json");
  const tenant = c.get("tenant");
  const [updated] = await tenant
    .update(knowledgeBases, id, { name: body.name, description: body.description, updatedAt: new Date(c.get("clock").now()).toISOString() })
    .returning({ id: knowledgeBases.id });
  if (!updated) throw notFound("Knowledge base", id);
  return ok(c, await getKnowledgeBaseView(tenant, id));
};

export const deleteKnowledgeBase: AppRouteHandler<typeof routes.deleteKnowledgeBase> = async (c) => {
  const { id } = c.req.valid("param");
  const tenant = c.get("tenant");
  await tenant.get(knowledgeBases, id, "Knowledge base");
  await assertNotUsedByAgents(tenant, "Knowledge base", id, usesKnowledgeBase(id));
  await c.env.DB.batch([
    deleteKnowledgeBaseChunks(c.env.DB, tenant.orgId, id),
    toD1(c.env.DB, tenant.deleteWhere(knowledgeSources, eq(knowledgeSources.knowledgeBaseId, id))),
    toD1(c.env.DB, tenant.delete(knowledgeBases, id)),
  ]);
  // After the rows: a failure here leaves unreferenced files, never a source without its file.
  await deleteObjectsUnder(c.env.FILES, objectPrefix(tenant.orgId, id));
  return ok(c, { id, deleted: true as const });
};

export const addDocumentSource: AppRouteHandler<typeof routes.addDocumentSource> = async (c) => {
  const { id } = c.req.valid("param");
  const body = c.req.valid("json");
  const tenant = c.get("tenant");
  const kb = await tenant.get(knowledgeBases, id, "Knowledge base");

  const decoded = decodeDocument(body.file);
  if (!decoded.ok) {
    const { field, reason } = decoded.problem;
    if (decoded.tooLarge) throw new ApiError("payload_too_large", reason, { details: { field, max_bytes: MAX_DOCUMENT_BYTES } });
    throw invalidField(field, reason);
  }

  const clock = c.get("clock");
  const sourceId = newId(clock.now());
  const objectKey = `${objectPrefix(tenant.orgId, kb.id)}${sourceId}`;
  await c.env.FILES.put(objectKey, decoded.bytes, {
    httpMetadata: { contentType: body.file.content_type },
    customMetadata: { filename: body.file.filename, knowledge_base_id: kb.id, source_id: sourceId },
  });
  const now = new Date(clock.now()).toISOString();
  const ingestToken = newIngestToken(clock);
  let source: SourceRow;
  try {
    [source] = await tenant
      .insert(knowledgeSources, {
        id: sourceId,
        knowledgeBaseId: kb.id,
        name: body.name,
        description: body.description ?? null,
        kind: "document",
        status: "processing",
        fileName: body.file.filename,
        contentType: body.file.content_type,
        sizeBytes: decoded.bytes.byteLength,
        objectKey,
        ingestToken,
        createdAt: now,
        updatedAt: now,
      })
      .returning();
  } catch (error) {
    await c.env.FILES.delete(objectKey);
    throw error;
  }
  return ok(c, sourceView(await startIngestion(c.env, tenant, clock, source)), 201);
};

export const addWebSource: AppRouteHandler<typeof routes.addWebSource> = async (c) => {
  const { id } = c.req.valid("param");
  const body = c.req.valid("json");
  const tenant = c.get("tenant");
  const kb = await tenant.get(knowledgeBases, id, "Knowledge base");

  const policy = urlPolicyFor(c.env);
  const urls: string[] = [];
  const seen = new Set<string>();
  for (const [i, raw] of body.urls.entries()) {
    const checked = checkOutboundUrl(raw, policy);
    if (!checked.ok) throw invalidField(`urls.${i}`, checked.reason);
    // Repeats are compared in the parser's normal form (`HTTPS://Example.com` = `https://example.com/`).
    if (seen.has(checked.url.href)) continue;
    seen.add(checked.url.href);
    urls.push(raw);
  }

  const clock = c.get("clock");
  const now = new Date(clock.now()).toISOString();
  const [source] = await tenant
    .insert(knowledgeSources, {
      id: newId(clock.now()),
      knowledgeBaseId: kb.id,
      name: body.name,
      description: body.description ?? null,
      kind: "web",
      status: "processing",
      urls,
      crawl: { max_depth: body.max_depth, max_pages: body.max_pages },
      ingestToken: newIngestToken(clock),
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  return ok(c, sourceView(await startIngestion(c.env, tenant, clock, source)), 201);
};

export const listSources: AppRouteHandler<typeof routes.listSources> = async (c) => {
  const { id } = c.req.valid("param");
  const { limit, offset, status, type } = c.req.valid("query");
  const tenant = c.get("tenant");
  await tenant.get(knowledgeBases, id, "Knowledge base");
  const { rows, total } = await tenant.list(knowledgeSources, {
    where: [
      eq(knowledgeSources.knowledgeBaseId, id),
      status ? eq(knowledgeSources.status, status) : undefined,
      type ? eq(knowledgeSources.kind, type) : undefined,
    ],
    orderBy: [asc(knowledgeSources.createdAt), asc(knowledgeSources.id)],
    limit,
    offset,
  });
  return okList(c, rows.map(sourceView), { total, limit, offset });
};

export const getSource: AppRouteHandler<typeof routes.getSource> = async (c) => {
  const { id, source_id } = c.req.valid("param");
  const tenant = c.get("tenant");
  await tenant.get(knowledgeBases, id, "Knowledge base");
  return ok(c, sourceView(await findSource(tenant, id, source_id)));
};

export const deleteSource: AppRouteHandler<typeof routes.deleteSource> = async (c) => {
  const { id, source_id } = c.req.valid("param");
  const tenant = c.get("tenant");
  await tenant.get(knowledgeBases, id, "Knowledge base");
  const source = await findSource(tenant, id, source_id);
  // The chunks go in the same transaction: the source disappears from retrieval at once.
  await c.env.DB.batch([deleteSourceChunks(c.env.DB, tenant.orgId, source.id), toD1(c.env.DB, tenant.delete(knowledgeSources, source.id))]);
  if (source.objectKey) await c.env.FILES.delete(source.objectKey);
  return ok(c, { id: source.id, deleted: true as const });
};

export const reingestSource: AppRouteHandler<typeof routes.reingestSource> = async (c) => {
  const { id, source_id } = c.req.valid("param");
  const tenant = c.get("tenant");
  await tenant.get(knowledgeBases, id, "Knowledge base");
  const source = await findSource(tenant, id, source_id);
  const clock = c.get("clock");
  const [updated] = await tenant
    .update(knowledgeSources, source.id, {
      status: "processing",
      error: null,
      ingestToken: newIngestToken(clock),
      updatedAt: new Date(clock.now()).toISOString(),
    })
    .returning();
  if (!updated) throw notFound("Knowledge source", source_id);
  return ok(c, sourceView(await startIngestion(c.env, tenant, clock, updated)), 202);
};

export const queryKnowledgeBase: AppRouteHandler<typeof routes.queryKnowledgeBase> = async (c) => {
  const { id } = c.req.valid("param");
  const { query, top_k } = c.req.valid("json");
  const tenant = c.get("tenant");
  await tenant.get(knowledgeBases, id, "Knowledge base");
  const search = await searchKnowledge(c.env, tenant.orgId, [id], query, { topK: top_k });
  return ok(c, {
    query,
    mode: search.mode,
    warnings: search.warnings,
    results: search.results.map(({ knowledge_base_id: _kb, ...result }) => result),
  });
};
