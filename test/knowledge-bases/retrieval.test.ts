import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { estimateTokens, RRF_K } from "../../src/domain/knowledge";
import { retrieveContext, searchKnowledge } from "../../src/knowledge/retrieve";
import { fakeRequests, newOrg, type ApiClient } from "../helpers/api";
import { addText, createKb, ready, storedChunks, uniqueName } from "./helpers";

const DOCS = {
  returns: "Returns policy. Items may be returned within thirty days of delivery if unused. Refunds go back to the original card.",
  shipping: "Shipping. Parcels arrive in five days by standard post. Express delivery takes one day and costs extra.",
  warranty: "Warranty. Hardware is covered for two years against manufacturing faults. Accidental damage is not covered.",
};

async function kbWithDocs(client: ApiClient, body: Record<string, unknown> = {}) {
  const kb = await createKb(client, body);
  const ids: Record<string, string> = {};
  for (const [name, text] of Object.entries(DOCS)) ids[name] = (await addText(client, kb.id, name, text)).id;
  for (const id of Object.values(ids)) await ready(client, kb.id, id);
  return { kb, ids };
}

const fusedScore = (r: { keyword: { rank: number } | null; vector: { rank: number } | null }) =>
  (r.keyword ? 1 / (RRF_K + r.keyword.rank) : 0) + (r.vector ? 1 / (RRF_K + r.vector.rank) : 0);

describe("POST /knowledge-bases/{id}/query", () => {
  it("ranks the relevant chunk first by BM25 when the knowledge base has no embeddings", async () => {
    const org = await newOrg();
    const { kb, ids } = await kbWithDocs(org);
    const res = await org.post(`/knowledge-bases/${kb.id}/query`, { query: "How many days do I have to return an item?" });
    expect(res.status).toBe(200);
    const data = res.body.data;
    expect(data).toMatchObject({ query: "How many days do I have to return an item?", mode: "keyword", warnings: [] });
    expect(data.results[0]).toEqual({
      chunk_id: expect.any(Number),
      source_id: ids.returns,
      source_name: "returns",
      text: DOCS.returns,
      url: null,
      score: Number((1 / (RRF_K + 1)).toFixed(6)),
      keyword: { rank: 1, score: expect.any(Number) },
      vector: null,
    });
    expect(data.results[0].keyword.score).toBeGreaterThan(0);
    // "days" also matches shipping, ranked lower; warranty shares no word and is absent.
    expect(data.results.map((r: any) => r.source_name)).toEqual(["returns", "shipping"]);
    expect(data.results[1].keyword.score).toBeLessThan(data.results[0].keyword.score);

    const warranty = await org.post(`/knowledge-bases/${kb.id}/query`, { query: "Is accidental damage covered by the warranty?", top_k: 1 });
    expect(warranty.body.data.results.map((r: any) => r.source_id)).toEqual([ids.warranty]);
  });

  it("ranks hybrid (BM25 + cosine, fused) when the knowledge base embeds its chunks", async () => {
    const org = await newOrg();
    const marker = uniqueName("emb");
    const kb = await createKb(org, { embedding_model: "text-embedding-3-small" });
    expect(kb.embedding_model).toBe("text-embedding-3-small");
    const ids: Record<string, string> = {};
    for (const [name, text] of Object.entries(DOCS)) ids[name] = (await addText(org, kb.id, name, `${text} ${marker}${name}`)).id;
    for (const id of Object.values(ids)) await ready(org, kb.id, id);

    // The chunks were embedded through the OpenAI-compatible API, stored as 1536 float32s.
    const [chunk] = await storedChunks(ids.warranty);
    expect(chunk.embedding_bytes).toBe(1536 * 4);
    const sent = await fakeRequests("openai", `${marker}warranty`);
    expect(sent).toHaveLength(1);
    expect(sent[0].path).toBe("/v1/embeddings");
    expect(JSON.parse(sent[0].body)).toMatchObject({ model: "text-embedding-3-small", encoding_format: "float" });

    const res = await org.post(`/knowledge-bases/${kb.id}/query`, { query: "Is the hardware warranty covering faults?", top_k: 3 });
    expect(res.status).toBe(200);
    const { mode, results, warnings } = res.body.data;
    expect(mode).toBe("hybrid");
    expect(warnings).toEqual([]);
    expect(results[0].source_id).toBe(ids.warranty);
    expect(results[0].keyword.rank).toBe(1);
    expect(results[0].vector.rank).toBe(1);
    expect(results[0].vector.score).toBeGreaterThan(0);
    expect(results[0].vector.score).toBeLessThanOrEqual(1);
    for (const r of results) expect(r.score).toBeCloseTo(fusedScore(r), 5);
    // Scores are fused: each result's score is at least the next one's.
    for (let i = 1; i < results.length; i++) expect(results[i - 1].score).toBeGreaterThanOrEqual(results[i].score);
    // A chunk that shares no search term (only "is"/"the", stopwords to BM25) can still come from the vector side.
    expect(results.some((r: any) => r.keyword === null && r.vector !== null)).toBe(true);
  });

  it("falls back to keywords with a warning when the embeddings provider is down", async () => {
    const org = await newOrg();
    const { kb, ids } = await kbWithDocs(org, { embedding_model: "text-embedding-3-small" });
    const down = { ...env, OPENAI_BASE_URL: "http://127.0.0.1:9/v1" } as Env;
    const search = await searchKnowledge(down, org.orgId, [kb.id], "parcels standard post", { topK: 3 });
    expect(search.mode).toBe("keyword");
    expect(search.warnings).toEqual([expect.stringMatching(/^Semantic ranking was skipped: The embeddings request failed/)]);
    expect(search.results[0]).toMatchObject({ source_id: ids.shipping, vector: null, keyword: { rank: 1 } });
  });

  it("answers an empty list for a knowledge base without content or a question without search words", async () => {
    const org = await newOrg();
    const empty = await createKb(org);
    const res = await org.post(`/knowledge-bases/${empty.id}/query`, { query: "anything at all" });
    expect(res.status).toBe(200);
    expect(res.body.data.results).toEqual([]);
    const { kb } = await kbWithDocs(org);
    const stop = await org.post(`/knowledge-bases/${kb.id}/query`, { query: "what is the of and?" });
    expect(stop.body.data).toMatchObject({ mode: "keyword", results: [] });
  });

  it("validates the body with 422 naming the field", async () => {
    const org = await newOrg();
    const kb = await createKb(org);
    const cases: [unknown, string][] = [
      [{}, "query"],
      [{ query: "   " }, "query"],
      [{ query: "x".repeat(1001) }, "query"],
      [{ query: 42 }, "query"],
      [{ query: "ok", top_k: 0 }, "top_k"],
      [{ query: "ok", top_k: 51 }, "top_k"],
      [{ query: "ok", top_k: 2.5 }, "top_k"],
      [{ query: "ok", top_k: "3" }, "top_k"],
    ];
    for (const [body, field] of cases) {
      const res = await org.post(`/knowledge-bases/${kb.id}/query`, body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.error.code).toBe("validation_error");
      expect(res.body.error.details.field).toBe(field);
    }
    const malformed = await org.send("POST", `/knowledge-bases/${kb.id}/query`, { body: "{not json", headers: { "content-type": "application/json" } });
    expect(malformed.status).toBe(400);
  });

  it("answers 404 for another organization's knowledge base, for /query and /reingest", async () => {
    const [owner, intruder] = await Promise.all([newOrg(), newOrg()]);
    const { kb, ids } = await kbWithDocs(owner);
    const own = await createKb(intruder);
    const attempts = [
      await intruder.post(`/knowledge-bases/${kb.id}/query`, { query: "returns" }),
      await intruder.post(`/knowledge-bases/${kb.id}/sources/${ids.returns}/reingest`),
      await intruder.post(`/knowledge-bases/${own.id}/sources/${ids.returns}/reingest`),
      await owner.post(`/knowledge-bases/${kb.id}/sources/not-a-source/reingest`),
      await owner.post(`/knowledge-bases/nope/query`, { query: "returns" }),
    ];
    for (const res of attempts) {
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe("not_found");
    }
    // The owner's source was not touched: still ready, not re-queued.
    expect((await owner.get(`/knowledge-bases/${kb.id}/sources/${ids.returns}`)).body.data.status).toBe("ready");
    // And the intruder's own knowledge base does not search the owner's chunks.
    expect((await intruder.post(`/knowledge-bases/${own.id}/query`, { query: "returns refunds" })).body.data.results).toEqual([]);
  });
});

describe("retrieveContext (for the voice loop)", () => {
  it("returns the best chunks that fit the token budget, from the org's own knowledge bases only", async () => {
    const [org, other] = await Promise.all([newOrg(), newOrg()]);
    const { kb: first, ids } = await kbWithDocs(org);
    const second = await createKb(org, { name: "Store" });
    const store = await addText(org, second.id, "Store hours", "The store opens at nine and returns are handled at the front desk.");
    await ready(org, second.id, store.id);
    const foreign = await createKb(other);
    const secret = await addText(other, foreign.id, "Secret", "Confidential returns process for another company.");
    await ready(other, foreign.id, secret.id);

    const wide = await retrieveContext(env, org.orgId, [first.id, second.id, foreign.id], "where are returns handled", { tokenBudget: 1000 });
    const sources = wide.chunks.map((c) => c.source_id);
    expect(sources).toContain(store.id);
    expect(sources).toContain(ids.returns);
    expect(sources).not.toContain(secret.id);
    expect(wide.tokens).toBe(wide.chunks.reduce((n, c) => n + estimateTokens(c.text), 0));
    expect(wide.text).toContain("[Store hours]\nThe store opens at nine");
    expect(wide.text).not.toContain("Confidential");

    // A budget that holds only the best chunk.
    const best = wide.chunks[0];
    const tight = await retrieveContext(env, org.orgId, [first.id, second.id], "where are returns handled", { tokenBudget: estimateTokens(best.text) });
    expect(tight.chunks.map((c) => c.chunk_id)).toEqual([best.chunk_id]);
    expect(tight.tokens).toBeLessThanOrEqual(estimateTokens(best.text));

    const none = await retrieveContext(env, org.orgId, [first.id], "where are returns handled", { tokenBudget: 5 });
    expect(none.chunks).toEqual([]);
    expect(none.text).toBe("");
    expect((await retrieveContext(env, other.orgId, [first.id], "returns")).chunks).toEqual([]);
  });
});

describe("embedding_model on create", () => {
  it("is null by default here (KNOWLEDGE_EMBEDDING_MODEL is unset), settable, and validated", async () => {
    const org = await newOrg();
    expect((await createKb(org)).embedding_model).toBeNull();
    expect((await createKb(org, { embedding_model: null })).embedding_model).toBeNull();
    const kb = await createKb(org, { embedding_model: "text-embedding-3-large" });
    expect((await org.get(`/knowledge-bases/${kb.id}`)).body.data.embedding_model).toBe("text-embedding-3-large");
    for (const bad of ["", "has spaces", "x".repeat(101), 7]) {
      const res = await org.post("/knowledge-bases", { name: "Bad", embedding_model: bad });
      expect(res.status, String(bad)).toBe(422);
      expect(res.body.error.details.field).toBe("embedding_model");
    }
  });
});
