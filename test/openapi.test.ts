import { describe, expect, it } from "vitest";
import { BASE, rawFetch } from "./helpers/api";

type Operation = {
  summary?: string;
  tags?: string[];
  security?: unknown[];
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
  requestBody?: { content: Record<string, { schema?: unknown }> };
};

async function operations() {
  const doc = (await rawFetch(`${BASE}/openapi.json`)).body;
  const ops: { method: string; path: string; op: Operation }[] = [];
  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, Operation>>)) {
    for (const [method, op] of Object.entries(item)) ops.push({ method, path, op });
  }
  return { doc, ops };
}

describe("OpenAPI document", () => {
  it("documents every operation with a summary, a tag and the shared error responses", async () => {
    const { ops } = await operations();
    expect(ops.length).toBeGreaterThan(10);
    for (const { method, path, op } of ops) {
      const where = `${method.toUpperCase()} ${path}`;
      expect(op.summary, where).toBeTruthy();
      expect(op.tags?.length, where).toBeGreaterThan(0);
      for (const status of ["401", "422", "500"]) expect(op.responses[status], `${where} ${status}`).toBeDefined();
      const success = Object.keys(op.responses).filter((s) => s.startsWith("2"));
      expect(success.length, where).toBeGreaterThan(0);
    }
  });

  it("declares bearer auth and the error schema with its closed code list", async () => {
    const { doc } = await operations();
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
    const codes = doc.components.schemas.Error.properties.error.properties.code.enum;
    expect(codes).toEqual(expect.arrayContaining(["validation_error", "not_found", "rate_limit_exceeded", "unauthorized"]));
  });

  it("serves the docs page", async () => {
    const res = await rawFetch("https://truedy.test/docs");
    expect(res.status).toBe(200);
    expect(String(res.body)).toContain("/api/public/v1/openapi.json");
  });
});
