import { sql } from "drizzle-orm";
import { blob, index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { AgentInterruption } from "../domain/agents";
import { ANALYSIS_STATUSES, type CallAnalysis } from "../domain/call-analysis";
import type { CampaignStats, CampaignStatus, RetryPolicy, RotationStrategy } from "../domain/campaigns";
import type { ToolDefinition } from "../domain/tools";
import type { TransferDestination } from "../domain/tool-calls";
import type { VoicemailSettings } from "../domain/voicemail";
import type { CallLatency } from "../voice/session-rules";

/**
 * The whole D1 schema. Every tenant table carries `org_id`; all access to those tables goes
 * through `TenantDb` (src/db/tenant.ts), which adds the org condition to every statement.
 * Timestamps are ISO-8601 UTC strings; JSON columns are text with `mode: "json"`.
 */

const timestamps = {
  createdAt: text("created_at").notNull(),
  updatedAt: text("updated_at").notNull(),
};

export const organizations = sqliteTable("organizations", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  /** Overrides RATE_LIMIT_PER_MINUTE for this org when set. */
  rateLimitPerMinute: integer("rate_limit_per_minute"),
  maxConcurrentCalls: integer("max_concurrent_calls").notNull().default(10),
  ...timestamps,
});

export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => organizations.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    keyHash: text("key_hash").notNull(),
    /** First characters and last four, enough for a person to recognise a key in a list. */
    prefix: text("prefix").notNull(),
    last4: text("last4").notNull(),
    lastUsedAt: text("last_used_at"),
    revokedAt: text("revoked_at"),
    createdAt: text("created_at").notNull(),
  },
  (t) => [uniqueIndex("api_keys_hash_idx").on(t.keyHash), index("api_keys_org_idx").on(t.orgId)],
);

export const idempotencyKeys = sqliteTable(
  "idempotency_keys",
  {
    orgId: text("org_id").notNull(),
    route: text("route").notNull(),
    key: text("key").notNull(),
    requestHash: text("request_hash").notNull(),
    state: text("state", { enum: ["in_progress", "done"] }).notNull(),
    lockedUntil: integer("locked_until").notNull(),
    responseStatus: integer("response_status"),
    responseBody: text("response_body"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.route, t.key] }), index("idempotency_created_idx").on(t.createdAt)],
);

/** Platform catalogue rows have a null `org_id` and are readable by every org. */
export const voices = sqliteTable(
  "voices",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id"),
    name: text("name").notNull(),
    provider: text("provider", { enum: ["elevenlabs", "deepgram", "cartesia", "openai"] }).notNull(),
    providerVoiceId: text("provider_voice_id").notNull(),
    type: text("type", { enum: ["system", "reference", "custom"] }).notNull(),
    language: text("language"),
    gender: text("gender"),
    description: text("description"),
    status: text("status", { enum: ["active", "training", "failed"] }).notNull(),
    /** Cloning (src/api/voices/training.ts): the attempt last claimed against ElevenLabs. */
    trainingAttempts: integer("training_attempts").notNull().default(0),
    /** While training: when the next attempt is due (or the current one's lease ends); the cron sweep re-sends overdue ones. */
    trainingNextAttemptAt: text("training_next_attempt_at"),
    /** Why the clone failed (or, while still training, why the last attempt did). */
    trainingError: text("training_error"),
    ...timestamps,
  },
  (t) => [
    index("voices_org_idx").on(t.orgId, t.name),
    // An org imports a provider voice once. Catalogue rows have a NULL org_id, which SQLite
    // treats as distinct, so the catalogue never collides with an org's import. A clone has no
    // provider id ('') until ElevenLabs made it, so those rows are left out.
    uniqueIndex("voices_org_provider_voice_idx")
      .on(t.orgId, t.provider, t.providerVoiceId)
      .where(sql`provider_voice_id <> ''`),
    index("voices_training_idx").on(t.status, t.trainingNextAttemptAt),
  ],
);

export const agents = sqliteTable(
  "agents",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull(),
    name: text("name").notNull(),
    description: text("description"),
    status: text("status", { enum: ["active", "draft", "creating", "failed"] }).notNull(),
    voiceId: text("voice_id").notNull(),
    systemPrompt: text("system_prompt").notNull(),
    greeting: text("greeting"),
    /** Whether the agent speaks first or waits for the callee. */
    firstSpeaker: text("first_speaker", { enum: ["agent", "user"] }).notNull().default("agent"),
    model: text("model").notNull(),
    temperature: real("temperature").notNull(),
    languageHint: text("language_hint"),
    toolIds: text("tool_ids", { mode: "json" }).$type<string[]>().notNull(),
    knowledgeBaseIds: text("knowledge_base_ids", { mode: "json" }).$type<string[]>().notNull(),
    recordingEnabled: integer("recording_enabled", { mode: "boolean" }).notNull(),
    maxDuration: integer("max_duration").notNull(),
    joinTimeout: integer("join_timeout").notNull(),
    inactivityTimeout: integer("inactivity_timeout").notNull(),
    inactivityMessage: text("inactivity_message"),
    /** Barge-in settings; null: the defaults (DESIGN.md "Voice loop contracts"). */
    interruption: text("interruption", { mode: "json" }).$type<AgentInterruption>(),
    /** Said when max_duration is near, before the agent hangs up; null: the default line. */
    maxDurationMessage: text("max_duration_message"),
    /** What to do when a machine answers (src/domain/voicemail.ts); null: no voicemail handling. */
    voicemail: text("voicemail", { mode: "json" }).$type<VoicemailSettings>(),
    /** Where transfer_call may send a call (src/domain/tool-calls.ts); null or empty: no transfers. */
    transferDestinations: text("transfer_destinations", { mode: "json" }).$type<TransferDestination[]>(),
    /** Post-call analysis: what makes a call a success (the `success` verdict); null: no verdict. */
    successCriteria: text("success_criteria"),
    /** Post-call analysis: a JSON Schema (type object) of the structured data taken from each call. */
    analysisSchema: text("analysis_schema", { mode: "json" }).$type<Record<string, unknown>>(),
    /** `api_key_encrypted`: the agent's own LLM key, sealed (src/db/llm-api-key.ts), never returned. */
    llm: text("llm", { mode: "json" }).$type<{ provider: "openai"; model: string; base_url?: string | null; api_key_encrypted?: string }>().notNull(),
    stt: text("stt", { mode: "json" })
      .$type<{ provider: "deepgram" | "openai"; model: string; endpointing_ms?: number; language?: string | null }>()
      .notNull(),
    ...timestamps,
  },
  (t) => [index("agents_org_idx").on(t.orgId, t.createdAt)],
);

export const tools = sqliteTable(
  "tools",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull(),
    name: text("name").notNull(),
    modelToolName: text("model_tool_name").notNull(),
    description: text("description"),
    definition: text("definition", { mode: "json" }).$type<ToolDefinition>().notNull(),
    /**
     * AES-GCM sealed JSON `{requirement name: key}`: the values of the definition's API-key
     * requirements, used when the tool is called and never returned by the API.
     */
    authTokensEncrypted: text("auth_tokens_encrypted"),
    ...timestamps,
  },
  (t) => [index("tools_org_idx").on(t.orgId, t.createdAt)],
);

export const knowledgeBases = sqliteTable(
  "knowledge_bases",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull(),
    name: text("name").notNull(),
    description: text("description"),
    embeddingModel: text("embedding_model"),
    ...timestamps,
  },
  (t) => [index("knowledge_bases_org_idx").on(t.orgId, t.createdAt)],
);

export const knowledgeSources = sqliteTable(
  "knowledge_sources",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull(),
    knowledgeBaseId: text("knowledge_base_id")
      .notNull()
      .references(() => knowledgeBases.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    description: text("description"),
    kind: text("kind", { enum: ["document", "web"] }).notNull(),
    status: text("status", { enum: ["processing", "ready", "failed"] }).notNull(),
    error: text("error"),
    fileName: text("file_name"),
    contentType: text("content_type"),
    sizeBytes: integer("size_bytes"),
    /** R2 object key of an uploaded document. */
    objectKey: text("object_key"),
    urls: text("urls", { mode: "json" }).$type<string[]>(),
    /** Web sources: how far the crawl follows same-site links. */
    crawl: text("crawl", { mode: "json" }).$type<{ max_depth: number; max_pages: number }>(),
    chunkCount: integer("chunk_count").notNull().default(0),
    /** PDF pages read, or web pages indexed, by the last ingestion; null for other documents. */
    pageCount: integer("page_count"),
    /**
     * Changes every time an ingestion is queued; a queue message carries the token it was sent
     * with, and its writes only land while the token is still current (src/knowledge/store.ts).
     */
    ingestToken: text("ingest_token"),
    ...timestamps,
  },
  (t) => [
    index("knowledge_sources_kb_idx").on(t.orgId, t.knowledgeBaseId),
    // The cron's look for stuck ingestions (src/knowledge/sweep.ts) reads only this.
    index("knowledge_sources_processing_idx")
      .on(t.updatedAt)
      .where(sql`${t.status} = 'processing'`),
  ],
);

/**
 * The indexed text of the sources: ~800-character overlapping chunks. `id` is the rowid that the
 * FTS5 index `knowledge_chunks_fts` (migration 0011, kept in sync by triggers) points at.
 * `embedding` is a float32 vector (little-endian, unit length) when the knowledge base has an
 * embedding model. Written and searched by src/knowledge/store.ts, always scoped by org_id.
 */
export const knowledgeChunks = sqliteTable(
  "knowledge_chunks",
  {
    id: integer("id").primaryKey(),
    orgId: text("org_id").notNull(),
    knowledgeBaseId: text("knowledge_base_id")
      .notNull()
      .references(() => knowledgeBases.id, { onDelete: "cascade" }),
    sourceId: text("source_id")
      .notNull()
      .references(() => knowledgeSources.id, { onDelete: "cascade" }),
    ordinal: integer("ordinal").notNull(),
    text: text("text").notNull(),
    /** The page a web chunk came from. */
    url: text("url"),
    embedding: blob("embedding", { mode: "buffer" }),
    createdAt: text("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("knowledge_chunks_source_ordinal_idx").on(t.sourceId, t.ordinal),
    index("knowledge_chunks_kb_idx").on(t.orgId, t.knowledgeBaseId),
  ],
);

export const contactFolders = sqliteTable(
  "contact_folders",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull(),
    name: text("name").notNull(),
    description: text("description"),
    /** The folder an import without `folder_id` lands in; at most one per org. */
    isDefault: integer("is_default", { mode: "boolean" }).notNull().default(false),
    ...timestamps,
  },
  (t) => [
    index("contact_folders_org_idx").on(t.orgId, t.createdAt),
    uniqueIndex("contact_folders_default_idx").on(t.orgId).where(sql`is_default = 1`),
  ],
);

export const contacts = sqliteTable(
  "contacts",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull(),
    folderId: text("folder_id")
      .notNull()
      .references(() => contactFolders.id, { onDelete: "cascade" }),
    phoneNumber: text("phone_number").notNull(),
    firstName: text("first_name"),
    lastName: text("last_name"),
    email: text("email"),
    companyName: text("company_name"),
    industry: text("industry"),
    location: text("location"),
    pinCode: text("pin_code"),
    keywords: text("keywords"),
    timezone: text("timezone"),
    customFields: text("custom_fields", { mode: "json" }).$type<Record<string, string>>().notNull(),
    callCount: integer("call_count").notNull().default(0),
    lastCalledAt: text("last_called_at"),
    lastCallOutcome: text("last_call_outcome", {
      enum: ["contacted", "voicemail", "no_answer", "escalated", "interested", "not_interested"],
    }),
    /** The contact asked not to be called. Set together with its number's DNC entry, which is what refuses calls to it. */
    optedOut: integer("opted_out", { mode: "boolean" }).notNull().default(false),
    optedOutAt: text("opted_out_at"),
    ...timestamps,
  },
  (t) => [
    uniqueIndex("contacts_folder_phone_idx").on(t.orgId, t.folderId, t.phoneNumber),
    index("contacts_org_created_idx").on(t.orgId, t.createdAt),
    // Listing one folder newest first (the folder page, campaign selection) without sorting it.
    index("contacts_folder_created_idx").on(t.orgId, t.folderId, t.createdAt),
    index("contacts_org_phone_idx").on(t.orgId, t.phoneNumber),
  ],
);

export const phoneNumbers = sqliteTable(
  "phone_numbers",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull(),
    phoneNumber: text("phone_number").notNull(),
    provider: text("provider", { enum: ["twilio", "telnyx", "custom_sip", "simulator"] }).notNull(),
    /** `managed`: bought through Truedy on the platform account; `byoc`: the customer's own. */
    ownership: text("ownership", { enum: ["managed", "byoc"] }).notNull(),
    friendlyName: text("friendly_name"),
    /** The carrier's id for the number (Twilio PN… SID, Telnyx number id or order id). */
    providerNumberId: text("provider_number_id"),
    /** AES-GCM sealed JSON of BYOC credentials; never returned by the API. */
    credentialsEncrypted: text("credentials_encrypted"),
    sipServer: text("sip_server"),
    inboundAgentId: text("inbound_agent_id"),
    outboundAgentId: text("outbound_agent_id"),
    capabilities: text("capabilities", { mode: "json" }).$type<string[]>().notNull(),
    ...timestamps,
  },
  (t) => [
    uniqueIndex("phone_numbers_number_idx").on(t.phoneNumber),
    index("phone_numbers_org_idx").on(t.orgId, t.createdAt),
    index("phone_numbers_inbound_agent_idx").on(t.orgId, t.inboundAgentId),
    index("phone_numbers_outbound_agent_idx").on(t.orgId, t.outboundAgentId),
  ],
);

/**
 * A customer's webhook receiver. Secrets must be recovered to sign, so they are sealed with
 * AES-GCM (ENCRYPTION_KEY) rather than hashed. After a rotation the previous secret keeps signing
 * until `previous_secret_expires_at`.
 */
export const webhookEndpoints = sqliteTable(
  "webhook_endpoints",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull(),
    url: text("url").notNull(),
    description: text("description"),
    /** Event names, or `["*"]` for all. */
    events: text("events", { mode: "json" }).$type<string[]>().notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull(),
    secretEncrypted: text("secret_encrypted").notNull(),
    previousSecretEncrypted: text("previous_secret_encrypted"),
    previousSecretExpiresAt: text("previous_secret_expires_at"),
    /** Start of the current unbroken run of failed attempts; cleared by any success. */
    failingSince: text("failing_since"),
    disabledReason: text("disabled_reason"),
    ...timestamps,
  },
  (t) => [index("webhook_endpoints_org_idx").on(t.orgId, t.createdAt)],
);

/**
 * The outbox: one row per event, written in the same D1 batch as the change that caused it.
 * `dispatched_at` is set once deliveries exist for every subscribed endpoint; the cron sweep
 * re-enqueues rows where it is still null.
 */
export const events = sqliteTable(
  "events",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull(),
    type: text("type").notNull(),
    data: text("data", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    /** Set for events meant for one endpoint only (`webhook.test`); otherwise subscriptions decide. */
    endpointId: text("endpoint_id"),
    createdAt: text("created_at").notNull(),
    dispatchedAt: text("dispatched_at"),
  },
  (t) => [index("events_org_created_idx").on(t.orgId, t.createdAt), index("events_undispatched_idx").on(t.dispatchedAt, t.createdAt)],
);

/** One event on its way to one endpoint. */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull(),
    endpointId: text("endpoint_id")
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: "cascade" }),
    eventId: text("event_id").notNull(),
    eventType: text("event_type").notNull(),
    status: text("status", { enum: ["pending", "succeeded", "failed"] }).notNull(),
    attemptCount: integer("attempt_count").notNull().default(0),
    /** Attempts before this one belong to earlier rounds; a replay starts a fresh retry schedule. */
    roundStartAttempt: integer("round_start_attempt").notNull().default(0),
    /** When the queued message for the next attempt is due; the sweep re-enqueues long-overdue ones. */
    nextAttemptAt: text("next_attempt_at"),
    ...timestamps,
  },
  (t) => [
    uniqueIndex("webhook_deliveries_endpoint_event_idx").on(t.endpointId, t.eventId),
    index("webhook_deliveries_endpoint_created_idx").on(t.orgId, t.endpointId, t.createdAt),
    index("webhook_deliveries_pending_idx").on(t.status, t.nextAttemptAt),
  ],
);

/** Every HTTP attempt of a delivery, for the customer's delivery log. */
export const webhookAttempts = sqliteTable(
  "webhook_attempts",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull(),
    deliveryId: text("delivery_id")
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: "cascade" }),
    attempt: integer("attempt").notNull(),
    at: text("at").notNull(),
    requestHeaders: text("request_headers", { mode: "json" }).$type<Record<string, string>>().notNull(),
    responseStatus: integer("response_status"),
    responseBody: text("response_body"),
    durationMs: integer("duration_ms").notNull(),
    error: text("error"),
  },
  (t) => [uniqueIndex("webhook_attempts_delivery_idx").on(t.deliveryId, t.attempt)],
);

/**
 * The D1 mirror of each call, for listing and filtering. The CallDO owns the truth and writes
 * this row on every transition (together with the webhook events the transition emits).
 */
export const calls = sqliteTable(
  "calls",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull(),
    agentId: text("agent_id").notNull(),
    /** `webrtc`: a browser test call (POST /calls/web); it has no phone numbers (`to`/`from` are "web"). */
    direction: text("direction", { enum: ["outbound", "inbound", "webrtc"] }).notNull(),
    status: text("status", { enum: ["queued", "ringing", "in_progress", "completed", "failed", "cancelled"] }).notNull(),
    endReason: text("end_reason"),
    toNumber: text("to_number").notNull(),
    fromNumber: text("from_number").notNull(),
    phoneNumberId: text("phone_number_id"),
    /** `web` for browser calls: no carrier. */
    provider: text("provider", { enum: ["twilio", "telnyx", "custom_sip", "simulator", "web"] }).notNull(),
    providerCallId: text("provider_call_id"),
    variables: text("variables", { mode: "json" }).$type<Record<string, string>>().notNull(),
    settings: text("settings", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    metadata: text("metadata", { mode: "json" }).$type<Record<string, string>>().notNull(),
    batchCallId: text("batch_call_id"),
    answeredBy: text("answered_by"),
    durationSeconds: integer("duration_seconds"),
    costCredits: real("cost_credits"),
    recordingKey: text("recording_key"),
    recordingUrl: text("recording_url"),
    /** Per-turn voice latency, written when the call ends (the CallDO keeps it while live). */
    latency: text("latency", { mode: "json" }).$type<CallLatency>(),
    /** Post-call analysis (src/calls/analysis.ts); null for calls that were never answered. */
    analysis: text("analysis", { mode: "json" }).$type<CallAnalysis>(),
    /** `analysis.status`, as a column: the sweep finds pending analyses by it. */
    analysisStatus: text("analysis_status", { enum: ANALYSIS_STATUSES }),
    /** The analysis attempt last claimed (a queue message carries the attempt it makes). */
    analysisAttempts: integer("analysis_attempts").notNull().default(0),
    /** While pending: when the next attempt is due (or the running one's lease ends); the cron sweep re-sends overdue ones. */
    analysisNextAttemptAt: text("analysis_next_attempt_at"),
    queuedAt: text("queued_at").notNull(),
    ringingAt: text("ringing_at"),
    startedAt: text("started_at"),
    endedAt: text("ended_at"),
    ...timestamps,
  },
  (t) => [
    index("calls_org_created_idx").on(t.orgId, t.createdAt),
    index("calls_org_status_idx").on(t.orgId, t.status, t.createdAt),
    index("calls_org_agent_idx").on(t.orgId, t.agentId, t.createdAt),
    // A campaign's calls, also by time (analytics per day, the campaign_id filter over a range).
    index("calls_org_batch_created_idx").on(t.orgId, t.batchCallId, t.createdAt),
    // The org-wide attempts-per-number cap counts a number's recent campaign calls.
    index("calls_org_to_created_idx").on(t.orgId, t.toNumber, t.createdAt),
    index("calls_provider_call_idx").on(t.providerCallId),
    index("calls_analysis_pending_idx").on(t.analysisStatus, t.analysisNextAttemptAt),
  ],
);

/** The org's do-not-call list. Numbers are E.164, compared exactly after normalisation. */
export const dncNumbers = sqliteTable(
  "dnc_numbers",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull(),
    phoneNumber: text("phone_number").notNull(),
    reason: text("reason"),
    source: text("source", { enum: ["api", "opt_out", "import"] }).notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [uniqueIndex("dnc_org_phone_idx").on(t.orgId, t.phoneNumber)],
);

/**
 * Campaigns (batch calls). The CampaignDO owns each campaign: its contacts live in the object's
 * own SQLite, and this row is the object's mirror for listing and reading, rewritten by the
 * object on every change (never by a handler directly).
 */
export const batchCalls = sqliteTable(
  "batch_calls",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull(),
    name: text("name").notNull(),
    status: text("status").$type<CampaignStatus>().notNull(),
    /** Why the campaign failed, or was paused by the platform rather than by a person. */
    statusReason: text("status_reason"),
    agentId: text("agent_id").notNull(),
    phoneNumberIds: text("phone_number_ids", { mode: "json" }).$type<string[] | null>(),
    phoneRotationStrategy: text("phone_rotation_strategy").$type<RotationStrategy>().notNull(),
    contactSource: text("contact_source", { enum: ["csv", "folder", "manual"] }).notNull(),
    contactFolderId: text("contact_folder_id"),
    scheduleType: text("schedule_type", { enum: ["immediate", "scheduled"] }).notNull(),
    scheduledAt: text("scheduled_at"),
    timezone: text("timezone").notNull(),
    startTime: text("start_time"),
    endTime: text("end_time"),
    workingDays: text("working_days", { mode: "json" }).$type<number[]>().notNull(),
    maxConcurrentCalls: integer("max_concurrent_calls").notNull(),
    maxCallsPerDay: integer("max_calls_per_day"),
    maxCallsPerNumberPerDay: integer("max_calls_per_number_per_day"),
    retryFailed: integer("retry_failed", { mode: "boolean" }).notNull(),
    maxRetryAttempts: integer("max_retry_attempts").notNull(),
    retryPolicy: text("retry_policy", { mode: "json" }).$type<RetryPolicy>().notNull(),
    respectRecipientTimezone: integer("respect_recipient_timezone", { mode: "boolean" }).notNull(),
    totalContacts: integer("total_contacts").notNull(),
    stats: text("stats", { mode: "json" }).$type<CampaignStats>().notNull(),
    startedAt: text("started_at"),
    pausedAt: text("paused_at"),
    completedAt: text("completed_at"),
    cancelledAt: text("cancelled_at"),
    ...timestamps,
  },
  (t) => [index("batch_calls_org_created_idx").on(t.orgId, t.createdAt), index("batch_calls_org_status_idx").on(t.orgId, t.status, t.createdAt)],
);

/**
 * Dashboard sign-ins (src/dashboard/session.ts). The id is the SHA-256 of the cookie's token, so
 * a leaked table cannot be replayed; the API key is sealed with ENCRYPTION_KEY because the
 * dashboard calls the public API with it on every page.
 */
export const dashboardSessions = sqliteTable(
  "dashboard_sessions",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => organizations.id, { onDelete: "cascade" }),
    apiKeyId: text("api_key_id").notNull().references(() => apiKeys.id, { onDelete: "cascade" }),
    apiKeyEncrypted: text("api_key_encrypted").notNull(),
    csrfToken: text("csrf_token").notNull(),
    createdAt: text("created_at").notNull(),
    expiresAt: text("expires_at").notNull(),
    lastSeenAt: text("last_seen_at").notNull(),
  },
  (t) => [index("dashboard_sessions_api_key_idx").on(t.apiKeyId), index("dashboard_sessions_expires_idx").on(t.expiresAt)],
);
