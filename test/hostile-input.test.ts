import { describe, expect, it } from "vitest";
import { adminFetch, BASE, newOrg, rawFetch } from "./helpers/api";

/**
 * Every documented operation, called with hostile input: wrong types, huge and odd strings,
 * deep JSON, injection payloads and path-traversal ids. Whatever the answer, it is never a 5xx
 * and always the error envelope. (The longer contract fuzzing comes with the hardening work.)
 */
const HOSTILE_VALUES: unknown[] = [
  null,
  1e308,
  "x".repeat(20_000),
  "'; DROP TABLE agents; -- <script>{{constructor}}</script> ../../etc/passwd",
  "\u0000\uFFFF\uD800😀",
  [null, {}, "a"],
];

function deep(depth: number): unknown {
  let value: unknown = "leaf";
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

const HOSTILE_IDS = ["..%2F..%2Fetc%2Fpasswd%00' OR 1=1 --", "x".repeat(300)];

describe("hostile input never causes a 5xx", () => {
  it("holds for every operation of the OpenAPI document", async () => {
    const org = await newOrg();
    await adminFetch(`/organizations/${org.orgId}`, { method: "PATCH", body: { rate_limit_per_minute: 100_000 } });
    const doc = (await rawFetch(`${BASE}/openapi.json`)).body;
    const failures: string[] = [];
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, { requestBody?: { content?: Record<string, unknown> } }>>)) {
      // Admin routes take the ADMIN_TOKEN, not an API key; carrier routes are not in this document.
      if (!path.startsWith("/api/public/v1")) continue;
      for (const [method, op] of Object.entries(item)) {
        const ids = path.includes("{") ? HOSTILE_IDS : [""];
        for (const id of ids) {
          const url = `https://truedy.test${path.replace(/\{[^}]+\}/g, id)}`;
          const jsonBody = op.requestBody?.content?.["application/json"] !== undefined;
          const bodies = method === "get" || method === "delete" ? [undefined] : jsonBody ? [...HOSTILE_VALUES.map((v) => ({ name: v, phone_number: v, url: v, ids: v, agent_id: v })), deep(2000), "{", "[]"] : ["garbage"];
          await Promise.all(bodies.map(async (body) => {
            const res = await rawFetch(`${url}?limit=${encodeURIComponent("1e999")}&offset=-1&status=%00`, {
              method: method.toUpperCase(),
              headers: { authorization: `Bearer ${org.apiKey}`, "content-type": "application/json" },
              body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
            });
            if (res.status >= 500 || typeof res.body !== "object" || !res.body) {
              failures.push(`${method.toUpperCase()} ${url} → ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
            } else if (res.status >= 400 && !res.body.error?.code) {
              failures.push(`${method.toUpperCase()} ${url} → ${res.status} without the error envelope`);
            }
          }));
        }
      }
    }
    expect(failures).toEqual([]);
  }, 120_000);
});
