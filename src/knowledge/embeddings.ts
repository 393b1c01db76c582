import { normalizeVector } from "../domain/knowledge";
import { describeError, IngestError, TransientIngestError } from "./errors";

/**
 * Embeddings through any OpenAI-compatible server: `POST {OPENAI_BASE_URL}/embeddings` with
 * `OPENAI_API_KEY`. Vectors come back unit-length float32, ready to store and compare by dot
 * product. `KNOWLEDGE_EMBEDDING_DIMENSIONS`, when set, is sent as `dimensions`.
 */

/** Inputs per request (OpenAI accepts 2,048; smaller requests fail and retry more cheaply). */
export const EMBEDDING_BATCH = 96;
const TIMEOUT_MS = 30_000;

export type EmbeddingEnv = Pick<Env, "OPENAI_BASE_URL" | "KNOWLEDGE_EMBEDDING_DIMENSIONS"> & { OPENAI_API_KEY?: string };

export const embeddingsConfigured = (env: Partial<EmbeddingEnv>) => Boolean(env.OPENAI_API_KEY);

function dimensionsOf(env: EmbeddingEnv): number | undefined {
  const raw = env.KNOWLEDGE_EMBEDDING_DIMENSIONS?.trim();
  if (!raw) return undefined;
  const n = Number(raw);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

async function embedBatch(env: EmbeddingEnv, model: string, input: string[], signal?: AbortSignal): Promise<Float32Array[]> {
  if (!env.OPENAI_API_KEY) throw new IngestError("Embeddings need OPENAI_API_KEY, which this deployment does not set");
  const dimensions = dimensionsOf(env);
  let response: Response;
  try {
    response = await fetch(`${env.OPENAI_BASE_URL.replace(/\/+$/, "")}/embeddings`, {
      method: "POST",
      headers: { authorization: `Bearer ${env.OPENAI_API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model, input, encoding_format: "float", ...(dimensions ? { dimensions } : {}) }),
      signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(TIMEOUT_MS)]) : AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    throw new TransientIngestError(`The embeddings request failed: ${describeError(error, 200)}`, { cause: error });
  }
  const text = await response.text();
  if (!response.ok) {
    let message = text.slice(0, 300);
    try {
      message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? message;
    } catch {
      // Not JSON: keep the text.
    }
    const reason = `The embeddings provider answered ${response.status}: ${message}`;
    if (response.status === 429 || response.status >= 500) throw new TransientIngestError(reason);
    throw new IngestError(reason);
  }
  let body: { data?: { index: number; embedding: number[] }[] };
  try {
    body = JSON.parse(text);
  } catch {
    throw new TransientIngestError("The embeddings provider answered with invalid JSON");
  }
  const data = body.data ?? [];
  if (data.length !== input.length || data.some((d) => !Array.isArray(d.embedding) || d.embedding.length === 0)) {
    throw new TransientIngestError(`The embeddings provider answered ${data.length} vectors for ${input.length} inputs`);
  }
  const vectors = new Array<Float32Array>(input.length);
  for (const item of data) vectors[item.index] = normalizeVector(item.embedding);
  if (vectors.some((v) => v === undefined)) throw new TransientIngestError("The embeddings provider answered out-of-range indexes");
  return vectors;
}

/** One unit vector per text, in order. */
export async function embedTexts(env: EmbeddingEnv, model: string, texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let i = 0; i < texts.length; i += EMBEDDING_BATCH) {
    out.push(...(await embedBatch(env, model, texts.slice(i, i + EMBEDDING_BATCH), signal)));
  }
  return out;
}

/** A vector as stored in D1: little-endian float32 bytes. */
export function vectorToBlob(vector: Float32Array): Uint8Array {
  const out = new Uint8Array(vector.length * 4);
  const view = new DataView(out.buffer);
  vector.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return out;
}

export function blobToVector(blob: ArrayBuffer | Uint8Array | number[]): Float32Array {
  const bytes = blob instanceof Uint8Array ? blob : Array.isArray(blob) ? Uint8Array.from(blob) : new Uint8Array(blob);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(Math.floor(bytes.byteLength / 4));
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}
