import { eq } from "drizzle-orm";
import { z } from "zod";
import { knowledgeBases, knowledgeSources } from "../db/schema";
import { openDatabase, TenantDb } from "../db/tenant";
import { chunkText, DEFAULT_CRAWL, MAX_CHUNKS_PER_SOURCE } from "../domain/knowledge";
import { urlPolicyFor } from "../domain/url-safety";
import type { Clock } from "../lib/clock";
import { newId } from "../lib/ids";
import { crawl } from "./crawl";
import { embedTexts } from "./embeddings";
import { describeError, IngestError, TransientIngestError } from "./errors";
import { extractDocument } from "./extract";
import { failSource, replaceChunks, type NewChunk } from "./store";

/**
 * The ingestion pipeline, run by the `truedy-knowledge` queue consumer: one message per source
 * ingestion, `{kind: "ingest", org_id, source_id, token}`. It reads the source (the uploaded file
 * from R2, or a crawl of its URLs), extracts the text, chunks it, embeds the chunks when the
 * knowledge base has an embedding model, and replaces the source's chunks in one D1 batch,
 * marking the source `ready` (or `failed` with its `error`).
 */

export const KNOWLEDGE_QUEUE_NAME = "truedy-knowledge";
export const KNOWLEDGE_DLQ_NAME = "truedy-knowledge-dlq";
/** Deliveries of one message before its source fails: 1 + wrangler.toml's max_retries (3). */
export const MAX_ATTEMPTS = 4;
/** Seconds before the next delivery after attempt n (1-based). */
const RETRY_DELAYS = [2, 10, 30];

export const IngestMessage = z.object({
  kind: z.literal("ingest"),
  org_id: z.string().min(1),
  source_id: z.string().min(1),
  token: z.string().min(1),
});
export type IngestMessage = z.infer<typeof IngestMessage>;


function log(level: "info" | "warn" | "error", message: string, fields: Record<string, unknown>) {
  console[level === "info" ? "log" : level](JSON.stringify({ level, message, ...fields }));
}

/** A fresh ingest token: stored on the source and carried by the message queued with it. */
export const newIngestToken = (clock: Clock) => newId(clock.now());

/** Queues the ingestion of a source whose row already carries `token`. */
export async function enqueueIngestion(queue: Queue, orgId: string, sourceId: string, token: string): Promise<void> {
  const message: IngestMessage = { kind: "ingest", org_id: orgId, source_id: sourceId, token };
  await queue.send(message, { contentType: "json" });
}

export type IngestOutcome = "ready" | "stale";

/** Extracts, chunks, embeds and stores one source. Throws IngestError / TransientIngestError / other. */
export async function ingestSource(env: Env, clock: Clock, message: IngestMessage): Promise<IngestOutcome> {
  const tenant = new TenantDb(openDatabase(env.DB), message.org_id);
  const [source] = await tenant.findWhere(knowledgeSources, eq(knowledgeSources.id, message.source_id), eq(knowledgeSources.ingestToken, message.token));
  if (!source) return "stale"; // deleted, or re-ingested since this message was sent
  const kb = await tenant.find(knowledgeBases, source.knowledgeBaseId);
  if (!kb) return "stale";

  let chunks: NewChunk[];
  let pageCount: number | null = null;
  if (source.kind === "document") {
    if (!source.objectKey || !source.contentType) throw new IngestError("The source has no stored file; upload it again");
    const object = await env.FILES.get(source.objectKey);
    if (!object) throw new IngestError("The stored file is missing; upload it again");
    const extracted = await extractDocument(new Uint8Array(await object.arrayBuffer()), source.contentType);
    pageCount = extracted.pages ?? null;
    chunks = chunkText(extracted.text).map((text) => ({ text }));
    if (chunks.length === 0) {
      throw new IngestError(
        source.contentType === "application/pdf"
          ? "The PDF has no extractable text (scanned pages would need OCR, which is not supported)"
          : "The document contains no text",
      );
    }
  } else {
    const result = await crawl(source.urls ?? [], source.crawl ?? DEFAULT_CRAWL, { policy: urlPolicyFor(env) });
    if (result.pages.length === 0) {
      const reasons = result.failures.slice(0, 3).map((f) => f.error);
      const summary = reasons.length ? `No page could be read: ${reasons.join("; ")}` : "The pages contain no text";
      if (result.failures.length > 0 && result.failures.every((f) => f.transient)) throw new TransientIngestError(summary);
      throw new IngestError(summary);
    }
    if (result.failures.length) log("warn", "some pages of a web source could not be read", { source_id: source.id, failures: result.failures.slice(0, 10) });
    pageCount = result.pages.length;
    chunks = result.pages.flatMap((page) => chunkText(page.text).map((text) => ({ text, url: page.url })));
  }
  if (chunks.length > MAX_CHUNKS_PER_SOURCE) {
    throw new IngestError(`The source has too much text: ${chunks.length} chunks, the limit is ${MAX_CHUNKS_PER_SOURCE}; split it into smaller sources`);
  }

  if (kb.embeddingModel) {
    const vectors = await embedTexts(env, kb.embeddingModel, chunks.map((c) => c.text));
    chunks.forEach((chunk, i) => (chunk.embedding = vectors[i]));
  }

  const written = await replaceChunks(
    env.DB,
    { orgId: message.org_id, knowledgeBaseId: kb.id, sourceId: source.id, token: message.token },
    chunks,
    pageCount,
    new Date(clock.now()).toISOString(),
  );
  return written ? "ready" : "stale";
}

/** The queue consumer: each message is ingested, retried, or its source failed; never left hanging. */
export async function handleKnowledgeBatch(batch: MessageBatch<unknown>, env: Env, clock: Clock): Promise<void> {
  // One at a time: an ingestion is CPU- and memory-heavy (PDF parsing, crawling, embedding).
  for (const message of batch.messages) {
    const parsed = IngestMessage.safeParse(message.body);
    if (!parsed.success) {
      log("error", "dropping malformed knowledge message", { body: message.body, issues: parsed.error.issues });
      message.ack();
      continue;
    }
    const body = parsed.data;
    const ref = { orgId: body.org_id, sourceId: body.source_id, token: body.token };
    try {
      const outcome = await ingestSource(env, clock, body);
      log("info", "knowledge source ingested", { source_id: body.source_id, outcome, attempt: message.attempts });
      message.ack();
    } catch (error) {
      const reason = describeError(error);
      if (error instanceof IngestError) {
        await failSource(env.DB, ref, reason, new Date(clock.now()).toISOString());
        message.ack();
      } else if (message.attempts >= MAX_ATTEMPTS) {
        await failSource(env.DB, ref, `Ingestion failed after ${message.attempts} attempts: ${reason}`, new Date(clock.now()).toISOString());
        message.ack();
      } else {
        log("warn", "knowledge ingestion failed; the queue will retry it", { source_id: body.source_id, attempt: message.attempts, error: reason });
        message.retry({ delaySeconds: RETRY_DELAYS[Math.min(message.attempts, RETRY_DELAYS.length) - 1] });
      }
    }
  }
}

/** Messages whose consumer crashed on every delivery: their sources fail instead of staying `processing`. */
export async function handleKnowledgeDeadLetters(batch: MessageBatch<unknown>, env: Env, clock: Clock): Promise<void> {
  for (const message of batch.messages) {
    const parsed = IngestMessage.safeParse(message.body);
    if (parsed.success) {
      const { org_id, source_id, token } = parsed.data;
      await failSource(env.DB, { orgId: org_id, sourceId: source_id, token }, "Ingestion did not complete after repeated attempts; re-ingest the source to try again", new Date(clock.now()).toISOString());
    }
    message.ack();
  }
}
