import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { BASE, newOrg } from "../helpers/api";
import { createKb, ready, storedChunks, utf8 } from "../knowledge-bases/helpers";

/** A queue binding that refuses every message, as Queues does during an outage. */
const refusingQueue = {
  send: async () => {
    throw new Error("Queue send failed: injected outage");
  },
  sendBatch: async () => {
    throw new Error("Queue send failed: injected outage");
  },
} as unknown as Queue;

describe("Queue send failure on knowledge ingestion", () => {
  it("fails the new source at once saying what to do, keeps its file, and a re-ingest indexes it once", async () => {
    const org = await newOrg();
    const kb = await createKb(org);
    const text = Array.from({ length: 40 }, (_, i) => `Parking fact ${i}: the garage on level ${i} opens at seven and closes at ten.`).join(" ");

    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request(`${BASE}/knowledge-bases/${kb.id}/sources/document`, {
        method: "POST",
        headers: { authorization: `Bearer ${org.apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({ name: "Parking", file: { filename: "parking.txt", content_type: "text/plain", data: utf8(text) } }),
      }),
      { ...env, KNOWLEDGE_QUEUE: refusingQueue },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(201);
    const source = ((await res.json()) as { data: { id: string; status: string; error: string | null } }).data;
    // Never left `processing` with no message to finish it.
    expect(source).toMatchObject({ status: "failed", error: "Could not queue the ingestion; re-ingest the source to try again" });
    expect((await org.get(`/knowledge-bases/${kb.id}/sources/${source.id}`)).body.data).toMatchObject({ status: "failed" });
    expect(await storedChunks(source.id)).toEqual([]);
    // The upload itself is kept: nothing to send again.
    const row = await env.DB.prepare("SELECT object_key FROM knowledge_sources WHERE id = ?").bind(source.id).first<{ object_key: string }>();
    expect(await env.FILES.head(row!.object_key)).not.toBeNull();

    // With the queue back, a re-ingest indexes it, once.
    const again = await org.post(`/knowledge-bases/${kb.id}/sources/${source.id}/reingest`);
    expect(again.status).toBe(202);
    expect(again.body.data).toMatchObject({ status: "processing", error: null });
    await ready(org, kb.id, source.id);
    const chunks = await storedChunks(source.id);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.map((c) => c.ordinal)).toEqual(chunks.map((_, i) => i));
    expect(new Set(chunks.map((c) => c.text)).size).toBe(chunks.length);
  });
});
