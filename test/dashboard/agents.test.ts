import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { adminFetch, CATALOGUE_VOICE_ID } from "../helpers/api";
import { manualClockPerTest } from "../helpers/clock";
import { newDashboard, textOf } from "./helpers";

const START = Date.UTC(2030, 3, 1, 12, 0, 0);
manualClockPerTest(START);

/** A complete agent form as a person would fill it in. */
function agentForm(overrides: Record<string, string | string[]> = {}) {
  return {
    name: "Front desk",
    status: "active",
    description: "",
    system_prompt: "You are Maya. Greet {{first_name}}.",
    greeting: "Hello {{first_name}}!",
    first_speaker: "agent",
    voice_id: CATALOGUE_VOICE_ID,
    model: "gpt-4o-mini",
    temperature: "0.5",
    language_hint: "en-US",
    max_duration: "600",
    join_timeout: "30",
    inactivity_timeout: "12",
    inactivity_message: "Still there?",
    max_duration_message: "",
    voicemail_action: "leave_message",
    voicemail_message: "Please call us back.",
    success_criteria: "The caller booked a visit.",
    analysis_schema: '{"type":"object","properties":{"booked":{"type":"boolean"}}}',
    stt: "",
    interruption: "",
    transfer_destinations: "",
    recording_enabled: "on",
    ...overrides,
  };
}

async function simulatorNumber(orgId: string, phone: string) {
  const id = crypto.randomUUID();
  const at = new Date(START).toISOString();
  await env.DB.prepare(
    `INSERT INTO phone_numbers (id, org_id, phone_number, provider, ownership, capabilities, created_at, updated_at)
     VALUES (?, ?, ?, 'simulator', 'managed', '["voice"]', ?, ?)`,
  )
    .bind(id, orgId, phone, at, at)
    .run();
  return id;
}

describe("dashboard: agents", () => {
  it("lists the org's agents with their status, voice and numbers, and filters by name", async () => {
    const { org, browser } = await newDashboard();
    await org.post("/agents", { name: "Reminder bot", voice_id: CATALOGUE_VOICE_ID, system_prompt: "x" });
    await org.post("/agents", { name: "Survey draft", voice_id: CATALOGUE_VOICE_ID, system_prompt: "x", status: "draft" });
    const page = await browser.get("/app/agents");
    expect(page.status).toBe(200);
    const text = textOf(page.text);
    expect(text).toContain("Reminder bot");
    expect(text).toContain("Survey draft");
    expect(text).toMatch(/Survey draft draft/);
    const filtered = textOf((await browser.get("/app/agents?name=remind")).text);
    expect(filtered).toContain("Reminder bot");
    expect(filtered).not.toContain("Survey draft");
    // A filter the API refuses is explained, not a crash.
    const bad = await browser.get("/app/agents?status=exploded");
    expect(bad.status).toBe(422);
    expect(textOf(bad.text)).toContain("Some of the values need fixing.");
  });

  it("creates an agent through the form, with every main field reaching the API", async () => {
    const { org, browser } = await newDashboard();
    const tool = await org.post("/tools", { name: "Lookup", definition: { description: "Looks up", http: { url: "https://example.com/lookup", method: "GET" } } });
    expect(tool.status).toBe(201);
    const second = await org.post("/tools", { name: "Booking", definition: { description: "Books", http: { url: "https://example.com/book", method: "POST" } } });
    const kb = await org.post("/knowledge-bases", { name: "FAQ" });
    expect(kb.status).toBe(201);

    const form = await browser.get("/app/agents/new");
    expect(form.status).toBe(200);
    // The pickers offer the catalogue voice, the org's tool and knowledge base.
    expect(form.text).toContain(`<option value="${CATALOGUE_VOICE_ID}"`);
    expect(form.text).toContain(`<option value="${tool.body.data.id}">Lookup</option>`);
    expect(form.text).toContain(`<option value="${kb.body.data.id}">FAQ</option>`);
    expect(form.text).toContain('<label for="system_prompt">Prompt</label>');

    const res = await browser.post("/app/agents", agentForm({ tools: [tool.body.data.id, second.body.data.id], knowledge_bases: [kb.body.data.id] }));
    expect(res.status).toBe(303);
    const id = res.location!.split("/").pop()!;
    const agent = (await org.get(`/agents/${id}`)).body.data;
    expect(agent).toMatchObject({
      name: "Front desk",
      status: "active",
      system_prompt: "You are Maya. Greet {{first_name}}.",
      greeting: "Hello {{first_name}}!",
      voice_id: CATALOGUE_VOICE_ID,
      temperature: 0.5,
      language_hint: "en-US",
      max_duration: 600,
      inactivity_timeout: 12,
      inactivity_message: "Still there?",
      voicemail: { action: "leave_message", message: "Please call us back." },
      success_criteria: "The caller booked a visit.",
      analysis_schema: { type: "object", properties: { booked: { type: "boolean" } } },
      recording_enabled: true,
      tools: [tool.body.data.id, second.body.data.id],
      knowledge_bases: [kb.body.data.id],
      llm: { model: "gpt-4o-mini" },
    });
    const detail = await browser.get(res.location!);
    expect(textOf(detail.text)).toContain('Agent "Front desk" created.');
    expect(textOf(detail.text)).toContain("Leave a message: Please call us back.");
  });

  it("shows the API's validation error in plain words and keeps what was typed", async () => {
    const { org, browser } = await newDashboard();
    // The API rejects a schema that is not an object schema.
    const res = await browser.post("/app/agents", agentForm({ name: "Keeps my text", analysis_schema: '{"type":"array"}' }));
    expect(res.status).toBe(422);
    const text = textOf(res.text);
    expect(text).toContain("Some of the values need fixing.");
    expect(text).toMatch(/analysis_schema/);
    expect(res.text).toContain('value="Keeps my text"');
    expect(res.text).toMatch(/<textarea id="analysis_schema"[^>]*aria-invalid="true"/);
    // Not JSON at all: said before the API is asked.
    const broken = await browser.post("/app/agents", agentForm({ analysis_schema: "{not json" }));
    expect(broken.status).toBe(422);
    expect(textOf(broken.text)).toContain("Invalid analysis_schema: Not valid JSON");
    // A missing voice: the API's own message.
    const noVoice = await browser.post("/app/agents", agentForm({ voice_id: "" }));
    expect(noVoice.status).toBe(422);
    expect(textOf(noVoice.text)).toContain("voice_id");
    expect((await org.get("/agents")).body.pagination.total).toBe(0);
  });

  it("edits an agent: the form starts from its values, blanks clear, the change is saved", async () => {
    const { org, browser } = await newDashboard();
    const created = await org.post("/agents", {
      name: "Old name",
      voice_id: CATALOGUE_VOICE_ID,
      system_prompt: "Be kind",
      greeting: "Hi",
      success_criteria: "Booked",
      voicemail: { action: "hangup" },
    });
    const id = created.body.data.id;
    const edit = await browser.get(`/app/agents/${id}/edit`);
    expect(edit.status).toBe(200);
    expect(edit.text).toContain('value="Old name"');
    expect(edit.text).toMatch(/<option value="hangup" selected="">|<option value="hangup" selected>/);

    const res = await browser.post(`/app/agents/${id}`, agentForm({ name: "New name", greeting: "", voicemail_action: "", success_criteria: "", analysis_schema: "", status: "draft" }));
    expect(res.status).toBe(303);
    expect(res.location).toBe(`/app/agents/${id}`);
    expect((await org.get(`/agents/${id}`)).body.data).toMatchObject({ name: "New name", greeting: null, voicemail: null, success_criteria: null, analysis_schema: null, status: "draft" });

    const invalid = await browser.post(`/app/agents/${id}`, agentForm({ inactivity_timeout: "1" }));
    expect(invalid.status).toBe(422);
    expect(textOf(invalid.text)).toContain("inactivity_timeout");
    expect((await org.get(`/agents/${id}`)).body.data.inactivity_timeout).toBe(12);
  });

  it("assigns and unassigns phone numbers from the agent page", async () => {
    const { org, browser } = await newDashboard();
    const agent = (await org.post("/agents", { name: "Caller", voice_id: CATALOGUE_VOICE_ID, system_prompt: "x" })).body.data;
    const numberId = await simulatorNumber(org.orgId, "+15550001111");
    const page = await browser.get(`/app/agents/${agent.id}`);
    expect(page.text).toContain(`<option value="${numberId}">+15550001111</option>`);

    const assigned = await browser.post(`/app/agents/${agent.id}/numbers/assign`, { number_id: numberId, assignment_type: "outbound" });
    expect(assigned.status).toBe(303);
    expect((await org.get(`/agents/${agent.id}`)).body.data.outbound_phone_numbers).toEqual([{ id: numberId, phone_number: "+15550001111" }]);
    const after = textOf((await browser.get(`/app/agents/${agent.id}`)).text);
    expect(after).toContain("Number assigned.");
    expect(after).toContain("+15550001111 Places outgoing calls");

    // Unassigning a direction the agent does not hold changes nothing.
    await browser.post(`/app/agents/${agent.id}/numbers/unassign`, { number_id: numberId, assignment_type: "inbound" });
    expect(textOf((await browser.get(`/app/agents/${agent.id}`)).text)).toContain("That number is not assigned to this agent.");
    await browser.post(`/app/agents/${agent.id}/numbers/unassign`, { number_id: numberId, assignment_type: "outbound" });
    expect((await org.get(`/agents/${agent.id}`)).body.data.outbound_phone_numbers).toEqual([]);
  });

  it("deletes an agent only after the confirmation page", async () => {
    const { org, browser } = await newDashboard();
    const agent = (await org.post("/agents", { name: "Short-lived", voice_id: CATALOGUE_VOICE_ID, system_prompt: "x" })).body.data;
    const confirm = await browser.get(`/app/agents/${agent.id}/delete`);
    expect(confirm.status).toBe(200);
    expect(textOf(confirm.text)).toContain("Delete Short-lived?");
    expect((await org.get(`/agents/${agent.id}`)).status).toBe(200);
    const res = await browser.post(`/app/agents/${agent.id}/delete`);
    expect(res.status).toBe(303);
    expect(res.location).toBe("/app/agents");
    expect((await org.get(`/agents/${agent.id}`)).status).toBe(404);
  });

  it("starts a test call: the endpoint returns the API's token and websocket URL", async () => {
    const { org, browser } = await newDashboard();
    const agent = (await org.post("/agents", { name: "Tester", voice_id: CATALOGUE_VOICE_ID, system_prompt: "x" })).body.data;
    const page = await browser.get(`/app/agents/${agent.id}`);
    expect(page.text).toContain('<script src="/app/static/test-call.js" defer="">');
    expect(page.text).toContain(`data-url="/app/agents/${agent.id}/test-call"`);
    expect(page.text).toContain(`data-csrf="${browser.csrfToken}"`);
    // The keypad, hidden until the call is live, in the phone's layout.
    expect(page.text).toContain('<div class="keypad" id="test-call-keypad" role="group" aria-label="Keypad" hidden="">');
    expect([...page.text.matchAll(/data-key="([^"]+)"/g)].map((m) => m[1]).join("")).toBe("123456789*0#");
    expect(page.text).toContain('aria-label="Key pound"');

    const res = await browser.postJson(`/app/agents/${agent.id}/test-call`);
    expect(res.status).toBe(201);
    const body = res.json();
    expect(body.token).toMatch(/^wct1\./);
    expect(body.websocket_url).toBe(`wss://truedy.test/web-calls/${body.call_id}/stream?token=${encodeURIComponent(body.token)}`);
    const call = (await org.get(`/calls/${body.call_id}`)).body.data;
    expect(call).toMatchObject({ direction: "webrtc", agent_id: agent.id, metadata: { source: "dashboard" } });

    // Without the CSRF header: refused, no call made.
    const forged = await browser.fetch(`/app/agents/${agent.id}/test-call`, { method: "POST", headers: { accept: "application/json" } });
    expect(forged.status).toBe(403);
    expect((await org.get("/calls")).body.pagination.total).toBe(1);
  });

  it("explains a test call refused for lack of a free call slot", async () => {
    const { org, browser } = await newDashboard();
    await adminFetch(`/organizations/${org.orgId}`, { method: "PATCH", body: { max_concurrent_calls: 1 } });
    const agent = (await org.post("/agents", { name: "Busy", voice_id: CATALOGUE_VOICE_ID, system_prompt: "x" })).body.data;
    expect((await browser.postJson(`/app/agents/${agent.id}/test-call`)).status).toBe(201);
    const refused = await browser.postJson(`/app/agents/${agent.id}/test-call`);
    expect(refused.status).toBe(409);
    expect(refused.json().error).toMatchObject({ code: "concurrency_limit_reached" });
    expect(refused.json().error.headline).toContain("call slots are busy");
  });

  it("answers 404 for another organization's agent on every agent page", async () => {
    const owner = await newDashboard("Owner");
    const { org: intruderOrg, browser: intruder } = await newDashboard("Intruder");
    const agent = (await owner.org.post("/agents", { name: "Private", voice_id: CATALOGUE_VOICE_ID, system_prompt: "secret prompt" })).body.data;
    const intruderNumber = await simulatorNumber(intruderOrg.orgId, "+15550002222");
    for (const path of [`/app/agents/${agent.id}`, `/app/agents/${agent.id}/edit`, `/app/agents/${agent.id}/delete`]) {
      const res = await intruder.get(path);
      expect(res.status, path).toBe(404);
      expect(textOf(res.text)).toContain("That was not found");
      expect(res.text).not.toContain("secret prompt");
    }
    for (const [path, form] of [
      [`/app/agents/${agent.id}`, agentForm({ name: "Hijacked" })],
      [`/app/agents/${agent.id}/delete`, {}],
      [`/app/agents/${agent.id}/numbers/assign`, { number_id: intruderNumber, assignment_type: "outbound" }],
    ] as const) {
      expect((await intruder.post(path, form)).status, path).toBe(404);
    }
    expect((await intruder.postJson(`/app/agents/${agent.id}/test-call`)).status).toBe(404);
    expect((await owner.org.get(`/agents/${agent.id}`)).body.data.name).toBe("Private");
  });
});
