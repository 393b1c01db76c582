import { and, asc, eq, lt } from "drizzle-orm";
import { callContact, refineContactOutcome } from "../db/call-contacts";
import { openLlmApiKey } from "../db/llm-api-key";
import { agents, calls, events } from "../db/schema";
import { TenantDb, type Database } from "../db/tenant";
import { AGENT_DEFAULTS } from "../domain/agents";
import {
  analysisMessages,
  checkAnalysisAnswer,
  contactOutcome,
  correctionMessages,
  pendingAnalysis,
  type AnalysisTurn,
  type CallAnalysis,
} from "../domain/call-analysis";
import type { EndReason } from "../domain/calls";
import { llmEndpoint } from "../domain/llm-endpoint";
import { urlPolicyFor } from "../domain/url-safety";
import type { Clock } from "../lib/clock";
import { ProviderError } from "../voice/providers/errors";
import { completeJson } from "../voice/providers/chat-completion";
import { publishEvents, recordEvent } from "../webhooks/emit";
import type { WebhookMessage } from "../webhooks/messages";
import { callObject } from "./engine";

/**
 * Post-call analysis as durable background work, on the webhooks queue (`call_analysis`
 * messages, like voice clones). When an answered call with a conversation ends, its object stores
 * `analysis: {status: "pending"}` with the ending (same D1 batch) and queues attempt 1. The
 * consumer claims the attempt on the row (a redelivered message never runs twice), reads the
 * transcript from the call's object and asks the agent's LLM (non-streaming, JSON mode) for a
 * summary, a `success` verdict against the agent's `success_criteria`, the contact's sentiment and
 * `data` following the agent's `analysis_schema`.
 *
 * An answer that does not check out (src/domain/call-analysis.ts) is sent back once with what was
 * wrong with it; a second wrong answer stores `failed` with the problems. Provider failures that
 * may pass (network, 429, 5xx) are retried on later attempts; others fail at once. The result,
 * the contact's refined `last_call_outcome` and the `call.analyzed` event are one D1 batch.
 * A lost message or a worker that died loses nothing: the cron sweep re-sends overdue attempts.
 */

/** Seconds to wait after a transient provider failure of attempt n (index n-1) before attempt n+1. */
export const ANALYSIS_RETRY_SECONDS = [30, 300] as const;
export const MAX_ANALYSIS_ATTEMPTS = ANALYSIS_RETRY_SECONDS.length + 1;
/** How long a claimed attempt may run (two LLM requests of at most a minute each) before the sweep presumes it lost. */
export const ANALYSIS_ATTEMPT_LEASE_MS = 5 * 60_000;
/** An attempt this long overdue lost its queue message. */
const SWEEP_GRACE_MS = 60_000;
const SWEEP_LIMIT = 100;

const iso = (ms: number) => new Date(ms).toISOString();

function log(level: "info" | "warn" | "error", message: string, fields: Record<string, unknown>) {
  console[level === "info" ? "log" : level](JSON.stringify({ level, message, ...fields }));
}

/** Queues attempt `attempt` of a call's analysis. A lost send loses nothing: the sweep re-sends it. */
export async function enqueueAnalysis(queue: Queue, callId: string, attempt: number, delaySeconds?: number): Promise<void> {
  try {
    await queue.send({ kind: "call_analysis", call_id: callId, attempt } satisfies WebhookMessage, delaySeconds ? { delaySeconds } : undefined);
  } catch (error) {
    log("warn", "call analysis enqueue failed; the sweep will retry", { call_id: callId, attempt, error: String(error) });
  }
}

/** Re-sends the attempts of analyses whose queue message was lost or whose worker died mid-attempt. */
export async function sweepCallAnalyses(db: Database, queue: Queue, nowMs: number): Promise<number> {
  const stuck = await db
    .select({ id: calls.id, attempts: calls.analysisAttempts })
    .from(calls)
    .where(and(eq(calls.analysisStatus, "pending"), lt(calls.analysisNextAttemptAt, iso(nowMs - SWEEP_GRACE_MS))))
    .orderBy(asc(calls.analysisNextAttemptAt))
    .limit(SWEEP_LIMIT);
  if (stuck.length > 0) {
    await queue.sendBatch(stuck.map((c) => ({ body: { kind: "call_analysis", call_id: c.id, attempt: c.attempts + 1 } satisfies WebhookMessage })));
  }
  return stuck.length;
}

/** 429 and 5xx may pass; so may a request that never got an answer (network, timeout). */
const transient = (error: ProviderError) => error.status === undefined || error.status === 429 || error.status >= 500;

/**
 * Makes attempt `attempt` of a call's analysis: claims it, asks the model (once more if its answer
 * is wrong), and settles the row or schedules the next attempt. The queue consumer calls it.
 */
export async function runCallAnalysis(db: Database, env: Env, clock: Clock, callId: string, attempt: number): Promise<void> {
  const row = await db.query.calls.findFirst({ where: eq(calls.id, callId) });
  if (!row || row.analysisStatus !== "pending") return;
  const tenant = new TenantDb(db, row.orgId);
  const claimed = await tenant
    .updateWhere(
      calls,
      { analysisAttempts: attempt, analysisNextAttemptAt: iso(clock.now() + ANALYSIS_ATTEMPT_LEASE_MS) },
      eq(calls.id, callId),
      eq(calls.analysisStatus, "pending"),
      eq(calls.analysisAttempts, attempt - 1),
    )
    .returning({ id: calls.id });
  if (claimed.length === 0) return;

  /** Stores the outcome with its event (and the contact's outcome) in one batch, unless a later attempt took over. */
  const settle = async (result: Pick<CallAnalysis, "status" | "summary" | "success" | "sentiment" | "data" | "error" | "errors">): Promise<void> => {
    const now = clock.now();
    const analysis: CallAnalysis = { ...pendingAnalysis(), ...result, analyzed_at: iso(now) };
    const status = analysis.status === "completed" ? "completed" : "failed";
    const event = recordEvent(tenant, now, "call.analyzed", {
      call_id: row.id,
      agent_id: row.agentId,
      direction: row.direction,
      status: row.status,
      end_reason: row.endReason,
      answered_by: row.answeredBy,
      batch_call_id: row.batchCallId,
      metadata: row.metadata,
      analysis,
    });
    const contact = callContact(row.metadata, row.toNumber, row.endedAt);
    const contactLast = contactOutcome(
      { status: row.status, endReason: row.endReason as EndReason | null, answeredBy: row.answeredBy, answered: row.startedAt !== null },
      analysis,
    );
    const [updated] = await tenant.batch([
      tenant
        .updateWhere(
          calls,
          { analysis, analysisStatus: status, analysisNextAttemptAt: null, updatedAt: iso(now) },
          eq(calls.id, callId),
          eq(calls.analysisStatus, "pending"),
          eq(calls.analysisAttempts, attempt),
        )
        .returning({ id: calls.id }),
      event.statement,
      ...(contact && contactLast ? [refineContactOutcome(tenant, contact, contactLast, { callId, attempt, status }, iso(now))] : []),
    ]);
    if (updated.length === 0) {
      // Taken over by a later attempt (the sweep presumed this one lost): take the event back.
      await tenant.deleteWhere(events, eq(events.id, event.id));
      return;
    }
    await publishEvents(env.WEBHOOK_QUEUE, [event.id]);
    log(status === "completed" ? "info" : "warn", `call analysis ${status}`, { call_id: callId, attempt, ...(analysis.error ? { error: analysis.error, errors: analysis.errors } : {}) });
  };
  const failed = (error: string, errors: string[] = []) =>
    settle({ status: "failed", summary: null, success: null, sentiment: null, data: null, error, errors });

  if (attempt > MAX_ANALYSIS_ATTEMPTS) return failed(`Gave up after ${MAX_ANALYSIS_ATTEMPTS} attempts`);
  const agent = await tenant.find(agents, row.agentId);
  const turns: AnalysisTurn[] = await callObject(env, callId).transcript();
  const expect = { successCriteria: Boolean(agent?.successCriteria?.trim()), analysisSchema: agent?.analysisSchema ?? null };
  const messages = analysisMessages({
    turns,
    successCriteria: agent?.successCriteria ?? null,
    analysisSchema: expect.analysisSchema,
    endReason: row.endReason as EndReason | null,
    durationSeconds: row.durationSeconds,
  });
  // The same server and key as the agent's calls (src/domain/llm-endpoint.ts): a refusal will not pass on a retry.
  const endpoint = llmEndpoint(
    { baseUrl: agent?.llm.base_url, apiKey: agent ? await openLlmApiKey(env, agent.llm) : undefined },
    { baseUrl: env.OPENAI_BASE_URL, apiKey: env.OPENAI_API_KEY },
    urlPolicyFor(env),
  );
  if (!endpoint.ok) return failed(`The analysis model could not be used: ${endpoint.reason}`);
  const llm = { baseUrl: endpoint.baseUrl, apiKey: endpoint.apiKey, model: agent?.llm.model || AGENT_DEFAULTS.llm.model };

  try {
    const first = await completeJson({ ...llm, messages });
    let checked = checkAnalysisAnswer(first.content, expect);
    if (!checked.ok) {
      log("warn", "call analysis answer rejected; asking the model again", { call_id: callId, attempt, errors: checked.errors });
      const second = await completeJson({ ...llm, messages: [...messages, ...correctionMessages(first.content, checked.errors)] });
      checked = checkAnalysisAnswer(second.content, expect);
      if (!checked.ok) return failed("The model's answer did not match what was asked, twice (it was told what was wrong after the first)", checked.errors);
    }
    const { summary, success, sentiment, data } = checked.result;
    return settle({ status: "completed", summary, success, sentiment, data, error: null, errors: [] });
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    if (!transient(error) || attempt >= MAX_ANALYSIS_ATTEMPTS) return failed(`The analysis model could not be used: ${error.message}`);
    const delaySeconds = ANALYSIS_RETRY_SECONDS[attempt - 1];
    await tenant.updateWhere(
      calls,
      { analysisNextAttemptAt: iso(clock.now() + delaySeconds * 1000) },
      eq(calls.id, callId),
      eq(calls.analysisStatus, "pending"),
      eq(calls.analysisAttempts, attempt),
    );
    log("warn", "call analysis attempt failed; retrying", { call_id: callId, attempt, delay_seconds: delaySeconds, error: error.message });
    await enqueueAnalysis(env.WEBHOOK_QUEUE, callId, attempt + 1, delaySeconds);
  }
}
