/**
 * Post-call analysis rules, free of I/O (the runner is src/calls/analysis.ts): what the LLM is
 * asked, how its answer is checked (the envelope by hand, `data` against the agent's
 * `analysis_schema` with @cfworker/json-schema, which needs no `eval` and so runs in Workers),
 * the check of an `analysis_schema` when an agent is saved, and the contact's `last_call_outcome`.
 */
import { Validator, type Schema } from "@cfworker/json-schema";
import type { CallStatus, EndReason } from "./calls";
import type { LAST_CALL_OUTCOMES } from "./contacts";
import { checkJsonSchema, schemaDraft, schemaErrors, type SchemaProblem } from "./json-schema";

export const ANALYSIS_STATUSES = ["pending", "completed", "failed", "skipped"] as const;
export type AnalysisStatus = (typeof ANALYSIS_STATUSES)[number];

export const SENTIMENTS = ["positive", "neutral", "negative"] as const;
export type Sentiment = (typeof SENTIMENTS)[number];

/** Why an answered call was not analysed: nobody spoke to the agent, or a machine answered. */
export const ANALYSIS_SKIP_REASONS = ["no_conversation", "voicemail"] as const;
export type AnalysisSkipReason = (typeof ANALYSIS_SKIP_REASONS)[number];

/** The call's `analysis`, as stored on its row and returned by GET /calls/{id} and `call.analyzed`. */
export interface CallAnalysis {
  status: AnalysisStatus;
  summary: string | null;
  /** Whether the call met the agent's `success_criteria`; null without criteria (or before the verdict). */
  success: boolean | null;
  /** The contact's overall sentiment. */
  sentiment: Sentiment | null;
  /** Structured data following the agent's `analysis_schema`; null without one. */
  data: Record<string, unknown> | null;
  /** Why the analysis failed (`failed` only). */
  error: string | null;
  /** What was wrong with the model's last answer, one problem per entry (`failed` only). */
  errors: string[];
  skip_reason: AnalysisSkipReason | null;
  analyzed_at: string | null;
}

export const pendingAnalysis = (): CallAnalysis => ({
  status: "pending",
  summary: null,
  success: null,
  sentiment: null,
  data: null,
  error: null,
  errors: [],
  skip_reason: null,
  analyzed_at: null,
});

export const skippedAnalysis = (reason: AnalysisSkipReason, atIso: string): CallAnalysis => ({
  ...pendingAnalysis(),
  status: "skipped",
  skip_reason: reason,
  analyzed_at: atIso,
});

/** One turn of the transcript, as the call's object keeps it. */
export interface AnalysisTurn {
  speaker: "agent" | "contact";
  text: string;
  start_ms: number;
}

/**
 * What the end of an answered call means for its analysis: a call in which the contact never
 * said anything, or that a machine answered, has nothing to analyse.
 */
export function analysisPlan(call: { endReason: EndReason | null; answeredBy: string | null }, turns: readonly AnalysisTurn[]): "analyse" | AnalysisSkipReason {
  if (call.endReason === "voicemail" || call.answeredBy === "machine") return "voicemail";
  return turns.some((t) => t.speaker === "contact" && t.text.trim() !== "") ? "analyse" : "no_conversation";
}

// ---- The agent's analysis_schema ----

/** Bounds the prompt and the validator's work; real extraction schemas are a few hundred bytes. */
export const MAX_ANALYSIS_SCHEMA_BYTES = 16_384;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** Resolves a local JSON pointer (`#/$defs/x`) in `root`; undefined when it leads nowhere. */
function resolvePointer(root: unknown, ref: string): unknown {
  if (ref === "#") return root;
  let node: unknown = root;
  for (const raw of ref.slice(2).split("/")) {
    const key = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(node)) node = node[Number(key)];
    else if (isObject(node) && Object.hasOwn(node, key)) node = node[key];
    else return undefined;
  }
  return node;
}

/** The first `$ref` that is not a local pointer resolving inside the schema. */
function badReference(root: unknown, node: unknown, path: string): SchemaProblem | undefined {
  if (Array.isArray(node)) {
    for (const [i, item] of node.entries()) {
      const found = badReference(root, item, `${path}.${i}`);
      if (found) return found;
    }
    return undefined;
  }
  if (!isObject(node)) return undefined;
  for (const [key, value] of Object.entries(node)) {
    if (key === "$ref" && typeof value === "string") {
      if (value !== "#" && !value.startsWith("#/")) return { field: `${path}.$ref`, reason: `Only references inside the schema ("#/$defs/…") are supported, not "${value}"` };
      if (resolvePointer(root, value) === undefined) return { field: `${path}.$ref`, reason: `"${value}" does not point at anything in the schema` };
    } else {
      const found = badReference(root, value, `${path}.${key}`);
      if (found) return found;
    }
  }
  return undefined;
}

/**
 * Checks an agent's `analysis_schema` when it is saved: a plausible JSON Schema (the keyword
 * check tools use), describing an object, within the size bound, whose references resolve, and
 * that the validator can compile and run. Returns the first problem, its field under `field`.
 */
export function checkAnalysisSchema(schema: unknown, field = "analysis_schema"): SchemaProblem | undefined {
  const plausible = checkJsonSchema(schema, field);
  if (plausible) return plausible;
  const root = schema as Record<string, unknown>;
  if (root.type !== "object") return { field: `${field}.type`, reason: 'Must be "object": the analysis fills in an object (add "properties")' };
  if (new TextEncoder().encode(JSON.stringify(root)).length > MAX_ANALYSIS_SCHEMA_BYTES) {
    return { field, reason: `Must be at most ${MAX_ANALYSIS_SCHEMA_BYTES} bytes of JSON` };
  }
  const reference = badReference(root, root, field);
  if (reference) return reference;
  try {
    new Validator(structuredClone(root) as Schema, schemaDraft(root), false).validate({});
  } catch (error) {
    return { field, reason: `Cannot be used to validate: ${error instanceof Error ? error.message : String(error)}` };
  }
  return undefined;
}

// ---- Asking the model ----

export interface AnalysisRequest {
  turns: readonly AnalysisTurn[];
  successCriteria: string | null;
  analysisSchema: Record<string, unknown> | null;
  endReason: EndReason | null;
  durationSeconds: number | null;
}

export interface PromptMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/** The transcript the model reads is at most this long: the start and the end of a long call. */
const MAX_TRANSCRIPT_CHARS = 30_000;

export function transcriptText(turns: readonly AnalysisTurn[]): string {
  const lines = turns
    .filter((t) => t.text.trim() !== "")
    .map((t) => `[${(t.start_ms / 1000).toFixed(1)}s] ${t.speaker === "agent" ? "Agent" : "Contact"}: ${t.text.trim()}`);
  const text = lines.join("\n");
  if (text.length <= MAX_TRANSCRIPT_CHARS) return text;
  const head = text.slice(0, MAX_TRANSCRIPT_CHARS / 3);
  const tail = text.slice(text.length - (MAX_TRANSCRIPT_CHARS * 2) / 3);
  return `${head}\n[… middle of the call left out …]\n${tail}`;
}

/** The system and user messages of the first request. */
export function analysisMessages(request: AnalysisRequest): PromptMessage[] {
  const criteria = request.successCriteria?.trim() || null;
  const keys = [
    '- "summary": a short summary of the call (1 to 3 sentences, in the language of the conversation): who was reached, what was discussed, what was agreed.',
    criteria
      ? '- "success": true if the call met the success criteria below, false if it did not.'
      : '- "success": null (no success criteria are set for this agent).',
    '- "sentiment": the contact\'s overall sentiment during the call: "positive", "neutral" or "negative".',
    request.analysisSchema
      ? '- "data": an object that is valid against the JSON Schema below, filled in only from what was said in the call.'
      : '- "data": null.',
  ];
  const system = [
    "You analyse a finished phone call between an AI voice agent (Agent) and a person (Contact).",
    "Answer with one JSON object and nothing else, with exactly these keys:",
    ...keys,
    ...(criteria ? ["", "Success criteria:", criteria] : []),
    ...(request.analysisSchema ? ["", "JSON Schema of \"data\":", JSON.stringify(request.analysisSchema)] : []),
  ].join("\n");
  const ending = [request.endReason ? `end reason ${request.endReason}` : null, request.durationSeconds !== null ? `${request.durationSeconds} s long` : null]
    .filter(Boolean)
    .join(", ");
  const user = `Transcript (seconds from the answer):\n${transcriptText(request.turns)}${ending ? `\n\nThe call ended: ${ending}.` : ""}`;
  return [
    { role: "system", content: system },
    { role: "user", content: user },
  ];
}

/** The follow-up after a rejected answer: the model sees what it said and what was wrong with it. */
export function correctionMessages(previousAnswer: string, errors: readonly string[]): PromptMessage[] {
  return [
    { role: "assistant", content: previousAnswer.slice(0, 8_000) },
    {
      role: "user",
      content: `That answer was rejected:\n${errors.map((e) => `- ${e}`).join("\n")}\nAnswer again with only the corrected JSON object.`,
    },
  ];
}

export interface AnalysisResult {
  summary: string;
  success: boolean | null;
  sentiment: Sentiment;
  data: Record<string, unknown> | null;
}

const MAX_SUMMARY_CHARS = 4_000;

/** The model's text as JSON: the object itself, or one wrapped in a ```json fence. */
function parseJsonObject(content: string): { ok: true; value: Record<string, unknown> } | { ok: false; error: string } {
  const trimmed = content.trim();
  const fenced = /^```(?:json)?\s*([\s\S]*?)\s*```$/i.exec(trimmed);
  let value: unknown;
  try {
    value = JSON.parse(fenced ? fenced[1] : trimmed);
  } catch {
    return { ok: false, error: "the answer is not valid JSON: send one JSON object and nothing else" };
  }
  if (!isObject(value)) return { ok: false, error: "the answer must be a JSON object" };
  return { ok: true, value };
}

/**
 * Checks the model's answer: the envelope (summary, success, sentiment) and `data` against the
 * agent's schema. Returns the result, or every problem found (for the retry and the stored error).
 */
export function checkAnalysisAnswer(
  content: string,
  expect: { successCriteria: boolean; analysisSchema: Record<string, unknown> | null },
): { ok: true; result: AnalysisResult } | { ok: false; errors: string[] } {
  const parsed = parseJsonObject(content);
  if (!parsed.ok) return { ok: false, errors: [parsed.error] };
  const answer = parsed.value;
  const errors: string[] = [];
  const summary = typeof answer.summary === "string" ? answer.summary.trim() : "";
  if (typeof answer.summary !== "string" || summary === "") errors.push('summary: must be a non-empty string');
  else if (summary.length > MAX_SUMMARY_CHARS) errors.push(`summary: must be at most ${MAX_SUMMARY_CHARS} characters`);
  if (!(SENTIMENTS as readonly unknown[]).includes(answer.sentiment)) errors.push(`sentiment: must be one of ${SENTIMENTS.map((s) => `"${s}"`).join(", ")}`);
  if (expect.successCriteria && typeof answer.success !== "boolean") errors.push("success: must be true or false");
  let data: Record<string, unknown> | null = null;
  if (expect.analysisSchema) {
    if (!("data" in answer)) errors.push("data: is missing");
    else errors.push(...schemaErrors(expect.analysisSchema, answer.data));
    if (isObject(answer.data)) data = answer.data;
  }
  if (errors.length) return { ok: false, errors };
  return {
    ok: true,
    result: {
      summary,
      success: expect.successCriteria ? (answer.success as boolean) : null,
      sentiment: answer.sentiment as Sentiment,
      data,
    },
  };
}

// ---- The contact's last_call_outcome ----

export type LastCallOutcome = (typeof LAST_CALL_OUTCOMES)[number];

/**
 * What a call means for its contact's `last_call_outcome`; null leaves it as it was.
 *
 * | the call                                                   | outcome          |
 * |------------------------------------------------------------|------------------|
 * | answered by a machine (`end_reason: voicemail`, or AMD/transcript `answered_by: machine`) | `voicemail` |
 * | transferred to a person (`end_reason: transferred`)         | `escalated`      |
 * | never answered: no answer, busy, carrier or provider error | `no_answer`       |
 * | cancelled before it connected                               | null (unchanged) |
 * | answered, analysis `success: true`                          | `interested`     |
 * | answered, analysis `success: false`                         | `not_interested` |
 * | answered, no verdict (no criteria, analysis pending, failed or skipped) | `contacted` |
 */
export function contactOutcome(
  call: { status: CallStatus; endReason: EndReason | null; answeredBy: string | null; answered: boolean },
  analysis: Pick<CallAnalysis, "status" | "success"> | null,
): LastCallOutcome | null {
  if (call.status === "queued" || call.status === "ringing" || call.status === "in_progress") return null;
  if (call.endReason === "voicemail" || call.answeredBy === "machine") return "voicemail";
  if (call.endReason === "transferred") return "escalated";
  if (!call.answered) return call.status === "cancelled" || call.endReason === "cancelled" ? null : "no_answer";
  if (analysis?.status === "completed" && analysis.success !== null) return analysis.success ? "interested" : "not_interested";
  return "contacted";
}
