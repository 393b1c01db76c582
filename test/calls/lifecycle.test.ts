import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { manualClockPerTest } from "../helpers/clock";
import { callRow, callStub, orgWithCaller, tick } from "./helpers";

// Far in the future, so real alarms never fire on their own: tests advance this clock and run
// the alarm themselves.
const START = Date.UTC(2030, 0, 7, 15, 0, 0);
const clock = manualClockPerTest(START);

async function eventsFor(orgId: string, callId: string) {
  const rows = await env.DB.prepare("SELECT type, data FROM events WHERE org_id = ? ORDER BY created_at, rowid").bind(orgId).all<{ type: string; data: string }>();
  return rows.results.filter((r) => JSON.parse(r.data).call_id === callId).map((r) => r.type);
}

describe("simulator call lifecycle", () => {
  it("answers, talks and ends with hangup_by_contact, billing per started second, with every webhook", async () => {
    const { org, agentId, from } = await orgWithCaller();
    const created = await org.post("/calls", { agent_id: agentId, phone_number: "+14155550001", variables: { first_name: "Ana", age: 42 } });
    expect(created.status).toBe(201);
    const call = created.body.data;
    expect(call).toMatchObject({ status: "queued", direction: "outbound", from_number: from, to_number: "+14155550001", variables: { first_name: "Ana", age: "42" } });

    await tick(call.id); // dial
    expect((await callRow(org, call.id)).provider).toBe("simulator");
    clock.advance(500);
    await tick(call.id);
    expect((await callRow(org, call.id)).status).toBe("ringing");
    clock.advance(1500);
    await tick(call.id);
    const answered = await callRow(org, call.id);
    expect(answered).toMatchObject({ status: "in_progress", answered_by: "human", started_at: new Date(START + 2000).toISOString() });
    clock.advance(30_000); // the simulated callee talks SIMULATOR_CALL_SECONDS (30 in tests)
    await tick(call.id);
    const ended = await callRow(org, call.id);
    expect(ended).toMatchObject({ status: "completed", end_reason: "hangup_by_contact", duration_seconds: 30, cost_credits: 0.5 });
    expect(await eventsFor(org.orgId, call.id)).toEqual(["call.started", "call.ringing", "call.answered", "call.ended"]);
  });

  it.each([
    ["+14155550002", "failed", "no_answer", "call.failed"],
    ["+14155550003", "failed", "busy", "call.failed"],
    ["+14155550004", "completed", "voicemail", "call.ended"],
    ["+14155550005", "failed", "carrier_error", "call.failed"],
  ])("ends a call to %s as %s / %s", async (to, status, endReason, lastEvent) => {
    const { org, agentId } = await orgWithCaller();
    const { body } = await org.post("/calls", { agent_id: agentId, phone_number: to });
    await tick(body.data.id);
    for (let i = 0; i < 20; i++) {
      clock.advance(2500);
      await tick(body.data.id);
    }
    const row = await callRow(org, body.data.id);
    expect(row).toMatchObject({ status, end_reason: endReason });
    if (status === "failed") expect(row.cost_credits).toBe(0);
    const events = await eventsFor(org.orgId, body.data.id);
    expect(events.at(-1)).toBe(lastEvent);
    expect(events.filter((e) => e === lastEvent)).toHaveLength(1);
  });

  it("ends a call at max_duration with its alarm", async () => {
    const { org, agentId } = await orgWithCaller();
    const { body } = await org.post("/calls", { agent_id: agentId, phone_number: "+14155550001", call_settings: { max_duration: "10s" } });
    await tick(body.data.id);
    clock.advance(2000);
    await tick(body.data.id); // ringing + answered
    expect((await callRow(org, body.data.id)).status).toBe("in_progress");
    clock.advance(10_000);
    await tick(body.data.id);
    expect(await callRow(org, body.data.id)).toMatchObject({ status: "completed", end_reason: "max_duration", duration_seconds: 10 });
  });

  it("gives up on a call nobody answers after join_timeout, even if the carrier stays silent", async () => {
    const { org, agentId } = await orgWithCaller();
    const { body } = await org.post("/calls", { agent_id: agentId, phone_number: "+14155550001", call_settings: { join_timeout: 15 } });
    await tick(body.data.id);
    // A carrier that never reports: drop the simulator's scripted callbacks.
    await runInDurableObject(callStub(body.data.id), async (_i, state) => {
      const stored = (await state.storage.get<{ timers: { kind: string }[] }>("call"))!;
      stored.timers = stored.timers.filter((t) => t.kind !== "simulator");
      await state.storage.put("call", stored);
    });
    clock.advance(20_001);
    await tick(body.data.id);
    expect(await callRow(org, body.data.id)).toMatchObject({ status: "failed", end_reason: "no_answer" });
  });

  it("ignores duplicate, late and out-of-order carrier reports", async () => {
    const { org, agentId } = await orgWithCaller();
    const { body } = await org.post("/calls", { agent_id: agentId, phone_number: "+14155550001" });
    const id = body.data.id;
    await tick(id);
    const stub = callStub(id);
    await stub.carrierEvent({ kind: "ringing", at: START + 100, sequence: 1 });
    await stub.carrierEvent({ kind: "answered", at: START + 900, sequence: 3 });
    await stub.carrierEvent({ kind: "ringing", at: START + 100, sequence: 2 }); // late, lower sequence
    await stub.carrierEvent({ kind: "answered", at: START + 900, sequence: 3 }); // duplicate
    expect((await callRow(org, id)).status).toBe("in_progress");
    await stub.carrierEvent({ kind: "completed", at: START + 10_900, sequence: 4, durationSeconds: 11 });
    await stub.carrierEvent({ kind: "answered", at: START + 20_000, sequence: 5 }); // after the end
    expect(await callRow(org, id)).toMatchObject({ status: "completed", duration_seconds: 11 });
    expect(await eventsFor(org.orgId, id)).toEqual(["call.started", "call.ringing", "call.answered", "call.ended"]);
  });
});

describe("hang-up and cancel through the API", () => {
  it("hangs up a live call with hangup_by_api and refuses to end it twice", async () => {
    const { org, agentId } = await orgWithCaller();
    const { body } = await org.post("/calls", { agent_id: agentId, phone_number: "+14155550001" });
    await tick(body.data.id);
    clock.advance(2000);
    await tick(body.data.id);
    const hung = await org.post(`/calls/${body.data.id}/hangup`);
    expect(hung.status).toBe(200);
    await tick(body.data.id); // the simulated carrier confirms
    expect(await callRow(org, body.data.id)).toMatchObject({ status: "completed", end_reason: "hangup_by_api" });
    const again = await org.post(`/calls/${body.data.id}/hangup`);
    expect(again.status).toBe(409);
    expect((await org.post(`/calls/${body.data.id}/cancel`)).status).toBe(409);
  });

  it("cancels a ringing call, and refuses to cancel a connected one", async () => {
    const { org, agentId } = await orgWithCaller();
    const ringing = (await org.post("/calls", { agent_id: agentId, phone_number: "+14155550001" })).body.data.id;
    await tick(ringing);
    clock.advance(600);
    await tick(ringing);
    expect((await org.post(`/calls/${ringing}/cancel`)).status).toBe(200);
    await tick(ringing);
    expect(await callRow(org, ringing)).toMatchObject({ status: "cancelled", end_reason: "cancelled" });

    const live = (await org.post("/calls", { agent_id: agentId, phone_number: "+14155550001" })).body.data.id;
    await tick(live);
    clock.advance(2000);
    await tick(live);
    const refused = await org.post(`/calls/${live}/cancel`);
    expect(refused.status).toBe(409);
  });

  it("cancels a call still waiting in the queue without dialling it", async () => {
    const { org, agentId } = await orgWithCaller();
    const { body } = await org.post("/calls", { agent_id: agentId, phone_number: "+14155550001" });
    const res = await org.post(`/calls/${body.data.id}/cancel`);
    expect(res.body.data).toMatchObject({ status: "cancelled", end_reason: "cancelled" });
    await tick(body.data.id);
    expect((await callRow(org, body.data.id)).status).toBe("cancelled");
  });
});

describe("carrier reports arriving out of order", () => {
  it("treats a billed 'completed' before 'answered' as an answered call", async () => {
    const { org, agentId } = await orgWithCaller();
    const { body } = await org.post("/calls", { agent_id: agentId, phone_number: "+14155550001" });
    await tick(body.data.id);
    await callStub(body.data.id).carrierEvent({ kind: "completed", at: START + 20_000, sequence: 4, durationSeconds: 12 });
    await callStub(body.data.id).carrierEvent({ kind: "answered", at: START + 8_000, sequence: 3 });
    expect(await callRow(org, body.data.id)).toMatchObject({ status: "completed", end_reason: "hangup_by_contact", duration_seconds: 12, started_at: new Date(START + 8_000).toISOString() });
    expect(await eventsFor(org.orgId, body.data.id)).toEqual(["call.started", "call.ringing", "call.answered", "call.ended"]);
  });
});
