import { inArray } from "drizzle-orm";
import { knowledgeBases } from "../db/schema";
import { openDatabase, TenantDb } from "../db/tenant";
import { estimateTokens, fitToTokenBudget, ftsMatchExpression, reciprocalRankFusion } from "../domain/knowledge";
import { blobToVector, embedTexts, type EmbeddingEnv } from "./embeddings";
import { describeError } from "./errors";
import { chunkVectors, keywordSearch, loadChunks } from "./store";

/**
 * Retrieval over knowledge bases: BM25 through the FTS5 index, and — for knowledge bases with an
 * embedding model — cosine similarity between the question's embedding and every chunk vector,
 * the two rankings merged by reciprocal-rank fusion. Used by `POST /knowledge-bases/{id}/query`
 * (what a user sees) and by `retrieveContext` (what the voice loop puts in the prompt).
 */

export type RetrievalEnv = Pick<Env, "DB"> & EmbeddingEnv;

/** Candidates each ranking contributes to the fusion. */
const CANDIDATES = 50;
/** Vectors read per search at most: the vector side is a scan, bounded for large knowledge bases. */
export const MAX_VECTOR_SCAN = 20_000;

export interface RankPart {
  /** 1-based position in that ranking. */
  rank: number;
  /** BM25 relevance (FTS5's bm25() negated: higher is better) or cosine similarity. */
  score: number;
}

export interface RetrievedChunk {
  chunk_id: number;
  knowledge_base_id: string;
  source_id: string;
  source_name: string;
  text: string;
  /** The web page a chunk came from; null for documents. */
  url: string | null;
  /** Reciprocal-rank-fusion score of the parts below: Σ 1 / (60 + rank). */
  score: number;
  keyword: RankPart | null;
  vector: RankPart | null;
}

export interface SearchResult {
  /** `hybrid` when the vector ranking took part, else `keyword`. */
  mode: "hybrid" | "keyword";
  results: RetrievedChunk[];
  /** Why the vector ranking was skipped, when it was. */
  warnings: string[];
}

export interface SearchOptions {
  topK: number;
  signal?: AbortSignal;
}

/**
 * Ranks the chunks of the org's knowledge bases for a question. Ids of knowledge bases the org does
 * not have are ignored. An embeddings failure does not fail the search: it falls back to keywords
 * with a warning.
 */
export async function searchKnowledge(env: RetrievalEnv, orgId: string, knowledgeBaseIds: string[], query: string, options: SearchOptions): Promise<SearchResult> {
  const warnings: string[] = [];
  if (knowledgeBaseIds.length === 0) return { mode: "keyword", results: [], warnings };
  const tenant = new TenantDb(openDatabase(env.DB), orgId);
  const kbs = await tenant.findWhere(knowledgeBases, inArray(knowledgeBases.id, [...new Set(knowledgeBaseIds)]));
  if (kbs.length === 0) return { mode: "keyword", results: [], warnings };

  const match = ftsMatchExpression(query);
  const keywordPromise = match ? keywordSearch(env.DB, orgId, kbs.map((kb) => kb.id), match, CANDIDATES) : Promise.resolve([]);

  const byModel = new Map<string, string[]>();
  for (const kb of kbs) if (kb.embeddingModel) byModel.set(kb.embeddingModel, [...(byModel.get(kb.embeddingModel) ?? []), kb.id]);
  let vectorRanked: { id: number; score: number }[] | undefined;
  const vectorPromise = Promise.all(
    [...byModel].map(async ([model, ids]) => {
      const [queryVectors, rows] = await Promise.all([embedTexts(env, model, [query], options.signal), chunkVectors(env.DB, orgId, ids, MAX_VECTOR_SCAN)]);
      const q = queryVectors[0];
      const scored: { id: number; score: number }[] = [];
      for (const row of rows) {
        const v = blobToVector(row.embedding);
        if (v.length !== q.length) continue; // embedded with other dimensions: needs a re-ingest
        let dot = 0;
        for (let i = 0; i < q.length; i++) dot += q[i] * v[i];
        if (dot > 0) scored.push({ id: row.id, score: dot });
      }
      return scored;
    }),
  ).then(
    (lists) => {
      if (byModel.size > 0) vectorRanked = lists.flat().sort((a, b) => b.score - a.score).slice(0, CANDIDATES);
    },
    (error) => {
      warnings.push(`Semantic ranking was skipped: ${describeError(error, 300)}`);
    },
  );

  const [keywordRows] = await Promise.all([keywordPromise, vectorPromise]);
  const keywordRanked = keywordRows.map((row) => ({ id: row.id, score: -row.bm25 }));
  const lists = vectorRanked ? [keywordRanked, vectorRanked] : [keywordRanked];
  const fused = reciprocalRankFusion(lists.map((list) => list.map((item) => item.id))).slice(0, options.topK);
  const rows = await loadChunks(env.DB, orgId, fused.map((f) => f.id));

  const part = (list: { score: number }[] | undefined, rank: number | null | undefined): RankPart | null =>
    list && rank ? { rank, score: Number(list[rank - 1].score.toFixed(6)) } : null;
  const results: RetrievedChunk[] = [];
  for (const item of fused) {
    const row = rows.get(item.id);
    if (!row) continue; // deleted between the ranking and the read
    results.push({
      chunk_id: row.id,
      knowledge_base_id: row.knowledge_base_id,
      source_id: row.source_id,
      source_name: row.source_name,
      text: row.text,
      url: row.url,
      score: Number(item.score.toFixed(6)),
      keyword: part(keywordRanked, item.ranks[0]),
      vector: part(vectorRanked, item.ranks[1]),
    });
  }
  return { mode: vectorRanked ? "hybrid" : "keyword", results, warnings };
}

export interface RetrievedContext {
  /** The chunks that fit, best first. */
  chunks: RetrievedChunk[];
  /** Estimated tokens of the chunks' text (≈ characters / 4). */
  tokens: number;
  /** The chunks ready for a prompt: each preceded by its source's name, separated by blank lines. */
  text: string;
  mode: SearchResult["mode"];
  warnings: string[];
}

/**
 * What the voice loop adds to the LLM prompt for a caller's question: the best chunks of the
 * agent's knowledge bases whose text fits `tokenBudget` (estimated as characters / 4, default
 * 800). Never throws for an embeddings outage (keyword-only then); D1 errors do throw.
 */
export async function retrieveContext(
  env: RetrievalEnv,
  orgId: string,
  knowledgeBaseIds: string[],
  query: string,
  options: { tokenBudget?: number; topK?: number; signal?: AbortSignal } = {},
): Promise<RetrievedContext> {
  const tokenBudget = options.tokenBudget ?? 800;
  const search = await searchKnowledge(env, orgId, knowledgeBaseIds, query, { topK: options.topK ?? 10, signal: options.signal });
  const chunks = fitToTokenBudget(search.results, tokenBudget);
  return {
    chunks,
    tokens: chunks.reduce((n, c) => n + estimateTokens(c.text), 0),
    text: chunks.map((c) => `[${c.source_name}]\n${c.text}`).join("\n\n"),
    mode: search.mode,
    warnings: search.warnings,
  };
}
