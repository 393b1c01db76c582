import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { manualClockPerTest } from "../helpers/clock";
import { newOrg } from "../helpers/api";
import { FAKES, answeredCall, connectMedia, control, greetingThenCallerSpeaks, recorded, transcriptOf, uniqueTag } from "./helpers";

/**
 * HTTP tools on a live call: the agent's tools offered to the LLM, the model's tool calls run
 * against a customer endpoint (test/fakes/tool-api.ts, on the fakes' loopback server, which the
 * URL rules admit only because SIMULATOR_ENABLED is set in tests), the answers fed back and the
 * reply spoken; every invocation logged on the call.
 */

const START = Date.UTC(2030, 1, 11, 15, 0, 0);
const clock = manualClockPerTest(START);

type Org = Awaited<ReturnType<typeof answeredCall>>["org"];

/** Creates the tool in the call's org and attaches it to the call's agent (before the stream starts). */
async function attachTool(org: Org, agentId: string, tool: Record<string, unknown>) {
  const created = await org.post("/tools", tool);
  if (created.status !== 201) throw new Error(`tool: ${created.status} ${JSON.stringify(created.body)}`);
  const patched = await org.patch(`/agents/${agentId}`, { tools: [created.body.data.id] });
  if (patched.status !== 200) throw new Error(`agent: ${patched.status} ${JSON.stringify(patched.body)}`);
  return created.body.data;
}

const chats = async (marker: string) => (await recorded("openai", { contains: marker })).filter((r) => r.path === "/v1/chat/completions").map((r) => JSON.parse(r.body));

const toolCallsOf = async (org: Org, callId: string) => {
  const res = await org.get(`/calls/${callId}/tool-calls`);
  expect(res.status).toBe(200);
  return res.body.data.tool_calls as any[];
};

/** A call whose caller asks one question once the greeting has played. */
async function askAfterGreeting(callId: string, ...lines: string[]) {
  await control("/__fakes/deepgram/script", { tag: callId, lines, fallback: "" });
  const twilio = await connectMedia(callId);
  await greetingThenCallerSpeaks(twilio, callId, { awaitReply: false });
  return twilio;
}

describe("voice loop: HTTP tools", () => {
  it("runs the tool the model calls with every parameter where the definition puts it, feeds the answer back and speaks the reply", async () => {
    const { org, callId, agentId, marker } = await answeredCall(clock, {}, { variables: { first_name: "Ana", account_id: "acc 42" } });
    const path = `/tool-api/${uniqueTag("orders")}`;
    const tool = await attachTool(org, agentId, {
      name: "Check order status",
      definition: {
        description: "Looks up an order by its number",
        http: { url: `${FAKES}${path}/{{account_id}}/status?lang=en`, method: "POST" },
        dynamicParameters: [
          { name: "order_id", location: "PARAMETER_LOCATION_BODY", schema: { type: "string", description: "The order number" }, required: true },
          { name: "include_history", location: "PARAMETER_LOCATION_QUERY", schema: { type: "boolean" }, required: false },
        ],
        staticParameters: [
          { name: "channel", location: "PARAMETER_LOCATION_BODY", value: "voice" },
          { name: "X-Customer", location: "PARAMETER_LOCATION_HEADER", value: "{{first_name}}" },
        ],
        requirements: { httpSecurityOptions: { options: [{ requirements: { apiKey: { headerApiKey: { name: "X-API-Key" } } } }] } },
      },
      auth_tokens: { apiKey: "sk-test-123" },
    });
    // The key is kept, but never shown.
    expect(tool.auth_token_names).toEqual(["apiKey"]);
    expect(JSON.stringify((await org.get(`/tools/${tool.id}`)).body)).not.toContain("sk-test-123");
    const answer = { order: "1234", status: "shipped", eta: "Tuesday" };
    await control("/__fakes/tools/respond", { path: `${path}/acc%2042/status`, body: answer });
    await control("/__fakes/openai/script", {
      match: marker,
      replies: [
        { tool_calls: [{ name: "check_order_status", arguments: { order_id: "1234", include_history: false } }] },
        { content: "Your order has shipped and arrives Tuesday." },
        { content: "You are welcome." },
      ],
    });

    const twilio = await askAfterGreeting(callId, "Where is my order one two three four", "Great thanks");
    const turns = await transcriptOf(callId, 3);
    expect(turns.map((t) => [t.speaker, t.text])).toEqual([
      ["agent", "Hello Ana, this is Maya."],
      ["contact", "Where is my order one two three four"],
      // The endpoint answered at once: no filler line.
      ["agent", "Your order has shipped and arrives Tuesday."],
    ]);

    // What the endpoint received: the URL with the call's variable (encoded), every parameter, the key.
    const [sent, ...more] = await recorded("tools", { contains: path });
    expect(more).toEqual([]);
    expect(sent).toMatchObject({ method: "POST", path: `${path}/acc%2042/status`, query: { lang: "en", include_history: "false" } });
    expect(sent.headers).toMatchObject({ "x-api-key": "sk-test-123", "x-customer": "Ana", "content-type": "application/json", accept: "application/json" });
    expect(JSON.parse(sent.body)).toEqual({ order_id: "1234", channel: "voice" });

    // What the model saw: the call actions and the tool as functions, then the tool's answer.
    const [first, second] = await chats(marker);
    expect(first.tools.map((t: any) => t.function.name)).toEqual(["end_call", "send_dtmf", "opt_out", "check_order_status"]);
    expect(first.tools[3].function).toEqual({
      name: "check_order_status",
      description: "Looks up an order by its number",
      parameters: { type: "object", properties: { order_id: { type: "string", description: "The order number" }, include_history: { type: "boolean" } }, required: ["order_id"] },
    });
    expect(first.tool_choice).toBe("auto");
    const [call, result] = second.messages.slice(-2);
    expect(call).toMatchObject({ role: "assistant", content: null, tool_calls: [{ type: "function", function: { name: "check_order_status", arguments: '{"order_id":"1234","include_history":false}' } }] });
    expect(result).toEqual({ role: "tool", tool_call_id: call.tool_calls[0].id, content: JSON.stringify(answer) });

    // The invocation on the call: the request without the key, the answer, the time it took.
    const [logged, ...others] = await toolCallsOf(org, callId);
    expect(others).toEqual([]);
    expect(logged).toMatchObject({
      tool_call_id: call.tool_calls[0].id,
      name: "check_order_status",
      kind: "http",
      tool_id: tool.id,
      arguments: { order_id: "1234", include_history: false },
      request: { method: "POST", url: `${FAKES}${path}/acc%2042/status?lang=en&include_history=false` },
      status: 200,
      response: JSON.stringify(answer),
      error: null,
    });
    expect(logged.duration_ms).toBeGreaterThanOrEqual(0);
    expect(JSON.stringify(logged)).not.toContain("sk-test-123");

    // Another organization cannot see it.
    const other = await newOrg();
    expect((await other.get(`/calls/${callId}/tool-calls`)).status).toBe(404);

    // The next turn's history keeps the round: the call, its answer, then what was said.
    await twilio.speak(1000);
    await twilio.silence(700);
    await transcriptOf(callId, 5);
    const third = (await chats(marker))[2];
    expect(third.messages.slice(1)).toEqual([
      { role: "assistant", content: "Hello Ana, this is Maya." },
      { role: "user", content: "Where is my order one two three four" },
      { role: "assistant", content: null, tool_calls: call.tool_calls },
      result,
      { role: "assistant", content: "Your order has shipped and arrives Tuesday." },
      { role: "user", content: "Great thanks" },
    ]);
  });

  it("says the tool's filler line while a slow endpoint works, in the same turn as the answer", async () => {
    const { org, callId, agentId, marker } = await answeredCall(clock);
    const path = `/tool-api/${uniqueTag("slow")}`;
    await attachTool(org, agentId, {
      name: "Find slot",
      definition: { http: { url: `${FAKES}${path}`, method: "GET" }, filler_message: "One moment while I look that up." },
    });
    await control("/__fakes/tools/respond", { path, delay_ms: 1600, body: { slot: "Tuesday 10:00" } });
    await control("/__fakes/openai/script", { match: marker, replies: [{ tool_calls: [{ name: "find_slot", arguments: {} }] }, { content: "Tuesday at ten is free." }] });

    const twilio = await askAfterGreeting(callId, "When can I come in");
    const turns = await transcriptOf(callId, 3);
    expect(turns[2]).toMatchObject({ speaker: "agent", text: "One moment while I look that up. Tuesday at ten is free.", interrupted: false });
    // The filler was sent while the endpoint was still working on its answer.
    const [request] = await recorded("tools", { contains: path });
    const fillerAudio = twilio.received.find((r) => r.message.event === "media" && r.at > request.at);
    expect(fillerAudio).toBeDefined();
    expect(fillerAudio!.at).toBeLessThan(request.at + 1600);
    const [logged] = await toolCallsOf(org, callId);
    expect(logged).toMatchObject({ name: "find_slot", status: 200, request: { method: "GET", url: `${FAKES}${path}` } });
    expect(logged.duration_ms).toBeGreaterThanOrEqual(1500);
  });

  it("feeds an HTTP error, a timeout or an oversized answer back as an error, and the call goes on", async () => {
    const { org, callId, agentId, marker } = await answeredCall(clock);
    const base = `/tool-api/${uniqueTag("fail")}`;
    const ids: string[] = [];
    for (const [name, path, extra] of [
      ["Broken", `${base}/broken`, {}],
      ["Sleepy", `${base}/sleepy`, { timeout_seconds: 1 }],
      ["Huge", `${base}/huge`, {}],
    ] as const) {
      const created = await org.post("/tools", { name, definition: { http: { url: `${FAKES}${path}`, method: "GET" }, ...extra } });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      ids.push(created.body.data.id);
    }
    const patched = await org.patch(`/agents/${agentId}`, { tools: ids });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    await control("/__fakes/tools/respond", { path: `${base}/broken`, status: 500, body: { message: "db down" } });
    await control("/__fakes/tools/respond", { path: `${base}/sleepy`, delay_ms: 3000, body: { late: true } });
    await control("/__fakes/tools/respond", { path: `${base}/huge`, body_bytes: 300 * 1024 });
    await control("/__fakes/openai/script", {
      match: marker,
      replies: [
        // Said with the calls, so no filler line is added while the slow one waits.
        { content: "Let me check.", tool_calls: [{ name: "broken", arguments: {} }, { name: "sleepy", arguments: {} }, { name: "huge", arguments: {} }] },
        { content: "Sorry, I cannot check that right now." },
      ],
    });

    await askAfterGreeting(callId, "Can you check my account");
    const turns = await transcriptOf(callId, 3);
    expect(turns[2]).toMatchObject({ speaker: "agent", text: "Let me check. Sorry, I cannot check that right now." });
    const [, second] = await chats(marker);
    const results = second.messages.filter((m: any) => m.role === "tool").map((m: any) => JSON.parse(m.content));
    expect(results).toEqual([
      { error: "The tool's endpoint answered HTTP 500", status: 500, body: { message: "db down" } },
      { error: "The tool did not answer within 1 s" },
      { error: "The tool's response is larger than 256 KB" },
    ]);
    expect(second.messages.at(-4)).toMatchObject({ role: "assistant", content: "Let me check." });
    const logged = await toolCallsOf(org, callId);
    expect(logged.map((l) => [l.name, l.status, l.error])).toEqual([
      ["broken", 500, "HTTP 500"],
      ["sleepy", null, "The tool did not answer within 1 s"],
      ["huge", null, "The tool's response is larger than 256 KB"],
    ]);
    expect(logged[0].response).toBe('{"message":"db down"}');
    expect(logged[1].duration_ms).toBeGreaterThanOrEqual(1000);
    expect(logged[1].duration_ms).toBeLessThan(2500);
    expect((await org.get(`/calls/${callId}`)).body.data.status).toBe("in_progress");
  });

  it("refuses private, loopback and link-local targets without fetching them, also behind a redirect", async () => {
    const { org, callId, agentId, marker } = await answeredCall(clock);
    const base = `/tool-api/${uniqueTag("ssrf")}`;
    const redirecting = await org.post("/tools", { name: "Redirecting", definition: { http: { url: `${FAKES}${base}/hop`, method: "GET" } } });
    // A definition saved before today's rules (or written around the API): checked again at call time.
    const stale = await org.post("/tools", { name: "Metadata", definition: { http: { url: "https://api.example.com/orders", method: "GET" }, timeout_seconds: 5 } });
    const definition = { ...stale.body.data.definition, http: { url: "https://10.0.0.1/latest/meta-data", method: "GET" } };
    await env.DB.prepare("UPDATE tools SET definition = ? WHERE id = ?").bind(JSON.stringify(definition), stale.body.data.id).run();
    expect((await org.patch(`/agents/${agentId}`, { tools: [redirecting.body.data.id, stale.body.data.id] })).status).toBe(200);
    await control("/__fakes/tools/respond", { path: `${base}/hop`, status: 302, location: "https://169.254.169.254/latest/meta-data/iam" });
    await control("/__fakes/openai/script", {
      match: marker,
      replies: [{ content: "Checking.", tool_calls: [{ name: "redirecting", arguments: {} }, { name: "metadata", arguments: {} }] }, { content: "I could not reach that." }],
    });

    await askAfterGreeting(callId, "Check the server please");
    await transcriptOf(callId, 3);
    const logged = await toolCallsOf(org, callId);
    expect(logged.map((l) => [l.name, l.request, l.error])).toEqual([
      ["redirecting", { method: "GET", url: `${FAKES}${base}/hop` }, "The tool's endpoint redirected to a refused URL: Must not target a private, loopback or link-local address"],
      ["metadata", null, "The tool's URL is refused: Must not target a private, loopback or link-local address"],
    ]);
    // Refused before any request: a fetch to 10.0.0.1 would have run into the 5 s timeout.
    expect(logged[1].duration_ms).toBeLessThan(1000);
    expect(await recorded("tools", { contains: base })).toHaveLength(1); // the first hop only
    const [, second] = await chats(marker);
    expect(second.messages.filter((m: any) => m.role === "tool").map((m: any) => JSON.parse(m.content).error)).toEqual([logged[0].error, logged[1].error]);
  });

  it("runs at most five tool rounds in a turn; the sixth request may only speak", async () => {
    const { org, callId, agentId, marker } = await answeredCall(clock);
    const path = `/tool-api/${uniqueTag("loop")}`;
    await attachTool(org, agentId, { name: "Poll", definition: { http: { url: `${FAKES}${path}`, method: "GET" } } });
    const poll = { content: "Checking.", tool_calls: [{ name: "poll", arguments: {} }] };
    // A model that keeps calling: its sixth answer still asks for the tool, which is not run.
    await control("/__fakes/openai/script", { match: marker, replies: [poll, poll, poll, poll, poll, { content: "Still nothing, sorry.", tool_calls: [{ name: "poll", arguments: {} }] }] });

    await askAfterGreeting(callId, "Is it ready yet");
    const turns = await transcriptOf(callId, 3);
    expect(turns[2].text).toBe("Checking. Checking. Checking. Checking. Checking. Still nothing, sorry.");
    const requests = await chats(marker);
    expect(requests.map((r) => r.tool_choice)).toEqual(["auto", "auto", "auto", "auto", "auto", "none"]);
    expect(requests[5].messages.filter((m: any) => m.role === "tool")).toHaveLength(5);
    expect(await recorded("tools", { contains: path })).toHaveLength(5);
    expect(await toolCallsOf(org, callId)).toHaveLength(5);
  });

  it("lists no tool calls for a call without any, and answers 404 for an unknown call", async () => {
    const { org, callId } = await answeredCall(clock);
    expect(await toolCallsOf(org, callId)).toEqual([]);
    expect((await org.get(`/calls/${crypto.randomUUID()}/tool-calls`)).status).toBe(404);
  });
});
