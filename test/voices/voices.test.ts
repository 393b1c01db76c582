import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ApiError } from "../../src/lib/errors";
import { lookupElevenLabsVoice, verifyProviderVoice } from "../../src/api/voices/provider-voices";
import { FAKE_ELEVENLABS_FAILING_VOICE_ID } from "../fakes/elevenlabs";
import { CATALOGUE_VOICE_ID, fakeRequests, newOrg } from "../helpers/api";
import { deleteAgentRow, insertAgentRow } from "../helpers/agent-rows";

/** Counted from the seeded catalogue, so adding a platform voice does not break these tests. */
async function catalogueCount(where = "1 = 1", ...binds: string[]): Promise<number> {
  const row = await env.DB.prepare(`SELECT count(*) AS n FROM voices WHERE org_id IS NULL AND ${where}`)
    .bind(...binds)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

describe("GET /voices", () => {
  it("lists the catalogue to every organization, paginated", async () => {
    const org = await newOrg();
    const total = await catalogueCount();
    expect(total).toBeGreaterThan(10);
    const res = await org.get("/voices?limit=5");
    expect(res.status).toBe(200);
    expect(res.body.data).toHaveLength(5);
    expect(res.body.pagination).toEqual({ total, limit: 5, offset: 0, has_more: true });
    expect(res.body.data[0]).toEqual({
      id: CATALOGUE_VOICE_ID,
      name: "Rachel",
      provider: "elevenlabs",
      provider_voice_id: "21m00Tcm4TlvDq8ikWAM",
      type: "system",
      language: "en-US",
      gender: "female",
      description: "Calm, clear American narration",
      status: "active",
      failure_reason: null,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    const last = await org.get(`/voices?limit=5&offset=${total - 2}`);
    expect(last.body.data).toHaveLength(2);
    expect(last.body.pagination.has_more).toBe(false);
  });

  it("filters by provider, type and language", async () => {
    const org = await newOrg();
    await org.post("/voices", { name: "Imported", provider: "openai", provider_voice_id: "shimmer", language: "fr-FR" });

    const deepgram = await org.get("/voices?provider=deepgram");
    expect(deepgram.body.data.length).toBe(await catalogueCount("provider = ?", "deepgram"));
    expect(deepgram.body.data.every((v: any) => v.provider === "deepgram")).toBe(true);

    const reference = await org.get("/voices?type=reference");
    expect(reference.body.data.map((v: any) => v.provider_voice_id)).toEqual(["shimmer"]);

    const french = await org.get("/voices?language=fr");
    expect(french.body.pagination.total).toBe(1);
    const english = await org.get("/voices?language=EN-us");
    expect(english.body.pagination.total).toBe(await catalogueCount("language LIKE 'en-US'"));

    const bad = await org.get("/voices?provider=polly");
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.field).toBe("provider");
    expect((await org.get("/voices?language=en_%25")).status).toBe(422);
  });

  it("shows an organization its own imports and not another's", async () => {
    const [a, b] = await Promise.all([newOrg(), newOrg()]);
    const imported = await a.post("/voices", { name: "Shimmer", provider: "openai", provider_voice_id: "shimmer" });
    const total = await catalogueCount();
    expect((await a.get("/voices")).body.pagination.total).toBe(total + 1);
    const seenByB = await b.get("/voices");
    expect(seenByB.body.pagination.total).toBe(total);
    expect(seenByB.body.data.some((v: any) => v.id === imported.body.data.id)).toBe(false);
  });
});

describe("GET /voices/{id}", () => {
  it("reads catalogue voices from any organization and hides other organizations' imports", async () => {
    const [a, b] = await Promise.all([newOrg(), newOrg()]);
    expect((await b.get(`/voices/${CATALOGUE_VOICE_ID}`)).body.data.name).toBe("Rachel");
    const imported = await a.post("/voices", { name: "Mine", provider: "cartesia", provider_voice_id: "cartesia-voice-1" });
    const id = imported.body.data.id;
    expect((await a.get(`/voices/${id}`)).body.data.name).toBe("Mine");
    const other = await b.get(`/voices/${id}`);
    expect(other.status).toBe(404);
    expect(other.body.error.code).toBe("not_found");
    expect((await b.get("/voices/no-such-voice")).status).toBe(404);
  });
});

describe("POST /voices (import)", () => {
  it("checks an ElevenLabs voice with the real API shape and stores it as a reference voice", async () => {
    const org = await newOrg();
    const res = await org.post("/voices", { name: "Domi for sales", provider_voice_id: "AZnzlk1XvdvUeBnXmlld" });
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({
      name: "Domi for sales",
      provider: "elevenlabs",
      provider_voice_id: "AZnzlk1XvdvUeBnXmlld",
      type: "reference",
      status: "active",
      language: "en-US",
      gender: "female",
      description: null,
    });
    const seen = await fakeRequests("elevenlabs", "AZnzlk1XvdvUeBnXmlld");
    expect(seen.length).toBeGreaterThan(0);
    expect(seen[0]).toMatchObject({ method: "GET", path: "/v1/voices/AZnzlk1XvdvUeBnXmlld" });
    expect(seen[0].headers["xi-api-key"]).toBe("test-elevenlabs-key");
  });

  it("keeps the caller's language and description over the provider's", async () => {
    const org = await newOrg();
    const res = await org.post("/voices", {
      name: "Arnold",
      provider: "elevenlabs",
      provider_voice_id: "VR6AewLTigWG4xSOukaG",
      language: "en-GB",
      description: "Crisp narrator",
    });
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({ language: "en-GB", description: "Crisp narrator", gender: "male" });
  });

  it("answers an id ElevenLabs does not know with 422 on provider_voice_id and stores nothing", async () => {
    const org = await newOrg();
    const res = await org.post("/voices", { name: "Ghost", provider_voice_id: "doesNotExist12345678" });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("validation_error");
    expect(res.body.error.details.field).toBe("provider_voice_id");
    expect((await org.get("/voices?type=reference")).body.pagination.total).toBe(0);
    const seen = await fakeRequests("elevenlabs", "doesNotExist12345678");
    expect(seen[0].headers["xi-api-key"]).toBe("test-elevenlabs-key");
  });

  it("answers an ElevenLabs outage with 502 provider_error", async () => {
    const org = await newOrg();
    const res = await org.post("/voices", { name: "Unlucky", provider_voice_id: FAKE_ELEVENLABS_FAILING_VOICE_ID });
    expect(res.status).toBe(502);
    expect(res.body.error.code).toBe("provider_error");
    expect(JSON.stringify(res.body)).not.toContain("stack");
  });

  it("stores voices of providers without a lookup unchecked", async () => {
    const org = await newOrg();
    const res = await org.post("/voices", { name: "Aura Luna", provider: "deepgram", provider_voice_id: "aura-luna-en" });
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({ provider: "deepgram", type: "reference", status: "active", language: null, gender: null });
    expect(await fakeRequests("elevenlabs", "aura-luna-en")).toEqual([]);
  });

  it("refuses importing the same provider voice twice in one org, but not across orgs", async () => {
    const [a, b] = await Promise.all([newOrg(), newOrg()]);
    const first = await a.post("/voices", { name: "Elli", provider_voice_id: "MF3mGyEYCl7XYWbV9V6O" });
    expect(first.status).toBe(201);
    const again = await a.post("/voices", { name: "Elli again", provider_voice_id: "MF3mGyEYCl7XYWbV9V6O" });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("conflict");
    expect(again.body.error.details.voice_id).toBe(first.body.data.id);
    expect((await b.post("/voices", { name: "Elli", provider_voice_id: "MF3mGyEYCl7XYWbV9V6O" })).status).toBe(201);
  });

  it("imports a voice that is also in the catalogue", async () => {
    const org = await newOrg();
    const res = await org.post("/voices", { name: "Rachel (mine)", provider_voice_id: "21m00Tcm4TlvDq8ikWAM" });
    expect(res.status).toBe(201);
    expect(res.body.data.id).not.toBe(CATALOGUE_VOICE_ID);
  });

  it("validates the body, naming the field", async () => {
    const org = await newOrg();
    const cases: [unknown, string][] = [
      [{ provider_voice_id: "x" }, "name"],
      [{ name: "a".repeat(101), provider_voice_id: "x" }, "name"],
      [{ name: "  ", provider_voice_id: "x" }, "name"],
      [{ name: "x" }, "provider_voice_id"],
      [{ name: "x", provider: "polly", provider_voice_id: "x" }, "provider"],
      [{ name: "x", provider: "openai", provider_voice_id: "alloy", language: "english please" }, "language"],
    ];
    for (const [body, field] of cases) {
      const res = await org.post("/voices", body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.error.details.field).toBe(field);
    }
  });

  it("replays an import sent again with the same idempotency key", async () => {
    const org = await newOrg();
    const body = { name: "Sam", provider_voice_id: "yoZ06aMxZJJ28mfd3POQ" };
    const first = await org.post("/voices", body, { "Idempotency-Key": "import-sam" });
    const second = await org.post("/voices", body, { "Idempotency-Key": "import-sam" });
    expect(second.status).toBe(201);
    expect(second.body.data.id).toBe(first.body.data.id);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
  });
});

describe("ElevenLabs lookup (function level)", () => {
  const fakeBase = env.ELEVENLABS_API_BASE_URL;

  it("stores without asking when the deployment has no key", async () => {
    let calls = 0;
    const fetcher = (async () => {
      calls++;
      return new Response("{}");
    }) as unknown as typeof fetch;
    for (const key of [undefined, "", "  "]) {
      const result = await verifyProviderVoice({ ELEVENLABS_API_KEY: key, ELEVENLABS_API_BASE_URL: fakeBase }, "elevenlabs", "anything", { fetcher });
      expect(result).toEqual({ verified: false });
    }
    expect(calls).toBe(0);
  });

  it("maps a rejected key to 422 provider_not_configured", async () => {
    const error = await lookupElevenLabsVoice({ apiKey: "wrong-key", baseUrl: fakeBase }, "21m00Tcm4TlvDq8ikWAM").catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.code).toBe("provider_not_configured");
    expect(error.status).toBe(422);
  });

  it("maps the older 400 voice_not_found answer to 422 on provider_voice_id", async () => {
    const fetcher = (async () =>
      Response.json({ detail: { status: "voice_not_found", message: "A voice for the voice_id x was not found." } }, { status: 400 })) as unknown as typeof fetch;
    const error = await lookupElevenLabsVoice({ apiKey: "k", baseUrl: fakeBase }, "x", { fetcher }).catch((e) => e);
    expect(error.code).toBe("validation_error");
    expect(error.details.field).toBe("provider_voice_id");
  });

  it("maps network failures and timeouts to 502 provider_error", async () => {
    const unreachable = (async () => {
      throw new TypeError("Network connection lost.");
    }) as unknown as typeof fetch;
    const down = await lookupElevenLabsVoice({ apiKey: "k", baseUrl: fakeBase }, "x", { fetcher: unreachable }).catch((e) => e);
    expect(down.code).toBe("provider_error");

    const hanging = ((_url: string, init: RequestInit) =>
      new Promise((_resolve, reject) => init.signal?.addEventListener("abort", () => reject(init.signal?.reason)))) as unknown as typeof fetch;
    const slow = await lookupElevenLabsVoice({ apiKey: "k", baseUrl: fakeBase }, "x", { fetcher: hanging, timeoutMs: 20 }).catch((e) => e);
    expect(slow.code).toBe("provider_error");
    expect(slow.message).toContain("did not answer in time");
  });
});

describe("DELETE /voices/{id}", () => {
  it("deletes an imported voice", async () => {
    const org = await newOrg();
    const { id } = (await org.post("/voices", { name: "Temp", provider: "openai", provider_voice_id: "verse" })).body.data;
    const res = await org.delete(`/voices/${id}`);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ id, deleted: true });
    expect((await org.get(`/voices/${id}`)).status).toBe(404);
  });

  it("refuses catalogue voices with 403", async () => {
    const org = await newOrg();
    const res = await org.delete(`/voices/${CATALOGUE_VOICE_ID}`);
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("forbidden");
    expect((await org.get(`/voices/${CATALOGUE_VOICE_ID}`)).status).toBe(200);
  });

  it("refuses a voice an agent uses with 409 naming the agents", async () => {
    const org = await newOrg();
    const { id } = (await org.post("/voices", { name: "Used", provider: "openai", provider_voice_id: "ash" })).body.data;
    const agentId = await insertAgentRow(org.orgId, { voiceId: id });
    const res = await org.delete(`/voices/${id}`);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("resource_in_use");
    expect(res.body.error.details.agent_ids).toEqual([agentId]);
    await deleteAgentRow(agentId);
    expect((await org.delete(`/voices/${id}`)).status).toBe(200);
  });

  it("answers 404 for another organization's voice and leaves it alone", async () => {
    const [a, b] = await Promise.all([newOrg(), newOrg()]);
    const { id } = (await a.post("/voices", { name: "Private", provider: "openai", provider_voice_id: "ballad" })).body.data;
    const res = await b.delete(`/voices/${id}`);
    expect(res.status).toBe(404);
    expect((await a.get(`/voices/${id}`)).body.data.name).toBe("Private");
  });
});
