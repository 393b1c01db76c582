import { Hono } from "hono";
import { api, type ApiFailure } from "../api";
import { SelectField, TextField, type Option } from "../fields";
import { redirectWithFlash } from "../flash";
import { postedValues, text, type FormValues } from "../forms";
import { dateTime, words } from "../format";
import { ApiErrorBox, ApiList, ConfirmForm, CsrfField, DataTable, errorPage, Layout, Pager, pageStatus, render, RowAction } from "../layout";
import type { DashboardContext, DashboardEnv } from "../session";

/** Phone numbers: the list, buying (search then purchase), BYOC import, agents per direction, release. */

interface AgentRef {
  id: string;
  name: string;
}

interface PhoneNumber {
  id: string;
  phone_number: string;
  provider: string;
  ownership: "managed" | "byoc";
  friendly_name: string | null;
  capabilities: string[];
  credentials: Record<string, string> | null;
  inbound_agent: AgentRef | null;
  outbound_agent: AgentRef | null;
  created_at: string;
}

interface AvailableNumber {
  phone_number: string;
  phone_number_type: string;
  region_information: { region_type: string; region_name: string }[];
  cost_information: { upfront_cost: string; monthly_cost: string; currency: string } | null;
}

const NUMBER_TYPES: Option[] = [
  { value: "local", label: "Local" },
  { value: "toll_free", label: "Toll-free" },
  { value: "mobile", label: "Mobile" },
  { value: "national", label: "National" },
];

function simulatorOn(c: DashboardContext) {
  return c.env.SIMULATOR_ENABLED === "true";
}

function carriers(c: DashboardContext, withSip: boolean): Option[] {
  return [
    { value: "twilio", label: "Twilio" },
    { value: "telnyx", label: "Telnyx" },
    ...(withSip ? [{ value: "custom_sip", label: "Your SIP trunk" }] : []),
    ...(simulatorOn(c) ? [{ value: "simulator", label: "Simulator (no real calls)" }] : []),
  ];
}

/** Only the fields that were filled in: blanks mean "the API's default". */
function filled(values: FormValues, names: string[]): Record<string, string> {
  return Object.fromEntries(names.map((name) => [name, text(values, name).trim()]).filter(([, value]) => value !== ""));
}

function NumbersTable({ numbers }: { numbers: PhoneNumber[] }) {
  return (
    <DataTable columns={["Number", "Name", "Carrier", "Incoming calls go to", "Outgoing calls by"]}>
      {numbers.map((n) => (
        <tr>
          <th scope="row">
            <a href={`/app/numbers/${n.id}`}>{n.phone_number}</a>
          </th>
          <td>{n.friendly_name ?? "—"}</td>
          <td>{`${words(n.provider)} (${n.ownership === "byoc" ? "your account" : "managed"})`}</td>
          <td>{n.inbound_agent ? <a href={`/app/agents/${n.inbound_agent.id}`}>{n.inbound_agent.name}</a> : "Nobody"}</td>
          <td>{n.outbound_agent ? <a href={`/app/agents/${n.outbound_agent.id}`}>{n.outbound_agent.name}</a> : "Nobody"}</td>
        </tr>
      ))}
    </DataTable>
  );
}

const SEARCH_FIELDS = ["country_code", "area_code", "locality", "administrative_area", "phone_number_type", "provider"];

function SearchForm({ c, values, error }: { c: DashboardContext; values: FormValues; error?: ApiFailure }) {
  return (
    <form method="get" action="/app/numbers/buy" class="card" role="search" aria-label="Search numbers to buy">
      <ApiErrorBox error={error} />
      <div class="form-grid">
        <TextField name="country_code" label="Country (2 letters)" values={values} error={error} placeholder="US" />
        <TextField name="area_code" label="Area code (US and CA)" values={values} error={error} placeholder="415" />
        <TextField name="locality" label="City" values={values} error={error} />
        <TextField name="administrative_area" label="State or province" values={values} error={error} />
        <SelectField name="phone_number_type" label="Type" values={values} error={error} options={NUMBER_TYPES} />
        <SelectField name="provider" label="Carrier" values={values} error={error} blank="Default" options={carriers(c, false)} />
      </div>
      <input type="hidden" name="search" value="1" />
      <button type="submit" class="btn">
        Search
      </button>
    </form>
  );
}

function ImportForm({ c, values, error }: { c: DashboardContext; values: FormValues; error?: ApiFailure }) {
  const common = { values, error };
  return (
    <form method="post" action="/app/numbers/import" class="card" autocomplete="off">
      <CsrfField c={c} />
      <ApiErrorBox error={error} />
      <div class="form-grid">
        <TextField {...common} name="phone_number" label="Phone number (E.164)" placeholder="+14155550123" required />
        <TextField {...common} name="friendly_name" label="Name" />
        <SelectField {...common} name="provider_type" label="Carrier" options={carriers(c, true)} required />
      </div>
      <fieldset>
        <legend>Twilio</legend>
        <div class="form-grid">
          <TextField {...common} name="account_sid" label="Account SID" />
          <TextField {...common} name="auth_token" label="Auth token" type="password" autocomplete="off" />
        </div>
      </fieldset>
      <fieldset>
        <legend>Telnyx</legend>
        <div class="form-grid">
          <TextField {...common} name="api_key" label="API key" type="password" autocomplete="off" />
          <TextField {...common} name="public_key" label="Webhook public key" help="Mission Control → Keys & Credentials → Public Key." />
        </div>
      </fieldset>
      <fieldset>
        <legend>SIP trunk</legend>
        <div class="form-grid">
          <TextField {...common} name="sip_server" label="SIP server" placeholder="sip.example.com:5060" />
          <TextField {...common} name="sip_username" label="SIP user name" />
          <TextField {...common} name="sip_password" label="SIP password" type="password" autocomplete="off" />
        </div>
      </fieldset>
      <p class="help">Credentials are encrypted and never shown again.</p>
      <button type="submit" class="btn">
        Import number
      </button>
    </form>
  );
}

function AssignForm({ c, number, direction, agents }: { c: DashboardContext; number: PhoneNumber; direction: "inbound" | "outbound"; agents: AgentRef[] }) {
  const current = direction === "inbound" ? number.inbound_agent : number.outbound_agent;
  const name = `${direction}_agent_id`;
  return (
    <form method="post" action={`/app/numbers/${number.id}/assign`} class="filters">
      <CsrfField c={c} />
      <input type="hidden" name="assignment_type" value={direction} />
      <SelectField
        name={name}
        label={direction === "inbound" ? "Agent answering incoming calls" : "Agent placing outgoing calls"}
        value={current?.id ?? ""}
        blank="Nobody"
        options={agents.map((a) => ({ value: a.id, label: a.name }))}
      />
      <button type="submit" class="btn-secondary">
        Save <span class="visually-hidden">{`${direction} agent`}</span>
      </button>
    </form>
  );
}

export const numbersPages = new Hono<DashboardEnv>()
  .get("/numbers", async (c) => {
    const result = await api(c).get<PhoneNumber[]>("/telephony/numbers", { limit: c.req.query("limit"), offset: c.req.query("offset") });
    return render(
      c,
      <Layout c={c} title="Phone numbers" active="numbers">
        <div class="toolbar">
          <a class="btn" href="/app/numbers/buy">
            Buy a number
          </a>
          <a class="btn btn-secondary" href="/app/numbers/import">
            Import your own
          </a>
        </div>
        <ApiList result={result} empty="No numbers yet. Buy one, or import one you already have with Twilio, Telnyx or a SIP trunk.">
          {(numbers, pagination) => (
            <>
              <NumbersTable numbers={numbers} />
              <Pager c={c} pagination={pagination} />
            </>
          )}
        </ApiList>
      </Layout>,
      pageStatus(result),
    );
  })
  .get("/numbers/buy", async (c) => {
    const values: FormValues = { country_code: "US", phone_number_type: "local", ...c.req.query() };
    // Searching changes nothing, so it is a GET: results can be bookmarked and reloaded.
    const searched = c.req.query("search") === "1";
    const result = searched ? await api(c).post<AvailableNumber[]>("/telephony/numbers/search", filled(values, SEARCH_FIELDS)) : null;
    return render(
      c,
      <Layout c={c} title="Buy a number" active="numbers">
        <SearchForm c={c} values={values} error={result && !result.ok ? result : undefined} />
        {/* A refused search is shown in the search form. */}
        {result?.ok ? (
          <ApiList result={result} empty="No numbers are available for this search. Try another area.">
            {(available) => (
              <DataTable columns={["Number", "Type", "Region", "Monthly cost", { label: "Buy", visuallyHidden: true }]} caption="Available numbers">
                {available.map((n) => (
                  <tr>
                    <th scope="row">{n.phone_number}</th>
                    <td>{words(n.phone_number_type)}</td>
                    <td>{n.region_information.map((r) => r.region_name).join(", ")}</td>
                    <td>{n.cost_information ? `${n.cost_information.monthly_cost} ${n.cost_information.currency}` : "—"}</td>
                    <td>
                      <RowAction c={c} action="/app/numbers/purchase" label="Buy" rowName={n.phone_number} buttonClass="btn">
                        <input type="hidden" name="phone_number" value={n.phone_number} />
                        {values.provider ? <input type="hidden" name="provider" value={text(values, "provider")} /> : null}
                      </RowAction>
                    </td>
                  </tr>
                ))}
              </DataTable>
            )}
          </ApiList>
        ) : null}
      </Layout>,
      result ? pageStatus(result) : 200,
    );
  })
  .post("/numbers/purchase", async (c) => {
    const values = await postedValues(c);
    const result = await api(c).post<PhoneNumber>("/telephony/numbers/purchase", filled(values, ["phone_number", "provider", "friendly_name"]));
    if (result.ok) return redirectWithFlash(c, `/app/numbers/${result.data.id}`, `Bought ${result.data.phone_number}. Assign it to an agent to use it.`);
    return redirectWithFlash(c, "/app/numbers/buy", `Could not buy ${text(values, "phone_number")}: ${result.message}`, "error");
  })
  .get("/numbers/import", (c) =>
    render(
      c,
      <Layout c={c} title="Import a number" active="numbers">
        <ImportForm c={c} values={{ provider_type: "twilio" }} />
      </Layout>,
    ),
  )
  .post("/numbers/import", async (c) => {
    const values = await postedValues(c);
    const fields = ["phone_number", "friendly_name", "provider_type", "account_sid", "auth_token", "api_key", "public_key", "sip_server", "sip_username", "sip_password"];
    const result = await api(c).post<PhoneNumber>("/telephony/numbers/import", filled(values, fields));
    if (result.ok) return redirectWithFlash(c, `/app/numbers/${result.data.id}`, `Imported ${result.data.phone_number}.`);
    // Secrets are not sent back into the page.
    const safe = Object.fromEntries(Object.entries(values).filter(([name]) => !["auth_token", "api_key", "sip_password"].includes(name)));
    return render(
      c,
      <Layout c={c} title="Import a number" active="numbers">
        <ImportForm c={c} values={safe} error={result} />
      </Layout>,
      pageStatus(result),
    );
  })
  .get("/numbers/:id", async (c) => {
    const client = api(c);
    const [number, agents] = await Promise.all([client.get<PhoneNumber>(`/telephony/numbers/${c.req.param("id")}`), client.get<AgentRef[]>("/agents", { limit: 100 })]);
    if (!number.ok) return errorPage(c, number);
    const n = number.data;
    const agentList = agents.ok ? agents.data : [];
    return render(
      c,
      <Layout c={c} title={n.phone_number} active="numbers">
        <section class="card" aria-label="Number">
          <dl class="kv">
            <dt>Name</dt>
            <dd>{n.friendly_name ?? "—"}</dd>
            <dt>Carrier</dt>
            <dd>{words(n.provider)}</dd>
            <dt>Ownership</dt>
            <dd>{n.ownership === "byoc" ? "Your own carrier account (imported)" : "Managed by Truedy"}</dd>
            <dt>Capabilities</dt>
            <dd>{n.capabilities.join(", ") || "—"}</dd>
            {n.credentials ? (
              <>
                <dt>Credentials</dt>
                <dd>
                  {Object.entries(n.credentials)
                    .map(([k, v]) => `${words(k)}: ${v}`)
                    .join("; ")}
                </dd>
              </>
            ) : null}
            <dt>Added</dt>
            <dd>{dateTime(n.created_at)}</dd>
          </dl>
        </section>
        <section class="card" aria-labelledby="agents-heading">
          <h2 id="agents-heading">Agents</h2>
          {agents.ok ? null : <ApiErrorBox error={agents} />}
          <AssignForm c={c} number={n} direction="inbound" agents={agentList} />
          <AssignForm c={c} number={n} direction="outbound" agents={agentList} />
        </section>
        <p>
          <a class="btn btn-danger" href={`/app/numbers/${n.id}/release`}>
            Release this number
          </a>
        </p>
      </Layout>,
    );
  })
  .post("/numbers/:id/assign", async (c) => {
    const id = c.req.param("id");
    const values = await postedValues(c);
    const direction = text(values, "assignment_type");
    const agentId = text(values, `${direction}_agent_id`);
    const result = agentId
      ? await api(c).post("/telephony/numbers/assign", { number_id: id, agent_id: agentId, assignment_type: direction })
      : await api(c).post("/telephony/numbers/unassign", { number_id: id, assignment_type: direction });
    if (!result.ok) {
      // Another org's number is a 404 page; an agent that is gone is said on the number's page.
      if (result.status === 404 && result.details?.id !== agentId) return errorPage(c, result);
      return redirectWithFlash(c, `/app/numbers/${id}`, result.message, "error");
    }
    return redirectWithFlash(c, `/app/numbers/${id}`, agentId ? "Agent assigned." : "Agent removed from this number.");
  })
  .get("/numbers/:id/release", async (c) => {
    const number = await api(c).get<PhoneNumber>(`/telephony/numbers/${c.req.param("id")}`);
    if (!number.ok) return errorPage(c, number);
    const n = number.data;
    return render(
      c,
      <Layout c={c} title={`Release ${n.phone_number}?`} active="numbers">
        <ConfirmForm c={c} action={`/app/numbers/${n.id}/release`} confirm="Release number" back={`/app/numbers/${n.id}`}>
          {n.ownership === "managed" ? "The number goes back to the carrier: you may not get it again." : "The number is removed from Truedy; it stays in your carrier account."}
        </ConfirmForm>
      </Layout>,
    );
  })
  .post("/numbers/:id/release", async (c) => {
    const result = await api(c).delete(`/telephony/numbers/${c.req.param("id")}`);
    if (!result.ok) return errorPage(c, result);
    return redirectWithFlash(c, "/app/numbers", `Released ${result.data.phone_number}.`);
  });
