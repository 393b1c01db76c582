import { env, exports } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { encryptSecret } from "../../src/lib/crypto";
import { carrierOrg, placeCall } from "../call-carriers/helpers";
import { Browser } from "../dashboard/helpers";
import { WebCallClient } from "../fakes/web-client";
import { ADMIN_BASE, BASE, fakeRequests } from "../helpers/api";
import { manualClockPerTest } from "../helpers/clock";
import { answeredCall, connectMedia, control, greetingThenCallerSpeaks, eventually, FAKES, tick, transcriptOf, uniqueTag, VOICES } from "../voice-loop/helpers";

/**
 * Issue 9 (security review): no secret reaches what the platform logs, and none comes back from
 * the API except in the one response that hands it out.
 *
 * The worker, its Durable Objects and its queue consumers run in this test's isolate, so spies
 * on `console` see every line they write; the first tests prove it with lines only a Durable
 * Object and a queue consumer write. Real flows go through `exports.default.fetch` and the fakes;
 * every response is kept, and each test ends by checking every console line and every response
 * so far for every secret, as is and encoded (base64 at each alignment, so a secret inside
 * `Basic base64(sid:token)` is found too; base64url; URL and form encoding).
 */

// ---- What was logged ----

const CONSOLE_METHODS = ["log", "info", "warn", "error", "debug"] as const;
const logged: { method: string; line: string }[] = [];

/** A console argument as text, whatever it is: errors with their stack and cause. */
function render(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Error) return `${value.name}: ${value.message}\n${value.stack ?? ""}${value.cause === undefined ? "" : `\ncause: ${render(value.cause)}`}`;
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    // Cyclic: String() below still shows it.
  }
  return `${json ?? ""} ${String(value)}`;
}

beforeAll(() => {
  for (const method of CONSOLE_METHODS) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      logged.push({ method, line: args.map(render).join(" ") });
    });
  }
});
afterAll(() => vi.restoreAllMocks());

/** Waits for a console line with every one of `parts` (lines from objects and queues come when they come). */
const loggedLine = (...parts: string[]) =>
  eventually(
    async () => logged.find((l) => parts.every((p) => l.line.includes(p))),
    (line) => line !== undefined,
    `a console line with ${parts.join(" and ")}`,
  );

// ---- What the API answered, and what left for customers' servers ----

interface Seen {
  what: string;
  /** Status line, headers and body. */
  text: string;
}
const responses: Seen[] = [];

interface Answer {
  status: number;
  body: any;
  seen: Seen;
}

function keep(what: string, status: number, headers: Headers, text: string): Seen {
  const seen = { what: `${what} → ${status}`, text: `${status}\n${[...headers].map(([name, value]) => `${name}: ${value}`).join("\n")}\n\n${text}` };
  responses.push(seen);
  return seen;
}

async function send(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await exports.default.fetch(new Request(url, init));
  const text = await res.text();
  const seen = keep(`${init.method ?? "GET"} ${new URL(url).pathname}`, res.status, res.headers, text);
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // An HTML page or plain text: kept as it is.
  }
  return { status: res.status, body, seen };
}

function jsonInit(method: string, token: string, body?: unknown): RequestInit {
  return {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  };
}

/** The public API with one key; every answer is kept. */
function api(apiKey: string) {
  return {
    get: (path: string) => send(`${BASE}${path}`, jsonInit("GET", apiKey)),
    post: (path: string, body: unknown = {}) => send(`${BASE}${path}`, jsonInit("POST", apiKey, body)),
    patch: (path: string, body: unknown) => send(`${BASE}${path}`, jsonInit("PATCH", apiKey, body)),
    delete: (path: string) => send(`${BASE}${path}`, jsonInit("DELETE", apiKey)),
  };
}

const admin = (method: string, path: string, body?: unknown, token: string = env.ADMIN_TOKEN) => send(`${ADMIN_BASE}${path}`, jsonInit(method, token, body));

/** The dashboard's browser, keeping every page it gets. */
class KeepingBrowser extends Browser {
  override async fetch(path: string, init: RequestInit = {}) {
    const page = await super.fetch(path, init);
    keep(`dashboard ${init.method ?? "GET"} ${path}`, page.status, page.headers, page.text);
    return page;
  }
}

/** Requests our side sent to customers' servers (webhook receivers): signatures yes, secrets no. */
const outbound: Seen[] = [];

// ---- The secrets ----

interface Secret {
  label: string;
  value: string;
  /** The value and the encodings it could be found in. */
  forms: string[];
  /** The one response allowed to carry it: the one that hands it out. */
  revealedIn?: Seen;
}
const secrets: Secret[] = [];

const toBase64 = (text: string) => btoa(String.fromCharCode(...new TextEncoder().encode(text)));

/**
 * The base64 text `value` turns into wherever it sits in an encoded string: for each of the three
 * alignments, the characters that depend on the value's bytes alone.
 */
function base64Cores(value: string): string[] {
  return [0, 1, 2].map((shift) => {
    const encoded = toBase64("\0".repeat(shift) + value);
    return encoded.slice(shift ? 4 : 0, -4);
  });
}

function encodings(value: string): string[] {
  const base64url = (s: string) => s.replace(/\+/g, "-").replace(/\//g, "_");
  const cores = base64Cores(value);
  return [value, encodeURIComponent(value), new URLSearchParams({ v: value }).toString().slice(2), JSON.stringify(value).slice(1, -1), ...cores, ...cores.map(base64url)];
}

function secret(label: string, value: string, options: { revealedIn?: Seen; alsoAs?: string[] } = {}): string {
  // A short value would match by chance and prove nothing.
  expect(value.length, `${label} is too short to look for`).toBeGreaterThanOrEqual(12);
  const forms = [...new Set([...encodings(value), ...(options.alsoAs ?? []).flatMap(encodings)])].filter((f) => f.length >= 8);
  secrets.push({ label, value, forms, revealedIn: options.revealedIn });
  return value;
}

const unique = (prefix: string) => `${prefix}${crypto.randomUUID().replace(/-/g, "")}`;

/** Every place a secret was found, in plain words. */
function leaks(): string[] {
  const found: string[] = [];
  for (const s of secrets) {
    for (const form of s.forms) {
      const how = form === s.value ? "as is" : `encoded as ${form}`;
      for (const l of logged) if (l.line.includes(form)) found.push(`console.${l.method} carries ${s.label} (${how}): ${l.line.slice(0, 400)}`);
      for (const r of responses) if (r !== s.revealedIn && r.text.includes(form)) found.push(`${r.what} carries ${s.label} (${how})`);
      for (const r of outbound) if (r.text.includes(form)) found.push(`${r.what} carries ${s.label} (${how})`);
    }
  }
  return [...new Set(found)];
}

const expectNoLeaks = () => expect(leaks()).toEqual([]);

/** An organization made through the admin bootstrap; its key is a secret shown once, there. */
async function bootstrapOrg(name = "Security review") {
  const res = await admin("POST", "/organizations", { name });
  expect(res.status).toBe(201);
  const apiKey = secret(`the API key of ${name}`, res.body.data.api_key, { revealedIn: res.seen });
  await admin("PATCH", `/organizations/${res.body.data.id}`, { rate_limit_per_minute: 100_000 });
  return { orgId: res.body.data.id as string, apiKey, client: api(apiKey) };
}

/** Keys of organizations other helpers made: shown once, in a response these tests did not keep. */
const registerOrgKey = (org: { apiKey: string; orgId: string }) => secret(`the API key of org ${org.orgId}`, org.apiKey);

// The deployment's own secrets (bound in vitest.config.ts), read from the env the worker gets.
beforeAll(() => {
  const twilioBasic = `${env.TWILIO_ACCOUNT_SID}:${env.TWILIO_AUTH_TOKEN}`;
  secret("ADMIN_TOKEN", env.ADMIN_TOKEN);
  secret("ENCRYPTION_KEY", env.ENCRYPTION_KEY);
  secret("OPENAI_API_KEY", env.OPENAI_API_KEY!);
  secret("DEEPGRAM_API_KEY", env.DEEPGRAM_API_KEY!);
  secret("ELEVENLABS_API_KEY", env.ELEVENLABS_API_KEY!);
  secret("CARTESIA_API_KEY", env.CARTESIA_API_KEY!);
  secret("TWILIO_AUTH_TOKEN", env.TWILIO_AUTH_TOKEN!, { alsoAs: [twilioBasic, `Basic ${toBase64(twilioBasic)}`] });
  secret("TELNYX_API_KEY", env.TELNYX_API_KEY!);
});

// ---- The flows ----

describe("the leak detector", () => {
  it("sees console lines of this isolate and finds a secret in them in any encoding", async () => {
    // `/+=` change under URL encoding, so neither line below holds the canary as it is.
    const canary = `${unique("canary_")}/+=`;
    const before = logged.length;
    // As an HTTP client would log a Basic header: the canary at an arbitrary base64 alignment.
    console.warn(JSON.stringify({ authorization: `Basic ${toBase64(`AC123:${canary}`)}` }));
    console.error(new Error(`GET /orders?key=${encodeURIComponent(canary)} failed`));
    expect(logged.length).toBe(before + 2);
    const probe: Secret = { label: "canary", value: canary, forms: encodings(canary) };
    secrets.push(probe);
    try {
      const hits = leaks().filter((l) => l.includes("carries canary"));
      expect(hits.map((h) => h.split(" (")[0]).sort()).toEqual(["console.error carries canary", "console.warn carries canary"]);
      expect(hits.every((h) => h.includes("(encoded as"))).toBe(true);
    } finally {
      secrets.splice(secrets.indexOf(probe), 1);
      logged.splice(before, 2);
    }
    expectNoLeaks();
  });
});

describe("organization API keys", () => {
  it("shows a key once, where it is created, and only its prefix afterwards", async () => {
    const { orgId, apiKey, client } = await bootstrapOrg("Keys org");
    const created = await client.post("/api-keys", { name: "CRM" });
    expect(created.status).toBe(201);
    const crmKey = secret("an API key made with POST /api-keys", created.body.data.api_key, { revealedIn: created.seen });
    const issued = await admin("POST", `/organizations/${orgId}/api-keys`, { name: "Ops" });
    expect(issued.status).toBe(201);
    secret("an API key made by the admin API", issued.body.data.api_key, { revealedIn: issued.seen });

    const list = await client.get("/api-keys");
    expect(list.status).toBe(200);
    expect(list.body.data).toHaveLength(3);
    // The list names each key by a hint the dashboard shows: its prefix.
    expect(list.seen.text).toContain(crmKey.slice(0, 11));
    expect((await admin("GET", `/organizations/${orgId}/api-keys`)).status).toBe(200);
    expect((await admin("GET", `/organizations/${orgId}`)).status).toBe(200);
    expect((await api(crmKey).get("/agents")).status).toBe(200);

    const revoked = await client.delete(`/api-keys/${created.body.data.id}`);
    expect(revoked.status).toBe(200);
    // Refused keys: revoked, mistyped, and a wrong admin token.
    expect((await api(crmKey).get("/agents")).status).toBe(401);
    expect((await api(`${apiKey}x`).get("/agents")).status).toBe(401);
    expect((await send(`${BASE}/agents?api_key=${apiKey}`)).status).toBe(401);
    expect((await admin("GET", `/organizations/${orgId}`, undefined, `${env.ADMIN_TOKEN}-wrong`)).status).toBe(401);
    expectNoLeaks();
  });
});

describe("webhook signing secrets", () => {
  it("shows the secret on create and rotate only; deliveries and their log carry signatures, never the secret", async () => {
    const { client } = await bootstrapOrg("Webhooks org");
    const tag = crypto.randomUUID();
    const created = await client.post("/webhooks", { url: `${FAKES}/receiver/ok/${tag}`, events: ["*"] });
    expect(created.status).toBe(201);
    const id = created.body.data.id as string;
    const first = created.body.data.secret as string;
    // The part after whsec_ is the Standard Webhooks key itself (base64), so it is a secret too.
    secret("a webhook signing secret", first, { revealedIn: created.seen, alsoAs: [first.replace(/^whsec_/, "")] });
    const failing = await client.post("/webhooks", { url: `${FAKES}/receiver/fail/${tag}`, events: ["webhook.test"] });
    expect(failing.status).toBe(201);
    secret("a failing endpoint's signing secret", failing.body.data.secret, { revealedIn: failing.seen, alsoAs: [failing.body.data.secret.replace(/^whsec_/, "")] });

    expect((await client.get(`/webhooks/${id}`)).status).toBe(200);
    expect((await client.get("/webhooks")).status).toBe(200);
    expect((await client.patch(`/webhooks/${id}`, { events: ["webhook.test", "call.ended"] })).status).toBe(200);
    expect((await client.post(`/webhooks/${id}/test`)).status).toBe(202);
    expect((await client.post(`/webhooks/${failing.body.data.id}/test`)).status).toBe(202);

    const rotated = await client.post(`/webhooks/${id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    const second = rotated.body.data.secret as string;
    expect(second).not.toBe(first);
    secret("a rotated webhook signing secret", second, { revealedIn: rotated.seen, alsoAs: [second.replace(/^whsec_/, "")] });
    expect((await client.post(`/webhooks/${id}/test`)).status).toBe(202);

    // Two deliveries (one signed with both secrets, during the rotation) and one failed attempt.
    const received = await eventually(() => fakeRequests("receiver", tag), (r) => r.filter((x) => x.path.includes("/ok/")).length >= 2, "both deliveries");
    for (const r of received) outbound.push({ what: `webhook delivery to ${r.path}`, text: `${JSON.stringify(r.headers)}\n\n${r.body}` });
    const signed = received.find((r) => r.path.includes("/ok/") && r.headers["webhook-signature"]?.includes(" "));
    expect(signed, "a delivery signed with the new and the old secret").toBeDefined();
    await eventually(
      async () => (await client.get(`/webhooks/${failing.body.data.id}/deliveries`)).body.data,
      (list: any[]) => list[0]?.attempts?.[0]?.response_status === 500,
      "the failed attempt in the delivery log",
    );
    const log = await eventually(
      async () => (await client.get(`/webhooks/${id}/deliveries`)).body.data,
      (list: any[]) => list.length === 2 && list.every((d) => d.status === "succeeded"),
      "both deliveries in the log",
    );
    expect(Object.keys(log[0].attempts[0].request_headers).map((h) => h.toLowerCase())).toContain("x-truedy-signature");
    for (const d of log) expect((await client.get(`/webhooks/${id}/deliveries/${d.id}`)).status).toBe(200);
    expectNoLeaks();
  });
});

/**
 * Numbers of the fake carriers' customer accounts (+1{area}55502NN, test/fakes/twilio.ts and
 * telnyx.ts) in area codes no other test file imports from, a fresh one per call.
 */
let byocNext = Math.floor(Math.random() * 50);
const byocNumber = (area: 971 | 972 | 973) => `+1${area}55502${String(byocNext++ % 100).padStart(2, "0")}`;

describe("carrier credentials", () => {
  it("never returns or logs a Twilio auth token or Telnyx API key, accepted or refused", async () => {
    const { client } = await bootstrapOrg("Carrier org");
    const customerSid = "AC11111111111111111111111111111111";
    const customerToken = secret("the customer's Twilio auth token", "customer-twilio-token", {
      alsoAs: [`${customerSid}:customer-twilio-token`],
    });
    const imported = await client.post("/telephony/numbers/import", { provider_type: "twilio", phone_number: byocNumber(971), account_sid: customerSid, auth_token: customerToken });
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    expect((await client.get(`/telephony/numbers/${imported.body.data.id}`)).status).toBe(200);
    expect((await client.get("/telephony/numbers")).status).toBe(200);

    // Refused by Twilio (a real 401 for the Basic header) and by our own validation.
    const wrongToken = secret("a Twilio auth token Twilio refuses", unique("tok_"));
    secret("the Basic credentials of that token", `${customerSid}:${wrongToken}`);
    const refused = await client.post("/telephony/numbers/import", { provider_type: "twilio", phone_number: byocNumber(971), account_sid: customerSid, auth_token: wrongToken });
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe("provider_not_configured");
    const malformed = secret("a malformed auth token", unique("bad token "));
    expect((await client.post("/telephony/numbers/import", { provider_type: "twilio", phone_number: byocNumber(971), account_sid: customerSid, auth_token: malformed })).status).toBe(422);

    const telnyxKey = secret("the customer's Telnyx API key", "KEYcustomertelnyx");
    const telnyx = await client.post("/telephony/numbers/import", { provider_type: "telnyx", phone_number: byocNumber(972), api_key: telnyxKey });
    expect(telnyx.status, JSON.stringify(telnyx.body)).toBe(201);
    expect((await client.get(`/telephony/numbers/${telnyx.body.data.id}`)).status).toBe(200);
    const wrongKey = secret("a Telnyx API key Telnyx refuses", unique("KEYwrong"));
    expect((await client.post("/telephony/numbers/import", { provider_type: "telnyx", phone_number: byocNumber(972), api_key: wrongKey })).status).toBe(422);
    expect((await client.post("/telephony/numbers/search", { api_key: wrongKey, area_code: "872" })).status).toBe(422);
    expectNoLeaks();
  });

  it("logs a dial the carrier refuses (platform or customer credentials) without the credentials", async () => {
    // The platform's account: Twilio answers 401 to the call.
    const platform = await carrierOrg("twilio");
    registerOrgKey(platform.org);
    const to = `+1415${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`;
    const failing = await fetch(`${FAKES}/__fakes/twilio/fail-calls`, { method: "POST", body: JSON.stringify({ to, status: 401 }) });
    expect(failing.ok).toBe(true);
    const platformCall = await placeCall(platform.org, platform.agentId, to);
    await loggedLine('"message":"dial failed"', platformCall);

    // A customer's number whose auth token was rotated at Twilio after the import: Twilio refuses it.
    const byoc = await carrierOrg("twilio", { byoc: true });
    registerOrgKey(byoc.org);
    const rotated = secret("a customer's Twilio auth token, rotated at Twilio", unique("rotated_"));
    secret("its Basic credentials", `AC11111111111111111111111111111111:${rotated}`);
    const sealed = await encryptSecret(JSON.stringify({ kind: "twilio", account_sid: "AC11111111111111111111111111111111", auth_token: rotated }), env.ENCRYPTION_KEY);
    await env.DB.prepare("UPDATE phone_numbers SET credentials_encrypted = ? WHERE id = ?").bind(sealed, byoc.numberId).run();
    const byocCall = await placeCall(byoc.org, byoc.agentId, "+14155550001");
    // A line only the call's Durable Object writes: its console is this one.
    await loggedLine('"message":"dial failed"', byocCall, "Twilio rejected the account SID and auth token");
    const client = api(byoc.org.apiKey);
    expect((await client.get(`/calls/${byocCall}`)).body.data).toMatchObject({ status: "failed", end_reason: "carrier_error" });
    expect((await client.get(`/telephony/numbers/${byoc.numberId}`)).status).toBe(200);
    expect((await api(platform.org.apiKey).get(`/calls/${platformCall}`)).body.data.end_reason).toBe("carrier_error");
    expectNoLeaks();
  });
});

describe("dashboard sign-in", () => {
  it("logs neither a key that signs in nor one that fails, and shows a new key once", async () => {
    const { apiKey } = await bootstrapOrg("Dashboard org");
    const failed = new KeepingBrowser();
    const typo = secret("a mistyped API key", `truedy_${unique("").slice(0, 32)}`);
    const refused = await failed.post("/app/sign-in", { api_key: typo });
    expect(refused.status).toBe(401);
    expect(failed.cookies.size).toBe(0);

    const browser = new KeepingBrowser();
    expect((await browser.post("/app/sign-in", { api_key: apiKey })).status).toBe(303);
    expect((await browser.page("/app")).status).toBe(200);
    expect((await browser.get("/app/api-keys")).status).toBe(200);
    const created = await browser.post("/app/api-keys", { name: "From the dashboard" });
    expect(created.status).toBe(200);
    const shown = created.text.match(/truedy_[A-Za-z0-9]{32}/)?.[0];
    expect(shown).toBeDefined();
    secret("an API key made in the dashboard", shown!, { revealedIn: responses.at(-1) });
    expect((await browser.get("/app/api-keys")).status).toBe(200);
    // A Twilio import the carrier refuses: the form comes back without the token typed in.
    const typedToken = secret("an auth token typed into the dashboard", unique("dash_"));
    const form = await browser.post("/app/numbers/import", {
      provider_type: "twilio",
      phone_number: byocNumber(973),
      account_sid: "AC11111111111111111111111111111111",
      auth_token: typedToken,
    });
    expect(form.status).toBe(422);
    expectNoLeaks();
  });
});

describe("at call time", () => {
  const clock = manualClockPerTest(Date.UTC(2030, 5, 3, 15, 0, 0));

  it("logs HTTP tool calls without their keys, whether the tool answers, fails, times out or cannot be reached", async () => {
    const { org, callId, agentId, marker } = await answeredCall(clock);
    registerOrgKey(org);
    const client = api(org.apiKey);
    const base = `/tool-api/${uniqueTag("keys")}`;
    const headerKey = secret("a tool's header API key", unique("hk_"));
    const queryKey = secret("a tool's query API key", unique("qk_"));
    const bearerKey = secret("a tool's bearer token", unique("bk_"));
    const unreachableKey = secret("the key of a tool that cannot be reached", unique("uk_"));
    const requirement = (name: string, how: Record<string, unknown>) => ({ httpSecurityOptions: { options: [{ requirements: { [name]: how } }] } });
    const tools = [
      { name: "Lookup", definition: { http: { url: `${FAKES}${base}/lookup`, method: "GET" }, requirements: requirement("apiKey", { headerApiKey: { name: "X-API-Key" } }) }, auth_tokens: { apiKey: headerKey } },
      { name: "Search", definition: { http: { url: `${FAKES}${base}/search?q=1`, method: "GET" }, requirements: requirement("apiKey", { queryApiKey: { name: "api_key" } }) }, auth_tokens: { apiKey: queryKey } },
      { name: "Sleepy", definition: { http: { url: `${FAKES}${base}/sleepy`, method: "POST" }, timeout_seconds: 1, requirements: requirement("token", { httpAuth: { scheme: "Bearer" } }) }, auth_tokens: { token: bearerKey } },
      // Nothing listens on port 1: the fetch fails, and its error text is what gets logged.
      { name: "Offline", definition: { http: { url: "http://127.0.0.1:1/tool-api/offline", method: "GET" }, requirements: requirement("apiKey", { queryApiKey: { name: "key" } }) }, auth_tokens: { apiKey: unreachableKey } },
    ];
    const ids: string[] = [];
    for (const tool of tools) {
      const created = await client.post("/tools", tool);
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      ids.push(created.body.data.id);
      expect((await client.get(`/tools/${created.body.data.id}`)).status).toBe(200);
    }
    expect((await client.get("/tools")).status).toBe(200);
    expect((await client.patch(`/agents/${agentId}`, { tools: ids })).status).toBe(200);
    expect((await client.get(`/agents/${agentId}`)).status).toBe(200);
    await control("/__fakes/tools/respond", { path: `${base}/lookup`, body: { balance: 12 } });
    await control("/__fakes/tools/respond", { path: `${base}/search`, status: 500, body: { message: "search index down" } });
    await control("/__fakes/tools/respond", { path: `${base}/sleepy`, delay_ms: 1500, body: { late: true } });
    await control("/__fakes/openai/script", {
      match: marker,
      replies: [
        { content: "Let me check.", tool_calls: ["lookup", "search", "sleepy", "offline"].map((name) => ({ name, arguments: {} })) },
        { content: "Some of that is unavailable right now." },
      ],
    });
    await control("/__fakes/deepgram/script", { tag: callId, lines: ["Check my account please"], fallback: "" });
    const twilio = await connectMedia(callId);
    await greetingThenCallerSpeaks(twilio, callId);

    // The keys really went out, each where its definition puts it.
    // The slow endpoint's request is on record once it answers, after the call gave up on it.
    const sent = await eventually(() => fakeRequests("tools", base), (r) => r.length === 3, "the three requests on record");
    expect(sent.find((r) => r.path.endsWith("/lookup"))?.headers["x-api-key"]).toBe(headerKey);
    expect(sent.find((r) => r.path.endsWith("/search"))?.query.api_key).toBe(queryKey);
    expect(sent.find((r) => r.path.endsWith("/sleepy"))?.headers.authorization).toBe(`Bearer ${bearerKey}`);

    const invocations = await client.get(`/calls/${callId}/tool-calls`);
    expect(invocations.status).toBe(200);
    const byName = Object.fromEntries((invocations.body.data.tool_calls as any[]).map((t) => [t.name, t]));
    expect(byName.lookup).toMatchObject({ status: 200, error: null });
    expect(byName.search).toMatchObject({ status: 500, error: "HTTP 500" });
    expect(byName.search.request.url).toContain("api_key=");
    expect(byName.sleepy).toMatchObject({ status: null, error: "The tool did not answer within 1 s" });
    expect(byName.offline.error).toMatch(/^The tool's endpoint could not be reached/);
    expect((await client.get(`/calls/${callId}`)).status).toBe(200);
    expect((await client.get(`/calls/${callId}/transcript`)).status).toBe(200);
    twilio.stop();
    twilio.close();
    expectNoLeaks();
  });

  it("logs provider failures (401s from STT, the LLM and TTS; the analysis model on the queue) without the deployment's keys", async () => {
    const cases: [string, Record<string, unknown>, (ids: { callId: string; marker: string; greeting: string }) => Promise<unknown>][] = [
      ["STT", {}, ({ callId }) => control("/__fakes/deepgram/fail", { tag: callId, status: 401, count: 2 })],
      ["LLM", { greeting: null }, ({ marker }) => control("/__fakes/openai/script", { match: marker, replies: [], fail: 401 })],
      ["TTS", {}, ({ greeting }) => control("/__fakes/elevenlabs/tts", { match: greeting, status: 401 })],
    ];
    for (const [stage, agent, fail] of cases) {
      const greeting = `Hello, this is ${uniqueTag("greeting")}.`;
      const { org, callId, marker } = await answeredCall(clock, { greeting, ...agent });
      registerOrgKey(org);
      await fail({ callId, marker, greeting });
      const twilio = await connectMedia(callId);
      const ended = await eventually(async () => (await api(org.apiKey).get(`/calls/${callId}`)).body.data, (c) => c.status !== "in_progress", `the call to end (${stage})`);
      expect(ended.end_reason, stage).toBe("provider_error");
      // Written by the call's Durable Object, with the provider's answer in it.
      await loggedLine('"message":"ending the call: provider_error"', callId, "401");
      await twilio.waitForClose();
    }

    // The analysis runs on the webhooks queue after the call; its model answers 401.
    const analysisMarker = uniqueTag("analysis");
    const { org, callId } = await answeredCall(clock, { success_criteria: `The caller booked (${analysisMarker}).` });
    registerOrgKey(org);
    await control("/__fakes/openai/script", { match: analysisMarker, replies: [], fail: 401 });
    await control("/__fakes/deepgram/script", { tag: callId, lines: ["I would like an appointment"] });
    const twilio = await connectMedia(callId);
    await greetingThenCallerSpeaks(twilio, callId);
    clock.advance(9000);
    expect((await api(org.apiKey).post(`/calls/${callId}/hangup`)).status).toBe(200);
    await tick(callId);
    await twilio.waitForClose();
    // A line only the queue consumer writes.
    await loggedLine('"message":"call analysis failed"', callId);
    const analysed = await api(org.apiKey).get(`/calls/${callId}`);
    expect(analysed.body.data.analysis).toMatchObject({ status: "failed" });
    expectNoLeaks();
  });

  it("never returns or logs an agent's own LLM key (llm.api_key); only the agent's server gets it", async () => {
    const { client } = await bootstrapOrg("Own LLM org");
    const ownKey = secret("an agent's llm.api_key", unique("sk-own-"));
    // Another origin than OPENAI_BASE_URL (same fake): the agent's key goes there, the platform's never.
    const llm = { provider: "openai", model: "gpt-4o-mini", base_url: `${FAKES.replace("127.0.0.1", "localhost")}/v1` };
    const created = await client.post("/agents", { name: "Own LLM", voice_id: VOICES.elevenlabs, system_prompt: "Hello", llm: { ...llm, api_key: ownKey } });
    expect(created.status).toBe(201);
    expect(created.body.data.llm.has_api_key).toBe(true);
    const id = created.body.data.id as string;
    await client.get(`/agents/${id}`);
    await client.get("/agents");
    expect((await client.patch(`/agents/${id}`, { llm: { ...llm, model: "gpt-4.1" } })).body.data.llm.has_api_key).toBe(true);

    // On a call the agent's server refuses the key (the fake knows only the platform's): logged without it.
    const { org, callId } = await answeredCall(clock, { greeting: null, llm: { ...llm, api_key: ownKey } });
    registerOrgKey(org);
    const twilio = await connectMedia(callId);
    const ended = await eventually(async () => (await api(org.apiKey).get(`/calls/${callId}`)).body.data, (c) => c.status !== "in_progress", "the call to end");
    expect(ended.end_reason).toBe("provider_error");
    await loggedLine('"message":"ending the call: provider_error"', callId, "401");
    await twilio.waitForClose();
    expectNoLeaks();
  });

  it("never logs a web call's token, nor returns it after the call is created", async () => {
    const { client } = await bootstrapOrg("Web call org");
    const agent = await client.post("/agents", {
      name: "Web",
      voice_id: VOICES.elevenlabs,
      system_prompt: "You are Maya.",
      greeting: "Hello, this is Maya.",
      stt: { provider: "deepgram", model: "nova-3", endpointing_ms: 300 },
    });
    expect(agent.status).toBe(201);
    const created = await client.post("/calls/web", { agent_id: agent.body.data.id });
    expect(created.status).toBe(201);
    const { call, token, websocket_url } = created.body.data;
    secret("a web call's token", token, { revealedIn: created.seen });

    const browser = await WebCallClient.connect({ url: websocket_url, fetcher: exports.default });
    await browser.ready;
    await transcriptOf(call.id, 1);
    // The token again (single use), the token of another call, and no token: all refused.
    const http = websocket_url.replace(/^ws(s?):/, "http$1:");
    expect((await send(http, { headers: { Upgrade: "websocket" } })).status).toBe(403);
    const another = await client.post("/calls/web", { agent_id: agent.body.data.id });
    const other = another.body.data;
    secret("another web call's token", other.token, { revealedIn: another.seen });
    expect((await send(http.replace(encodeURIComponent(token), encodeURIComponent(other.token)), { headers: { Upgrade: "websocket" } })).status).toBe(401);
    expect((await client.post(`/calls/${call.id}/hangup`)).status).toBe(200);
    await tick(call.id);
    await browser.waitForClose();
    expect((await client.get(`/calls/${call.id}`)).status).toBe(200);
    expect((await client.get("/calls?direction=webrtc")).status).toBe(200);
    expect((await client.post(`/calls/${other.call.id}/cancel`)).status).toBe(200);
    expectNoLeaks();
  });
});

describe("everything the run logged and answered", () => {
  it("carries no secret, the Durable Objects' and queue consumers' lines included", async () => {
    expect(logged.length).toBeGreaterThan(0);
    expect(responses.length).toBeGreaterThan(50);
    expectNoLeaks();
  });
});
