import { Hono } from "hono";
import { agentBodyFromForm, agentFormValues, NEW_AGENT_VALUES } from "../agent-form";
import { api, type ApiFailure } from "../api";
import { CheckboxField, SelectField, TextArea, TextField, type Option } from "../fields";
import { redirectWithFlash } from "../flash";
import { postedValues, text, type FormValues } from "../forms";
import { dateTime } from "../format";
import { ApiErrorBox, ApiList, ConfirmForm, CsrfField, DataTable, errorPage, Layout, Pager, pageStatus, render, RowAction, StatusBadge } from "../layout";
import type { DashboardContext, DashboardEnv } from "../session";

/**
 * Agents: list, create and edit forms, phone-number assignment, delete with confirmation and
 * the browser test call (public/app/static/test-call.js talks to POST /app/agents/:id/test-call).
 */

interface Agent {
  id: string;
  name: string;
  description: string | null;
  status: string;
  voice_id: string;
  voice_name: string | null;
  system_prompt: string;
  greeting: string | null;
  model: string;
  language_hint: string | null;
  tools: string[];
  knowledge_bases: string[];
  max_duration: number;
  inactivity_timeout: number;
  voicemail: { action: string; message: string | null } | null;
  success_criteria: string | null;
  inbound_phone_numbers: { id: string; phone_number: string }[];
  outbound_phone_numbers: { id: string; phone_number: string }[];
  created_at: string;
  updated_at: string;
}

interface Named {
  id: string;
  name: string;
}

/** The choices the form offers: voices, tools and knowledge bases of the org (first 100 of each). */
async function formChoices(c: DashboardContext) {
  const client = api(c);
  const [voices, tools, knowledgeBases] = await Promise.all([
    client.get<(Named & { provider: string; language: string | null; status: string })[]>("/voices", { limit: 100 }),
    client.get<Named[]>("/tools", { limit: 100 }),
    client.get<Named[]>("/knowledge-bases", { limit: 100 }),
  ]);
  const failure = [voices, tools, knowledgeBases].find((r): r is ApiFailure => !r.ok);
  const options = <T extends Named>(result: typeof tools | typeof voices, label: (item: T) => string): Option[] =>
    result.ok ? (result.data as T[]).map((item) => ({ value: item.id, label: label(item) })) : [];
  return {
    failure,
    voices: options<Named & { provider: string; language: string | null; status: string }>(voices, (v) =>
      [v.name, v.provider, v.language, v.status === "active" ? "" : v.status].filter(Boolean).join(" · "),
    ),
    tools: options(tools, (t) => t.name),
    knowledgeBases: options(knowledgeBases, (k) => k.name),
  };
}

type Choices = Awaited<ReturnType<typeof formChoices>>;

function AgentForm({ c, action, values, choices, error, submit }: { c: DashboardContext; action: string; values: FormValues; choices: Choices; error?: ApiFailure; submit: string }) {
  const common = { values, error };
  return (
    <form method="post" action={action} class="card" novalidate>
      <CsrfField c={c} />
      <ApiErrorBox error={error ?? choices.failure} />
      <fieldset>
        <legend>Basics</legend>
        <div class="form-grid">
          <TextField {...common} name="name" label="Name" required />
          <SelectField
            {...common}
            name="status"
            label="Status"
            options={[
              { value: "active", label: "Active (can take and place calls)" },
              { value: "draft", label: "Draft (cannot call)" },
            ]}
          />
          <TextArea {...common} name="description" label="Description" rows={2} />
          <TextArea {...common} name="system_prompt" label="Prompt" rows={8} required help="Instructions for the model. {{variable}} placeholders are filled from each call's variables." />
          <TextArea {...common} name="greeting" label="Greeting" rows={2} help="What the agent says first. Blank: the model opens the conversation." />
          <SelectField
            {...common}
            name="first_speaker"
            label="Who speaks first"
            options={[
              { value: "agent", label: "The agent" },
              { value: "user", label: "The person called" },
            ]}
          />
        </div>
      </fieldset>
      <fieldset>
        <legend>Voice and model</legend>
        <div class="form-grid">
          <SelectField {...common} name="voice_id" label="Voice" options={choices.voices} blank="Choose a voice" required />
          <TextField {...common} name="model" label="LLM model" help="Any model of your OpenAI-compatible server, e.g. gpt-4o-mini." />
          <TextField {...common} name="temperature" label="Temperature" type="number" step="0.1" min={0} max={1} />
          <TextField {...common} name="language_hint" label="Language" placeholder="en-US" help="A BCP-47 tag for speech recognition and the voice." />
        </div>
      </fieldset>
      <fieldset>
        <legend>Knowledge and tools</legend>
        <div class="form-grid">
          <SelectField {...common} name="tools" label="Tools" options={choices.tools} multiple help={choices.tools.length ? "Hold Ctrl (or ⌘) to pick several." : "No tools yet: create them through the API."} />
          <SelectField
            {...common}
            name="knowledge_bases"
            label="Knowledge bases"
            options={choices.knowledgeBases}
            multiple
            help={choices.knowledgeBases.length ? "At most 5." : "No knowledge bases yet: create them through the API."}
          />
        </div>
      </fieldset>
      <fieldset>
        <legend>Call handling</legend>
        <div class="form-grid">
          <TextField {...common} name="max_duration" label="Maximum call length (seconds)" type="number" min={10} />
          <TextField {...common} name="join_timeout" label="Ring time before giving up (seconds)" type="number" min={5} />
          <TextField {...common} name="inactivity_timeout" label="Silence before a re-prompt (seconds)" type="number" min={2} />
          <TextField {...common} name="inactivity_message" label="Re-prompt message" placeholder="Are you still there?" />
          <TextField {...common} name="max_duration_message" label="Goodbye at the time limit" wide help="Blank: a default goodbye." />
          <CheckboxField {...common} name="recording_enabled" label="Record calls" />
          <SelectField
            {...common}
            name="voicemail_action"
            label="When voicemail answers"
            blank="Talk as usual (no voicemail detection)"
            options={[
              { value: "hangup", label: "Hang up" },
              { value: "leave_message", label: "Leave a message" },
            ]}
          />
          <TextArea {...common} name="voicemail_message" label="Voicemail message" rows={2} help="Needed to leave a message; {{variables}} are filled in." />
        </div>
      </fieldset>
      <fieldset>
        <legend>After the call</legend>
        <div class="form-grid">
          <TextArea {...common} name="success_criteria" label="Success criteria" rows={2} help="What makes a call a success; each analysed call is judged against it." />
          <TextArea {...common} name="analysis_schema" label="Analysis schema (JSON)" code rows={4} help='A JSON Schema with "type": "object" for data taken from each call. Blank: none.' />
        </div>
      </fieldset>
      <details>
        <summary>Advanced settings (JSON)</summary>
        <div class="form-grid">
          <TextArea {...common} name="stt" label="Speech recognition (stt)" code rows={5} help='e.g. {"provider": "deepgram", "model": "nova-3", "endpointing_ms": 300}' />
          <TextArea {...common} name="interruption" label="Interruptions" code rows={5} help='e.g. {"enabled": true, "min_words": 2, "min_speech_ms": 400}' />
          <TextArea
            {...common}
            name="transfer_destinations"
            label="Transfer destinations"
            code
            rows={5}
            help='A list, e.g. [{"destination": "+14155552671", "description": "Sales"}]. Blank: no transfers.'
          />
        </div>
      </details>
      <div class="actions">
        <button type="submit" class="btn">
          {submit}
        </button>
        <a href="/app/agents">Cancel</a>
      </div>
    </form>
  );
}

function NumbersSection({ c, agent, numbers }: { c: DashboardContext; agent: Agent; numbers: { id: string; phone_number: string; friendly_name: string | null }[] }) {
  const assigned = [
    ...agent.inbound_phone_numbers.map((n) => ({ ...n, direction: "inbound" })),
    ...agent.outbound_phone_numbers.map((n) => ({ ...n, direction: "outbound" })),
  ];
  return (
    <section aria-labelledby="numbers-heading" class="card">
      <h2 id="numbers-heading">Phone numbers</h2>
      {assigned.length ? (
        <DataTable columns={["Number", "Direction", { label: "Actions", visuallyHidden: true }]}>
          {assigned.map((n) => (
            <tr>
              <th scope="row">
                <a href={`/app/numbers/${n.id}`}>{n.phone_number}</a>
              </th>
              <td>{n.direction === "inbound" ? "Answers incoming calls" : "Places outgoing calls"}</td>
              <td>
                <RowAction c={c} action={`/app/agents/${agent.id}/numbers/unassign`} label="Unassign" rowName={`${n.phone_number} (${n.direction})`} buttonClass="btn-secondary">
                  <input type="hidden" name="number_id" value={n.id} />
                  <input type="hidden" name="assignment_type" value={n.direction} />
                </RowAction>
              </td>
            </tr>
          ))}
        </DataTable>
      ) : (
        <p>No numbers yet. The agent needs an outbound number to place calls and an inbound one to answer.</p>
      )}
      {numbers.length ? (
        <form method="post" action={`/app/agents/${agent.id}/numbers/assign`} class="filters">
          <CsrfField c={c} />
          <SelectField
            name="number_id"
            label="Number"
            options={numbers.map((n) => ({ value: n.id, label: n.friendly_name ? `${n.phone_number} (${n.friendly_name})` : n.phone_number }))}
          />
          <SelectField
            name="assignment_type"
            label="Use it for"
            options={[
              { value: "outbound", label: "Outgoing calls" },
              { value: "inbound", label: "Incoming calls" },
            ]}
          />
          <button type="submit" class="btn">
            Assign
          </button>
        </form>
      ) : (
        <p>
          The organization has no numbers yet. <a href="/app/numbers">Buy or import one</a>.
        </p>
      )}
    </section>
  );
}

/** The phone keypad of the test call, in its usual layout, with the names a screen reader says. */
const KEYPAD_KEYS = [..."123456789"].map((k) => [k, k]).concat([["*", "star"], ["0", "0"], ["#", "pound"]]);

function TestCallSection({ c, agent }: { c: DashboardContext; agent: Agent }) {
  return (
    <section aria-labelledby="test-call-heading" class="card" id="test-call" data-url={`/app/agents/${agent.id}/test-call`} data-csrf={c.get("session").csrfToken}>
      <h2 id="test-call-heading">Test call</h2>
      <p>Talk to the agent from this browser with your microphone, and press keys on the keypad as a caller would. The call counts like any other call.</p>
      <div class="call-panel">
        <button type="button" class="btn" id="test-call-start" disabled={agent.status !== "active"}>
          Start test call
        </button>
        <button type="button" class="btn-danger" id="test-call-hangup" hidden>
          Hang up
        </button>
        <p class="call-status" id="test-call-status" role="status" aria-live="polite">
          {agent.status === "active" ? "Not connected." : "Only an active agent can take a test call."}
        </p>
      </div>
      <div class="keypad" id="test-call-keypad" role="group" aria-label="Keypad" hidden>
        {KEYPAD_KEYS.map(([key, name]) => (
          <button type="button" class="btn-secondary" data-key={key} aria-label={`Key ${name}`}>
            {key}
          </button>
        ))}
      </div>
      <noscript>
        <p>The test call needs JavaScript.</p>
      </noscript>
    </section>
  );
}

function AgentDetails({ agent }: { agent: Agent }) {
  return (
    <dl class="kv">
      <dt>Status</dt>
      <dd>
        <StatusBadge status={agent.status} />
      </dd>
      <dt>Voice</dt>
      <dd>{agent.voice_name ?? agent.voice_id}</dd>
      <dt>LLM model</dt>
      <dd>{agent.model}</dd>
      <dt>Language</dt>
      <dd>{agent.language_hint ?? "Not set"}</dd>
      <dt>Greeting</dt>
      <dd>{agent.greeting ?? "None (the model opens)"}</dd>
      <dt>Maximum length</dt>
      <dd>{`${agent.max_duration} s`}</dd>
      <dt>Voicemail</dt>
      <dd>{agent.voicemail ? (agent.voicemail.action === "hangup" ? "Hang up" : `Leave a message: ${agent.voicemail.message ?? ""}`) : "Not detected"}</dd>
      <dt>Success criteria</dt>
      <dd>{agent.success_criteria ?? "None"}</dd>
      <dt>Tools</dt>
      <dd>{agent.tools.length}</dd>
      <dt>Knowledge bases</dt>
      <dd>{agent.knowledge_bases.length}</dd>
      <dt>Updated</dt>
      <dd>{dateTime(agent.updated_at)}</dd>
    </dl>
  );
}

export const agentsPages = new Hono<DashboardEnv>()
  .get("/agents", async (c) => {
    const filters = { name: c.req.query("name") ?? "", status: c.req.query("status") ?? "" };
    const result = await api(c).get<Agent[]>("/agents", { ...filters, limit: c.req.query("limit"), offset: c.req.query("offset") });
    return render(
      c,
      <Layout c={c} title="Agents" active="agents">
        <div class="toolbar">
          <a class="btn" href="/app/agents/new">
            New agent
          </a>
        </div>
        <form method="get" action="/app/agents" class="filters card" role="search">
          <TextField name="name" label="Name contains" values={filters} type="search" />
          <SelectField
            name="status"
            label="Status"
            values={filters}
            blank="Any"
            options={["active", "draft"].map((s) => ({ value: s, label: s }))}
          />
          <button type="submit" class="btn-secondary">
            Filter
          </button>
        </form>
        <ApiList result={result} empty={`No agents${filters.name || filters.status ? " match these filters" : " yet"}.`}>
          {(agents, pagination) => (
            <>
              <DataTable columns={["Name", "Status", "Voice", "Model", "Numbers", "Updated"]}>
                {agents.map((agent) => (
                  <tr>
                    <th scope="row">
                      <a href={`/app/agents/${agent.id}`}>{agent.name}</a>
                    </th>
                    <td>
                      <StatusBadge status={agent.status} />
                    </td>
                    <td>{agent.voice_name ?? agent.voice_id}</td>
                    <td>{agent.model}</td>
                    <td>{[...agent.inbound_phone_numbers, ...agent.outbound_phone_numbers].map((n) => n.phone_number).filter((n, i, all) => all.indexOf(n) === i).join(", ") || "—"}</td>
                    <td>{dateTime(agent.updated_at)}</td>
                  </tr>
                ))}
              </DataTable>
              <Pager c={c} pagination={pagination} />
            </>
          )}
        </ApiList>
      </Layout>,
      pageStatus(result),
    );
  })
  .get("/agents/new", async (c) => {
    const choices = await formChoices(c);
    return render(
      c,
      <Layout c={c} title="New agent" active="agents">
        <AgentForm c={c} action="/app/agents" values={NEW_AGENT_VALUES} choices={choices} submit="Create agent" />
      </Layout>,
    );
  })
  .post("/agents", async (c) => {
    const values = await postedValues(c);
    const built = agentBodyFromForm(values, "create");
    const result = built.ok ? await api(c).post<Agent>("/agents", built.body) : built.failure;
    if (result.ok) return redirectWithFlash(c, `/app/agents/${result.data.id}`, `Agent "${result.data.name}" created.`);
    return render(
      c,
      <Layout c={c} title="New agent" active="agents">
        <AgentForm c={c} action="/app/agents" values={values} choices={await formChoices(c)} error={result} submit="Create agent" />
      </Layout>,
      pageStatus(result),
    );
  })
  .get("/agents/:id", async (c) => {
    const id = c.req.param("id");
    const client = api(c);
    const [agent, numbers] = await Promise.all([client.get<Agent>(`/agents/${id}`), client.get("/telephony/numbers", { limit: 100 })]);
    if (!agent.ok) return errorPage(c, agent);
    const a = agent.data;
    return render(
      c,
      <Layout c={c} title={a.name} active="agents" scripts={["test-call.js"]}>
        <div class="toolbar">
          <a class="btn" href={`/app/agents/${a.id}/edit`}>
            Edit
          </a>
          <a class="btn-secondary btn" href={`/app/calls?agent_id=${a.id}`}>
            Calls
          </a>
          <a class="btn-danger btn" href={`/app/agents/${a.id}/delete`}>
            Delete
          </a>
        </div>
        {a.description ? <p>{a.description}</p> : null}
        <section class="card" aria-label="Settings">
          <AgentDetails agent={a} />
        </section>
        <TestCallSection c={c} agent={a} />
        {numbers.ok ? <NumbersSection c={c} agent={a} numbers={numbers.data} /> : <ApiErrorBox error={numbers} />}
        <section class="card" aria-labelledby="prompt-heading">
          <h2 id="prompt-heading">Prompt</h2>
          <pre class="json">{a.system_prompt}</pre>
        </section>
      </Layout>,
    );
  })
  .get("/agents/:id/edit", async (c) => {
    const id = c.req.param("id");
    const [agent, choices] = await Promise.all([api(c).get<Agent>(`/agents/${id}`), formChoices(c)]);
    if (!agent.ok) return errorPage(c, agent);
    return render(
      c,
      <Layout c={c} title={`Edit ${agent.data.name}`} active="agents">
        <AgentForm c={c} action={`/app/agents/${id}`} values={agentFormValues(agent.data)} choices={choices} submit="Save changes" />
      </Layout>,
    );
  })
  .post("/agents/:id", async (c) => {
    const id = c.req.param("id");
    const values = await postedValues(c);
    const built = agentBodyFromForm(values, "edit");
    const result = built.ok ? await api(c).patch<Agent>(`/agents/${id}`, built.body) : built.failure;
    if (result.ok) return redirectWithFlash(c, `/app/agents/${id}`, "Agent saved.");
    if (result.status === 404) return errorPage(c, result);
    return render(
      c,
      <Layout c={c} title="Edit agent" active="agents">
        <AgentForm c={c} action={`/app/agents/${id}`} values={values} choices={await formChoices(c)} error={result} submit="Save changes" />
      </Layout>,
      pageStatus(result),
    );
  })
  .get("/agents/:id/delete", async (c) => {
    const agent = await api(c).get<Agent>(`/agents/${c.req.param("id")}`);
    if (!agent.ok) return errorPage(c, agent);
    return render(
      c,
      <Layout c={c} title={`Delete ${agent.data.name}?`} active="agents">
        <ConfirmForm c={c} action={`/app/agents/${agent.data.id}/delete`} confirm="Delete agent" back={`/app/agents/${agent.data.id}`}>
          The agent is deleted for good. Its phone numbers stay in the organization, unassigned; its past calls stay listed.
        </ConfirmForm>
      </Layout>,
    );
  })
  .post("/agents/:id/delete", async (c) => {
    const result = await api(c).delete(`/agents/${c.req.param("id")}`);
    if (!result.ok) return errorPage(c, result);
    return redirectWithFlash(c, "/app/agents", "Agent deleted.");
  })
  .post("/agents/:id/numbers/:change{assign|unassign}", async (c) => {
    const id = c.req.param("id");
    const change = c.req.param("change");
    const form = await postedValues(c);
    const numberId = text(form, "number_id");
    const assignmentType = text(form, "assignment_type");
    const body: Record<string, unknown> = { number_id: numberId, assignment_type: assignmentType };
    if (change === "assign") body.agent_id = id;
    else {
      // Only a number this agent holds may be unassigned from its page.
      const agent = await api(c).get<Agent>(`/agents/${id}`);
      if (!agent.ok) return errorPage(c, agent);
      const held = assignmentType === "inbound" ? agent.data.inbound_phone_numbers : agent.data.outbound_phone_numbers;
      if (!held.some((n) => n.id === numberId)) return redirectWithFlash(c, `/app/agents/${id}`, "That number is not assigned to this agent.", "error");
    }
    const result = await api(c).post(`/telephony/numbers/${change}`, body);
    if (!result.ok) {
      if (result.status === 404) return errorPage(c, result);
      return redirectWithFlash(c, `/app/agents/${id}`, result.message, "error");
    }
    return redirectWithFlash(c, `/app/agents/${id}`, change === "assign" ? "Number assigned." : "Number unassigned.");
  })
  .post("/agents/:id/test-call", async (c) => {
    // Called by test-call.js: JSON in, JSON out (the CSRF token comes as x-csrf-token).
    // The agent is read first so another org's id is a 404 here, as on every /app/agents/:id page.
    const agent = await api(c).get<Agent>(`/agents/${c.req.param("id")}`);
    if (!agent.ok) return c.json({ error: { code: agent.code, message: agent.message, headline: plainTestCallError(agent) } }, pageStatus(agent));
    const result = await api(c).post<{ call: { id: string }; token: string; expires_at: string; websocket_url: string }>("/calls/web", {
      agent_id: c.req.param("id"),
      metadata: { source: "dashboard" },
    });
    if (!result.ok) {
      return c.json({ error: { code: result.code, message: result.message, headline: plainTestCallError(result) } }, pageStatus(result));
    }
    const { call, token, expires_at, websocket_url } = result.data;
    return c.json({ call_id: call.id, token, expires_at, websocket_url }, 201);
  });

function plainTestCallError(failure: ApiFailure): string {
  if (failure.code === "concurrency_limit_reached") return "All of your organization's call slots are busy, so the test call cannot start. Try again when a call ends.";
  if (failure.status === 404) return "This agent no longer exists.";
  if (failure.status === 422) return `The agent cannot take a call: ${failure.message}`;
  return failure.message;
}
