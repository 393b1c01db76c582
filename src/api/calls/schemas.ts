import { z } from "@hono/zod-openapi";
import { ANALYSIS_SKIP_REASONS, ANALYSIS_STATUSES, SENTIMENTS } from "../../domain/call-analysis";
import { CALL_STATUSES, END_REASONS } from "../../domain/calls";

const CALL_DIRECTIONS = ["outbound", "inbound", "webrtc"] as const;
import { E164, LimitOffsetQuery } from "../../lib/openapi";

const Seconds = z.union([z.number().int().min(1), z.string().regex(/^\d+s$/, 'Must be whole seconds, e.g. 30 or "30s"')]);

export const CallSettings = z
  .object({
    recording_enabled: z.boolean().optional(),
    transcription_enabled: z.boolean().optional(),
    greeting: z.string().max(2000).nullable().optional(),
    max_duration: Seconds.optional().openapi({ example: "1800s" }),
    join_timeout: Seconds.optional().openapi({ example: "30s" }),
    machine_detection: z.boolean().optional().openapi({ description: "Ask the carrier for answering-machine detection" }),
  })
  .openapi("CallSettings");

const VariableValue = z.union([z.string().max(10_000), z.number(), z.boolean()]);

export const CreateCallBody = z
  .object({
    agent_id: z.string().min(1).max(100),
    phone_number: E164.openapi({ description: "The number to call" }),
    from_number: E164.nullable().optional().openapi({ description: "Caller ID: one of the agent's outbound numbers; omitted, one is picked" }),
    variables: z.record(z.string().max(100), VariableValue).nullable().optional().openapi({
      description: "Values for `{{placeholders}}` in the agent's prompt and greeting; numbers and booleans are turned into strings",
      example: { first_name: "Ana", date: "Tuesday" },
    }),
    call_settings: CallSettings.nullable().optional(),
    metadata: z.record(z.string().max(100), z.string().max(1000)).optional().openapi({ description: "Your own key/value pairs, returned on the call and its webhooks" }),
  })
  .openapi("CreateCall");

const TurnLatencySchema = z.object({
  turn: z.number().int().openapi({ description: "Caller turn number (1 = the first thing the caller said)" }),
  stt_final_ms: z.number().int().openapi({ description: "End of the caller's speech → final transcript (endpointing + STT)" }),
  llm_first_token_ms: z.number().int().openapi({ description: "Final transcript → the LLM's first token" }),
  tts_first_byte_ms: z.number().int().openapi({ description: "First token → first TTS audio byte (first clause + TTS time to first byte)" }),
  first_audio_ms: z.number().int().openapi({ description: "First TTS byte → first audio frame sent to the carrier" }),
  total_ms: z.number().int().openapi({ description: "End of the caller's speech → first agent audio frame sent" }),
});

const CallLatencySchema = z
  .object({
    p50_ms: z.number().int().openapi({ description: "Median total_ms over the call's turns" }),
    p95_ms: z.number().int(),
    turns: z.array(TurnLatencySchema),
  })
  .openapi("CallLatency");

export const CallAnalysisSchema = z
  .object({
    status: z.enum(ANALYSIS_STATUSES).openapi({
      description: "`pending` until the analysis ran; `skipped` when there was nothing to analyse (see `skip_reason`); `failed` with `error` and `errors`",
    }),
    summary: z.string().nullable().openapi({ example: "Ana confirmed her cleaning appointment on Tuesday at 10:00." }),
    success: z.boolean().nullable().openapi({ description: "Whether the call met the agent's `success_criteria`; null when the agent has none" }),
    sentiment: z.enum(SENTIMENTS).nullable().openapi({ description: "The contact's overall sentiment" }),
    data: z.record(z.string(), z.unknown()).nullable().openapi({ description: "Structured data following the agent's `analysis_schema`; null when it has none" }),
    error: z.string().nullable().openapi({ description: "Why the analysis failed" }),
    errors: z.array(z.string()).openapi({ description: "What was wrong with the model's last answer (after one retry telling it), one problem each" }),
    skip_reason: z.enum(ANALYSIS_SKIP_REASONS).nullable().openapi({ description: "`no_conversation`: the contact never spoke; `voicemail`: a machine answered" }),
    analyzed_at: z.string().nullable(),
  })
  .openapi("CallAnalysis");

export const CallSchema = z
  .object({
    id: z.string(),
    agent_id: z.string(),
    status: z.enum(CALL_STATUSES),
    end_reason: z.enum(END_REASONS).nullable(),
    direction: z.enum(CALL_DIRECTIONS).openapi({ description: '`webrtc`: a browser call (POST /calls/web); its `to`/`from` are "web"' }),
    to_number: z.string(),
    from_number: z.string(),
    to: z.string(),
    from: z.string(),
    phone_number_id: z.string().nullable(),
    provider: z.string(),
    answered_by: z.string().nullable(),
    duration_seconds: z.number().int().nullable(),
    cost_credits: z.number().nullable(),
    variables: z.record(z.string(), z.string()),
    metadata: z.record(z.string(), z.string()),
    batch_call_id: z.string().nullable(),
    transcript_url: z.string(),
    recording_url: z.string().nullable(),
    latency: CallLatencySchema.nullable().openapi({ description: "Voice latency per caller turn, set when the call ends (null before, or when no turn was answered)" }),
    summary: z.string().nullable().openapi({ description: "The post-call analysis summary (`analysis.summary`), once there is one" }),
    analysis: CallAnalysisSchema.nullable().openapi({
      description: "Post-call analysis (summary, success against the agent's criteria, sentiment, structured data); set when an answered call ends, null for calls never answered. `call.analyzed` is sent once it is done",
    }),
    queued_at: z.string(),
    ringing_at: z.string().nullable(),
    started_at: z.string().nullable(),
    ended_at: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Call");

export const CreateWebCallBody = z
  .object({
    agent_id: z.string().min(1).max(100),
    variables: CreateCallBody.shape.variables,
    metadata: CreateCallBody.shape.metadata,
  })
  .openapi("CreateWebCall");

export const WebCallSchema = z
  .object({
    call: CallSchema,
    token: z.string().openapi({ description: "Single-use connect token, already in `websocket_url`", example: "wct1.1893456060000.5f0c…" }),
    expires_at: z.string().openapi({ description: "Connect before this (60 s after creation), or the call ends `failed` / `no_answer`" }),
    websocket_url: z.string().openapi({ example: "wss://api.truedy.example/web-calls/0193a5b2-7c1e-7d2a-9f10-2b3c4d5e6f70/stream?token=wct1.…" }),
  })
  .openapi("WebCall");

export const ListCallsQuery = LimitOffsetQuery.extend({
  status: z
    .enum([...CALL_STATUSES, "in-progress", "ended"])
    .optional()
    .openapi({ description: "`in-progress` and `ended` are accepted as aliases of `in_progress` and `completed`" }),
  direction: z.enum(CALL_DIRECTIONS).optional(),
  agent_id: z.string().max(100).optional(),
  batch_call_id: z.string().max(100).optional(),
  created_after: z.iso.datetime({ offset: true }).optional(),
  created_before: z.iso.datetime({ offset: true }).optional(),
});

export const TranscriptSchema = z
  .object({
    call_id: z.string(),
    turns: z.array(
      z.object({
        speaker: z.enum(["agent", "contact"]),
        text: z.string(),
        start_ms: z.number().int(),
        end_ms: z.number().int(),
        timestamp: z.number(),
        interrupted: z.boolean(),
      }),
    ),
  })
  .openapi("Transcript");

export const ToolCallsSchema = z
  .object({
    call_id: z.string(),
    tool_calls: z.array(
      z.object({
        tool_call_id: z.string().openapi({ description: "The model's id of the call" }),
        name: z.string().openapi({ description: "The function the model called", example: "check_order_status" }),
        kind: z.enum(["http", "action"]).openapi({ description: "`http`: one of the agent's tools; `action`: a built-in call action (end_call, transfer_call, send_dtmf, opt_out)" }),
        tool_id: z.string().nullable(),
        arguments: z.unknown().openapi({ description: "As the model gave them (the raw text when they were not JSON)" }),
        request: z
          .object({ method: z.string(), url: z.string() })
          .nullable()
          .openapi({ description: "What was sent, without keys (an API key in the query is masked); null when nothing was sent" }),
        status: z.number().int().nullable().openapi({ description: "HTTP status of the answer" }),
        duration_ms: z.number().int(),
        response: z.string().nullable().openapi({ description: "The answer's body, at most 2 KB; for actions, what they came to" }),
        error: z.string().nullable().openapi({ description: "Why the call failed or was refused (timeout, URL rules, HTTP error…)" }),
        started_at: z.string(),
      }),
    ),
  })
  .openapi("CallToolCalls");

export const RecordingSchema = z.object({ call_id: z.string(), url: z.string(), expires_at: z.string().nullable() }).openapi("Recording");

export const BulkDeleteBody = z.object({ ids: z.array(z.string().min(1).max(100)).min(1).max(1000) }).openapi("BulkDeleteCalls");
export const BulkDeleteResult = z
  .object({ deleted_count: z.number().int(), failed_count: z.number().int(), deleted_ids: z.array(z.string()), failed_ids: z.array(z.string()) })
  .openapi("BulkDeleteResult");
