import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { ApiClient } from "../helpers/api";

/**
 * Direct D1 writes for the analytics tests, which need exact creation times, durations, costs,
 * latencies and analyses that a simulated call cannot be steered to. Rows have the shape the
 * CallDO writes (src/db/schema.ts `calls`).
 */

export interface CallSeed {
  agentId: string;
  createdAt: string;
  direction?: "outbound" | "inbound" | "webrtc";
  status?: "queued" | "ringing" | "in_progress" | "completed" | "failed" | "cancelled";
  endReason?: string | null;
  /** Set for calls that connected. */
  startedAt?: string | null;
  durationSeconds?: number | null;
  costCredits?: number | null;
  batchCallId?: string | null;
  latency?: { p50_ms: number; p95_ms: number } | null;
  analysis?: { status: "pending" | "completed" | "failed" | "skipped"; success?: boolean | null } | null;
}

function analysisJson(analysis: NonNullable<CallSeed["analysis"]>) {
  return JSON.stringify({
    status: analysis.status,
    summary: null,
    success: analysis.success ?? null,
    sentiment: null,
    data: null,
    error: null,
    errors: [],
    skip_reason: analysis.status === "skipped" ? "no_conversation" : null,
    analyzed_at: analysis.status === "pending" ? null : "2026-01-01T00:00:00.000Z",
  });
}

export async function insertCall(orgId: string, seed: CallSeed): Promise<string> {
  const id = crypto.randomUUID();
  const created = new Date(seed.createdAt).toISOString();
  await env.DB.prepare(
    `INSERT INTO calls (id, org_id, agent_id, direction, status, end_reason, to_number, from_number, provider, variables, settings, metadata,
       batch_call_id, duration_seconds, cost_credits, latency, analysis, analysis_status, queued_at, started_at, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, '+14155550001', '+14155550100', 'simulator', '{}', '{}', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  )
    .bind(
      id,
      orgId,
      seed.agentId,
      seed.direction ?? "outbound",
      seed.status ?? "completed",
      seed.endReason ?? null,
      JSON.stringify(seed.batchCallId ? { batch_call_id: seed.batchCallId } : {}),
      seed.batchCallId ?? null,
      seed.durationSeconds ?? null,
      seed.costCredits ?? null,
      seed.latency ? JSON.stringify({ ...seed.latency, turns: [] }) : null,
      seed.analysis ? analysisJson(seed.analysis) : null,
      seed.analysis?.status ?? null,
      created,
      seed.startedAt ? new Date(seed.startedAt).toISOString() : null,
      created,
      created,
    )
    .run();
  return id;
}

/** Gives a call a completed analysis with this verdict (as the analysis queue would). */
export async function setAnalysis(callId: string, success: boolean) {
  await env.DB.prepare("UPDATE calls SET analysis = ?, analysis_status = 'completed' WHERE id = ?").bind(analysisJson({ status: "completed", success }), callId).run();
}

export async function analytics(org: ApiClient, query: Record<string, string>) {
  const res = await org.get(`/analytics/calls?${new URLSearchParams(query)}`);
  if (res.status !== 200) throw new Error(`analytics failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data;
}

const COUNTS = ["calls", "answered", "analyzed", "successful"] as const;

/** The counts and cost of the groups add up to the totals. */
export function expectTotalsAreSumOfGroups(data: { totals: Record<string, any>; groups: Record<string, any>[] }) {
  for (const name of COUNTS) expect(data.groups.reduce((n, g) => n + g[name], 0), name).toBe(data.totals[name]);
  expect(data.groups.reduce((n, g) => n + g.total_cost, 0)).toBeCloseTo(data.totals.total_cost, 4);
}
