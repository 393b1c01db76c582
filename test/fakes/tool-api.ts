import type { Fake, FakeRequest, FakeResponse } from "./server";
import { parseJson, sleep } from "./streaming";

/**
 * A customer's HTTP endpoint behind an agent's tool, under `/tool-api/…`. Every request is
 * recorded like any fake's (`GET /__fakes/requests?service=tools&contains=<path>`): method, path,
 * query, headers and body, so a test sees exactly what the tool sent (parameters, API key,
 * variables).
 *
 * By default it answers 200 with JSON echoing what it received: `{received: {method, path, query,
 * body}}`. A test scripts one path (tests use unique paths, so files never disturb each other):
 * `POST /__fakes/tools/respond {path, status?, body?, delay_ms?, location?, body_bytes?}` answers
 * that path with `status` (default 200) and `body` (JSON unless a string), after `delay_ms`;
 * `location` makes it a redirect (status default 302) to that URL; `body_bytes` answers a JSON
 * string of that many bytes (to overflow a size cap).
 */

interface Script {
  status?: number;
  body?: unknown;
  delay_ms?: number;
  location?: string;
  body_bytes?: number;
}

const scripts = new Map<string, Script>();

export const toolApiFake: Fake = {
  service: "tools",
  async handle(request: FakeRequest): Promise<FakeResponse | undefined> {
    const path = request.url.pathname;
    if (!path.startsWith("/tool-api/")) return undefined;
    const script = scripts.get(path);
    if (script?.delay_ms) await sleep(script.delay_ms);
    if (script?.location) return { status: script.status ?? 302, headers: { location: script.location }, body: "" };
    if (script?.body_bytes) return { status: script.status ?? 200, headers: { "content-type": "application/json" }, body: JSON.stringify("x".repeat(script.body_bytes - 2)) };
    if (script && "body" in script) return { status: script.status ?? 200, body: script.body };
    return {
      status: script?.status ?? 200,
      body: { received: { method: request.method, path, query: Object.fromEntries(request.url.searchParams), body: parseJson(request.body) ?? request.body } },
    };
  },
  control(request) {
    if (request.url.pathname !== "/__fakes/tools/respond" || request.method !== "POST") return undefined;
    const body = (parseJson(request.body) ?? {}) as Script & { path?: unknown };
    if (typeof body.path !== "string" || !body.path.startsWith("/tool-api/")) return { status: 400, body: { error: "path under /tool-api/ is required" } };
    const { path, ...script } = body;
    scripts.set(path, script);
    return { status: 200, body };
  },
};
