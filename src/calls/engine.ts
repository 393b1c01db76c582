import { eq } from "drizzle-orm";
import type { CallSpec } from "../../durable-objects/call";
import { agents, calls, dncNumbers, organizations, phoneNumbers } from "../db/schema";
import { openDatabase, TenantDb } from "../db/tenant";
import { AGENT_DEFAULTS } from "../domain/agents";
import type { CarrierEvent } from "../domain/calls";
import { ApiError, invalidField } from "../lib/errors";
import { newId } from "../lib/ids";
import { issueWebCallToken, WEB_CALL_TOKEN_TTL_MS } from "./web-call-tokens";

/** What a browser call has where a phone call has numbers (`to`, `from`). */
export const WEB_ENDPOINT = "web";

/**
 * The call engine's entry points for everything outside the CallDO: the calls API, carrier
 * webhook routes and campaigns. Each call is one Durable Object named by the call id.
 */

export function callObject(env: Env, callId: string) {
  return env.CALL.get(env.CALL.idFromName(callId));
}

/**
 * Hands a verified, normalised carrier report to the call's object. Unknown call ids are
 * ignored by the object (a callback for a call we never created).
 */
export async function reportCarrierEvent(env: Env, callId: string, event: CarrierEvent): Promise<void> {
  await callObject(env, callId).carrierEvent(event);
}

export interface OutboundCallInput {
  agentId: string;
  to: string;
  from?: string | null;
  variables: Record<string, string>;
  metadata: Record<string, string>;
  settings: {
    recordingEnabled?: boolean;
    transcriptionEnabled?: boolean;
    greeting?: string | null;
    maxDurationSeconds?: number;
    joinTimeoutSeconds?: number;
    machineDetection?: boolean;
  };
  batchCallId?: string | null;
}

export async function orgCallLimit(tenant: TenantDb): Promise<number> {
  const [org] = await tenant.db.select({ limit: organizations.maxConcurrentCalls }).from(organizations).where(eq(organizations.id, tenant.orgId));
  return org?.limit ?? 10;
}

/**
 * Checks the rules for placing a call (active agent, a caller ID the org owns and assigned
 * outbound to that agent, destination not on the do-not-call list), writes the call row and
 * starts its Durable Object, which dials as soon as the org has a free slot.
 */
export async function createOutboundCall(env: Env, tenant: TenantDb, nowMs: number, input: OutboundCallInput) {
  const agent = await tenant.find(agents, input.agentId);
  if (!agent) throw invalidField("agent_id", `Agent ${input.agentId} not found`);
  if (agent.status !== "active") throw invalidField("agent_id", `Agent ${input.agentId} is ${agent.status}; publish it with PATCH {"status":"active"} first`);

  const [onDnc] = await tenant.findWhere(dncNumbers, eq(dncNumbers.phoneNumber, input.to));
  if (onDnc) {
    throw new ApiError("number_on_dnc_list", `${input.to} is on your do-not-call list`, { details: { field: "phone_number", phone_number: input.to } });
  }

  const outbound = await tenant.findWhere(phoneNumbers, eq(phoneNumbers.outboundAgentId, agent.id));
  let number: (typeof outbound)[number] | undefined;
  if (input.from) {
    number = outbound.find((n) => n.phoneNumber === input.from);
    if (!number) {
      throw new ApiError("number_not_assigned", `${input.from} is not one of your numbers assigned to agent ${agent.id} for outbound calls`, {
        details: { field: "from_number", from_number: input.from, agent_id: agent.id },
      });
    }
  } else {
    if (outbound.length === 0) {
      throw new ApiError("no_phone_number_configured", `Agent ${agent.id} has no outbound phone number; assign one with POST /telephony/numbers/assign`, {
        details: { agent_id: agent.id },
      });
    }
    number = outbound[Math.floor(Math.random() * outbound.length)];
  }

  const id = newId(nowMs);
  await startOutboundCall(env, tenant, nowMs, { ...input, id, agent, number, concurrencyLimit: await orgCallLimit(tenant) });
  return id;
}

type AgentRow = typeof agents.$inferSelect;
type NumberRow = Pick<typeof phoneNumbers.$inferSelect, "id" | "phoneNumber" | "provider">;

/**
 * Writes the call row and starts the call's object, for a call whose rules were already
 * checked (by `createOutboundCall`, or by a campaign at dial time). Idempotent on `id`: a second
 * call with the same id finds the row and the object already there and places nothing more,
 * which is what lets a campaign retry a dial it cannot tell went through.
 */
export async function startOutboundCall(
  env: Env,
  tenant: TenantDb,
  nowMs: number,
  input: Omit<OutboundCallInput, "agentId" | "from"> & { id: string; agent: AgentRow; number: NumberRow; concurrencyLimit: number },
): Promise<void> {
  const { id, agent, number } = input;
  const at = new Date(nowMs).toISOString();
  // An agent that handles voicemail asks the carrier for answering-machine detection unless the
  // call says otherwise; leaving a message also needs to know when the machine's greeting ends.
  const voicemail = agent.voicemail?.action ?? null;
  const machineDetection = input.settings.machineDetection ?? voicemail !== null;
  const spec: CallSpec = {
    id,
    orgId: tenant.orgId,
    agentId: agent.id,
    direction: "outbound",
    to: input.to,
    from: number.phoneNumber,
    phoneNumberId: number.id,
    provider: number.provider,
    providerCallId: null,
    joinTimeoutSeconds: input.settings.joinTimeoutSeconds ?? agent.joinTimeout ?? AGENT_DEFAULTS.joinTimeoutSeconds,
    maxDurationSeconds: input.settings.maxDurationSeconds ?? agent.maxDuration ?? AGENT_DEFAULTS.maxDurationSeconds,
    recordingEnabled: input.settings.recordingEnabled ?? agent.recordingEnabled,
    machineDetection,
    detectMessageEnd: machineDetection && voicemail === "leave_message",
    voicemail,
    concurrencyLimit: input.concurrencyLimit,
    batchCallId: input.batchCallId ?? null,
    metadata: input.metadata,
  };
  await tenant
    .insert(calls, {
      id,
      agentId: agent.id,
      direction: "outbound",
      status: "queued",
      endReason: null,
      toNumber: spec.to,
      fromNumber: spec.from,
      phoneNumberId: number.id,
      provider: number.provider,
      providerCallId: null,
      variables: input.variables,
      settings: {
        recording_enabled: spec.recordingEnabled,
        transcription_enabled: input.settings.transcriptionEnabled ?? true,
        greeting: input.settings.greeting ?? null,
        max_duration: spec.maxDurationSeconds,
        join_timeout: spec.joinTimeoutSeconds,
        machine_detection: spec.machineDetection,
      },
      metadata: input.metadata,
      batchCallId: spec.batchCallId,
      queuedAt: at,
      createdAt: at,
      updatedAt: at,
    })
    .onConflictDoNothing();
  await startOrFail(env, tenant, spec, nowMs);
}

/** If the object cannot be started, the row must not sit in `queued` forever. */
async function startOrFail(env: Env, tenant: TenantDb, spec: CallSpec, nowMs: number) {
  try {
    await callObject(env, spec.id).start(spec);
  } catch (error) {
    await tenant.update(calls, spec.id, { status: "failed", endReason: "provider_error", endedAt: new Date(nowMs).toISOString(), updatedAt: new Date(nowMs).toISOString() });
    throw error;
  }
}

/**
 * A call arriving on one of our numbers, already answered by the carrier webhook that reports it.
 * Inbound calls do not wait for a slot: the caller is already on the line.
 */
export async function createInboundCall(
  env: Env,
  input: { orgId: string; agentId: string; phoneNumberId: string; provider: "twilio" | "telnyx"; providerCallId: string; from: string; to: string },
  nowMs: number = Date.now(),
): Promise<{ callId: string }> {
  const tenant = new TenantDb(openDatabase(env.DB), input.orgId);
  // A carrier retrying its webhook must not create a second call.
  const [existing] = await tenant.findWhere(calls, eq(calls.providerCallId, input.providerCallId), eq(calls.provider, input.provider));
  if (existing) return { callId: existing.id };
  const agent = await tenant.get(agents, input.agentId, "Agent");
  if (agent.status !== "active") throw invalidField("agent_id", `Agent ${agent.id} is ${agent.status} and takes no calls`);
  const id = newId(nowMs);
  const at = new Date(nowMs).toISOString();
  const spec: CallSpec = {
    id,
    orgId: input.orgId,
    agentId: agent.id,
    direction: "inbound",
    to: input.to,
    from: input.from,
    phoneNumberId: input.phoneNumberId,
    provider: input.provider,
    providerCallId: input.providerCallId,
    joinTimeoutSeconds: agent.joinTimeout,
    maxDurationSeconds: agent.maxDuration,
    recordingEnabled: agent.recordingEnabled,
    machineDetection: false,
    concurrencyLimit: await orgCallLimit(tenant),
    batchCallId: null,
    metadata: {},
  };
  await tenant.insert(calls, {
    id,
    agentId: agent.id,
    direction: "inbound",
    status: "queued",
    endReason: null,
    toNumber: input.to,
    fromNumber: input.from,
    phoneNumberId: input.phoneNumberId,
    provider: input.provider,
    providerCallId: input.providerCallId,
    variables: {},
    settings: { recording_enabled: agent.recordingEnabled, max_duration: agent.maxDuration },
    metadata: {},
    batchCallId: null,
    queuedAt: at,
    createdAt: at,
    updatedAt: at,
  });
  await startOrFail(env, tenant, spec, nowMs);
  await reportCarrierEvent(env, id, { kind: "answered", at: nowMs, providerCallId: input.providerCallId, answeredBy: "human" });
  return { callId: id };
}

export interface WebCallInput {
  agentId: string;
  variables: Record<string, string>;
  metadata: Record<string, string>;
}

/**
 * A browser test call (`direction: webrtc`): no phone numbers and no carrier. The call takes one
 * of the org's concurrent-call slots at once, or is refused (409 `concurrency_limit_reached`,
 * nothing kept): a browser is not left waiting in line. It starts `queued` with a connect token
 * good for WEB_CALL_TOKEN_TTL_MS; the call's object ends it `failed` / `no_answer` if no browser
 * connects by then.
 */
export async function createWebCall(env: Env, tenant: TenantDb, nowMs: number, input: WebCallInput) {
  const agent = await tenant.find(agents, input.agentId);
  if (!agent) throw invalidField("agent_id", `Agent ${input.agentId} not found`);
  if (agent.status !== "active") throw invalidField("agent_id", `Agent ${input.agentId} is ${agent.status}; publish it with PATCH {"status":"active"} first`);

  const id = newId(nowMs);
  const at = new Date(nowMs).toISOString();
  const expiresAt = nowMs + WEB_CALL_TOKEN_TTL_MS;
  const spec: CallSpec = {
    id,
    orgId: tenant.orgId,
    agentId: agent.id,
    direction: "webrtc",
    to: WEB_ENDPOINT,
    from: WEB_ENDPOINT,
    phoneNumberId: null,
    provider: "web",
    providerCallId: null,
    joinTimeoutSeconds: WEB_CALL_TOKEN_TTL_MS / 1000,
    connectDeadline: expiresAt,
    maxDurationSeconds: agent.maxDuration ?? AGENT_DEFAULTS.maxDurationSeconds,
    recordingEnabled: agent.recordingEnabled,
    machineDetection: false,
    concurrencyLimit: await orgCallLimit(tenant),
    batchCallId: null,
    metadata: input.metadata,
  };
  await tenant.insert(calls, {
    id,
    agentId: agent.id,
    direction: "webrtc",
    status: "queued",
    endReason: null,
    toNumber: WEB_ENDPOINT,
    fromNumber: WEB_ENDPOINT,
    phoneNumberId: null,
    provider: "web",
    providerCallId: null,
    variables: input.variables,
    settings: { recording_enabled: spec.recordingEnabled, max_duration: spec.maxDurationSeconds, join_timeout: spec.joinTimeoutSeconds },
    metadata: input.metadata,
    batchCallId: null,
    queuedAt: at,
    createdAt: at,
    updatedAt: at,
  });
  let started: Awaited<ReturnType<ReturnType<typeof callObject>["startWeb"]>>;
  try {
    started = await callObject(env, id).startWeb(spec);
  } catch (error) {
    await tenant.update(calls, id, { status: "failed", endReason: "provider_error", endedAt: at, updatedAt: at });
    throw error;
  }
  if (!started.ok) {
    // Refused before anything happened: no call to list, no webhook.
    await tenant.delete(calls, id);
    throw new ApiError("concurrency_limit_reached", `Your organization already has ${spec.concurrencyLimit} live calls (its concurrent-call limit); try again when one ends`, {
      details: { max_concurrent_calls: spec.concurrencyLimit },
    });
  }
  return { id, token: await issueWebCallToken(env, id, tenant.orgId, expiresAt), expiresAt };
}
