import { env, exports } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { manualClock, useClock } from "../../src/lib/clock";
import { CATALOGUE_VOICE_ID } from "../helpers/api";
import { orgWithCaller, tick } from "./helpers";

const START = Date.UTC(2030, 0, 9, 15, 0, 0);
let restore = () => {};
beforeEach(() => {
  restore = useClock(manualClock(START));
});
afterEach(() => restore());

describe("placing calls: the rules", () => {
  it("names the problem: draft agent, unknown agent, no number, unassigned caller ID, DNC, bad E.164", async () => {
    const { org, agentId, from } = await orgWithCaller();
    const draft = await org.post("/agents", { name: "Draft", voice_id: CATALOGUE_VOICE_ID, system_prompt: "x", status: "draft" });
    const lonely = await org.post("/agents", { name: "No numbers", voice_id: CATALOGUE_VOICE_ID, system_prompt: "x" });
    await env.DB.prepare("INSERT INTO dnc_numbers (id, org_id, phone_number, source, created_at) VALUES (?, ?, '+14155559999', 'api', ?)")
      .bind(crypto.randomUUID(), org.orgId, new Date().toISOString())
      .run();
    const cases: [Record<string, unknown>, string, string?][] = [
      [{ agent_id: draft.body.data.id, phone_number: "+14155550001" }, "validation_error", "agent_id"],
      [{ agent_id: "nope", phone_number: "+14155550001" }, "validation_error", "agent_id"],
      [{ agent_id: lonely.body.data.id, phone_number: "+14155550001" }, "no_phone_number_configured"],
      [{ agent_id: agentId, phone_number: "+14155550001", from_number: "+14155557777" }, "number_not_assigned", "from_number"],
      [{ agent_id: agentId, phone_number: "+14155559999" }, "number_on_dnc_list", "phone_number"],
      [{ agent_id: agentId, phone_number: "4155550001" }, "validation_error", "phone_number"],
      [{ agent_id: agentId, phone_number: "+14155550001", call_settings: { join_timeout: "soon" } }, "validation_error", "call_settings.join_timeout"],
    ];
    for (const [body, code, field] of cases) {
      const res = await org.post("/calls", body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.error.code).toBe(code);
      if (field) expect(res.body.error.details.field).toBe(field);
    }
    expect((await org.get("/calls")).body.pagination.total).toBe(0);
    const ok = await org.post("/calls", { agent_id: agentId, phone_number: "+14155550001", from_number: from });
    expect(ok.status).toBe(201);
  });

  it("replays an idempotent create instead of dialling twice", async () => {
    const { org, agentId } = await orgWithCaller();
    const body = { agent_id: agentId, phone_number: "+14155550001" };
    const first = await org.post("/calls", body, { "Idempotency-Key": "call-once" });
    const second = await org.post("/calls", body, { "Idempotency-Key": "call-once" });
    expect(second.body.data.id).toBe(first.body.data.id);
    expect((await org.get("/calls")).body.pagination.total).toBe(1);
  });
});

describe("reading calls", () => {
  it("lists with status aliases, direction, agent and time filters", async () => {
    const { org, agentId } = await orgWithCaller();
    const a = (await org.post("/calls", { agent_id: agentId, phone_number: "+14155550001" })).body.data.id;
    const b = (await org.post("/calls", { agent_id: agentId, phone_number: "+14155550001" })).body.data.id;
    await org.post(`/calls/${b}/cancel`);
    expect((await org.get("/calls?status=queued")).body.data.map((c: { id: string }) => c.id)).toEqual([a]);
    expect((await org.get("/calls?status=cancelled")).body.data.map((c: { id: string }) => c.id)).toEqual([b]);
    expect((await org.get("/calls?status=in-progress")).body.data).toEqual([]);
    expect((await org.get("/calls?status=ended")).body.data).toEqual([]);
    expect((await org.get(`/calls?agent_id=${agentId}&direction=outbound`)).body.pagination.total).toBe(2);
    expect((await org.get("/calls?direction=inbound")).body.pagination.total).toBe(0);
    expect((await org.get("/calls?created_after=2031-01-01T00:00:00Z")).body.pagination.total).toBe(0);
    expect((await org.get("/calls?status=exploded")).status).toBe(422);
  });

  it("serves the transcript (empty before any conversation) and a signed, expiring recording link", async () => {
    const { org, agentId } = await orgWithCaller();
    const id = (await org.post("/calls", { agent_id: agentId, phone_number: "+14155550001" })).body.data.id;
    expect((await org.get(`/calls/${id}/transcript`)).body.data).toEqual({ call_id: id, turns: [] });
    expect((await org.get(`/calls/${id}/recording`)).status).toBe(404);

    await env.FILES.put(`recordings/${id}.wav`, new Uint8Array([82, 73, 70, 70]), { httpMetadata: { contentType: "audio/wav" } });
    await env.DB.prepare("UPDATE calls SET recording_key = ? WHERE id = ?").bind(`recordings/${id}.wav`, id).run();
    const link = await org.get(`/calls/${id}/recording`);
    expect(link.status).toBe(200);
    const audio = await exports.default.fetch(new Request(link.body.data.url));
    expect(audio.status).toBe(200);
    expect(new Uint8Array(await audio.arrayBuffer())).toEqual(new Uint8Array([82, 73, 70, 70]));
    const forged = new URL(link.body.data.url);
    forged.searchParams.set("signature", "0".repeat(64));
    expect((await exports.default.fetch(new Request(forged))).status).toBe(403);
    restore();
    restore = useClock(manualClock(START + 16 * 60_000));
    expect((await exports.default.fetch(new Request(link.body.data.url))).status).toBe(403);
  });

  it("bulk-deletes ended calls and reports live ones as failed", async () => {
    const { org, agentId } = await orgWithCaller();
    const live = (await org.post("/calls", { agent_id: agentId, phone_number: "+14155550001" })).body.data.id;
    const done = (await org.post("/calls", { agent_id: agentId, phone_number: "+14155550001" })).body.data.id;
    await org.post(`/calls/${done}/cancel`);
    const res = await org.post("/calls/bulk-delete", { ids: [live, done, "missing"] });
    expect(res.body.data).toEqual({ deleted_count: 1, failed_count: 2, deleted_ids: [done], failed_ids: [live, "missing"] });
    expect((await org.get(`/calls/${done}`)).status).toBe(404);
    expect((await org.post("/calls/bulk-delete", { ids: [] })).status).toBe(422);
  });

  it("hides another organization's calls behind 404 on every /{id} route", async () => {
    const owner = await orgWithCaller();
    const intruder = await orgWithCaller();
    const id = (await owner.org.post("/calls", { agent_id: owner.agentId, phone_number: "+14155550001" })).body.data.id;
    for (const res of await Promise.all([
      intruder.org.get(`/calls/${id}`),
      intruder.org.post(`/calls/${id}/hangup`),
      intruder.org.post(`/calls/${id}/cancel`),
      intruder.org.get(`/calls/${id}/transcript`),
      intruder.org.get(`/calls/${id}/recording`),
    ])) {
      expect(res.status).toBe(404);
    }
    const bulk = await intruder.org.post("/calls/bulk-delete", { ids: [id] });
    expect(bulk.body.data.deleted_count).toBe(0);
    // Another org's agent cannot be used either.
    const borrowed = await intruder.org.post("/calls", { agent_id: owner.agentId, phone_number: "+14155550001" });
    expect(borrowed.status).toBe(422);
    expect((await owner.org.get(`/calls/${id}`)).body.data.status).toBe("queued");
    await tick(id);
  });
});
