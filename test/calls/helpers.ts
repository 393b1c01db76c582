import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { adminFetch, CATALOGUE_VOICE_ID, newOrg, type ApiClient } from "../helpers/api";

export type Org = ApiClient & { orgId: string };

/** A test org with an active agent and a simulator number assigned to it for outbound calls. */
export async function orgWithCaller(options: { provider?: string } = {}) {
  const org = await newOrg();
  // These tests run many requests inside one simulated minute.
  await adminFetch(`/organizations/${org.orgId}`, { method: "PATCH", body: { rate_limit_per_minute: 100_000 } });
  const agent = await org.post("/agents", { name: "Caller", voice_id: CATALOGUE_VOICE_ID, system_prompt: "Hi {{first_name}}", join_timeout: 20, max_duration: 60 });
  const numberId = crypto.randomUUID();
  const from = `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`;
  const at = new Date().toISOString();
  await env.DB.prepare(
    `INSERT INTO phone_numbers (id, org_id, phone_number, provider, ownership, capabilities, outbound_agent_id, inbound_agent_id, created_at, updated_at)
     VALUES (?, ?, ?, ?, 'managed', '["voice"]', ?, ?, ?, ?)`,
  )
    .bind(numberId, org.orgId, from, options.provider ?? "simulator", agent.body.data.id, agent.body.data.id, at, at)
    .run();
  return { org, agentId: agent.body.data.id as string, from, numberId };
}

export function callStub(callId: string) {
  return env.CALL.get(env.CALL.idFromName(callId));
}

export function limiterStub(orgId: string) {
  return env.ORG_LIMITER.get(env.ORG_LIMITER.idFromName(orgId));
}

/** Fires the call's alarm (whatever is due at the injected clock's time). */
export async function tick(callId: string) {
  return runDurableObjectAlarm(callStub(callId));
}

export async function callRow(org: Org, id: string) {
  return (await org.get(`/calls/${id}`)).body.data;
}
