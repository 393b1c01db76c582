import { findTemplateProblems } from "./templating";

/** Agent defaults and rules, free of I/O so they are unit-testable. */

export const AGENT_DEFAULTS = {
  temperature: 0.3,
  recordingEnabled: false,
  maxDurationSeconds: 1800,
  joinTimeoutSeconds: 30,
  inactivityTimeoutSeconds: 10,
  firstSpeaker: "agent" as const,
  llm: { provider: "openai" as const, model: "gpt-4o-mini" },
  stt: { provider: "deepgram" as const, model: "nova-3", endpointing_ms: 300 },
  /** DESIGN.md "Voice loop contracts": 2 non-filler words or 400 ms of voiced audio. */
  interruption: { enabled: true, min_words: 2, min_speech_ms: 400 },
  maxDurationMessage: "I'm sorry, we've reached the time limit for this call. Thank you for your time, goodbye.",
};

export const DURATION_LIMITS = {
  max_duration: { min: 10, max: 4 * 3600 },
  join_timeout: { min: 5, max: 120 },
} as const;

/** When the caller's speech stops the agent mid-sentence. */
export interface AgentInterruption {
  enabled: boolean;
  /** Non-filler words (interim results count) that stop the agent. */
  min_words: number;
  /** Voiced audio that stops the agent when the words do not decide it. */
  min_speech_ms: number;
}

/** The agent's barge-in settings: what is stored, with `changes` over it, defaults for the rest. */
export function agentInterruption(
  stored: AgentInterruption | null,
  changes: Partial<AgentInterruption> = {},
): AgentInterruption {
  const defined = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined));
  return { ...AGENT_DEFAULTS.interruption, ...stored, ...defined };
}

/** `1800`, `"1800s"` → 1800. The caller has already checked the shape. */
export function parseSeconds(value: number | string): number {
  return typeof value === "number" ? value : Number.parseInt(value, 10);
}

export type FieldProblem = { field: string; reason: string };

export function checkDuration(field: keyof typeof DURATION_LIMITS, seconds: number): FieldProblem | undefined {
  const { min, max } = DURATION_LIMITS[field];
  if (seconds < min || seconds > max) return { field, reason: `Must be between ${min} and ${max} seconds` };
  return undefined;
}

export function checkTemplate(field: string, template: string | null | undefined): FieldProblem | undefined {
  if (!template) return undefined;
  const [problem] = findTemplateProblems(template);
  return problem ? { field, reason: problem.reason } : undefined;
}

/** Keeps the first occurrence of each id, so `[a, b, a]` is stored as `[a, b]`. */
export function uniqueIds(ids: string[]): string[] {
  return [...new Set(ids)];
}
