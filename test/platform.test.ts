import { describe, expect, it } from "vitest";
import { adminFetch, apiClient, newOrg, rawFetch, BASE } from "./helpers/api";

describe("admin bootstrap", () => {
  it("creates an organization and returns a working API key once", async () => {
    const res = await adminFetch("/organizations", { method: "POST", body: { name: "Acme" } });
    expect(res.status).toBe(201);
    expect(res.body.data.api_key).toMatch(/^truedy_[A-Za-z0-9]{32}$/);
    const client = apiClient(res.body.data.api_key);
    expect((await client.get("/api-keys")).status).toBe(200);
  });

  it("rejects a wrong admin token", async () => {
    const res = await adminFetch("/organizations", { method: "POST", body: { name: "x" }, token: "nope" });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe("unauthorized");
  });
});

describe("authentication", () => {
  it("answers 401 in the envelope for missing, malformed and unknown keys", async () => {
    for (const authorization of [undefined, "Bearer", "Basic abc", "Bearer truedy_unknownunknownunknownunknown12"]) {
      const res = await rawFetch(`${BASE}/agents`, { headers: authorization ? { authorization } : {} });
      expect(res.status).toBe(401);
      expect(res.body.error).toMatchObject({ code: "unauthorized", message: "Invalid or missing API key" });
      expect(res.body.meta.request_id).toBeTruthy();
    }
  });

  it("revokes a key at once", async () => {
    const org = await newOrg();
    const created = await org.post("/api-keys", { name: "temp" });
    expect(created.status).toBe(201);
    const temp = apiClient(created.body.data.api_key);
    expect((await temp.get("/api-keys")).status).toBe(200);
    const revoked = await org.delete(`/api-keys/${created.body.data.id}`);
    expect(revoked.body.data.revoked_at).toBeTruthy();
    expect((await temp.get("/api-keys")).status).toBe(401);
  });
});

describe("envelope and errors", () => {
  it("answers unknown routes with a 404 envelope", async () => {
    const org = await newOrg();
    const res = await org.get("/no-such-thing");
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("not_found");
  });

  it("answers malformed JSON with 400", async () => {
    const org = await newOrg();
    const res = await org.post("/api-keys", "{not json");
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("bad_request");
  });

  it("answers a body that is not JSON with 415 and a JSON non-object with 422", async () => {
    const org = await newOrg();
    const plain = await org.send("POST", "/api-keys", { headers: { "content-type": "text/plain" }, body: "{}" });
    expect(plain.status).toBe(415);
    expect(plain.body.error.code).toBe("unsupported_media_type");
    const array = await org.post("/api-keys", "[1]");
    expect(array.status).toBe(422);
    expect(array.body.error.details.field).toBe("(root)");
  });

  it("answers an oversized body with 413", async () => {
    const org = await newOrg();
    const res = await org.post("/api-keys", { name: "x".repeat(2 * 1024 * 1024) });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe("payload_too_large");
  });

  it("serves the OpenAPI 3.1 document without auth", async () => {
    const res = await rawFetch(`${BASE}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe("3.1.0");
    expect(res.body.paths["/api/public/v1/api-keys"]).toBeDefined();
  });
});
