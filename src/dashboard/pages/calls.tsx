import { Hono } from "hono";
import { api, fetchOwnLink, type ApiResult } from "../api";
import { SelectField, TextField } from "../fields";
import { redirectWithFlash } from "../flash";
import { dayStart } from "../forms";
import { credits, dateTime, duration, offset, words } from "../format";
import { ApiErrorBox, ApiList, CsrfField, DataTable, errorPage, Layout, Pager, pageStatus, render, StatusBadge } from "../layout";
import type { DashboardContext, DashboardEnv } from "../session";
import { CALL_STATUSES } from "../../domain/calls";
import type { ToolCallRecord as ToolCall } from "../../voice/session-store";

/** Calls: a filterable list, and each call's detail with transcript, recording, tools, latency and analysis. */

interface TurnLatency {
  turn: number;
  stt_final_ms: number;
  llm_first_token_ms: number;
  tts_first_byte_ms: number;
  first_audio_ms: number;
  total_ms: number;
}

interface Call {
  id: string;
  agent_id: string;
  status: string;
  end_reason: string | null;
  direction: string;
  to: string;
  from: string;
  provider: string;
  answered_by: string | null;
  duration_seconds: number | null;
  cost_credits: number | null;
  variables: Record<string, string>;
  metadata: Record<string, string>;
  batch_call_id: string | null;
  recording_url: string | null;
  latency: { p50_ms: number; p95_ms: number; turns: TurnLatency[] } | null;
  analysis: {
    status: string;
    summary: string | null;
    success: boolean | null;
    sentiment: string | null;
    data: Record<string, unknown> | null;
    error: string | null;
    skip_reason: string | null;
  } | null;
  queued_at: string;
  ringing_at: string | null;
  started_at: string | null;
  ended_at: string | null;
  created_at: string;
}

interface Turn {
  speaker: "agent" | "contact";
  text: string;
  start_ms: number;
  end_ms: number;
  interrupted: boolean;
}


const DIRECTIONS = [
  { value: "outbound", label: "Outbound" },
  { value: "inbound", label: "Inbound" },
  { value: "webrtc", label: "Browser test" },
];
const LIVE = new Set(["queued", "ringing", "in_progress"]);

function directionLabel(direction: string) {
  return DIRECTIONS.find((d) => d.value === direction)?.label ?? direction;
}

async function agentNames(c: DashboardContext): Promise<Map<string, string>> {
  const agents = await api(c).get<{ id: string; name: string }[]>("/agents", { limit: 100 });
  return new Map(agents.ok ? agents.data.map((a) => [a.id, a.name]) : []);
}

function CallsTable({ calls, names }: { calls: Call[]; names: Map<string, string> }) {
  return (
    <DataTable columns={["Created", "Agent", "Direction", "To", "From", "Status", "End reason", { label: "Duration", numeric: true }, { label: "Cost", numeric: true }]}>
      {calls.map((call) => (
        <tr>
          <th scope="row">
            <a href={`/app/calls/${call.id}`}>{dateTime(call.created_at)}</a>
          </th>
          <td>{names.get(call.agent_id) ?? call.agent_id}</td>
          <td>{directionLabel(call.direction)}</td>
          <td>{call.to}</td>
          <td>{call.from}</td>
          <td>
            <StatusBadge status={call.status} />
          </td>
          <td>{words(call.end_reason)}</td>
          <td class="num">{duration(call.duration_seconds)}</td>
          <td class="num">{credits(call.cost_credits)}</td>
        </tr>
      ))}
    </DataTable>
  );
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

function LatencySection({ latency }: { latency: Call["latency"] }) {
  if (!latency || latency.turns.length === 0) {
    return <p>No latency figures: they are recorded when a call with at least one answered turn ends.</p>;
  }
  const stages: [keyof TurnLatency, string][] = [
    ["stt_final_ms", "Speech to text"],
    ["llm_first_token_ms", "Model first token"],
    ["tts_first_byte_ms", "Voice first byte"],
    ["first_audio_ms", "First audio sent"],
    ["total_ms", "Total"],
  ];
  return (
    <div class="table-wrap">
      <table>
        <caption>{`Per-turn latency in milliseconds: p50 ${latency.p50_ms} ms, p95 ${latency.p95_ms} ms (total)`}</caption>
        <thead>
          <tr>
            <th scope="col">Turn</th>
            {stages.map(([, label]) => (
              <th scope="col" class="num">
                {label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {latency.turns.map((turn) => (
            <tr>
              <th scope="row">{turn.turn}</th>
              {stages.map(([key]) => (
                <td class="num">{turn[key]}</td>
              ))}
            </tr>
          ))}
        </tbody>
        <tfoot>
          {(
            [
              ["p50", 50],
              ["p95", 95],
            ] as const
          ).map(([label, p]) => (
            <tr>
              <th scope="row">{label}</th>
              {stages.map(([key]) => (
                <td class="num">{key === "total_ms" ? (p === 50 ? latency.p50_ms : latency.p95_ms) : percentile(latency.turns.map((t) => t[key]), p)}</td>
              ))}
            </tr>
          ))}
        </tfoot>
      </table>
    </div>
  );
}

function TranscriptSection({ transcript }: { transcript: ApiResult<{ turns: Turn[] }> }) {
  if (!transcript.ok) return <ApiErrorBox error={transcript} />;
  const turns = transcript.data.turns;
  if (!turns.length) return <p>Nothing was said on this call.</p>;
  return (
    <ol class="transcript">
      {turns.map((turn) => (
        <li class={turn.speaker}>
          <span class="speaker">{turn.speaker === "agent" ? "Agent" : "Contact"}</span>
          <span class="time">{`${offset(turn.start_ms)}–${offset(turn.end_ms)}`}</span>
          {turn.interrupted ? <span class="badge badge-warn">interrupted</span> : null}
          <p>{turn.text}</p>
        </li>
      ))}
    </ol>
  );
}

function ToolCallsSection({ toolCalls }: { toolCalls: ApiResult<{ tool_calls: ToolCall[] }> }) {
  if (!toolCalls.ok) return <ApiErrorBox error={toolCalls} />;
  const items = toolCalls.data.tool_calls;
  if (!items.length) return <p>The agent used no tools on this call.</p>;
  return (
    <DataTable columns={["Started", "Tool", "Arguments", "Request", { label: "Status", numeric: true }, { label: "Time", numeric: true }, "Result"]}>
      {items.map((call) => (
        <tr>
          <th scope="row">{dateTime(call.started_at)}</th>
          <td>
            {call.name}
            {call.kind === "action" ? <span class="muted"> (call action)</span> : null}
          </td>
          <td>
            <code>{typeof call.arguments === "string" ? call.arguments : JSON.stringify(call.arguments)}</code>
          </td>
          <td>{call.request ? `${call.request.method} ${call.request.url}` : "—"}</td>
          <td class="num">{call.status ?? "—"}</td>
          <td class="num">{`${call.duration_ms} ms`}</td>
          <td>
            {call.error ? <p class="field-error">{call.error}</p> : null}
            {call.response ? (
              <details>
                <summary>Response</summary>
                <pre class="json">{call.response}</pre>
              </details>
            ) : null}
          </td>
        </tr>
      ))}
    </DataTable>
  );
}

function AnalysisSection({ analysis }: { analysis: Call["analysis"] }) {
  if (!analysis) return <p>No analysis: only answered calls are analysed.</p>;
  if (analysis.status === "pending") return <p>The analysis is running; reload in a moment.</p>;
  if (analysis.status === "skipped") return <p>{`Not analysed: ${analysis.skip_reason === "voicemail" ? "a voicemail answered" : "the contact never spoke"}.`}</p>;
  if (analysis.status === "failed") {
    return (
      <div class="error-box" role="alert">
        <p>{`The analysis failed: ${analysis.error ?? "no reason given"}`}</p>
      </div>
    );
  }
  return (
    <dl class="kv">
      <dt>Summary</dt>
      <dd>{analysis.summary ?? "—"}</dd>
      <dt>Success</dt>
      <dd>{analysis.success === null ? "No success criteria" : analysis.success ? "Yes" : "No"}</dd>
      <dt>Sentiment</dt>
      <dd>{words(analysis.sentiment)}</dd>
      {analysis.data ? (
        <>
          <dt>Data</dt>
          <dd>
            <pre class="json">{JSON.stringify(analysis.data, null, 2)}</pre>
          </dd>
        </>
      ) : null}
    </dl>
  );
}

function RecordingSection({ call, link }: { call: Call; link: ApiResult<{ url: string }> | null }) {
  if (!call.recording_url || !link) return <p>No recording for this call.</p>;
  if (!link.ok) return <ApiErrorBox error={link} />;
  if (new URL(link.data.url, "https://placeholder.invalid").pathname.startsWith("/recordings/")) {
    return (
      <audio controls preload="none" src={`/app/calls/${call.id}/recording`}>
        <a href={`/app/calls/${call.id}/recording`}>Download the recording</a>
      </audio>
    );
  }
  return (
    <p>
      The carrier keeps this recording: <a href={link.data.url} rel="noreferrer">open it at the carrier</a>.
    </p>
  );
}

export const callsPages = new Hono<DashboardEnv>()
  .get("/calls", async (c) => {
    const filters = {
      status: c.req.query("status") ?? "",
      direction: c.req.query("direction") ?? "",
      agent_id: c.req.query("agent_id") ?? "",
      from: c.req.query("from") ?? "",
      to: c.req.query("to") ?? "",
    };
    const badDate = [filters.from, filters.to].some((d) => d !== "" && dayStart(d) === undefined);
    const [result, names] = await Promise.all([
      api(c).get<Call[]>("/calls", {
        status: filters.status,
        direction: filters.direction,
        agent_id: filters.agent_id,
        created_after: dayStart(filters.from),
        created_before: dayStart(filters.to, true),
        limit: c.req.query("limit"),
        offset: c.req.query("offset"),
      }),
      agentNames(c),
    ]);
    const filtered = Object.values(filters).some(Boolean);
    return render(
      c,
      <Layout c={c} title="Calls" active="calls">
        <form method="get" action="/app/calls" class="filters card" role="search" aria-label="Filter calls">
          <SelectField name="status" label="Status" values={filters} blank="Any" options={CALL_STATUSES.map((s) => ({ value: s, label: words(s) }))} />
          <SelectField name="direction" label="Direction" values={filters} blank="Any" options={DIRECTIONS} />
          <SelectField name="agent_id" label="Agent" values={filters} blank="Any" options={[...names].map(([value, label]) => ({ value, label }))} />
          <TextField name="from" label="From (UTC day)" type="date" values={filters} />
          <TextField name="to" label="To (UTC day)" type="date" values={filters} />
          <button type="submit" class="btn-secondary">
            Filter
          </button>
          {filtered ? <a href="/app/calls">Clear filters</a> : null}
        </form>
        {badDate ? (
          <div class="error-box" role="alert">
            <p>Dates must be written as YYYY-MM-DD; the date filter was left out.</p>
          </div>
        ) : null}
        <ApiList result={result} empty={filtered ? "No calls match these filters." : "No calls yet."}>
          {(calls, pagination) => (
            <>
              <CallsTable calls={calls} names={names} />
              <Pager c={c} pagination={pagination} />
            </>
          )}
        </ApiList>
      </Layout>,
      pageStatus(result),
    );
  })
  .get("/calls/:id", async (c) => {
    const id = c.req.param("id");
    const client = api(c);
    const call = await client.get<Call>(`/calls/${id}`);
    if (!call.ok) return errorPage(c, call);
    const data = call.data;
    const [transcript, toolCalls, agent, link] = await Promise.all([
      client.get<{ turns: Turn[] }>(`/calls/${id}/transcript`),
      client.get<{ tool_calls: ToolCall[] }>(`/calls/${id}/tool-calls`),
      client.get<{ name: string }>(`/agents/${data.agent_id}`),
      data.recording_url ? client.get<{ url: string }>(`/calls/${id}/recording`) : Promise.resolve(null),
    ]);
    return render(
      c,
      <Layout c={c} title={`Call ${dateTime(data.created_at)}`} active="calls">
        <section class="card" aria-label="Call">
          <dl class="kv">
            <dt>Status</dt>
            <dd>
              <StatusBadge status={data.status} />
            </dd>
            <dt>End reason</dt>
            <dd>{words(data.end_reason)}</dd>
            <dt>Agent</dt>
            <dd>{agent.ok ? <a href={`/app/agents/${data.agent_id}`}>{agent.data.name}</a> : `${data.agent_id} (deleted)`}</dd>
            <dt>Direction</dt>
            <dd>{directionLabel(data.direction)}</dd>
            <dt>To</dt>
            <dd>{data.to}</dd>
            <dt>From</dt>
            <dd>{data.from}</dd>
            {data.answered_by ? (
              <>
                <dt>Answered by</dt>
                <dd>{data.answered_by}</dd>
              </>
            ) : null}
            <dt>Queued</dt>
            <dd>{dateTime(data.queued_at)}</dd>
            <dt>Ringing</dt>
            <dd>{dateTime(data.ringing_at)}</dd>
            <dt>Answered</dt>
            <dd>{dateTime(data.started_at)}</dd>
            <dt>Ended</dt>
            <dd>{dateTime(data.ended_at)}</dd>
            <dt>Duration</dt>
            <dd>{duration(data.duration_seconds)}</dd>
            <dt>Cost</dt>
            <dd>{credits(data.cost_credits)}</dd>
            {data.batch_call_id ? (
              <>
                <dt>Campaign</dt>
                <dd>
                  <a href={`/app/campaigns/${data.batch_call_id}`}>{data.batch_call_id}</a>
                </dd>
              </>
            ) : null}
          </dl>
          {LIVE.has(data.status) ? (
            <form method="post" action={`/app/calls/${id}/hangup`} class="actions">
              <CsrfField c={c} />
              <button type="submit" class="btn-danger">
                Hang up
              </button>
            </form>
          ) : null}
        </section>
        <section class="card" aria-labelledby="recording-heading">
          <h2 id="recording-heading">Recording</h2>
          <RecordingSection call={data} link={link} />
        </section>
        <section class="card" aria-labelledby="transcript-heading">
          <h2 id="transcript-heading">Transcript</h2>
          <TranscriptSection transcript={transcript} />
        </section>
        <section class="card" aria-labelledby="tools-heading">
          <h2 id="tools-heading">Tool calls</h2>
          <ToolCallsSection toolCalls={toolCalls} />
        </section>
        <section class="card" aria-labelledby="latency-heading">
          <h2 id="latency-heading">Latency</h2>
          <LatencySection latency={data.latency} />
        </section>
        <section class="card" aria-labelledby="analysis-heading">
          <h2 id="analysis-heading">Analysis</h2>
          <AnalysisSection analysis={data.analysis} />
        </section>
      </Layout>,
    );
  })
  .get("/calls/:id/recording", async (c) => {
    const id = c.req.param("id");
    const link = await api(c).get<{ url: string }>(`/calls/${id}/recording`);
    if (!link.ok) return c.text(link.status === 404 ? "This call has no recording, or no such call exists." : link.message, pageStatus(link));
    const res = await fetchOwnLink(c, link.data.url);
    if (!res) return c.redirect(link.data.url, 302);
    if (!res.ok) return c.text("The recording could not be read.", res.status === 404 ? 404 : 502);
    // Streamed through as is: the body is R2's stream, never buffered here.
    const headers = new Headers({ "Content-Type": res.headers.get("content-type") ?? "audio/wav", "Cache-Control": "private, no-store" });
    const length = res.headers.get("content-length");
    if (length) headers.set("Content-Length", length);
    return new Response(res.body, { status: 200, headers });
  })
  .post("/calls/:id/hangup", async (c) => {
    const id = c.req.param("id");
    const result = await api(c).post(`/calls/${id}/hangup`);
    if (!result.ok) {
      if (result.status === 404) return errorPage(c, result);
      return redirectWithFlash(c, `/app/calls/${id}`, result.status === 409 ? "The call had already ended." : result.message, "error");
    }
    return redirectWithFlash(c, `/app/calls/${id}`, "Hanging up: the call ends as soon as the carrier confirms.");
  });
