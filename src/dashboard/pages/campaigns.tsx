import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import { CAMPAIGN_STATUSES, CONTACT_STATUSES, ROTATION_STRATEGIES, statusesAllowing, type CampaignStatus } from "../../domain/campaigns";
import { api, type ApiFailure } from "../api";
import { campaignProgress, LIVE_STAT_LABELS, statusLabel, type CampaignProgress, type CampaignStatsInput } from "../campaign-progress";
import {
  checkStep,
  createBody,
  firstInvalidStep,
  relabelApiError,
  SCHEDULE_DEFAULTS,
  STEP_FIELDS,
  stepOfField,
  WIZARD_STEPS,
  type StepNumber,
} from "../campaign-wizard";
import { HorizontalBarChart } from "../charts";
import { formatCount, seg } from "../figures";
import { redirectWithFlash } from "../flash";
import { CheckboxField, CheckboxGroup, HiddenFields, SelectField, StatusFilter, TextField } from "../fields";
import { fieldError, postedValues, type FormValues } from "../forms";
import { credits, dateTime, duration, words } from "../format";
import { ApiErrorBox, ApiList, CsrfField, DataTable, errorPage, Layout, pageStatus, Pager, plainHeadline, render, StatusBadge } from "../layout";
import type { DashboardContext, DashboardEnv } from "../session";

/** Campaign pages: the list, the create wizard, one campaign's live progress, contacts and controls. */

interface Campaign {
  id: string;
  name: string;
  status: CampaignStatus;
  status_reason: string | null;
  agent_id: string;
  phone_number_ids: string[] | null;
  phone_rotation_strategy: string;
  contact_folder_id: string | null;
  schedule_type: "immediate" | "scheduled";
  scheduled_at: string | null;
  timezone: string;
  start_time: string | null;
  end_time: string | null;
  working_days: number[];
  max_concurrent_calls: number;
  max_calls_per_day: number | null;
  retry_failed: boolean;
  max_retry_attempts: number;
  retry_policy: Record<string, { delay_minutes: number } | null>;
  respect_recipient_timezone: boolean;
  total_contacts: number;
  stats: CampaignStatsInput & { attempts: number; cost_credits: number; estimated_finish_at: string | null };
  started_at: string | null;
  completed_at: string | null;
  created_at: string;
}

interface Attempt {
  attempt: number;
  call_id: string;
  from_number: string;
  dialed_at: string;
  call_status: string | null;
  outcome: string | null;
  end_reason: string | null;
  duration_seconds: number | null;
}

interface CampaignContact {
  contact_id: string;
  phone_number: string;
  first_name: string | null;
  last_name: string | null;
  status: string;
  skip_reason: string | null;
  scheduled_at: string | null;
  attempts: Attempt[];
}

interface CampaignFunnel {
  funnel: { scheduled: number; dialled: number; answered: number; success: number };
}

interface Agent {
  id: string;
  name: string;
  status: string;
}

interface PhoneNumber {
  id: string;
  phone_number: string;
  friendly_name: string | null;
  outbound_agent_id: string | null;
}

interface Folder {
  id: string;
  name: string;
  contact_count: number;
}

const PAGE_SIZE = 25;
const WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const ROTATION_LABELS: Record<(typeof ROTATION_STRATEGIES)[number], string> = {
  random: "Random",
  sequential: "Sequential (use one number up to its daily cap)",
  round_robin: "Round robin (take turns)",
};
const REDIAL_OUTCOMES = [
  { field: "delay_no_answer", outcome: "no_answer", label: "After no answer", byDefault: "120" },
  { field: "delay_busy", outcome: "busy", label: "After busy", byDefault: "15" },
  { field: "delay_failed", outcome: "failed", label: "After a failed call", byDefault: "30" },
  { field: "delay_voicemail", outcome: "voicemail", label: "After voicemail", byDefault: "never" },
] as const;

const ListQuery = z.object({
  status: z.enum(CAMPAIGN_STATUSES).optional().catch(undefined),
  offset: z.coerce.number().int().min(0).catch(0).default(0),
});
const ContactsQuery = z.object({
  contact_status: z.enum(CONTACT_STATUSES).optional().catch(undefined),
  offset: z.coerce.number().int().min(0).catch(0).default(0),
});
const WizardControls = z.object({
  step: z.coerce.number().int().min(1).max(4).catch(1),
  nav: z.enum(["next", "back", "launch", "draft"]).catch("next"),
});

/** The statuses in which a campaign changes by itself, so its page polls for progress. */
const LIVE_CAMPAIGN_STATUSES: readonly CampaignStatus[] = ["scheduled", "active", "paused"];

const campaignPath = (id: string) => `/app/campaigns/${seg(id)}`;
const personName = (c: { first_name: string | null; last_name: string | null }) => [c.first_name, c.last_name].filter(Boolean).join(" ");

function ProgressBar({ progress, label, id }: { progress: CampaignProgress; label: string; id?: string }) {
  return (
    <progress id={id} max={Math.max(1, progress.total)} value={progress.done} aria-label={label} aria-valuetext={progress.progress_text}>
      {`${progress.percent}%`}
    </progress>
  );
}

// ---------------------------------------------------------------------------------------------
// List

async function listPage(c: DashboardContext) {
  const query = ListQuery.parse(c.req.query());
  const campaigns = await api(c).get<Campaign[]>("/batch-calls", { status: query.status, limit: PAGE_SIZE, offset: query.offset });
  return render(
    c,
    <Layout c={c} title="Campaigns" active="campaigns">
      <p>
        <a class="btn" href="/app/campaigns/new">
          New campaign
        </a>
      </p>
      <StatusFilter action="/app/campaigns" form="filter" name="status" label="Status" value={query.status} statuses={CAMPAIGN_STATUSES} labelOf={statusLabel} />
      <ApiList result={campaigns} empty={query.status ? `No ${statusLabel(query.status)} campaigns.` : "No campaigns yet. Start one with “New campaign”."}>
        {(campaignRows) => (
          <DataTable columns={["Campaign", "Status", "Progress", { label: "Contacts", numeric: true }, "Created"]}>
            {campaignRows.map((campaign) => {
              const progress = campaignProgress(campaign, null);
              return (
                <tr>
                  <th scope="row">
                    <a href={campaignPath(campaign.id)}>{campaign.name}</a>
                  </th>
                  <td>
                    <StatusBadge status={campaign.status} />
                  </td>
                  <td>
                    <ProgressBar progress={progress} label={`${campaign.name} progress`} /> <span>{progress.progress_text}</span>
                  </td>
                  <td class="num">{formatCount(campaign.stats.total)}</td>
                  <td>{dateTime(campaign.created_at)}</td>
                </tr>
              );
            })}
          </DataTable>
        )}
      </ApiList>
      {campaigns.ok ? <Pager c={c} pagination={campaigns.pagination} /> : null}
    </Layout>,
  );
}

// ---------------------------------------------------------------------------------------------
// Create wizard

interface WizardChoices {
  agents: Agent[];
  numbers: PhoneNumber[];
  folders: Folder[];
  failure?: ApiFailure;
}

async function wizardChoices(c: DashboardContext): Promise<WizardChoices> {
  const [agents, numbers, folders] = await Promise.all([
    api(c).get<Agent[]>("/agents", { status: "active", limit: 100 }),
    api(c).get<PhoneNumber[]>("/telephony/numbers", { limit: 100 }),
    api(c).get<Folder[]>("/contacts/folders", { limit: 100, sort_by: "name", order: "asc" }),
  ]);
  return {
    agents: agents.ok ? agents.data : [],
    numbers: numbers.ok ? numbers.data : [],
    folders: folders.ok ? folders.data : [],
    failure: [agents, numbers, folders].find((r): r is ApiFailure => !r.ok),
  };
}

function StepList({ current }: { current: StepNumber }) {
  return (
    <ol class="steps" aria-label="Steps">
      {WIZARD_STEPS.map((s) => (
        <li aria-current={s.number === current ? "step" : undefined}>
          {s.number < current ? `${s.title} (done)` : s.title}
        </li>
      ))}
    </ol>
  );
}

function RadioGroup(p: { name: string; legend: string; options: { value: string; label: string }[]; values: FormValues; error?: ApiFailure }) {
  const message = fieldError(p.error, p.name);
  return (
    <fieldset aria-describedby={message ? `wizard-${p.name}-error` : undefined}>
      <legend>{p.legend}</legend>
      {p.options.map((o) => (
        <label class="checkbox" for={`wizard-${p.name}-${o.value}`}>
          <input type="radio" id={`wizard-${p.name}-${o.value}`} name={p.name} value={o.value} checked={p.values[p.name] === o.value} />
          {o.label}
        </label>
      ))}
      {message ? (
        <p class="field-error" id={`wizard-${p.name}-error`}>
          {message}
        </p>
      ) : null}
    </fieldset>
  );
}

/**
 * What every wizard control shares: the ids' prefix, the answers so far and the step's failure.
 * Text boxes also turn the browser's suggestions off: they are a campaign's settings, not the user's details.
 */
function wizardControls(values: FormValues, error: ApiFailure | undefined) {
  const field = { form: "wizard", values, error };
  return { field, box: { ...field, autocomplete: "off" } };
}

function BasicsStep({ values, error, choices }: { values: FormValues; error?: ApiFailure; choices: WizardChoices }) {
  const { field, box } = wizardControls(values, error);
  const agentName = new Map(choices.agents.map((a) => [a.id, a.name]));
  return (
    <>
      <TextField {...box} name="name" label="Campaign name" required maxlength={255} />
      {choices.agents.length === 0 ? (
        <p class="error-box">
          You have no active agent. <a href="/app/agents">Create or publish an agent</a> first.
        </p>
      ) : null}
      <SelectField
        {...field}
        name="agent_id"
        label="Agent"
        required
        blank="Choose an agent"
        options={choices.agents.map((a) => ({ value: a.id, label: a.name }))}
      />
      {choices.numbers.length === 0 ? (
        <p>
          You have no phone numbers yet. <a href="/app/numbers">Get a number</a> and assign it to the agent for outbound calls.
        </p>
      ) : (
        <CheckboxGroup
          {...field}
          name="phone_number_ids"
          label="Caller IDs (optional)"
          help="Leave all unticked to call from the agent's own outbound numbers."
          options={choices.numbers.map((n) => ({
            value: n.id,
            label: `${n.phone_number}${n.friendly_name ? ` (${n.friendly_name})` : ""}${n.outbound_agent_id ? ` · outbound for ${agentName.get(n.outbound_agent_id) ?? "another agent"}` : ""}`,
          }))}
        />
      )}
      <SelectField
        {...field}
        name="phone_rotation_strategy"
        label="How caller IDs take turns"
        options={ROTATION_STRATEGIES.map((r) => ({ value: r, label: ROTATION_LABELS[r] }))}
        value="random"
      />
    </>
  );
}

function ContactsStep({ values, error, choices }: { values: FormValues; error?: ApiFailure; choices: WizardChoices }) {
  const { field } = wizardControls(values, error);
  return (
    <>
      {choices.folders.length === 0 ? (
        <p class="error-box">
          You have no contact folders. <a href="/app/contacts">Create a folder and import contacts</a> first.
        </p>
      ) : null}
      <SelectField
        {...field}
        name="contact_folder_id"
        label="Contact folder"
        required
        blank="Choose a folder"
        help="The folder's contacts are copied into the campaign when it is launched; opted-out contacts and numbers on your do-not-call list are skipped."
        options={choices.folders.map((f) => ({ value: f.id, label: `${f.name} (${formatCount(f.contact_count)} contacts)` }))}
      />
    </>
  );
}

function ScheduleStep({ values, error }: { values: FormValues; error?: ApiFailure }) {
  const { field, box } = wizardControls(values, error);
  return (
    <>
      <RadioGroup
        name="start"
        legend="Start"
        options={[
          { value: "now", label: "As soon as it is launched" },
          { value: "later", label: "At a date and time" },
        ]}
        values={values}
        error={error}
      />
      <div class="form-grid">
        <TextField {...box} name="scheduled_at" label="Start date and time (when starting later)" type="datetime-local" />
        <TextField
          {...box}
          name="timezone"
          label="Time zone"
          required
          list="time-zones"
          help="Of the start and of the daily window, e.g. America/New_York."
        />
      </div>
      <datalist id="time-zones">
        {Intl.supportedValuesOf("timeZone").map((zone) => (
          <option value={zone}></option>
        ))}
      </datalist>
      <fieldset>
        <legend>Calling window</legend>
        <p class="help">Calls are also only ever placed between 08:00 and 21:00 in the contact's own time zone.</p>
        <div class="form-grid">
          <TextField {...box} name="start_time" label="From" type="time" />
          <TextField {...box} name="end_time" label="Until" type="time" help="Leave both empty to call all day." />
        </div>
        <CheckboxGroup {...field} name="working_days" label="On these days" options={WEEKDAYS.map((day, i) => ({ value: String(i + 1), label: day }))} />
        <CheckboxField {...field} name="respect_recipient_timezone" label="Apply the window in each contact's own time zone" />
        <div class="form-grid">
          <TextField {...box} name="max_calls_per_day" label="Most calls per day (optional)" type="number" min={1} />
          <TextField {...box} name="max_concurrent_calls" label="Calls at the same time" type="number" min={1} max={100} />
        </div>
      </fieldset>
      <fieldset>
        <legend>Redials</legend>
        <CheckboxField {...field} name="redial" label="Call contacts again when they do not answer, are busy or the call fails" />
        <TextField {...box} name="redial_attempts" label="Redials per contact (0 to 3)" type="number" min={0} max={3} />
        <p class="help">Minutes to wait before a redial; leave empty for the default shown, 0 to never redial after that outcome.</p>
        <div class="form-grid">
          {REDIAL_OUTCOMES.map((r) => (
            <TextField {...box} name={r.field} label={`${r.label} (default ${r.byDefault})`} type="number" min={0} />
          ))}
        </div>
      </fieldset>
    </>
  );
}

function ReviewStep({ values, choices }: { values: FormValues; choices: WizardChoices }) {
  const body = createBody(values);
  const agent = choices.agents.find((a) => a.id === body.agent_id);
  const folder = choices.folders.find((f) => f.id === body.contact_folder_id);
  const numbers = choices.numbers.filter((n) => body.phone_number_ids?.includes(n.id)).map((n) => n.phone_number);
  return (
    <dl class="kv">
      <dt>Name</dt>
      <dd>{body.name}</dd>
      <dt>Agent</dt>
      <dd>{agent?.name ?? body.agent_id}</dd>
      <dt>Caller IDs</dt>
      <dd>{numbers.length > 0 ? `${numbers.join(", ")} (${words(body.phone_rotation_strategy)})` : "The agent's outbound numbers"}</dd>
      <dt>Contacts</dt>
      <dd>{folder ? `${folder.name} (${formatCount(folder.contact_count)} contacts)` : body.contact_folder_id}</dd>
      <dt>Starts</dt>
      <dd>{body.scheduled_at ? `${String(values.scheduled_at).replace("T", " ")} ${body.timezone} (${dateTime(body.scheduled_at)})` : "As soon as it is launched"}</dd>
      <dt>Calling window</dt>
      <dd>{windowText(body)}</dd>
      <dt>Limits</dt>
      <dd>{`${body.max_concurrent_calls ?? 10} at a time${body.max_calls_per_day ? `, ${formatCount(body.max_calls_per_day)} a day` : ""}`}</dd>
      <dt>Redials</dt>
      <dd>{body.retry_failed ? `Up to ${body.max_retry_attempts} per contact` : "None"}</dd>
    </dl>
  );
}

function windowText(w: { start_time?: string | null; end_time?: string | null; working_days: number[]; timezone: string; respect_recipient_timezone?: boolean }) {
  const hours = w.start_time || w.end_time ? `${w.start_time ?? "00:00"}–${w.end_time ?? "24:00"}` : "All day";
  const days = w.working_days.map((d) => WEEKDAYS[d - 1].slice(0, 3)).join(", ");
  return `${hours}, ${days}, ${w.respect_recipient_timezone ? "in each contact's time zone" : w.timezone}`;
}

async function wizardPage(c: DashboardContext, step: StepNumber, values: FormValues, error?: ApiFailure, status: ContentfulStatusCode = 200) {
  const choices = await wizardChoices(c);
  const current = WIZARD_STEPS[step - 1];
  return render(
    c,
    <Layout c={c} title="New campaign" active="campaigns">
      <StepList current={step} />
      <h2>{`Step ${step} of ${WIZARD_STEPS.length}: ${current.title}`}</h2>
      <ApiErrorBox error={choices.failure} />
      <ApiErrorBox error={error} />
      <form method="post" action="/app/campaigns/new" class="card">
        <CsrfField c={c} />
        <input type="hidden" name="step" value={String(step)} />
        <HiddenFields values={values} skip={[...STEP_FIELDS[step], "step", "nav"]} />
        {step === 1 ? <BasicsStep values={values} error={error} choices={choices} /> : null}
        {step === 2 ? <ContactsStep values={values} error={error} choices={choices} /> : null}
        {step === 3 ? <ScheduleStep values={values} error={error} /> : null}
        {step === 4 ? <ReviewStep values={values} choices={choices} /> : null}
        {/* The first button is the one Enter presses, so "forward" comes first. */}
        <div class="actions">
          {step < 4 ? (
            <button type="submit" name="nav" value="next">
              Next
            </button>
          ) : (
            <>
              <button type="submit" name="nav" value="launch">
                Create and launch
              </button>
              <button type="submit" name="nav" value="draft" class="btn-secondary">
                Save as draft
              </button>
            </>
          )}
          {step > 1 ? (
            <button type="submit" name="nav" value="back" class="btn-secondary" formnovalidate>
              Back
            </button>
          ) : null}
        </div>
      </form>
    </Layout>,
    status,
  );
}

async function advanceWizard(c: DashboardContext) {
  const values = await postedValues(c);
  const { step, nav } = WizardControls.parse(values);
  delete values.step;
  delete values.nav;
  if (nav === "back") return wizardPage(c, Math.max(1, step - 1) as StepNumber, values);
  if (step < 4) {
    const error = checkStep(step as 1 | 2 | 3, values);
    if (error) return wizardPage(c, step as StepNumber, values, error, 422);
    const next = (step + 1) as StepNumber;
    // Step 3 opens with sensible defaults the first time round.
    return wizardPage(c, next, next === 3 && values.timezone === undefined ? { ...SCHEDULE_DEFAULTS, ...values } : values);
  }
  // The hidden fields could have been edited: every step is checked again before creating.
  const invalid = firstInvalidStep(values);
  if (invalid) return wizardPage(c, invalid.step, values, invalid.error, 422);
  const created = await api(c).post<Campaign>("/batch-calls", createBody(values));
  if (!created.ok) {
    const error = relabelApiError(created);
    const step = created.code === "no_phone_number_configured" ? 1 : stepOfField(created.details?.field);
    return wizardPage(c, step, values, error, pageStatus(created));
  }
  const path = campaignPath(created.data.id);
  if (nav === "draft") return redirectWithFlash(c, path, `Campaign “${created.data.name}” saved as a draft. Launch it when you are ready.`);
  const launched = await api(c).post<Campaign>(`/batch-calls/${seg(created.data.id)}/schedule`, {});
  if (!launched.ok) return redirectWithFlash(c, path, `The campaign was created but could not be launched. ${plainHeadline(launched)} ${launched.message}`, "error");
  return redirectWithFlash(c, path, `Campaign “${created.data.name}” launched.`);
}

// ---------------------------------------------------------------------------------------------
// One campaign

const ACTIONS = [
  { path: "launch", action: "schedule", label: "Launch now", done: "Campaign launched.", style: "" },
  { path: "pause", action: "pause", label: "Pause", done: "Campaign paused. Calls already ringing end normally.", style: "btn-secondary" },
  { path: "resume", action: "resume", label: "Resume", done: "Campaign resumed.", style: "" },
  { path: "cancel", action: "cancel", label: "Cancel campaign (cannot be undone)", done: "Campaign cancelled.", style: "btn-danger" },
] as const;

function Actions({ c, campaign }: { c: DashboardContext; campaign: Campaign }) {
  return (
    <div class="actions">
      {ACTIONS.map((a) => {
        const allowed = statusesAllowing(a.action);
        return (
          <form method="post" action={`${campaignPath(campaign.id)}/${a.path}`} class="inline-form" data-allowed-in={allowed.join(" ")} hidden={!allowed.includes(campaign.status)}>
            <CsrfField c={c} />
            <button type="submit" class={a.style || undefined}>
              {a.label}
            </button>
          </form>
        );
      })}
    </div>
  );
}

function AttemptTimeline({ contact }: { contact: CampaignContact }) {
  const who = personName(contact) || contact.phone_number;
  return (
    <ol class="timeline">
      {contact.attempts.map((a) => (
        <li>
          <time datetime={a.dialed_at}>{dateTime(a.dialed_at)}</time>
          {` · ${words(a.outcome ?? a.call_status)}${a.end_reason ? ` (${words(a.end_reason)})` : ""}${a.duration_seconds ? ` · ${duration(a.duration_seconds)}` : ""} · from ${a.from_number} · `}
          <a href={`/app/calls/${seg(a.call_id)}`}>
            {`Call ${a.attempt}`}
            <span class="visually-hidden">{` to ${who}`}</span>
          </a>
        </li>
      ))}
      {contact.scheduled_at && ["pending", "scheduled", "retry_scheduled"].includes(contact.status) ? (
        <li>
          <time datetime={contact.scheduled_at}>{dateTime(contact.scheduled_at)}</time>
          {contact.attempts.length > 0 ? " · next redial" : " · first dial"}
        </li>
      ) : null}
    </ol>
  );
}

function LiveStats({ progress }: { progress: CampaignProgress }) {
  return (
    <dl class="stats">
      {Object.entries(LIVE_STAT_LABELS).map(([key, label]) => {
        const value = progress.stats[key as keyof typeof LIVE_STAT_LABELS];
        return (
          <div>
            <dt>{label}</dt>
            <dd data-stat={key}>{value === undefined ? "—" : formatCount(value)}</dd>
          </div>
        );
      })}
    </dl>
  );
}

async function detailPage(c: DashboardContext, id: string, state: { actionError?: ApiFailure } = {}, status: ContentfulStatusCode = 200) {
  const found = await api(c).get<Campaign>(`/batch-calls/${seg(id)}`);
  if (!found.ok) return errorPage(c, found);
  const campaign = found.data;
  const query = ContactsQuery.parse(c.req.query());
  const [contacts, analytics, agent] = await Promise.all([
    api(c).get<CampaignContact[]>(`/batch-calls/${seg(id)}/contacts`, { status: query.contact_status, limit: PAGE_SIZE, offset: query.offset }),
    api(c).get<CampaignFunnel>(`/analytics/campaigns/${seg(id)}`),
    api(c).get<Agent>(`/agents/${seg(campaign.agent_id)}`),
  ]);
  const progress = campaignProgress(campaign, analytics.ok ? analytics.data.funnel.success : null);
  const funnel = analytics.ok ? analytics.data.funnel : undefined;
  return render(
    c,
    <Layout c={c} title={`Campaign: ${campaign.name}`} active="campaigns" scripts={["campaign-live.js"]}>
      <p>
        <a href="/app/campaigns">All campaigns</a>
      </p>
      <p>
        Status: <strong data-campaign-status>{statusLabel(campaign.status)}</strong>
        {campaign.status_reason ? ` — ${campaign.status_reason}` : ""}
      </p>
      <ApiErrorBox error={state.actionError} />
      <Actions c={c} campaign={campaign} />

      <section
        aria-labelledby="progress-heading"
        class="card"
        data-campaign-live={`${campaignPath(campaign.id)}/live.json`}
        data-status={campaign.status}
        data-live={String(LIVE_CAMPAIGN_STATUSES.includes(campaign.status))}
        data-progress-text="progress-text"
        data-announcer="live-announcer"
      >
        <h2 id="progress-heading">Progress</h2>
        <ProgressBar id="campaign-progress" progress={progress} label="Campaign progress" />
        <p id="progress-text">{progress.progress_text}</p>
        <LiveStats progress={progress} />
        <p id="live-announcer" role="status" class="muted">
          {LIVE_CAMPAIGN_STATUSES.includes(campaign.status) ? "These figures update every few seconds while the campaign runs." : ""}
        </p>
        {campaign.stats.estimated_finish_at ? <p class="muted">{`Estimated finish: ${dateTime(campaign.stats.estimated_finish_at)}`}</p> : null}
      </section>

      <section aria-labelledby="funnel-heading">
        <h2 id="funnel-heading">Funnel</h2>
        {funnel ? (
          <HorizontalBarChart
            id="campaign-funnel"
            title="Contacts at each stage"
            description={`Of ${funnel.scheduled} contacts, ${funnel.dialled} were dialled, ${funnel.answered} answered and ${funnel.success} calls succeeded.`}
            categoryLabel="Stage"
            valueLabel="Contacts"
            integer
            emptyMessage="No contacts in this campaign yet"
            rows={[
              { label: "In the campaign", value: funnel.scheduled },
              { label: "Dialled", value: funnel.dialled },
              { label: "Answered", value: funnel.answered },
              { label: "Successful", value: funnel.success },
            ]}
          />
        ) : analytics.ok ? null : (
          <ApiErrorBox error={analytics} />
        )}
      </section>

      <section aria-labelledby="contacts-heading">
        <h2 id="contacts-heading">Contacts and attempts</h2>
        <StatusFilter
          action={campaignPath(campaign.id)}
          form="contacts-filter"
          name="contact_status"
          label="Contact status"
          value={query.contact_status}
          statuses={CONTACT_STATUSES}
          labelOf={statusLabel}
        />
        <ApiList result={contacts} empty={campaign.status === "draft" ? "The folder's contacts are copied in when the campaign is launched." : "No contacts match."}>
          {(contactRows) => (
            <DataTable columns={["Contact", "Status", "Attempts"]}>
              {contactRows.map((contact) => (
                <tr>
                  <th scope="row">
                    {personName(contact) ? (
                      <>
                        {personName(contact)}
                        <br />
                      </>
                    ) : null}
                    <span class="muted">{contact.phone_number}</span>
                  </th>
                  <td>
                    <StatusBadge status={contact.status} />
                    {contact.skip_reason ? <span class="muted">{` (${words(contact.skip_reason)})`}</span> : null}
                  </td>
                  <td>{contact.attempts.length === 0 && !contact.scheduled_at ? <span class="muted">None</span> : <AttemptTimeline contact={contact} />}</td>
                </tr>
              ))}
            </DataTable>
          )}
        </ApiList>
        {contacts.ok ? <Pager c={c} pagination={contacts.pagination} /> : null}
      </section>

      <section aria-labelledby="settings-heading">
        <h2 id="settings-heading">Settings</h2>
        <dl class="kv">
          <dt>Agent</dt>
          <dd>{agent.ok ? <a href={`/app/agents/${seg(agent.data.id)}`}>{agent.data.name}</a> : campaign.agent_id}</dd>
          <dt>Contacts from</dt>
          <dd>{campaign.contact_folder_id ? <a href={`/app/contacts/folders/${seg(campaign.contact_folder_id)}`}>The contact folder</a> : "Added directly"}</dd>
          <dt>Starts</dt>
          <dd>{campaign.scheduled_at ? dateTime(campaign.scheduled_at) : "When launched"}</dd>
          <dt>Calling window</dt>
          <dd>{windowText(campaign)}</dd>
          <dt>Limits</dt>
          <dd>{`${campaign.max_concurrent_calls} at a time${campaign.max_calls_per_day ? `, ${formatCount(campaign.max_calls_per_day)} a day` : ""}`}</dd>
          <dt>Redials</dt>
          <dd>
            {campaign.retry_failed
              ? `Up to ${campaign.max_retry_attempts} per contact; ${REDIAL_OUTCOMES.map((r) => {
                  const rule = campaign.retry_policy[r.outcome];
                  return `${r.label.toLowerCase()}: ${rule ? `${rule.delay_minutes} min` : "never"}`;
                }).join(", ")}`
              : "None"}
          </dd>
          <dt>Calls placed</dt>
          <dd>{formatCount(campaign.stats.attempts)}</dd>
          <dt>Cost</dt>
          <dd>{credits(campaign.stats.cost_credits)}</dd>
          <dt>Created</dt>
          <dd>{dateTime(campaign.created_at)}</dd>
        </dl>
      </section>
    </Layout>,
    status,
  );
}

export const campaignsPages = new Hono<DashboardEnv>()
  .get("/campaigns", (c) => listPage(c))
  .get("/campaigns/new", (c) => wizardPage(c, 1, {}))
  .post("/campaigns/new", (c) => advanceWizard(c))
  .get("/campaigns/:id", (c) => detailPage(c, c.req.param("id")))
  .get("/campaigns/:id/live.json", async (c) => {
    const id = c.req.param("id");
    const found = await api(c).get<Campaign>(`/batch-calls/${seg(id)}`);
    if (!found.ok) return c.json({ error: { code: found.code, message: `${plainHeadline(found)} ${found.message}` } }, pageStatus(found));
    // Asked for now and then by the script (see campaign-live.js): it costs an API call.
    const analytics = c.req.query("success") === "1" ? await api(c).get<CampaignFunnel>(`/analytics/campaigns/${seg(id)}`) : undefined;
    return c.json(campaignProgress(found.data, analytics?.ok ? analytics.data.funnel.success : null));
  });

for (const a of ACTIONS) {
  campaignsPages.post(`/campaigns/:id/${a.path}`, async (c) => {
    const id = c.req.param("id");
    const done = await api(c).post<Campaign>(`/batch-calls/${seg(id)}/${a.action}`, {});
    if (!done.ok) return done.status === 404 ? errorPage(c, done) : detailPage(c, id, { actionError: done }, pageStatus(done));
    return redirectWithFlash(c, campaignPath(id), a.done);
  });
}
