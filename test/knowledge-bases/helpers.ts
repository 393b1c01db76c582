import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { toBase64 } from "../../src/lib/crypto";
import type { ApiClient } from "../helpers/api";
import { eventually as waitFor } from "../helpers/eventually";

export const DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
export const utf8 = (text: string) => toBase64(new TextEncoder().encode(text));

/** Ingestion runs on a queue: waits get longer than the default. */
export const eventually = <T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string, timeoutMs = 15_000) => waitFor(read, ok, what, timeoutMs, 20);

export async function createKb(client: ApiClient, body: Record<string, unknown> = {}) {
  const res = await client.post("/knowledge-bases", { name: "Product FAQ", ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.data as { id: string; embedding_model: string | null };
}

export async function addDocument(client: ApiClient, kbId: string, name: string, filename: string, contentType: string, data: string) {
  const res = await client.post(`/knowledge-bases/${kbId}/sources/document`, { name, file: { filename, content_type: contentType, data } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  expect(res.body.data.status).toBe("processing");
  return res.body.data as { id: string };
}

export const addText = (client: ApiClient, kbId: string, name: string, text: string) => addDocument(client, kbId, name, `${name.replace(/\W+/g, "-")}.txt`, "text/plain", utf8(text));

/** Waits until the source leaves `processing`, and returns it. */
export async function settled(client: ApiClient, kbId: string, sourceId: string, timeoutMs?: number) {
  const res = await eventually(
    () => client.get(`/knowledge-bases/${kbId}/sources/${sourceId}`),
    (r) => r.status !== 200 || r.body.data.status !== "processing",
    `source ${sourceId} to finish ingesting`,
    timeoutMs,
  );
  expect(res.status).toBe(200);
  return res.body.data;
}

export async function ready(client: ApiClient, kbId: string, sourceId: string) {
  const source = await settled(client, kbId, sourceId);
  expect(source.status, source.error).toBe("ready");
  return source;
}

/** The chunks of a source as stored, in order. */
export async function storedChunks(sourceId: string) {
  const { results } = await env.DB.prepare(
    "SELECT id, ordinal, text, url, length(embedding) AS embedding_bytes FROM knowledge_chunks WHERE source_id = ? ORDER BY ordinal",
  )
    .bind(sourceId)
    .all<{ id: number; ordinal: number; text: string; url: string | null; embedding_bytes: number | null }>();
  return results;
}

/** Rows the FTS index returns for a word, for chunks of one source (proves the index follows the table). */
export async function ftsHits(sourceId: string, word: string) {
  const row = await env.DB.prepare(
    "SELECT count(*) AS n FROM knowledge_chunks_fts f JOIN knowledge_chunks c ON c.id = f.rowid WHERE knowledge_chunks_fts MATCH ? AND c.source_id = ?",
  )
    .bind(`"${word}"`, sourceId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

export async function fixture(name: string): Promise<Uint8Array> {
  const res = await fetch(`${env.FAKES_CONTROL_URL}/__fakes/website/fixtures/${name}`);
  if (!res.ok) throw new Error(`fixture ${name}: ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

export const siteUrl = (ns: string, path = "/") => `${env.FAKES_CONTROL_URL}/site/${ns}${path}`;

/** Paths under /site/{ns} the fake website served, in request order. */
export async function sitePathsRequested(ns: string): Promise<string[]> {
  const url = new URL("/__fakes/requests", env.FAKES_CONTROL_URL);
  url.searchParams.set("service", "website");
  url.searchParams.set("contains", `/site/${ns}/`);
  const records = (await (await fetch(url)).json()) as { path: string }[];
  return records.map((r) => r.path.slice(`/site/${ns}`.length));
}

export async function setSitePage(path: string, html: string | undefined, status?: number) {
  const res = await fetch(`${env.FAKES_CONTROL_URL}/__fakes/website/pages`, { method: "POST", body: JSON.stringify({ path, html, status }) });
  expect(res.status).toBe(200);
}

let counter = 0;
export const uniqueName = (prefix: string) => `${prefix}${Date.now().toString(36)}${(counter++).toString(36)}${Math.random().toString(36).slice(2, 6)}`;
