import { FormProblem, jsonField, jsonText, list, numberField, text, type FormValues } from "./forms";
import type { ApiFailure } from "./api";

/**
 * The agent form ↔ the agent API. Field names are the API's; the voicemail setting is two
 * controls (`voicemail_action`, `voicemail_message`); settings without a natural control
 * (`stt`, `interruption`, `transfer_destinations`, `analysis_schema`) are JSON textareas whose
 * content the API validates.
 */

const NULLABLE_TEXT = ["description", "greeting", "language_hint", "inactivity_message", "max_duration_message", "success_criteria"] as const;
const INTEGERS = ["max_duration", "join_timeout", "inactivity_timeout"] as const;
const JSON_OBJECTS = ["stt", "interruption"] as const;

export type AgentFormResult = { ok: true; body: Record<string, unknown> } | { ok: false; failure: ApiFailure };

/**
 * The request body for a posted form. Creating leaves blanks out (the API's defaults apply);
 * editing sends every field, so a blank clears what can be cleared.
 */
export function agentBodyFromForm(values: FormValues, mode: "create" | "edit"): AgentFormResult {
  try {
    const body: Record<string, unknown> = {
      name: text(values, "name"),
      system_prompt: text(values, "system_prompt"),
      voice_id: text(values, "voice_id"),
      status: text(values, "status") || undefined,
      first_speaker: text(values, "first_speaker") || undefined,
      model: text(values, "model").trim() || undefined,
      temperature: numberField(values, "temperature"),
      recording_enabled: text(values, "recording_enabled") === "on",
    };
    for (const name of NULLABLE_TEXT) {
      const value = text(values, name);
      body[name] = value.trim() === "" ? (mode === "edit" ? null : undefined) : value;
    }
    for (const name of INTEGERS) body[name] = numberField(values, name, { integer: true });
    const tools = list(values, "tools");
    const knowledgeBases = list(values, "knowledge_bases");
    body.tools = mode === "edit" || tools.length ? tools : undefined;
    body.knowledge_bases = mode === "edit" || knowledgeBases.length ? knowledgeBases : undefined;

    const action = text(values, "voicemail_action");
    const message = text(values, "voicemail_message").trim();
    body.voicemail = action === "" ? (mode === "edit" ? null : undefined) : { action, message: message === "" ? null : message };

    for (const name of JSON_OBJECTS) body[name] = jsonField(values, name);
    const destinations = jsonField(values, "transfer_destinations");
    body.transfer_destinations = destinations ?? (mode === "edit" ? [] : undefined);
    const schema = jsonField(values, "analysis_schema");
    body.analysis_schema = schema ?? (mode === "edit" ? null : undefined);

    return { ok: true, body: Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined)) };
  } catch (error) {
    if (error instanceof FormProblem) return { ok: false, failure: error.failure };
    throw error;
  }
}

/** The form's values for an agent from the API (the edit form's starting point). */
export function agentFormValues(agent: Record<string, any>): FormValues {
  const str = (value: unknown) => (value === null || value === undefined ? "" : String(value));
  return {
    name: str(agent.name),
    description: str(agent.description),
    status: agent.status === "draft" ? "draft" : "active",
    voice_id: str(agent.voice_id),
    system_prompt: str(agent.system_prompt),
    greeting: str(agent.greeting),
    first_speaker: str(agent.first_speaker),
    model: str(agent.llm?.model ?? agent.model),
    temperature: str(agent.temperature),
    language_hint: str(agent.language_hint),
    tools: agent.tools ?? [],
    knowledge_bases: agent.knowledge_bases ?? [],
    ...(agent.recording_enabled ? { recording_enabled: "on" } : {}),
    max_duration: str(agent.max_duration),
    join_timeout: str(agent.join_timeout),
    inactivity_timeout: str(agent.inactivity_timeout),
    inactivity_message: str(agent.inactivity_message),
    max_duration_message: str(agent.max_duration_message),
    voicemail_action: str(agent.voicemail?.action),
    voicemail_message: str(agent.voicemail?.message),
    success_criteria: str(agent.success_criteria),
    stt: jsonText(agent.stt),
    interruption: jsonText(agent.interruption),
    transfer_destinations: agent.transfer_destinations?.length ? jsonText(agent.transfer_destinations) : "",
    analysis_schema: jsonText(agent.analysis_schema),
  };
}

/** A new agent's form: the API's defaults, shown so people see what they get. */
export const NEW_AGENT_VALUES: FormValues = {
  status: "active",
  first_speaker: "agent",
  model: "gpt-4o-mini",
  temperature: "0.3",
  max_duration: "1800",
  join_timeout: "30",
  inactivity_timeout: "10",
};
