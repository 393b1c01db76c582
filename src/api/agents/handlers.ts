import { asc, desc, eq, inArray, or, sql, type SQLWrapper } from "drizzle-orm";
import { sealLlmApiKey } from "../../db/llm-api-key";
import { agents, knowledgeBases, phoneNumbers, tools, voices } from "../../db/schema";
import type { TenantDb } from "../../db/tenant";
import { AGENT_DEFAULTS, agentInterruption, checkDuration, checkTemplate, parseSeconds, uniqueIds, type FieldProblem } from "../../domain/agents";
import { checkAnalysisSchema } from "../../domain/call-analysis";
import { templateVariables } from "../../domain/templating";
import { normalizeTransferDestination, type TransferDestination } from "../../domain/tool-calls";
import { checkOutboundUrl, urlPolicyFor } from "../../domain/url-safety";
import type { VoicemailSettings } from "../../domain/voicemail";
import { ok, okList } from "../../lib/envelope";
import { invalidField, notFound } from "../../lib/errors";
import { newId } from "../../lib/ids";
import type { AppRouteHandler } from "../../lib/types";
import type * as routes from "./routes";
import type { CreateAgentInput, UpdateAgentInput } from "./schemas";

type AgentRow = typeof agents.$inferSelect;
type NumberRef = { id: string; phone_number: string };

function agentView(row: AgentRow, voiceName: string | null, numbers: { inbound: NumberRef[]; outbound: NumberRef[] }) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    status: row.status,
    voice_id: row.voiceId,
    voice_name: voiceName,
    system_prompt: row.systemPrompt,
    greeting: row.greeting,
    first_speaker: row.firstSpeaker,
    variables: [...new Set([...templateVariables(row.systemPrompt), ...templateVariables(row.greeting), ...templateVariables(row.voicemail?.message)])],
    model: row.llm.model,
    temperature: row.temperature,
    language_hint: row.languageHint,
    tools: row.toolIds,
    knowledge_bases: row.knowledgeBaseIds,
    recording_enabled: row.recordingEnabled,
    max_duration: row.maxDuration,
    join_timeout: row.joinTimeout,
    inactivity_timeout: row.inactivityTimeout,
    inactivity_message: row.inactivityMessage,
    interruption: agentInterruption(row.interruption),
    max_duration_message: row.maxDurationMessage,
    // The agent's own key is write-only: only whether there is one goes out.
    llm: { provider: row.llm.provider, model: row.llm.model, base_url: row.llm.base_url ?? null, has_api_key: Boolean(row.llm.api_key_encrypted) },
    stt: row.stt,
    voicemail: row.voicemail ? { action: row.voicemail.action, message: row.voicemail.message ?? null } : null,
    transfer_destinations: row.transferDestinations ?? [],
    success_criteria: row.successCriteria,
    analysis_schema: row.analysisSchema,
    inbound_phone_numbers: numbers.inbound,
    outbound_phone_numbers: numbers.outbound,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}

/** `voiceIds` may be a subquery, so a single read can resolve an agent and its voice together. */
function voiceNamesQuery(tenant: TenantDb, voiceIds: string[] | SQLWrapper) {
  return tenant.db
    .select({ id: voices.id, name: voices.name })
    .from(voices)
    .where(tenant.scopeWithShared(voices, inArray(voices.id, voiceIds)));
}

function assignedNumbersQuery(tenant: TenantDb, agentIds: string[]) {
  return tenant.db
    .select({
      id: phoneNumbers.id,
      phoneNumber: phoneNumbers.phoneNumber,
      inboundAgentId: phoneNumbers.inboundAgentId,
      outboundAgentId: phoneNumbers.outboundAgentId,
    })
    .from(phoneNumbers)
    .where(tenant.scope(phoneNumbers, or(inArray(phoneNumbers.inboundAgentId, agentIds), inArray(phoneNumbers.outboundAgentId, agentIds))))
    .orderBy(asc(phoneNumbers.phoneNumber));
}

function assembleViews(
  rows: AgentRow[],
  voiceRows: { id: string; name: string }[],
  numberRows: { id: string; phoneNumber: string; inboundAgentId: string | null; outboundAgentId: string | null }[],
) {
  const voiceName = new Map(voiceRows.map((v) => [v.id, v.name]));
  const ref = (n: (typeof numberRows)[number]) => ({ id: n.id, phone_number: n.phoneNumber });
  return rows.map((row) =>
    agentView(row, voiceName.get(row.voiceId) ?? null, {
      inbound: numberRows.filter((n) => n.inboundAgentId === row.id).map(ref),
      outbound: numberRows.filter((n) => n.outboundAgentId === row.id).map(ref),
    }),
  );
}

/** Voice names and assigned numbers for a set of agents: two queries in one round trip, whatever the page size. */
async function loadAgentViews(tenant: TenantDb, rows: AgentRow[]) {
  if (rows.length === 0) return [];
  const [voiceRows, numberRows] = await tenant.batch([
    voiceNamesQuery(tenant, [...new Set(rows.map((r) => r.voiceId))]),
    assignedNumbersQuery(tenant, rows.map((r) => r.id)),
  ]);
  return assembleViews(rows, voiceRows, numberRows);
}

async function loadAgentView(tenant: TenantDb, row: AgentRow) {
  const [view] = await loadAgentViews(tenant, [row]);
  return view;
}

function fail(problem: FieldProblem | undefined) {
  if (problem) throw invalidField(problem.field, problem.reason);
}

/**
 * Checks that the referenced voice, tools and knowledge bases exist for this org (the catalogue
 * counts for voices). Another org's id is reported exactly like a missing one.
 */
async function checkReferences(tenant: TenantDb, refs: { voiceId?: string; toolIds?: string[]; knowledgeBaseIds?: string[] }) {
  if (refs.voiceId !== undefined) {
    const voice = await tenant.find(voices, refs.voiceId, { shared: true });
    if (!voice) throw invalidField("voice_id", `Voice ${refs.voiceId} not found; see GET /voices`);
    if (voice.status !== "active") throw invalidField("voice_id", `Voice ${refs.voiceId} is ${voice.status}, not active`);
  }
  for (const [field, table, ids, label] of [
    ["tools", tools, refs.toolIds, "Tool"],
    ["knowledge_bases", knowledgeBases, refs.knowledgeBaseIds, "Knowledge base"],
  ] as const) {
    if (!ids?.length) continue;
    const found = new Set((await tenant.findWhere(table, inArray(table.id, ids))).map((r) => r.id));
    const index = ids.findIndex((id) => !found.has(id));
    if (index !== -1) throw invalidField(`${field}.${index}`, `${label} ${ids[index]} not found`);
  }
}

/** Shared validation of the fields a create or an update may carry, beyond what zod checks. */
function checkAgentFields(input: UpdateAgentInput, env: { SIMULATOR_ENABLED?: string }) {
  if (input.max_duration !== undefined) fail(checkDuration("max_duration", parseSeconds(input.max_duration)));
  if (input.join_timeout !== undefined) fail(checkDuration("join_timeout", parseSeconds(input.join_timeout)));
  fail(checkTemplate("system_prompt", input.system_prompt));
  fail(checkTemplate("greeting", input.greeting));
  if (input.knowledge_bases !== undefined && input.knowledge_base_ids !== undefined) {
    throw invalidField("knowledge_base_ids", "Send either knowledge_bases or knowledge_base_ids, not both");
  }
  if (input.voicemail) {
    if (input.voicemail.action === "leave_message" && !input.voicemail.message) {
      throw invalidField("voicemail.message", 'Required with action "leave_message": the message said after the beep');
    }
    fail(checkTemplate("voicemail.message", input.voicemail.message));
  }
  if (input.analysis_schema) fail(checkAnalysisSchema(input.analysis_schema));
  // The worker fetches base_url with the agent's key: the same outbound policy as webhook and tool URLs.
  if (input.llm?.base_url) {
    const checked = checkOutboundUrl(input.llm.base_url, urlPolicyFor(env));
    if (!checked.ok) throw invalidField("llm.base_url", checked.reason);
  }
}

type StoredLlm = AgentRow["llm"];

/**
 * The stored `llm` for the settings sent: `api_key` sealed; omitted keeps the stored key (like
 * any field not sent), null removes it.
 */
async function storedLlm(env: { ENCRYPTION_KEY: string }, input: NonNullable<UpdateAgentInput["llm"]>, current: StoredLlm | null): Promise<StoredLlm> {
  const { api_key, ...settings } = input;
  const sealed = api_key === undefined ? current?.api_key_encrypted : api_key === null ? undefined : await sealLlmApiKey(env, api_key);
  return sealed ? { ...settings, api_key_encrypted: sealed } : settings;
}

/** The stored transfer destinations: each checked and normalized (E.164), listed once. */
function transferDestinations(input: UpdateAgentInput["transfer_destinations"]): TransferDestination[] | undefined {
  if (input === undefined) return undefined;
  const out: TransferDestination[] = [];
  for (const [i, item] of input.entries()) {
    const normalized = normalizeTransferDestination(item.destination);
    if (!normalized.ok) throw invalidField(`transfer_destinations.${i}.destination`, normalized.error);
    if (out.some((d) => d.destination === normalized.value)) throw invalidField(`transfer_destinations.${i}.destination`, `${normalized.value} is listed twice`);
    out.push({ destination: normalized.value, description: item.description ?? null });
  }
  return out;
}

/** The stored form of the `voicemail` setting (null turns voicemail handling off). */
const voicemailSettings = (input: UpdateAgentInput["voicemail"]): VoicemailSettings | null | undefined =>
  input === undefined ? undefined : input === null ? null : { action: input.action, message: input.message ?? null };

export const listAgents: AppRouteHandler<typeof routes.listAgents> = async (c) => {
  const { limit, offset, status, name } = c.req.valid("query");
  const tenant = c.get("tenant");
  const { rows, total } = await tenant.list(agents, {
    where: [
      status ? eq(agents.status, status) : undefined,
      name ? sql`instr(lower(${agents.name}), ${name.toLowerCase()}) > 0` : undefined,
    ],
    orderBy: [desc(agents.createdAt), desc(agents.id)],
    limit,
    offset,
  });
  return okList(c, await loadAgentViews(tenant, rows), { total, limit, offset });
};

/** The agent, its voice's name and its numbers in one D1 round trip: this is the hottest read. */
export const getAgent: AppRouteHandler<typeof routes.getAgent> = async (c) => {
  const { id } = c.req.valid("param");
  const tenant = c.get("tenant");
  const byId = tenant.scope(agents, eq(agents.id, id));
  const [rows, voiceRows, numberRows] = await tenant.batch([
    tenant.db.select().from(agents).where(byId).limit(1),
    voiceNamesQuery(tenant, tenant.db.select({ voiceId: agents.voiceId }).from(agents).where(byId)),
    assignedNumbersQuery(tenant, [id]),
  ]);
  if (rows.length === 0) throw notFound("Agent", id);
  return ok(c, assembleViews(rows, voiceRows, numberRows)[0]);
};

export const createAgent: AppRouteHandler<typeof routes.createAgent> = async (c) => {
  const input: CreateAgentInput = c.req.valid("json");
  checkAgentFields(input, c.env);
  const tenant = c.get("tenant");
  const toolIds = uniqueIds(input.tools ?? []);
  const knowledgeBaseIds = uniqueIds(input.knowledge_bases ?? input.knowledge_base_ids ?? []);
  await checkReferences(tenant, { voiceId: input.voice_id, toolIds, knowledgeBaseIds });

  const now = c.get("clock").now();
  const at = new Date(now).toISOString();
  const llm = input.llm ? await storedLlm(c.env, input.llm, null) : { ...AGENT_DEFAULTS.llm, model: input.model ?? AGENT_DEFAULTS.llm.model };
  const [row] = await tenant
    .insert(agents, {
      id: newId(now),
      name: input.name,
      description: input.description ?? null,
      status: input.status ?? "active",
      voiceId: input.voice_id,
      systemPrompt: input.system_prompt,
      greeting: input.greeting ?? null,
      firstSpeaker: input.first_speaker ?? AGENT_DEFAULTS.firstSpeaker,
      model: llm.model,
      temperature: input.temperature ?? AGENT_DEFAULTS.temperature,
      languageHint: input.language_hint ?? null,
      toolIds,
      knowledgeBaseIds,
      recordingEnabled: input.recording_enabled ?? AGENT_DEFAULTS.recordingEnabled,
      maxDuration: input.max_duration !== undefined ? parseSeconds(input.max_duration) : AGENT_DEFAULTS.maxDurationSeconds,
      joinTimeout: input.join_timeout !== undefined ? parseSeconds(input.join_timeout) : AGENT_DEFAULTS.joinTimeoutSeconds,
      inactivityTimeout: input.inactivity_timeout ?? AGENT_DEFAULTS.inactivityTimeoutSeconds,
      inactivityMessage: input.inactivity_message ?? null,
      interruption: input.interruption ? agentInterruption(null, input.interruption) : null,
      maxDurationMessage: input.max_duration_message ?? null,
      voicemail: voicemailSettings(input.voicemail) ?? null,
      transferDestinations: transferDestinations(input.transfer_destinations) ?? [],
      successCriteria: input.success_criteria ?? null,
      analysisSchema: input.analysis_schema ?? null,
      llm,
      stt: input.stt ?? AGENT_DEFAULTS.stt,
      createdAt: at,
      updatedAt: at,
    })
    .returning();
  return ok(c, await loadAgentView(tenant, row), 201);
};

/** PUT and PATCH are both partial, as Truedy's PUT is: only the fields sent change. */
export const updateAgent: AppRouteHandler<typeof routes.updateAgent> = async (c) => {
  const id = c.req.valid("param").id;
  const input: UpdateAgentInput = c.req.valid("json");
  const tenant = c.get("tenant");
  const current = await tenant.get(agents, id, "Agent");
  checkAgentFields(input, c.env);
  const toolIds = input.tools === undefined ? undefined : uniqueIds(input.tools);
  const kbInput = input.knowledge_bases ?? input.knowledge_base_ids;
  const knowledgeBaseIds = kbInput === undefined ? undefined : uniqueIds(kbInput);
  await checkReferences(tenant, { voiceId: input.voice_id, toolIds, knowledgeBaseIds });

  // `model` is shorthand for `llm.model`; an explicit `llm` wins.
  const llm = input.llm ? await storedLlm(c.env, input.llm, current.llm) : input.model !== undefined ? { ...current.llm, model: input.model } : undefined;
  const [row] = await tenant
    .update(agents, id, {
      name: input.name,
      description: input.description,
      status: input.status,
      voiceId: input.voice_id,
      systemPrompt: input.system_prompt,
      greeting: input.greeting,
      firstSpeaker: input.first_speaker,
      model: llm?.model,
      temperature: input.temperature,
      languageHint: input.language_hint,
      toolIds,
      knowledgeBaseIds,
      recordingEnabled: input.recording_enabled,
      maxDuration: input.max_duration === undefined ? undefined : parseSeconds(input.max_duration),
      joinTimeout: input.join_timeout === undefined ? undefined : parseSeconds(input.join_timeout),
      inactivityTimeout: input.inactivity_timeout,
      inactivityMessage: input.inactivity_message,
      interruption: input.interruption ? agentInterruption(current.interruption, input.interruption) : undefined,
      maxDurationMessage: input.max_duration_message,
      voicemail: voicemailSettings(input.voicemail),
      transferDestinations: transferDestinations(input.transfer_destinations),
      successCriteria: input.success_criteria,
      analysisSchema: input.analysis_schema,
      llm,
      stt: input.stt,
      updatedAt: new Date(c.get("clock").now()).toISOString(),
    })
    .returning();
  return ok(c, await loadAgentView(tenant, row));
};

/** Deleting an agent frees its numbers (they stay in the org, unassigned) in the same transaction. */
export const deleteAgent: AppRouteHandler<typeof routes.deleteAgent> = async (c) => {
  const id = c.req.valid("param").id;
  const tenant = c.get("tenant");
  await tenant.get(agents, id, "Agent");
  const at = new Date(c.get("clock").now()).toISOString();
  await tenant.batch([
    tenant.updateWhere(phoneNumbers, { inboundAgentId: null, updatedAt: at }, eq(phoneNumbers.inboundAgentId, id)),
    tenant.updateWhere(phoneNumbers, { outboundAgentId: null, updatedAt: at }, eq(phoneNumbers.outboundAgentId, id)),
    tenant.delete(agents, id),
  ]);
  return ok(c, { id, deleted: true as const });
};
