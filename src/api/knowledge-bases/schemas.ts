import { z } from "@hono/zod-openapi";
import { IdParams, LimitOffsetQuery } from "../../lib/openapi";
import { DOCUMENT_CONTENT_TYPES } from "../../domain/documents";
import { DEFAULT_CRAWL, MAX_CRAWL_DEPTH, MAX_CRAWL_PAGES } from "../../domain/knowledge";

export const KNOWLEDGE_BASE_STATUSES = ["ready", "processing", "failed"] as const;
export const SOURCE_STATUSES = ["processing", "ready", "failed"] as const;
export const SOURCE_TYPES = ["document", "web"] as const;

const Name = z.string().trim().min(1).max(255);
const Description = z.string().trim().max(1000);
const EmbeddingModel = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:/@-]*$/, "Must be a model name such as text-embedding-3-small");

const CrawlSchema = z
  .object({
    max_depth: z.number().int().openapi({ description: "Link hops followed from the given pages (0 = only those pages)" }),
    max_pages: z.number().int().openapi({ description: "Pages fetched at most, the given ones included" }),
  })
  .openapi("KnowledgeCrawl");

export const KnowledgeBaseSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    status: z.enum(KNOWLEDGE_BASE_STATUSES).openapi({
      description:
        "Derived from the sources: `processing` while any source is processing; otherwise `failed` when every source failed; otherwise `ready` (also when there are no sources yet)",
    }),
    source_count: z.number().int(),
    chunk_count: z.number().int().openapi({ description: "Indexed chunks over all sources" }),
    embedding_model: z.string().nullable().openapi({
      description:
        "The model that embeds this knowledge base's chunks (OpenAI-compatible `/embeddings`), for hybrid keyword + semantic ranking; null means keyword (BM25) ranking only. Fixed at creation.",
    }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("KnowledgeBase", {
    example: {
      id: "0193a5b2-7c1e-7d2a-9f10-2b3c4d5e6f70",
      name: "Product FAQ",
      description: "Answers to common product questions",
      status: "ready",
      source_count: 0,
      chunk_count: 0,
      embedding_model: null,
      created_at: "2026-11-25T12:00:00.000Z",
      updated_at: "2026-11-25T12:00:00.000Z",
    },
  });

export const ListKnowledgeBasesQuery = LimitOffsetQuery.extend({
  name: z.string().trim().min(1).max(255).optional().openapi({ description: "Case-insensitive substring of the name", example: "faq" }),
});

export const CreateKnowledgeBaseBody = z
  .object({
    name: Name.openapi({ example: "Product FAQ" }),
    description: Description.optional().openapi({ example: "Answers to common product questions" }),
    embedding_model: EmbeddingModel.nullable()
      .optional()
      .openapi({
        description:
          "Embedding model for hybrid ranking, e.g. `text-embedding-3-small`; `null` for keyword ranking only. Omitted: the deployment's default (`KNOWLEDGE_EMBEDDING_MODEL`, keyword-only when unset). Needs `OPENAI_API_KEY` on the deployment.",
        example: "text-embedding-3-small",
      }),
  })
  .openapi("CreateKnowledgeBase");

export const UpdateKnowledgeBaseBody = z
  .object({ name: Name.optional(), description: Description.nullable().optional() })
  .openapi("UpdateKnowledgeBase", { example: { description: "FAQ for the 2027 product line" } });

export const SourceParams = IdParams.extend({
  source_id: z.string().min(1).max(100).openapi({ param: { name: "source_id", in: "path" }, example: "0193a5b2-8d4f-7a10-8c21-3d4e5f607182" }),
});

export const SourceSchema = z
  .object({
    id: z.string(),
    knowledge_base_id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    type: z.enum(SOURCE_TYPES),
    status: z.enum(SOURCE_STATUSES).openapi({ description: "`processing` until ingestion finishes, then `ready` or `failed` (see `error`)" }),
    error: z.string().nullable(),
    file_name: z.string().nullable(),
    content_type: z.string().nullable(),
    size_bytes: z.number().int().nullable(),
    urls: z.array(z.string()).nullable(),
    crawl: CrawlSchema.nullable().openapi({ description: "Web sources: how far the crawl follows same-site links; null for documents" }),
    chunk_count: z.number().int().openapi({ description: "Indexed chunks (about 800 characters each, overlapping by about 150)" }),
    page_count: z.number().int().nullable().openapi({ description: "PDF pages read, or web pages indexed, by the last ingestion; null otherwise" }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("KnowledgeSource", {
    example: {
      id: "0193a5b2-8d4f-7a10-8c21-3d4e5f607182",
      knowledge_base_id: "0193a5b2-7c1e-7d2a-9f10-2b3c4d5e6f70",
      name: "Returns policy",
      description: null,
      type: "document",
      status: "processing",
      error: null,
      file_name: "returns.pdf",
      content_type: "application/pdf",
      size_bytes: 48213,
      urls: null,
      crawl: null,
      chunk_count: 0,
      page_count: null,
      created_at: "2026-11-25T12:00:00.000Z",
      updated_at: "2026-11-25T12:00:00.000Z",
    },
  });

export const ListSourcesQuery = LimitOffsetQuery.extend({
  status: z.enum(SOURCE_STATUSES).optional(),
  type: z.enum(SOURCE_TYPES).optional(),
});

export const DocumentSourceBody = z
  .object({
    name: Name.openapi({ example: "Returns policy" }),
    description: Description.optional(),
    file: z.object({
      filename: z
        .string()
        .trim()
        .min(1)
        .max(255)
        .regex(/.\.[A-Za-z0-9]+$/, "Must include an extension, e.g. policy.pdf")
        .openapi({ example: "returns.pdf" }),
      content_type: z.enum(DOCUMENT_CONTENT_TYPES).openapi({ example: "application/pdf" }),
      data: z.string().min(1).openapi({ description: "The file, base64-encoded; at most 50 MB decoded" }),
    }),
  })
  .openapi("DocumentSource", {
    example: { name: "Returns policy", file: { filename: "returns.txt", content_type: "text/plain", data: "UmV0dXJucyBhcmUgYWNjZXB0ZWQgd2l0aGluIDMwIGRheXMu" } },
  });

export const WebSourceBody = z
  .object({
    name: Name.openapi({ example: "Help centre" }),
    description: Description.optional(),
    urls: z
      .array(z.string().trim().min(1).max(2048))
      .min(1)
      .max(100)
      .openapi({ description: "Public https pages to crawl; repeats are stored once", example: ["https://help.example.com/returns"] }),
    max_depth: z
      .number()
      .int()
      .min(0)
      .max(MAX_CRAWL_DEPTH)
      .default(DEFAULT_CRAWL.max_depth)
      .openapi({ description: `Same-site link hops to follow from each page (0 = only the given pages; default ${DEFAULT_CRAWL.max_depth})` }),
    max_pages: z
      .number()
      .int()
      .min(1)
      .max(MAX_CRAWL_PAGES)
      .default(DEFAULT_CRAWL.max_pages)
      .openapi({ description: `Pages fetched at most, the given ones included (default ${DEFAULT_CRAWL.max_pages})` }),
  })
  .openapi("WebSource");

export const QueryBody = z
  .object({
    query: z.string().trim().min(1).max(1000).openapi({ example: "How long do I have to return an item?" }),
    top_k: z.number().int().min(1).max(50).default(5).openapi({ description: "Chunks to return (default 5)", example: 5 }),
  })
  .openapi("KnowledgeQuery");

const RankPartSchema = z
  .object({
    rank: z.number().int().openapi({ description: "1-based position in this ranking" }),
    score: z.number().openapi({ description: "BM25 relevance (higher is better) or cosine similarity" }),
  })
  .openapi("KnowledgeRankPart");

export const QueryResultSchema = z
  .object({
    query: z.string(),
    mode: z.enum(["hybrid", "keyword"]).openapi({ description: "`hybrid` when semantic (vector) ranking took part" }),
    warnings: z.array(z.string()).openapi({ description: "Why semantic ranking was skipped, when it was" }),
    results: z.array(
      z.object({
        chunk_id: z.number().int(),
        source_id: z.string(),
        source_name: z.string(),
        text: z.string(),
        url: z.string().nullable().openapi({ description: "The web page the chunk came from; null for documents" }),
        score: z.number().openapi({ description: "Reciprocal-rank-fusion score: Σ 1 / (60 + rank) over the rankings below" }),
        keyword: RankPartSchema.nullable().openapi({ description: "The chunk's place in the BM25 keyword ranking; null when it has none of the words" }),
        vector: RankPartSchema.nullable().openapi({ description: "Its place in the semantic ranking; null without embeddings" }),
      }),
    ),
  })
  .openapi("KnowledgeQueryResult");
