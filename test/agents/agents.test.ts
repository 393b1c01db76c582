import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CATALOGUE_VOICE_ID, newOrg } from "../helpers/api";

const minimal = { name: "Reminder", voice_id: CATALOGUE_VOICE_ID, system_prompt: "Confirm {{first_name}}'s visit on {{date}}." };

describe("agents", () => {
  it("creates an agent with defaults and reads it back", async () => {
    const org = await newOrg();
    const created = await org.post("/agents", minimal);
    expect(created.status).toBe(201);
    const agent = created.body.data;
    expect(agent).toMatchObject({
      name: "Reminder",
      status: "active",
      voice_id: CATALOGUE_VOICE_ID,
      voice_name: "Rachel",
      temperature: 0.3,
      recording_enabled: false,
      max_duration: 1800,
      join_timeout: 30,
      inactivity_timeout: 10,
      first_speaker: "agent",
      tools: [],
      knowledge_bases: [],
      variables: ["first_name", "date"],
      llm: { provider: "openai", model: "gpt-4o-mini" },
      stt: { provider: "deepgram", model: "nova-3", endpointing_ms: 300 },
      inbound_phone_numbers: [],
      outbound_phone_numbers: [],
    });
    const fetched = await org.get(`/agents/${agent.id}`);
    expect(fetched.status).toBe(200);
    expect(fetched.body.data).toEqual(agent);
  });

  it("accepts Truedy's duration strings and a draft status, and publishes with PATCH", async () => {
    const org = await newOrg();
    const created = await org.post("/agents", { ...minimal, status: "draft", max_duration: "600s", join_timeout: "20s" });
    expect(created.body.data).toMatchObject({ status: "draft", max_duration: 600, join_timeout: 20 });
    const published = await org.patch(`/agents/${created.body.data.id}`, { status: "active" });
    expect(published.body.data.status).toBe("active");
  });

  it("updates only the fields sent, with PUT and PATCH alike, and null clears", async () => {
    const org = await newOrg();
    const { body } = await org.post("/agents", { ...minimal, greeting: "Hi {{first_name}}", description: "d" });
    const id = body.data.id;
    const put = await org.put(`/agents/${id}`, { temperature: 0.9 });
    expect(put.status).toBe(200);
    expect(put.body.data).toMatchObject({ temperature: 0.9, greeting: "Hi {{first_name}}", name: "Reminder" });
    const patch = await org.patch(`/agents/${id}`, { description: null, model: "gpt-4.1" });
    expect(patch.body.data).toMatchObject({ description: null, model: "gpt-4.1", llm: { provider: "openai", model: "gpt-4.1" } });
    expect(patch.body.data.updated_at >= body.data.updated_at).toBe(true);
  });

  it("rejects bad input with 422 naming the field", async () => {
    const org = await newOrg();
    const cases: [Record<string, unknown>, string][] = [
      [{ ...minimal, name: "" }, "name"],
      [{ ...minimal, temperature: 1.5 }, "temperature"],
      [{ ...minimal, temperature: "hot" }, "temperature"],
      [{ ...minimal, voice_id: "00000000-0000-0000-0000-000000000000" }, "voice_id"],
      [{ ...minimal, system_prompt: "Hello {{name" }, "system_prompt"],
      [{ ...minimal, max_duration: 5 }, "max_duration"],
      [{ ...minimal, join_timeout: "30 seconds" }, "join_timeout"],
      [{ ...minimal, stt: { provider: "whisperx", model: "x" } }, "stt.provider"],
      [{ ...minimal, tools: ["nope"] }, "tools.0"],
      [{ ...minimal, language_hint: "english!" }, "language_hint"],
      [{ ...minimal, inactivity_timeout: 1 }, "inactivity_timeout"],
      [{ name: "x", voice_id: CATALOGUE_VOICE_ID }, "system_prompt"],
    ];
    for (const [body, field] of cases) {
      const res = await org.post("/agents", body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.error.code).toBe("validation_error");
      expect(res.body.error.details.field).toBe(field);
    }
    expect((await org.get("/agents")).body.pagination.total).toBe(0);
  });

  it("stores voicemail handling and post-call analysis settings, and null turns them off", async () => {
    const org = await newOrg();
    const plain = (await org.post("/agents", minimal)).body.data;
    expect(plain).toMatchObject({ voicemail: null, success_criteria: null, analysis_schema: null });
    const schema = {
      type: "object",
      properties: { confirmed: { type: "boolean" }, new_date: { $ref: "#/$defs/day" } },
      required: ["confirmed"],
      $defs: { day: { type: ["string", "null"], format: "date" } },
    };
    const created = await org.post("/agents", {
      ...minimal,
      voicemail: { action: "leave_message", message: "Hi {{first_name}}, please call us back at {{callback_number}}." },
      success_criteria: "The contact confirms the visit or books a new date.",
      analysis_schema: schema,
    });
    expect(created.status).toBe(201);
    const agent = created.body.data;
    expect(agent).toMatchObject({
      voicemail: { action: "leave_message", message: "Hi {{first_name}}, please call us back at {{callback_number}}." },
      success_criteria: "The contact confirms the visit or books a new date.",
      analysis_schema: schema,
      variables: ["first_name", "date", "callback_number"],
    });
    expect((await org.get(`/agents/${agent.id}`)).body.data).toEqual(agent);
    const hangup = await org.patch(`/agents/${agent.id}`, { voicemail: { action: "hangup" } });
    expect(hangup.body.data).toMatchObject({ voicemail: { action: "hangup", message: null }, analysis_schema: schema });
    const cleared = await org.patch(`/agents/${agent.id}`, { voicemail: null, success_criteria: null, analysis_schema: null });
    expect(cleared.body.data).toMatchObject({ voicemail: null, success_criteria: null, analysis_schema: null });
  });

  it("stores transfer destinations normalized, refuses ones it would not dial, and an empty list turns transfers off", async () => {
    const org = await newOrg();
    expect((await org.post("/agents", minimal)).body.data.transfer_destinations).toEqual([]);
    const created = await org.post("/agents", {
      ...minimal,
      transfer_destinations: [{ destination: "+1 (415) 555-2671", description: "Sales" }, { destination: "sip:desk@pbx.example.com" }],
    });
    expect(created.status).toBe(201);
    expect(created.body.data.transfer_destinations).toEqual([
      { destination: "+14155552671", description: "Sales" },
      { destination: "sip:desk@pbx.example.com", description: null },
    ]);
    const id = created.body.data.id;
    const cases: [unknown, string, RegExp][] = [
      [[{ destination: "4155552671" }], "transfer_destinations.0.destination", /E\.164/],
      [[{ destination: "+19005550123" }], "transfer_destinations.0.destination", /premium-rate/],
      [[{ destination: "sip:pbx@192.168.1.10" }], "transfer_destinations.0.destination", /SIP host is refused/],
      [[{ destination: "+14155552671" }, { destination: "+1 415 555 2671" }], "transfer_destinations.1.destination", /listed twice/],
      [Array.from({ length: 21 }, (_, i) => ({ destination: `+1415555${String(2600 + i)}` })), "transfer_destinations", /./],
    ];
    for (const [destinations, field, reason] of cases) {
      const res = await org.patch(`/agents/${id}`, { transfer_destinations: destinations });
      expect(res.status, JSON.stringify(destinations)).toBe(422);
      expect(res.body.error.details.field).toBe(field);
      expect(res.body.error.message).toMatch(reason);
    }
    expect((await org.get(`/agents/${id}`)).body.data.transfer_destinations).toHaveLength(2);
    expect((await org.patch(`/agents/${id}`, { transfer_destinations: [] })).body.data.transfer_destinations).toEqual([]);
  });

  it("refuses a voicemail setting or an analysis_schema it could not use, with 422 naming the problem", async () => {
    const org = await newOrg();
    const { body } = await org.post("/agents", minimal);
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ voicemail: { action: "leave_message" } }, "voicemail.message", /Required with action "leave_message"/],
      [{ voicemail: { action: "leave_message", message: "Hi {{first name}}" } }, "voicemail.message", /not a valid variable name/],
      [{ voicemail: { action: "beep" } }, "voicemail.action", /./],
      [{ success_criteria: "" }, "success_criteria", /./],
      [{ analysis_schema: [1, 2] }, "analysis_schema", /./],
      [{ analysis_schema: { type: "array", items: { type: "string" } } }, "analysis_schema.type", /Must be "object"/],
      [{ analysis_schema: { type: "object", properties: { budget: { type: "money" } } } }, "analysis_schema.properties.budget.type", /Must be one of string, number/],
      [{ analysis_schema: { type: "object", properties: { day: { $ref: "#/$defs/day" } } } }, "analysis_schema.properties.day.$ref", /does not point at anything/],
      [{ analysis_schema: { type: "object", properties: { s: { type: "string", minLength: -1 } } } }, "analysis_schema.properties.s.minLength", /non-negative integer/],
    ];
    for (const [change, field, reason] of cases) {
      for (const res of [await org.post("/agents", { ...minimal, ...change }), await org.patch(`/agents/${body.data.id}`, change)]) {
        expect(res.status, JSON.stringify(change)).toBe(422);
        expect(res.body.error.code).toBe("validation_error");
        expect(res.body.error.details.field).toBe(field);
        expect(res.body.error.message).toMatch(reason);
      }
    }
    expect((await org.get("/agents")).body.pagination.total).toBe(1);
    expect((await org.get(`/agents/${body.data.id}`)).body.data).toMatchObject({ voicemail: null, analysis_schema: null });
  });

  it("lists with status and name filters and offset pagination", async () => {
    const org = await newOrg();
    for (const name of ["Alpha sales", "Beta support", "alpha renewals"]) await org.post("/agents", { ...minimal, name });
    await org.post("/agents", { ...minimal, name: "Gamma", status: "draft" });
    const all = await org.get("/agents?limit=2");
    expect(all.body.pagination).toEqual({ total: 4, limit: 2, offset: 0, has_more: true });
    expect(all.body.data.map((a: { name: string }) => a.name)).toEqual(["Gamma", "alpha renewals"]);
    const alpha = await org.get("/agents?name=ALPHA");
    expect(alpha.body.data.map((a: { name: string }) => a.name).sort()).toEqual(["Alpha sales", "alpha renewals"]);
    const drafts = await org.get("/agents?status=draft");
    expect(drafts.body.data).toHaveLength(1);
    expect((await org.get("/agents?status=nope")).status).toBe(422);
    expect((await org.get("/agents?limit=101")).status).toBe(422);
    const page2 = await org.get("/agents?limit=2&offset=2");
    expect(page2.body.pagination.has_more).toBe(false);
    expect(page2.body.data).toHaveLength(2);
  });

  it("shows assigned numbers and frees them when the agent is deleted", async () => {
    const org = await newOrg();
    const { body } = await org.post("/agents", minimal);
    const agentId = body.data.id;
    const at = new Date().toISOString();
    await env.DB.prepare(
      `INSERT INTO phone_numbers (id, org_id, phone_number, provider, ownership, capabilities, inbound_agent_id, outbound_agent_id, created_at, updated_at)
       VALUES (?, ?, ?, 'simulator', 'managed', '["voice"]', ?, ?, ?, ?)`,
    )
      .bind(crypto.randomUUID(), org.orgId, `+1415555${Math.floor(1000 + Math.random() * 8999)}`, agentId, agentId, at, at)
      .run();
    const fetched = await org.get(`/agents/${agentId}`);
    expect(fetched.body.data.inbound_phone_numbers).toHaveLength(1);
    expect(fetched.body.data.outbound_phone_numbers).toEqual(fetched.body.data.inbound_phone_numbers);
    const deleted = await org.delete(`/agents/${agentId}`);
    expect(deleted.body.data).toEqual({ id: agentId, deleted: true });
    expect((await org.get(`/agents/${agentId}`)).status).toBe(404);
    const number = await env.DB.prepare("SELECT inbound_agent_id, outbound_agent_id FROM phone_numbers WHERE org_id = ?").bind(org.orgId).first();
    expect(number).toEqual({ inbound_agent_id: null, outbound_agent_id: null });
  });

  it("hides another organization's agents behind 404 on every /{id} route", async () => {
    const owner = await newOrg("owner");
    const intruder = await newOrg("intruder");
    const { body } = await owner.post("/agents", minimal);
    const path = `/agents/${body.data.id}`;
    expect((await intruder.get(path)).status).toBe(404);
    expect((await intruder.put(path, { name: "hijacked" })).status).toBe(404);
    expect((await intruder.patch(path, { name: "hijacked" })).status).toBe(404);
    expect((await intruder.delete(path)).status).toBe(404);
    expect((await intruder.get("/agents")).body.data).toEqual([]);
    const still = await owner.get(path);
    expect(still.body.data.name).toBe("Reminder");
  });

  it("will not reference another organization's voice", async () => {
    const owner = await newOrg();
    const intruder = await newOrg();
    const voiceId = crypto.randomUUID();
    const at = new Date().toISOString();
    await env.DB.prepare(
      `INSERT INTO voices (id, org_id, name, provider, provider_voice_id, type, status, created_at, updated_at)
       VALUES (?, ?, 'Mine', 'elevenlabs', 'abc', 'reference', 'active', ?, ?)`,
    )
      .bind(voiceId, owner.orgId, at, at)
      .run();
    expect((await owner.post("/agents", { ...minimal, voice_id: voiceId })).status).toBe(201);
    const res = await intruder.post("/agents", { ...minimal, voice_id: voiceId });
    expect(res.status).toBe(422);
    expect(res.body.error.details.field).toBe("voice_id");
  });
});
