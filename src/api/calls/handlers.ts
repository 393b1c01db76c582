import { desc, eq, gte, inArray, lt } from "drizzle-orm";
import { calls } from "../../db/schema";
import { createOutboundCall, createWebCall as startWebCall, callObject } from "../../calls/engine";
import { webCallSocketUrl } from "../../calls/web-call-tokens";
import { recordingLink } from "../../calls/recording-links";
import { statusesForFilter, isTerminal, type CallStatus, type EndReason } from "../../domain/calls";
import { parseSeconds } from "../../domain/agents";
import { ok, okList } from "../../lib/envelope";
import { ApiError, notFound } from "../../lib/errors";
import type { AppRouteHandler } from "../../lib/types";
import type * as routes from "./routes";

type CallRow = typeof calls.$inferSelect;

export function callView(row: CallRow) {
  return {
    id: row.id,
    agent_id: row.agentId,
    status: row.status,
    end_reason: row.endReason as EndReason | null,
    direction: row.direction,
    to_number: row.toNumber,
    from_number: row.fromNumber,
    to: row.toNumber,
    from: row.fromNumber,
    phone_number_id: row.phoneNumberId,
    provider: row.provider,
    answered_by: row.answeredBy,
    duration_seconds: row.durationSeconds,
    cost_credits: row.costCredits,
    variables: row.variables,
    metadata: row.metadata,
    batch_call_id: row.batchCallId,
    transcript_url: `/api/public/v1/calls/${row.id}/transcript`,
    recording_url: row.recordingKey || row.recordingUrl ? `/api/public/v1/calls/${row.id}/recording` : null,
    latency: row.latency ?? null,
    summary: row.analysis?.summary ?? null,
    analysis: row.analysis ?? null,
    queued_at: row.queuedAt,
    ringing_at: row.ringingAt,
    started_at: row.startedAt,
    ended_at: row.endedAt,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}

const stringify = (variables: Record<string, string | number | boolean> | null | undefined) =>
  Object.fromEntries(Object.entries(variables ?? {}).map(([k, v]) => [k, String(v)]));

export const createCall: AppRouteHandler<typeof routes.createCall> = async (c) => {
  const body = c.req.valid("json");
  const settings = body.call_settings ?? {};
  const tenant = c.get("tenant");
  const id = await createOutboundCall(c.env, tenant, c.get("clock").now(), {
    agentId: body.agent_id,
    to: body.phone_number,
    from: body.from_number,
    variables: stringify(body.variables),
    metadata: body.metadata ?? {},
    settings: {
      recordingEnabled: settings.recording_enabled,
      transcriptionEnabled: settings.transcription_enabled,
      greeting: settings.greeting,
      maxDurationSeconds: settings.max_duration === undefined ? undefined : parseSeconds(settings.max_duration),
      joinTimeoutSeconds: settings.join_timeout === undefined ? undefined : parseSeconds(settings.join_timeout),
      machineDetection: settings.machine_detection,
    },
  });
  return ok(c, callView(await tenant.get(calls, id, "Call")), 201);
};

export const createWebCall: AppRouteHandler<typeof routes.createWebCall> = async (c) => {
  const body = c.req.valid("json");
  const tenant = c.get("tenant");
  const { id, token, expiresAt } = await startWebCall(c.env, tenant, c.get("clock").now(), {
    agentId: body.agent_id,
    variables: stringify(body.variables),
    metadata: body.metadata ?? {},
  });
  return ok(
    c,
    {
      call: callView(await tenant.get(calls, id, "Call")),
      token,
      expires_at: new Date(expiresAt).toISOString(),
      websocket_url: webCallSocketUrl(c.env.PUBLIC_BASE_URL, id, token),
    },
    201,
  );
};

export const listCalls: AppRouteHandler<typeof routes.listCalls> = async (c) => {
  const q = c.req.valid("query");
  const statuses: CallStatus[] | undefined = q.status ? statusesForFilter(q.status) : undefined;
  const { rows, total } = await c.get("tenant").list(calls, {
    where: [
      statuses ? inArray(calls.status, statuses) : undefined,
      q.direction ? eq(calls.direction, q.direction) : undefined,
      q.agent_id ? eq(calls.agentId, q.agent_id) : undefined,
      q.batch_call_id ? eq(calls.batchCallId, q.batch_call_id) : undefined,
      q.created_after ? gte(calls.createdAt, new Date(q.created_after).toISOString()) : undefined,
      q.created_before ? lt(calls.createdAt, new Date(q.created_before).toISOString()) : undefined,
    ],
    orderBy: [desc(calls.createdAt), desc(calls.id)],
    limit: q.limit,
    offset: q.offset,
  });
  return okList(c, rows.map(callView), { total, limit: q.limit, offset: q.offset });
};

export const getCall: AppRouteHandler<typeof routes.getCall> = async (c) => {
  return ok(c, callView(await c.get("tenant").get(calls, c.req.valid("param").id, "Call")));
};

async function endThroughObject(c: Parameters<AppRouteHandler<typeof routes.hangupCall>>[0], reason: "hangup_by_api" | "cancelled") {
  const { id } = c.req.valid("param");
  const tenant = c.get("tenant");
  const row = await tenant.get(calls, id, "Call");
  if (isTerminal(row.status)) {
    throw new ApiError("conflict", `The call already ended (${row.status})`, { details: { status: row.status, end_reason: row.endReason } });
  }
  if (reason === "cancelled" && row.status === "in_progress") {
    throw new ApiError("conflict", "The call is already connected; use POST /calls/{id}/hangup", { details: { status: row.status } });
  }
  await callObject(c.env, id).hangup(reason);
  return ok(c, callView(await tenant.get(calls, id, "Call")));
}

export const hangupCall: AppRouteHandler<typeof routes.hangupCall> = (c) => endThroughObject(c, "hangup_by_api");
export const cancelCall: AppRouteHandler<typeof routes.cancelCall> = (c) => endThroughObject(c, "cancelled");

export const getTranscript: AppRouteHandler<typeof routes.getTranscript> = async (c) => {
  const { id } = c.req.valid("param");
  await c.get("tenant").get(calls, id, "Call");
  return ok(c, { call_id: id, turns: await callObject(c.env, id).transcript() });
};

export const getToolCalls: AppRouteHandler<typeof routes.getToolCalls> = async (c) => {
  const { id } = c.req.valid("param");
  await c.get("tenant").get(calls, id, "Call");
  return ok(c, { call_id: id, tool_calls: await callObject(c.env, id).toolCalls() });
};

export const getRecording: AppRouteHandler<typeof routes.getRecording> = async (c) => {
  const { id } = c.req.valid("param");
  const row = await c.get("tenant").get(calls, id, "Call");
  if (row.recordingKey) {
    const link = await recordingLink(c.env, id, c.get("clock").now());
    return ok(c, { call_id: id, url: link.url, expires_at: new Date(link.expiresAt).toISOString() });
  }
  if (row.recordingUrl) return ok(c, { call_id: id, url: row.recordingUrl, expires_at: null });
  throw notFound("Recording of call", id);
};

export const bulkDeleteCalls: AppRouteHandler<typeof routes.bulkDeleteCalls> = async (c) => {
  const ids = [...new Set(c.req.valid("json").ids)];
  const tenant = c.get("tenant");
  const rows = await tenant.findWhere(calls, inArray(calls.id, ids));
  const deletable = rows.filter((r) => isTerminal(r.status)).map((r) => r.id);
  if (deletable.length) await tenant.deleteWhere(calls, inArray(calls.id, deletable));
  const failed = ids.filter((id) => !deletable.includes(id));
  return ok(c, { deleted_count: deletable.length, failed_count: failed.length, deleted_ids: deletable, failed_ids: failed });
};
