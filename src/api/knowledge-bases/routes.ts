import { createRoute } from "@hono/zod-openapi";
import { conflictResponse, dataEnvelope, DeletedSchema, errorResponses, IdParams, jsonBody, jsonResponse, listEnvelope } from "../../lib/openapi";
import { idempotent } from "../../middleware/idempotency";
import {
  CreateKnowledgeBaseBody,
  DocumentSourceBody,
  KnowledgeBaseSchema,
  ListKnowledgeBasesQuery,
  QueryBody,
  QueryResultSchema,
  ListSourcesQuery,
  SourceParams,
  SourceSchema,
  UpdateKnowledgeBaseBody,
  WebSourceBody,
} from "./schemas";

const tags = ["Knowledge bases"];

/** Said on every route that starts an ingestion. */
const INGESTION_NOTE = [
  "Ingestion runs in the background: the source is `processing` until its text is extracted, cut into ~800-character overlapping chunks,",
  "embedded (when the knowledge base has an `embedding_model`) and indexed; then `ready` with `chunk_count`, or `failed` with `error`.",
].join(" ");

export const listKnowledgeBases = createRoute({
  method: "get",
  path: "/knowledge-bases",
  tags,
  summary: "List knowledge bases",
  description: "Newest first; `name` filters by a case-insensitive substring. Each carries its source and chunk counts.",
  request: { query: ListKnowledgeBasesQuery },
  responses: { 200: jsonResponse(listEnvelope(KnowledgeBaseSchema), "A page of knowledge bases"), ...errorResponses },
});

export const getKnowledgeBase = createRoute({
  method: "get",
  path: "/knowledge-bases/{id}",
  tags,
  summary: "Get a knowledge base",
  request: { params: IdParams },
  responses: { 200: jsonResponse(dataEnvelope(KnowledgeBaseSchema), "The knowledge base"), ...errorResponses },
});

export const createKnowledgeBase = createRoute({
  method: "post",
  path: "/knowledge-bases",
  tags,
  summary: "Create a knowledge base",
  description: "Creates an empty knowledge base (`status: ready`); add content with the source endpoints. Accepts an `Idempotency-Key`.",
  middleware: [idempotent] as const,
  request: { body: jsonBody(CreateKnowledgeBaseBody) },
  responses: { 201: jsonResponse(dataEnvelope(KnowledgeBaseSchema), "The new knowledge base"), ...errorResponses },
});

export const updateKnowledgeBase = createRoute({
  method: "patch",
  path: "/knowledge-bases/{id}",
  tags,
  summary: "Update a knowledge base's name or description",
  description: "Only the given fields change; content changes only by adding or removing sources.",
  request: { params: IdParams, body: jsonBody(UpdateKnowledgeBaseBody) },
  responses: { 200: jsonResponse(dataEnvelope(KnowledgeBaseSchema), "The updated knowledge base"), ...errorResponses },
});

export const deleteKnowledgeBase = createRoute({
  method: "delete",
  path: "/knowledge-bases/{id}",
  tags,
  summary: "Delete a knowledge base",
  description:
    "Deletes its sources and their stored files too. A knowledge base attached to an agent is 409 `resource_in_use`, with the agents in `details.agent_ids`.",
  request: { params: IdParams },
  responses: { 200: jsonResponse(dataEnvelope(DeletedSchema), "The knowledge base was deleted"), ...errorResponses, ...conflictResponse },
});

export const addDocumentSource = createRoute({
  method: "post",
  path: "/knowledge-bases/{id}/sources/document",
  tags,
  summary: "Add a document source",
  description: [
    "Uploads a PDF, DOCX, plain-text or Markdown file as base64 (at most 50 MB decoded; larger is 413 `payload_too_large`).",
    "The file name's extension must match `content_type`, and the bytes must look like that type (`%PDF-` header, ZIP archive, UTF-8 text);",
    "otherwise 422 naming `file.content_type` or `file.data`.",
    INGESTION_NOTE,
    "Accepts an `Idempotency-Key`.",
  ].join(" "),
  middleware: [idempotent] as const,
  request: { params: IdParams, body: jsonBody(DocumentSourceBody) },
  responses: { 201: jsonResponse(dataEnvelope(SourceSchema), "The new source, `processing`"), ...errorResponses },
});

export const addWebSource = createRoute({
  method: "post",
  path: "/knowledge-bases/{id}/sources/web",
  tags,
  summary: "Add a web source",
  description: [
    "Pages to crawl: 1-100 public https URLs. Private, loopback and link-local addresses, `localhost` and `*.internal`/`*.local` names,",
    "and URLs carrying credentials or secret-looking query parameters are 422 naming the entry (`urls.2`).",
    "The crawl follows links that stay on each page's site (same scheme, host and port) up to `max_depth` hops and `max_pages` pages;",
    "every fetch and redirect hop passes the same address rules; script, style and navigation text is skipped.",
    INGESTION_NOTE,
    "Accepts an `Idempotency-Key`.",
  ].join(" "),
  middleware: [idempotent] as const,
  request: { params: IdParams, body: jsonBody(WebSourceBody) },
  responses: { 201: jsonResponse(dataEnvelope(SourceSchema), "The new source, `processing`"), ...errorResponses },
});

export const listSources = createRoute({
  method: "get",
  path: "/knowledge-bases/{id}/sources",
  tags,
  summary: "List a knowledge base's sources",
  description: `Oldest first; poll it to follow processing (a source is usable once \`ready\`). ${INGESTION_NOTE}`,
  request: { params: IdParams, query: ListSourcesQuery },
  responses: { 200: jsonResponse(listEnvelope(SourceSchema), "A page of sources"), ...errorResponses },
});

export const getSource = createRoute({
  method: "get",
  path: "/knowledge-bases/{id}/sources/{source_id}",
  tags,
  summary: "Get a source",
  request: { params: SourceParams },
  responses: { 200: jsonResponse(dataEnvelope(SourceSchema), "The source"), ...errorResponses },
});

export const deleteSource = createRoute({
  method: "delete",
  path: "/knowledge-bases/{id}/sources/{source_id}",
  tags,
  summary: "Remove a source",
  description: "Deletes the source, its indexed chunks and its stored file.",
  request: { params: SourceParams },
  responses: { 200: jsonResponse(dataEnvelope(DeletedSchema), "The source was deleted"), ...errorResponses },
});

export const reingestSource = createRoute({
  method: "post",
  path: "/knowledge-bases/{id}/sources/{source_id}/reingest",
  tags,
  summary: "Ingest a source again",
  description: [
    "Queues a fresh ingestion (a web source is crawled again; a document is read again) and answers 202 with the source `processing`.",
    "The current chunks keep answering queries until the new ones replace them in one step; if the new ingestion fails, they are removed.",
    "An ingestion still running for the source is superseded: its results are discarded.",
  ].join(" "),
  request: { params: SourceParams },
  responses: { 202: jsonResponse(dataEnvelope(SourceSchema), "The source, `processing` again"), ...errorResponses },
});

export const queryKnowledgeBase = createRoute({
  method: "post",
  path: "/knowledge-bases/{id}/query",
  tags,
  summary: "Search a knowledge base",
  description: [
    "Returns the chunks an agent using this knowledge base would retrieve for `query`, best first:",
    "BM25 keyword ranking over the FTS5 index, fused (reciprocal-rank fusion, k = 60) with cosine similarity of embeddings when the",
    "knowledge base has an `embedding_model`. Each result shows its fused `score` and its place in each ranking.",
    "If the embeddings provider fails, the answer is keyword-only with a `warnings` entry. Only `ready` content is indexed.",
  ].join(" "),
  request: { params: IdParams, body: jsonBody(QueryBody) },
  responses: { 200: jsonResponse(dataEnvelope(QueryResultSchema), "The ranked chunks"), ...errorResponses },
});
