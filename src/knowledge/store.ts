import { vectorToBlob } from "./embeddings";

/**
 * The chunk index in D1, in raw SQL because drizzle has no words for FTS5 (`MATCH`, `bm25()`) or
 * for the token-guarded writes below. Every statement is scoped by org_id, like TenantDb's.
 *
 * Writes of an ingestion are guarded by the source's `ingest_token`: each runs only while the
 * source still carries the token its queue message was sent with. A redelivered message replaces
 * its own chunks (never duplicates them); a message made stale by a re-ingest, or whose source was
 * deleted meanwhile, changes nothing. Each ingestion's writes are one D1 batch: all or nothing.
 */

export interface NewChunk {
  text: string;
  url?: string | null;
  embedding?: Float32Array | null;
}

export interface SourceRef {
  orgId: string;
  knowledgeBaseId: string;
  sourceId: string;
  token: string;
}

/** D1 binds at most 100 parameters per statement: 5 shared + 4 per chunk. */
const CHUNKS_PER_INSERT = 23;

const TOKEN_IS_CURRENT = "EXISTS (SELECT 1 FROM knowledge_sources WHERE id = ?3 AND org_id = ?1 AND ingest_token = ?4)";

/**
 * Replaces the source's chunks and marks it ready, if the token is still current. Returns false
 * when the token was stale (nothing written).
 */
export async function replaceChunks(db: D1Database, ref: SourceRef, chunks: NewChunk[], pageCount: number | null, now: string): Promise<boolean> {
  const shared = [ref.orgId, ref.knowledgeBaseId, ref.sourceId, ref.token, now];
  const statements: D1PreparedStatement[] = [
    db.prepare(`DELETE FROM knowledge_chunks WHERE org_id = ?1 AND source_id = ?3 AND ${TOKEN_IS_CURRENT}`).bind(...shared.slice(0, 4)),
  ];
  for (let i = 0; i < chunks.length; i += CHUNKS_PER_INSERT) {
    const slice = chunks.slice(i, i + CHUNKS_PER_INSERT);
    const values: unknown[] = [];
    const rows = slice.map((chunk, j) => {
      const p = 6 + j * 4;
      values.push(i + j, chunk.text, chunk.url ?? null, chunk.embedding ? vectorToBlob(chunk.embedding) : null);
      return `(?${p}, ?${p + 1}, ?${p + 2}, ?${p + 3})`;
    });
    statements.push(
      db
        .prepare(
          `INSERT INTO knowledge_chunks (org_id, knowledge_base_id, source_id, ordinal, text, url, embedding, created_at)
           SELECT ?1, ?2, ?3, column1, column2, column3, column4, ?5 FROM (VALUES ${rows.join(", ")}) WHERE ${TOKEN_IS_CURRENT}`,
        )
        .bind(...shared, ...values),
    );
  }
  statements.push(
    db
      .prepare(
        `UPDATE knowledge_sources SET status = 'ready', error = NULL, chunk_count = ?5, page_count = ?6, updated_at = ?2
         WHERE id = ?3 AND org_id = ?1 AND ingest_token = ?4`,
      )
      .bind(ref.orgId, now, ref.sourceId, ref.token, chunks.length, pageCount),
  );
  const results = await db.batch(statements);
  return (results.at(-1)?.meta.changes ?? 0) === 1;
}

/** Removes the source's chunks and marks it failed with `error`, if the token is still current. */
export async function failSource(db: D1Database, ref: Omit<SourceRef, "knowledgeBaseId">, error: string, now: string): Promise<boolean> {
  const results = await db.batch([
    db.prepare(`DELETE FROM knowledge_chunks WHERE org_id = ?1 AND source_id = ?3 AND ${TOKEN_IS_CURRENT}`).bind(ref.orgId, null, ref.sourceId, ref.token),
    db
      .prepare(
        `UPDATE knowledge_sources SET status = 'failed', error = ?2, chunk_count = 0, page_count = NULL, updated_at = ?5
         WHERE id = ?3 AND org_id = ?1 AND ingest_token = ?4`,
      )
      .bind(ref.orgId, error, ref.sourceId, ref.token, now),
  ]);
  return (results.at(-1)?.meta.changes ?? 0) === 1;
}

/** Removes every chunk of one source (when the source is deleted). */
export const deleteSourceChunks = (db: D1Database, orgId: string, sourceId: string) =>
  db.prepare("DELETE FROM knowledge_chunks WHERE org_id = ? AND source_id = ?").bind(orgId, sourceId);

/** Removes every chunk of a knowledge base (when it is deleted). */
export const deleteKnowledgeBaseChunks = (db: D1Database, orgId: string, knowledgeBaseId: string) =>
  db.prepare("DELETE FROM knowledge_chunks WHERE org_id = ? AND knowledge_base_id = ?").bind(orgId, knowledgeBaseId);

const placeholders = (n: number, from: number) => Array.from({ length: n }, (_, i) => `?${from + i}`).join(", ");

/** Chunk ids matching an FTS5 expression, best BM25 first (`bm25` is FTS5's: lower is better). */
export async function keywordSearch(db: D1Database, orgId: string, knowledgeBaseIds: string[], match: string, limit: number) {
  const { results } = await db
    .prepare(
      `SELECT c.id AS id, bm25(knowledge_chunks_fts) AS bm25
       FROM knowledge_chunks_fts JOIN knowledge_chunks c ON c.id = knowledge_chunks_fts.rowid
       WHERE knowledge_chunks_fts MATCH ?1 AND c.org_id = ?2 AND c.knowledge_base_id IN (${placeholders(knowledgeBaseIds.length, 4)})
       ORDER BY bm25 LIMIT ?3`,
    )
    .bind(match, orgId, limit, ...knowledgeBaseIds)
    .all<{ id: number; bm25: number }>();
  return results;
}

/** Every embedded chunk of the knowledge bases: id and vector bytes (the vector side scans them all). */
export async function chunkVectors(db: D1Database, orgId: string, knowledgeBaseIds: string[], limit: number) {
  const { results } = await db
    .prepare(
      `SELECT id, embedding FROM knowledge_chunks
       WHERE org_id = ?1 AND knowledge_base_id IN (${placeholders(knowledgeBaseIds.length, 3)}) AND embedding IS NOT NULL
       LIMIT ?2`,
    )
    .bind(orgId, limit, ...knowledgeBaseIds)
    .all<{ id: number; embedding: ArrayBuffer | number[] }>();
  return results;
}

export interface ChunkRow {
  id: number;
  knowledge_base_id: string;
  source_id: string;
  source_name: string;
  ordinal: number;
  text: string;
  url: string | null;
}

/** The chunks with these ids, with their source's name. */
export async function loadChunks(db: D1Database, orgId: string, ids: number[]): Promise<Map<number, ChunkRow>> {
  if (ids.length === 0) return new Map();
  const { results } = await db
    .prepare(
      `SELECT c.id, c.knowledge_base_id, c.source_id, s.name AS source_name, c.ordinal, c.text, c.url
       FROM knowledge_chunks c JOIN knowledge_sources s ON s.id = c.source_id AND s.org_id = c.org_id
       WHERE c.org_id = ?1 AND c.id IN (${placeholders(ids.length, 2)})`,
    )
    .bind(orgId, ...ids)
    .all<ChunkRow>();
  return new Map(results.map((r) => [r.id, r]));
}
