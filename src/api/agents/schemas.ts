import { z } from "@hono/zod-openapi";
import { MAX_TRANSFER_DESTINATIONS } from "../../domain/tool-calls";
import { VOICEMAIL_ACTIONS } from "../../domain/voicemail";
import { LimitOffsetQuery } from "../../lib/openapi";

export const AGENT_STATUSES = ["active", "draft", "creating", "failed"] as const;

/** Seconds as an integer, or Truedy's call-settings spelling `"1800s"`. */
const Seconds = z
  .union([z.number().int().min(0), z.string().regex(/^\d+s$/, 'Must be whole seconds, e.g. 30 or "30s"')])
  .openapi({ example: 1800, description: 'Seconds, as an integer or a string like "1800s"' });

const LlmProvider = z.literal("openai").openapi({ description: "Any OpenAI-compatible chat-completions server" });
const LlmModel = z.string().trim().min(1).max(200).openapi({ example: "gpt-4o-mini" });

const LlmSettings = z
  .object({
    provider: LlmProvider,
    model: LlmModel,
    base_url: z.url({ protocol: /^https?$/ }).max(2048).nullable().optional().openapi({
      description:
        "Overrides OPENAI_BASE_URL for this agent (include the /v1 suffix). Must be https with a public host, as webhook and tool URLs. The platform's own key is sent only to OPENAI_BASE_URL's origin: another server gets the agent's `api_key`, or no Authorization header when it has none",
      example: "https://api.openai.com/v1",
    }),
    api_key: z.string().trim().min(1).max(500).nullable().optional().openapi({
      description:
        "Write-only: the key sent as `Authorization: Bearer` to this agent's LLM server (stored encrypted, never returned; responses show `has_api_key`). On update, omitted keeps the stored key and `null` removes it",
      example: "sk-…",
    }),
  })
  .openapi("LlmSettings");

const LlmSettingsView = z
  .object({
    provider: LlmProvider,
    model: LlmModel,
    base_url: z.string().nullable().optional().openapi({ description: "The agent's LLM server; absent or null: OPENAI_BASE_URL" }),
    has_api_key: z.boolean().openapi({ description: "Whether the agent has its own `api_key` (the key itself is never returned)" }),
  })
  .openapi("LlmSettingsView");

const SttSettings = z
  .object({
    provider: z.enum(["deepgram", "openai"]),
    model: z.string().trim().min(1).max(200).openapi({ example: "nova-3" }),
    endpointing_ms: z.number().int().min(10).max(5000).optional().openapi({
      description: "Silence (ms) that ends a caller's turn",
      example: 300,
    }),
    language: z.string().max(35).nullable().optional().openapi({ example: "en-US" }),
  })
  .openapi("SttSettings");

const InterruptionSettings = z
  .object({
    enabled: z.boolean().optional().openapi({ description: "false: the agent always finishes what it is saying (default true)" }),
    min_words: z.number().int().min(1).max(10).optional().openapi({
      description: 'Words from the caller that stop the agent; fillers ("okay", "mm-hmm") never count (default 2)',
      example: 2,
    }),
    min_speech_ms: z.number().int().min(100).max(5000).optional().openapi({
      description: "Voiced caller audio (ms) that stops the agent when words do not decide it (default 400)",
      example: 400,
    }),
  })
  .openapi("InterruptionSettings");

const VoicemailSettings = z
  .object({
    action: z.enum(VOICEMAIL_ACTIONS).openapi({
      description: "When a machine answers (carrier answering-machine detection, or the callee's first words read as a voicemail greeting): `hangup` at once, or `leave_message` after the beep, then hang up",
    }),
    message: z.string().trim().min(1).max(1000).nullable().optional().openapi({
      description: "Said after the beep with `leave_message` (required then); `{{variable}}` placeholders are filled from call variables",
      example: "Hi {{first_name}}, this is Maya from Bright Smile Dental. Please call us back at 555 0100. Thank you!",
    }),
  })
  .openapi("VoicemailSettings");

const TransferDestinationSchema = z
  .object({
    destination: z.string().trim().min(1).max(256).openapi({
      description: "An E.164 number (stored normalized; no premium-rate numbers) or a sip: URI with a public host",
      example: "+14155552671",
    }),
    description: z.string().trim().min(1).max(300).nullable().optional().openapi({
      description: "What the destination is for; the model reads it to choose",
      example: "Sales team, for pricing questions",
    }),
  })
  .openapi("TransferDestination");

const LanguageHint = z
  .string()
  .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, "Must be a BCP-47 tag such as en-US")
  .openapi({ example: "en-US" });

const Ids = (what: string, max: number) => z.array(z.string().min(1).max(100)).max(max).openapi({ description: `${what} ids` });

/** Fields shared by create and update; update makes every one optional. */
const agentFields = {
  name: z.string().trim().min(1).max(255).openapi({ example: "Appointment reminder" }),
  description: z.string().max(1000).nullable().openapi({ example: "Confirms tomorrow's dental appointments" }),
  status: z.enum(["active", "draft"]).openapi({ description: 'New agents are `active` unless created as `"draft"`' }),
  voice_id: z.string().min(1).max(100).openapi({ description: "A voice from GET /voices", example: "01900000-0000-7000-8000-000000000001" }),
  system_prompt: z.string().min(1).max(50_000).openapi({
    description: "Instructions for the LLM; `{{variable}}` placeholders are filled from call variables",
    example: "You are Maya from Bright Smile Dental. Confirm {{first_name}}'s appointment on {{date}}.",
  }),
  greeting: z.string().max(2000).nullable().openapi({ example: "Hi {{first_name}}, this is Maya from Bright Smile Dental." }),
  first_speaker: z.enum(["agent", "user"]).openapi({ description: "`user`: wait for the callee to speak first" }),
  model: z.string().trim().min(1).max(200).openapi({ description: "Shorthand for `llm.model`", example: "gpt-4o-mini" }),
  temperature: z.number().min(0).max(1).openapi({ example: 0.3 }),
  language_hint: LanguageHint.nullable(),
  tools: Ids("Tool", 20),
  knowledge_bases: Ids("Knowledge base", 5),
  recording_enabled: z.boolean(),
  max_duration: Seconds,
  join_timeout: Seconds.openapi({ example: 30, description: "Seconds the callee has to answer" }),
  inactivity_timeout: z.number().int().min(2).max(600).openapi({ description: "Seconds of silence before a re-prompt", example: 10 }),
  inactivity_message: z.string().max(1000).nullable().openapi({ example: "Are you still there?" }),
  interruption: InterruptionSettings.openapi({ description: "When caller speech interrupts the agent (barge-in); fields not sent keep their value" }),
  max_duration_message: z.string().trim().min(1).max(1000).nullable().openapi({
    description: "Said shortly before max_duration, after which the agent hangs up; null: a default goodbye",
    example: "We're out of time for today. Thanks for calling, goodbye.",
  }),
  llm: LlmSettings,
  stt: SttSettings,
  voicemail: VoicemailSettings.nullable().openapi({
    description: "Voicemail handling of outbound calls; null: none (the agent talks to whatever answers). Setting it also turns on the carrier's answering-machine detection for the agent's calls",
  }),
  transfer_destinations: z.array(TransferDestinationSchema).max(MAX_TRANSFER_DESTINATIONS).openapi({
    description: `Where the agent's built-in transfer_call may send a call (cold transfer, end_reason \`transferred\`), at most ${MAX_TRANSFER_DESTINATIONS}; the model only picks among these. Empty: the agent cannot transfer`,
  }),
  success_criteria: z.string().trim().min(1).max(2000).nullable().openapi({
    description: "Post-call analysis: what makes a call a success; each analysed call gets `analysis.success` true or false against it",
    example: "The contact confirmed the appointment or booked a new time.",
  }),
  analysis_schema: z.record(z.string(), z.unknown()).nullable().openapi({
    description: "Post-call analysis: a JSON Schema (draft 4 to 2020-12, `type: \"object\"`, local `$ref`s only, at most 16 KB) of the structured data taken from each call, returned as `analysis.data`",
    example: { type: "object", properties: { appointment_confirmed: { type: "boolean" }, new_date: { type: ["string", "null"] } }, required: ["appointment_confirmed"] },
  }),
};

export const CreateAgentBody = z
  .object({
    ...agentFields,
    description: agentFields.description.optional(),
    status: agentFields.status.optional(),
    greeting: agentFields.greeting.optional(),
    first_speaker: agentFields.first_speaker.optional(),
    model: agentFields.model.optional(),
    temperature: agentFields.temperature.optional(),
    language_hint: agentFields.language_hint.optional(),
    tools: agentFields.tools.optional(),
    knowledge_bases: agentFields.knowledge_bases.optional(),
    /** Older Truedy spelling of `knowledge_bases`. */
    knowledge_base_ids: agentFields.knowledge_bases.optional(),
    recording_enabled: agentFields.recording_enabled.optional(),
    max_duration: agentFields.max_duration.optional(),
    join_timeout: agentFields.join_timeout.optional(),
    inactivity_timeout: agentFields.inactivity_timeout.optional(),
    inactivity_message: agentFields.inactivity_message.optional(),
    interruption: agentFields.interruption.optional(),
    max_duration_message: agentFields.max_duration_message.optional(),
    llm: agentFields.llm.optional(),
    stt: agentFields.stt.optional(),
    voicemail: agentFields.voicemail.optional(),
    transfer_destinations: agentFields.transfer_destinations.optional(),
    success_criteria: agentFields.success_criteria.optional(),
    analysis_schema: agentFields.analysis_schema.optional(),
  })
  .openapi("CreateAgent");

export const UpdateAgentBody = z
  .object({
    ...Object.fromEntries(Object.entries(agentFields).map(([k, v]) => [k, v.optional()])),
    status: z.enum(["active", "draft"]).optional(),
    knowledge_base_ids: agentFields.knowledge_bases.optional(),
  } as { [K in keyof typeof agentFields]: z.ZodOptional<(typeof agentFields)[K]> } & {
    knowledge_base_ids: z.ZodOptional<typeof agentFields.knowledge_bases>;
  })
  .openapi("UpdateAgent");

export type CreateAgentInput = z.infer<typeof CreateAgentBody>;
export type UpdateAgentInput = z.infer<typeof UpdateAgentBody>;

const NumberRef = z.object({ id: z.string(), phone_number: z.string() });

export const AgentSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    status: z.enum(AGENT_STATUSES),
    voice_id: z.string(),
    voice_name: z.string().nullable(),
    system_prompt: z.string(),
    greeting: z.string().nullable(),
    first_speaker: z.enum(["agent", "user"]),
    variables: z.array(z.string()).openapi({ description: "Placeholders used by system_prompt and greeting" }),
    model: z.string(),
    temperature: z.number(),
    language_hint: z.string().nullable(),
    tools: z.array(z.string()),
    knowledge_bases: z.array(z.string()),
    recording_enabled: z.boolean(),
    max_duration: z.number().int(),
    join_timeout: z.number().int(),
    inactivity_timeout: z.number().int(),
    inactivity_message: z.string().nullable(),
    interruption: z.object({ enabled: z.boolean(), min_words: z.number().int(), min_speech_ms: z.number().int() }),
    max_duration_message: z.string().nullable(),
    llm: LlmSettingsView,
    stt: SttSettings,
    voicemail: z.object({ action: z.enum(VOICEMAIL_ACTIONS), message: z.string().nullable() }).nullable(),
    transfer_destinations: z.array(z.object({ destination: z.string(), description: z.string().nullable() })),
    success_criteria: z.string().nullable(),
    analysis_schema: z.record(z.string(), z.unknown()).nullable(),
    inbound_phone_numbers: z.array(NumberRef),
    outbound_phone_numbers: z.array(NumberRef),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Agent");

export const ListAgentsQuery = LimitOffsetQuery.extend({
  status: z.enum(AGENT_STATUSES).optional(),
  name: z.string().max(255).optional().openapi({ description: "Case-insensitive substring of the name" }),
});
