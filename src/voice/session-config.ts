/**
 * What one call's voice loop needs to know, resolved once from the agent, its voice and the call
 * row when the media stream starts (pure: no I/O, so it is unit-testable and the session never
 * reads D1 mid-conversation).
 */
import type { agents, calls, voices } from "../db/schema";
import { AGENT_DEFAULTS, agentInterruption } from "../domain/agents";
import { fillTemplate } from "../domain/templating";
import type { TransferDestination } from "../domain/tool-calls";
import type { VoicemailAction } from "../domain/voicemail";
import type { ToolDefinition } from "../domain/tools";
import { llmEndpoint } from "../domain/llm-endpoint";
import { urlPolicyFor } from "../domain/url-safety";
import { ProviderError } from "./providers/errors";
import { openaiSttModel } from "./providers/openai-stt";

export type TtsProvider = "elevenlabs" | "deepgram" | "cartesia" | "openai";

export interface BargeInOptions {
  /** false: the agent is never cut off; what the caller says meanwhile is answered once it finishes. */
  enabled: boolean;
  /** Non-filler words (interim results count) that stop the agent. */
  minWords: number;
  /** Voiced audio (energy VAD) that stops the agent when no words decide it. */
  minSpeechMs: number;
}

/** DESIGN.md "Voice loop contracts": 2 non-filler words or 400 ms of voiced audio. */
export const DEFAULT_BARGE_IN: BargeInOptions = {
  enabled: AGENT_DEFAULTS.interruption.enabled,
  minWords: AGENT_DEFAULTS.interruption.min_words,
  minSpeechMs: AGENT_DEFAULTS.interruption.min_speech_ms,
};

export const DEFAULT_INACTIVITY_MESSAGE = "Are you still there?";

export interface VoiceSessionConfig {
  /** The system prompt with the call's variables filled in. */
  systemPrompt: string;
  /** Spoken as is when the agent speaks first; null lets the LLM open the call. */
  greeting: string | null;
  firstSpeaker: "agent" | "user";
  /**
   * The agent's LLM server (also its OpenAI-compatible STT) and the key it gets (src/domain/llm-endpoint.ts);
   * `refused`: why it may not be used, which ends the call with provider_error when it is first needed.
   */
  llm: { baseUrl: string; apiKey: string | undefined; refused: string | null; model: string; temperature: number };
  stt: { provider: "deepgram" | "openai"; model: string; endpointingMs: number; language: string | null };
  voice: { provider: TtsProvider; voiceId: string; language: string | null };
  inactivityTimeoutMs: number;
  inactivityMessage: string;
  bargeIn: BargeInOptions;
  /** Said as max_duration nears, before the agent hangs up. */
  maxDurationMessage: string;
  /**
   * Outbound phone calls of an agent that handles voicemail: `hangup` or `leave_message` (with its
   * message filled from the call's variables) when a machine answers; null: no voicemail handling.
   */
  voicemail: { action: VoicemailAction; message: string | null } | null;
  /** The agent's HTTP tools, in its order, with their keys (the built-in call actions are always offered too). */
  tools: CallTool[];
  /** Where transfer_call may send the call; empty: transfer_call is not offered. */
  transferDestinations: TransferDestination[];
  /** The call's variables, filled into tool URLs and static parameters. */
  variables: Record<string, string>;
  /** The agent's knowledge bases: the best chunks for the caller's last turn join each reply's prompt. */
  knowledge: { orgId: string; knowledgeBaseIds: string[] };
}

/** One of the agent's tools as a call uses it. */
export interface CallTool {
  id: string;
  definition: ToolDefinition;
  /** Its keys by requirement name (opened from `auth_tokens_encrypted`). */
  authTokens: Record<string, string>;
}

type AgentRow = typeof agents.$inferSelect;
type VoiceRow = Pick<typeof voices.$inferSelect, "provider" | "providerVoiceId" | "language">;
type CallRow = Pick<typeof calls.$inferSelect, "variables" | "settings"> & { direction?: (typeof calls.$inferSelect)["direction"] };

type LlmEnv = { OPENAI_BASE_URL: string; OPENAI_API_KEY?: string; SIMULATOR_ENABLED?: string };

/** `llmApiKey`: the agent's own key, opened from `llm.api_key_encrypted`. */
export function voiceSessionConfig(agent: AgentRow, voice: VoiceRow, call: CallRow, env: LlmEnv, tools: CallTool[] = [], llmApiKey?: string): VoiceSessionConfig {
  const variables = call.variables ?? {};
  // A per-call greeting (call_settings.greeting) replaces the agent's.
  const callGreeting = typeof call.settings?.greeting === "string" ? call.settings.greeting : null;
  const greeting = callGreeting ?? agent.greeting;
  const endpoint = llmEndpoint({ baseUrl: agent.llm.base_url, apiKey: llmApiKey }, { baseUrl: env.OPENAI_BASE_URL, apiKey: env.OPENAI_API_KEY }, urlPolicyFor(env));
  return {
    systemPrompt: fillTemplate(agent.systemPrompt, variables),
    greeting: greeting && greeting.trim() ? fillTemplate(greeting, variables) : null,
    firstSpeaker: agent.firstSpeaker,
    llm: {
      baseUrl: endpoint.ok ? endpoint.baseUrl : (agent.llm.base_url || env.OPENAI_BASE_URL).replace(/\/+$/, ""),
      apiKey: endpoint.ok ? endpoint.apiKey : undefined,
      refused: endpoint.ok ? null : endpoint.reason,
      model: agent.llm.model || agent.model,
      temperature: agent.temperature,
    },
    stt: {
      provider: agent.stt.provider,
      // The agents' default model is Deepgram's: with the OpenAI-compatible STT it becomes an OpenAI model (openaiSttModel).
      model: agent.stt.provider === "openai" ? openaiSttModel(agent.stt.model) : agent.stt.model || AGENT_DEFAULTS.stt.model,
      endpointingMs: agent.stt.endpointing_ms ?? AGENT_DEFAULTS.stt.endpointing_ms,
      language: agent.stt.language ?? agent.languageHint ?? null,
    },
    voice: { provider: voice.provider, voiceId: voice.providerVoiceId, language: agent.languageHint ?? voice.language ?? null },
    inactivityTimeoutMs: (agent.inactivityTimeout || AGENT_DEFAULTS.inactivityTimeoutSeconds) * 1000,
    inactivityMessage: agent.inactivityMessage?.trim() ? fillTemplate(agent.inactivityMessage, variables) : DEFAULT_INACTIVITY_MESSAGE,
    bargeIn: bargeInOptions(agent.interruption),
    maxDurationMessage: fillTemplate(agent.maxDurationMessage?.trim() || AGENT_DEFAULTS.maxDurationMessage, variables),
    voicemail:
      call.direction === "outbound" && agent.voicemail
        ? { action: agent.voicemail.action, message: agent.voicemail.message ? fillTemplate(agent.voicemail.message, variables) : null }
        : null,
    tools,
    transferDestinations: agent.transferDestinations ?? [],
    variables,
    knowledge: { orgId: agent.orgId, knowledgeBaseIds: agent.knowledgeBaseIds },
  };
}

function bargeInOptions(stored: AgentRow["interruption"]): BargeInOptions {
  const settings = agentInterruption(stored);
  return { enabled: settings.enabled, minWords: settings.min_words, minSpeechMs: settings.min_speech_ms };
}

/** The key for the agent's LLM server at the moment it is used; a refused endpoint throws (the call ends with provider_error). */
export function llmApiKey(config: VoiceSessionConfig, stage: "llm" | "stt"): string | undefined {
  if (config.llm.refused) throw new ProviderError(stage, "openai", config.llm.refused);
  return config.llm.apiKey;
}
