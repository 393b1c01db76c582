import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { llmEndpoint } from "../../src/domain/llm-endpoint";
import { decryptSecret } from "../../src/lib/crypto";
import { CATALOGUE_VOICE_ID, newOrg } from "../helpers/api";

/**
 * Issue 9 (security review): an agent's `llm.api_key` is write-only and sealed at rest, and its
 * `llm.base_url` passes the outbound URL policy. Which key a call sends is tested on real calls in
 * test/voice-loop/llm-key.test.ts.
 */

const base = { name: "Own LLM", voice_id: CATALOGUE_VOICE_ID, system_prompt: "Hello" };
const LLM = { provider: "openai", model: "gpt-4o-mini", base_url: "https://llm.example.com/v1" };

const storedLlm = async (id: string) => {
  const row = await env.DB.prepare("SELECT llm FROM agents WHERE id = ?").bind(id).first<{ llm: string }>();
  return row!.llm;
};

describe("agent llm.api_key", () => {
  it("is sealed at rest, never returned (has_api_key instead), kept by updates that omit it and removed by null", async () => {
    const org = await newOrg();
    const key = `sk-own-${crypto.randomUUID()}`;
    const created = await org.post("/agents", { ...base, llm: { ...LLM, api_key: `  ${key}  ` } });
    expect(created.status).toBe(201);
    expect(created.body.data.llm).toEqual({ ...LLM, has_api_key: true });
    const id = created.body.data.id as string;

    // At rest: AES-GCM under ENCRYPTION_KEY, trimmed, nothing readable in the row.
    const raw = await storedLlm(id);
    expect(raw).not.toContain(key);
    expect(raw).not.toContain(btoa(key).slice(0, 20));
    expect(await decryptSecret(JSON.parse(raw).api_key_encrypted, env.ENCRYPTION_KEY)).toBe(key);

    const answers = [
      created,
      await org.get(`/agents/${id}`),
      await org.get("/agents"),
      await org.patch(`/agents/${id}`, { llm: { ...LLM, model: "gpt-4.1" } }),
      await org.put(`/agents/${id}`, { model: "gpt-4o" }),
    ];
    for (const answer of answers) {
      expect(answer.status).toBeLessThan(300);
      expect(JSON.stringify(answer.body)).not.toContain(key);
      expect(JSON.stringify(answer.body)).not.toContain("api_key_encrypted");
    }
    expect((await org.get("/agents")).body.data[0].llm.has_api_key).toBe(true);
    // PATCH with llm but no api_key, and the `model` shorthand, both keep the key.
    expect(answers[3].body.data.llm).toEqual({ ...LLM, model: "gpt-4.1", has_api_key: true });
    expect(answers[4].body.data.llm).toEqual({ ...LLM, model: "gpt-4o", has_api_key: true });
    expect(await decryptSecret(JSON.parse(await storedLlm(id)).api_key_encrypted, env.ENCRYPTION_KEY)).toBe(key);

    // A new key replaces it; null removes it.
    const other = `sk-other-${crypto.randomUUID()}`;
    expect((await org.patch(`/agents/${id}`, { llm: { ...LLM, api_key: other } })).body.data.llm.has_api_key).toBe(true);
    expect(await decryptSecret(JSON.parse(await storedLlm(id)).api_key_encrypted, env.ENCRYPTION_KEY)).toBe(other);
    const removed = await org.patch(`/agents/${id}`, { llm: { ...LLM, api_key: null } });
    expect(removed.body.data.llm).toEqual({ ...LLM, has_api_key: false });
    expect(JSON.parse(await storedLlm(id))).toEqual({ provider: "openai", model: "gpt-4o-mini", base_url: LLM.base_url });
  });

  it("agents without one show has_api_key false and base_url null", async () => {
    const org = await newOrg();
    const created = await org.post("/agents", base);
    expect(created.body.data.llm).toEqual({ provider: "openai", model: "gpt-4o-mini", base_url: null, has_api_key: false });
  });

  it("refuses an empty or over-long api_key with 422", async () => {
    const org = await newOrg();
    for (const api_key of ["   ", "k".repeat(501)]) {
      const res = await org.post("/agents", { ...base, llm: { ...LLM, api_key } });
      expect(res.status, api_key.slice(0, 10)).toBe(422);
      expect(JSON.stringify(res.body.error)).toContain("llm.api_key");
    }
  });
});

describe("agent llm.base_url", () => {
  it("must pass the outbound URL policy on create and update: 422 naming llm.base_url", async () => {
    const org = await newOrg();
    const refused = [
      "http://llm.example.com/v1", // not https
      "https://10.0.0.7/v1", // private
      "https://169.254.169.254/latest", // cloud metadata
      "https://[::ffff:192.168.1.1]/v1", // private, spelled as IPv6
      "https://llm.internal/v1", // internal name
      "https://user:pass@llm.example.com/v1", // credentials in the URL
    ];
    for (const base_url of refused) {
      const res = await org.post("/agents", { ...base, llm: { ...LLM, base_url } });
      expect(res.status, base_url).toBe(422);
      expect(res.body.error.details.field, base_url).toBe("llm.base_url");
    }
    const agent = await org.post("/agents", { ...base, llm: LLM });
    expect(agent.status).toBe(201);
    const id = agent.body.data.id as string;
    for (const base_url of refused) {
      const res = await org.patch(`/agents/${id}`, { llm: { ...LLM, base_url } });
      expect(res.status, base_url).toBe(422);
      expect(res.body.error.details.field, base_url).toBe("llm.base_url");
    }
    expect((await org.get(`/agents/${id}`)).body.data.llm.base_url).toBe(LLM.base_url);
  });

  it("admits loopback only where the simulator runs (dev and tests), as for tools", async () => {
    expect(env.SIMULATOR_ENABLED).toBe("true");
    const org = await newOrg();
    const res = await org.post("/agents", { ...base, llm: { ...LLM, base_url: "http://127.0.0.1:8080/v1" } });
    expect(res.status).toBe(201);
  });
});

describe("llmEndpoint (which server and key a call uses)", () => {
  const platform = { baseUrl: "https://api.openai.com/v1", apiKey: "sk-platform" };
  const policy = { allowLoopback: false };

  it("sends the platform key only to OPENAI_BASE_URL's origin, the agent's own key anywhere, else none", () => {
    expect(llmEndpoint({}, platform, policy)).toEqual({ ok: true, baseUrl: "https://api.openai.com/v1", apiKey: "sk-platform" });
    expect(llmEndpoint({ baseUrl: "https://api.openai.com/v1/" }, platform, policy)).toEqual({ ok: true, baseUrl: "https://api.openai.com/v1", apiKey: "sk-platform" });
    expect(llmEndpoint({ baseUrl: "https://api.openai.com:443/other" }, platform, policy)).toMatchObject({ apiKey: "sk-platform" });
    expect(llmEndpoint({ baseUrl: "https://api.openai.com.evil.example/v1" }, platform, policy)).toEqual({ ok: true, baseUrl: "https://api.openai.com.evil.example/v1", apiKey: undefined });
    expect(llmEndpoint({ baseUrl: "https://llm.example.com/v1" }, platform, policy)).toMatchObject({ ok: true, apiKey: undefined });
    expect(llmEndpoint({ baseUrl: "https://llm.example.com/v1", apiKey: "sk-own" }, platform, policy)).toMatchObject({ ok: true, apiKey: "sk-own" });
    expect(llmEndpoint({ apiKey: "sk-own" }, platform, policy)).toMatchObject({ baseUrl: "https://api.openai.com/v1", apiKey: "sk-own" });
  });

  it("refuses a base_url the outbound policy refuses, and the platform server without a platform key", () => {
    expect(llmEndpoint({ baseUrl: "https://192.168.0.10/v1", apiKey: "sk-own" }, platform, policy)).toEqual({
      ok: false,
      reason: "llm.base_url is refused: Must not target a private, loopback or link-local address",
    });
    expect(llmEndpoint({ baseUrl: "http://127.0.0.1:8080/v1" }, platform, policy)).toMatchObject({ ok: false });
    expect(llmEndpoint({ baseUrl: "http://127.0.0.1:8080/v1" }, platform, { allowLoopback: true })).toMatchObject({ ok: true, apiKey: undefined });
    expect(llmEndpoint({}, { baseUrl: platform.baseUrl }, policy)).toEqual({ ok: false, reason: "no API key configured (OPENAI_API_KEY)" });
    expect(llmEndpoint({ baseUrl: "https://llm.example.com/v1" }, { baseUrl: platform.baseUrl }, policy)).toMatchObject({ ok: true, apiKey: undefined });
  });
});
