import { createRoute } from "@hono/zod-openapi";
import { conflictResponse, dataEnvelope, DeletedSchema, errorResponses, IdParams, jsonBody, jsonResponse, listEnvelope } from "../../lib/openapi";
import { idempotent } from "../../middleware/idempotency";
import {
  CreateKnowledgeBaseBody,
  DocumentSourceBody,
  KnowledgeBaseSchema,
  ListKnowledgeBasesQuery,
  ListSourcesQuery,
  SourceParams,
  SourceSchema,
  UpdateKnowledgeBaseBody,
  WebSourceBody,
} from "./schemas";

const tags = ["Knowledge bases"];

/** Said on every source route until the ingestion pipeline lands. */
const INGESTION_NOTE = "Ingestion is not running yet: new sources stay `processing` until the ingestion pipeline is enabled.";

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
  description: "Deletes the source and its stored file.",
  request: { params: SourceParams },
  responses: { 200: jsonResponse(dataEnvelope(DeletedSchema), "The source was deleted"), ...errorResponses },
});
