import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import { WEBHOOK_EVENT_TYPES } from "../../domain/webhooks";
import { api, type ApiFailure } from "../api";
import { seg } from "../figures";
import { redirectWithFlash } from "../flash";
import { CheckboxField, CheckboxGroup, SelectField, StatusFilter, TextArea, TextField } from "../fields";
import { checkbox, manyOf, optionalText, readForm, type FormValues } from "../forms";
import { dateTime } from "../format";
import { ApiErrorBox, ApiList, CsrfField, DataTable, errorPage, Layout, pageStatus, Pager, render, StatusBadge } from "../layout";
import type { DashboardContext, DashboardEnv } from "../session";

/** Webhook pages: endpoints (list, create, edit, delete, rotate, test) and each one's delivery log with replays. */

interface Endpoint {
  id: string;
  url: string;
  description: string | null;
  events: string[];
  enabled: boolean;
  disabled_reason: string | null;
  failing_since: string | null;
  previous_secret_expires_at: string | null;
  created_at: string;
}

interface Delivery {
  id: string;
  event_id: string;
  event: string;
  status: "pending" | "succeeded" | "failed";
  next_attempt_at: string | null;
  attempts: { attempt: number; at: string; response_status: number | null; duration_ms: number; error: string | null }[];
  created_at: string;
}

const PAGE_SIZE = 25;
const ALL_EVENTS = "*";
const DELIVERY_STATUSES = ["pending", "succeeded", "failed"] as const;

const EndpointForm = z.object({
  url: z.string().trim().min(1, "Enter the URL that receives the events").max(2048),
  description: optionalText(1000),
  events: manyOf(z.enum([ALL_EVENTS, ...WEBHOOK_EVENT_TYPES])).refine((e) => e.length > 0, "Choose at least one event, or all events"),
  enabled: checkbox,
});

/** `datetime-local` boxes, read as UTC (the page says so). */
const utcMinute = z
  .string()
  .trim()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/, "Use a date and time such as 2026-03-01T09:00")
  .transform((v) => `${v}:00Z`);

const ReplayRangeForm = z.object({
  since: utcMinute,
  until: utcMinute,
  status: z
    .enum(["", ...DELIVERY_STATUSES])
    .optional()
    .transform((v) => v || undefined),
});

const LogQuery = z.object({
  status: z.enum(DELIVERY_STATUSES).optional().catch(undefined),
  offset: z.coerce.number().int().min(0).catch(0).default(0),
});

const endpointPath = (id: string) => `/app/webhooks/${seg(id)}`;
const eventOptions = [{ value: ALL_EVENTS, label: "All events, including ones added later" }, ...WEBHOOK_EVENT_TYPES.map((e) => ({ value: e, label: e }))];

function EndpointFields({ values, error }: { values: FormValues; error?: ApiFailure }) {
  return (
    <>
      <TextField
        form="endpoint"
        name="url"
        label="URL"
        type="url"
        required
        maxlength={2048}
        autocomplete="off"
        help="An HTTPS address that accepts POSTed JSON."
        values={values}
        error={error}
      />
      <TextArea form="endpoint" name="description" label="Description (optional)" maxlength={1000} values={values} error={error} />
      <CheckboxGroup form="endpoint" name="events" label="Events to send" options={eventOptions} values={values} error={error} />
      <CheckboxField form="endpoint" name="enabled" label="Enabled: send events to this endpoint" values={values} error={error} />
    </>
  );
}

/** The signing secret, shown this once: the API never returns it again. */
async function secretPage(c: DashboardContext, endpoint: Endpoint & { secret: string }, heading: string) {
  return render(
    c,
    <Layout c={c} title={heading} active="webhooks">
      <div class="card">
        <p>
          This is the signing secret of <strong>{endpoint.url}</strong>. Copy it now: it is shown only this once. Use it to check the
          X-Truedy-Signature or webhook-signature header of each delivery.
        </p>
        <p class="secret" id="webhook-secret" aria-label="Signing secret">
          {endpoint.secret}
        </p>
        {endpoint.previous_secret_expires_at ? (
          <p>{`Until ${dateTime(endpoint.previous_secret_expires_at)}, deliveries are signed with both this secret and the previous one.`}</p>
        ) : null}
        <p>
          <a class="btn" href={endpointPath(endpoint.id)}>
            I have copied it: go to the endpoint
          </a>
        </p>
      </div>
    </Layout>,
  );
}

// ---------------------------------------------------------------------------------------------
// List and create

async function listPage(c: DashboardContext, form: { values?: FormValues; error?: ApiFailure } = {}, status: ContentfulStatusCode = 200) {
  const offset = LogQuery.parse(c.req.query()).offset;
  const endpoints = await api(c).get<Endpoint[]>("/webhooks", { limit: PAGE_SIZE, offset });
  return render(
    c,
    <Layout c={c} title="Webhooks" active="webhooks">
      <p>Truedy POSTs events (calls, campaigns, voices) to these endpoints, signed with each endpoint's secret, and retries failures for a day.</p>
      <section aria-labelledby="endpoints-heading">
        <h2 id="endpoints-heading">Endpoints</h2>
        <ApiList result={endpoints} empty="No endpoints yet. Add one below.">
          {(endpointList) => (
            <DataTable columns={["URL", "Events", "State", "Created"]}>
              {endpointList.map((e) => (
                <tr>
                  <th scope="row">
                    <a href={endpointPath(e.id)}>{e.url}</a>
                    {e.description ? <div class="muted">{e.description}</div> : null}
                  </th>
                  <td>{e.events.includes(ALL_EVENTS) ? "All events" : e.events.join(", ")}</td>
                  <td>
                    <EndpointState endpoint={e} />
                  </td>
                  <td>{dateTime(e.created_at)}</td>
                </tr>
              ))}
            </DataTable>
          )}
        </ApiList>
        {endpoints.ok ? <Pager c={c} pagination={endpoints.pagination} /> : null}
      </section>
      <section aria-labelledby="new-endpoint-heading" class="card">
        <h2 id="new-endpoint-heading">New endpoint</h2>
        <ApiErrorBox error={form.error} />
        <form method="post" action="/app/webhooks">
          <CsrfField c={c} />
          <EndpointFields values={form.values ?? { enabled: "on", events: [ALL_EVENTS] }} error={form.error} />
          <button type="submit">Create endpoint</button>
        </form>
      </section>
    </Layout>,
    status,
  );
}

function EndpointState({ endpoint }: { endpoint: Endpoint }) {
  if (!endpoint.enabled) {
    return (
      <>
        <span class="badge badge-bad">disabled</span>
        {endpoint.disabled_reason ? <div class="muted">{endpoint.disabled_reason}</div> : null}
      </>
    );
  }
  return (
    <>
      <span class="badge badge-good">enabled</span>
      {endpoint.failing_since ? <div class="muted">{`Failing since ${dateTime(endpoint.failing_since)}`}</div> : null}
    </>
  );
}

// ---------------------------------------------------------------------------------------------
// One endpoint

interface DetailState {
  values?: FormValues;
  error?: ApiFailure;
  actionError?: ApiFailure;
  replayValues?: FormValues;
  replayError?: ApiFailure;
}

function DeliveryLog({ c, endpoint, deliveries }: { c: DashboardContext; endpoint: Endpoint; deliveries: Delivery[] }) {
  return (
    <DataTable columns={["Event", "Status", { label: "Attempts", numeric: true }, "Last response", "Created", "Actions"]}>
      {deliveries.map((d) => {
        const last = d.attempts.at(-1);
        return (
          <tr>
            <th scope="row">
              {d.event}
              <div class="muted">{d.event_id}</div>
            </th>
            <td>
              <StatusBadge status={d.status} />
              {d.next_attempt_at ? <div class="muted">{`Next try ${dateTime(d.next_attempt_at)}`}</div> : null}
            </td>
            <td class="num">{d.attempts.length}</td>
            <td>
              {last ? (last.response_status !== null ? `HTTP ${last.response_status}` : (last.error ?? "No answer")) : "Not attempted yet"}
              {d.attempts.length > 0 ? (
                <details>
                  <summary>
                    Every attempt<span class="visually-hidden">{` of ${d.event} ${d.event_id}`}</span>
                  </summary>
                  <ol>
                    {d.attempts.map((a) => (
                      <li>
                        {`#${a.attempt} ${dateTime(a.at)} · ${a.response_status !== null ? `HTTP ${a.response_status}` : "no answer"} · ${a.duration_ms} ms${a.error ? ` · ${a.error}` : ""}`}
                      </li>
                    ))}
                  </ol>
                </details>
              ) : null}
            </td>
            <td>{dateTime(d.created_at)}</td>
            <td>
              {d.status !== "pending" && endpoint.enabled ? (
                <form method="post" action={`${endpointPath(endpoint.id)}/deliveries/${seg(d.id)}/replay`} class="inline-form">
                  <CsrfField c={c} />
                  <button type="submit" class="btn-secondary">
                    Replay<span class="visually-hidden">{` ${d.event} ${d.event_id}`}</span>
                  </button>
                </form>
              ) : (
                <span class="muted">{d.status === "pending" ? "On its way" : "Enable the endpoint to replay"}</span>
              )}
            </td>
          </tr>
        );
      })}
    </DataTable>
  );
}

async function detailPage(c: DashboardContext, id: string, state: DetailState = {}, status: ContentfulStatusCode = 200) {
  const found = await api(c).get<Endpoint>(`/webhooks/${seg(id)}`);
  if (!found.ok) return errorPage(c, found);
  const endpoint = found.data;
  const query = LogQuery.parse(c.req.query());
  const deliveries = await api(c).get<Delivery[]>(`/webhooks/${seg(id)}/deliveries`, { status: query.status, limit: PAGE_SIZE, offset: query.offset });
  const path = endpointPath(endpoint.id);
  const current: FormValues = {
    url: endpoint.url,
    description: endpoint.description ?? "",
    events: endpoint.events,
    ...(endpoint.enabled ? { enabled: "on" } : {}),
  };
  return render(
    c,
    <Layout c={c} title="Webhook endpoint" active="webhooks">
      <p>
        <a href="/app/webhooks">All endpoints</a>
      </p>
      <dl class="kv">
        <dt>URL</dt>
        <dd>{endpoint.url}</dd>
        <dt>State</dt>
        <dd>
          <EndpointState endpoint={endpoint} />
        </dd>
        <dt>Events</dt>
        <dd>{endpoint.events.includes(ALL_EVENTS) ? "All events" : endpoint.events.join(", ")}</dd>
        {endpoint.previous_secret_expires_at ? (
          <>
            <dt>Secret rotation</dt>
            <dd>{`Also signed with the previous secret until ${dateTime(endpoint.previous_secret_expires_at)}`}</dd>
          </>
        ) : null}
      </dl>
      <ApiErrorBox error={state.actionError} />
      <div class="actions">
        <form method="post" action={`${path}/test`} class="inline-form">
          <CsrfField c={c} />
          <button type="submit" class="btn-secondary">
            Send a test event
          </button>
        </form>
        <form method="post" action={`${path}/rotate-secret`} class="inline-form">
          <CsrfField c={c} />
          <button type="submit" class="btn-secondary">
            Rotate the signing secret
          </button>
        </form>
      </div>

      <section aria-labelledby="log-heading">
        <h2 id="log-heading">Delivery log</h2>
        <StatusFilter action={path} form="log" name="status" label="Status" value={query.status} statuses={DELIVERY_STATUSES} labelOf={(s) => s} />
        <ApiList result={deliveries} empty={`No deliveries${query.status ? ` ${query.status}` : ""} yet. Send a test event to try the endpoint.`}>
          {(deliveryList) => <DeliveryLog c={c} endpoint={endpoint} deliveries={deliveryList} />}
        </ApiList>
        {deliveries.ok ? <Pager c={c} pagination={deliveries.pagination} /> : null}
      </section>

      <section aria-labelledby="replay-heading" class="card">
        <h2 id="replay-heading">Replay a time range</h2>
        <p class="help">
          Re-sends the events created in the range that this endpoint subscribes to, for example after an outage. Times are UTC; up to 1,000
          events per replay.
        </p>
        <ApiErrorBox error={state.replayError} />
        <form method="post" action={`${path}/replay`}>
          <CsrfField c={c} />
          <div class="form-grid">
            <TextField form="replay" name="since" label="From (UTC)" type="datetime-local" required autocomplete="off" values={state.replayValues} error={state.replayError} />
            <TextField form="replay" name="until" label="Until (UTC, not included)" type="datetime-local" required autocomplete="off" values={state.replayValues} error={state.replayError} />
          </div>
          <SelectField
            form="replay"
            name="status"
            label="Which deliveries"
            blank="Every event in the range"
            options={[
              { value: "failed", label: "Only failed deliveries" },
              { value: "succeeded", label: "Only succeeded deliveries" },
            ]}
            values={state.replayValues}
            error={state.replayError}
          />
          <button type="submit">Replay the range</button>
        </form>
      </section>

      <section aria-labelledby="edit-heading" class="card">
        <h2 id="edit-heading">Edit</h2>
        <ApiErrorBox error={state.error} />
        <form method="post" action={path}>
          <CsrfField c={c} />
          <EndpointFields values={state.values ?? current} error={state.error} />
          <button type="submit">Save endpoint</button>
        </form>
      </section>

      <section aria-labelledby="delete-heading" class="card narrow">
        <h2 id="delete-heading">Delete</h2>
        <p>Deleting stops its pending deliveries and removes its delivery log.</p>
        <form method="post" action={`${path}/delete`}>
          <CsrfField c={c} />
          <button type="submit" class="btn-danger">
            Delete this endpoint
          </button>
        </form>
      </section>
    </Layout>,
    status,
  );
}

/** A failed action on the endpoint page: its 404 as a page, anything else shown on the endpoint. */
function refusedAction(c: DashboardContext, id: string, failure: ApiFailure, state: DetailState = { actionError: failure }) {
  return failure.status === 404 ? errorPage(c, failure) : detailPage(c, id, state, pageStatus(failure));
}

export const webhooksPages = new Hono<DashboardEnv>()
  .get("/webhooks", (c) => listPage(c))
  .post("/webhooks", async (c) => {
    const form = await readForm(c, EndpointForm);
    if (!form.ok) return listPage(c, form, 422);
    const created = await api(c).post<Endpoint & { secret: string }>("/webhooks", form.data);
    if (!created.ok) return listPage(c, { values: form.values, error: created }, pageStatus(created));
    return secretPage(c, created.data, "Endpoint created");
  })
  .get("/webhooks/:id", (c) => detailPage(c, c.req.param("id")))
  .post("/webhooks/:id", async (c) => {
    const id = c.req.param("id");
    const form = await readForm(c, EndpointForm);
    if (!form.ok) return detailPage(c, id, form, 422);
    const updated = await api(c).patch<Endpoint>(`/webhooks/${seg(id)}`, { ...form.data, description: form.data.description ?? null });
    if (!updated.ok) return refusedAction(c, id, updated, { values: form.values, error: updated });
    return redirectWithFlash(c, endpointPath(id), "Endpoint saved.");
  })
  .post("/webhooks/:id/delete", async (c) => {
    const id = c.req.param("id");
    const deleted = await api(c).delete(`/webhooks/${seg(id)}`);
    if (!deleted.ok) return refusedAction(c, id, deleted);
    return redirectWithFlash(c, "/app/webhooks", "Endpoint deleted.");
  })
  .post("/webhooks/:id/rotate-secret", async (c) => {
    const id = c.req.param("id");
    const rotated = await api(c).post<Endpoint & { secret: string }>(`/webhooks/${seg(id)}/rotate-secret`);
    if (!rotated.ok) return refusedAction(c, id, rotated);
    return secretPage(c, rotated.data, "New signing secret");
  })
  .post("/webhooks/:id/test", async (c) => {
    const id = c.req.param("id");
    const sent = await api(c).post(`/webhooks/${seg(id)}/test`);
    if (!sent.ok) return refusedAction(c, id, sent);
    return redirectWithFlash(c, endpointPath(id), "Test event queued. It appears in the delivery log in a few seconds.");
  })
  .post("/webhooks/:id/deliveries/:deliveryId/replay", async (c) => {
    const { id, deliveryId } = c.req.param();
    const replayed = await api(c).post<Delivery>(`/webhooks/${seg(id)}/deliveries/${seg(deliveryId)}/replay`);
    if (!replayed.ok) return refusedAction(c, id, replayed);
    return redirectWithFlash(c, endpointPath(id), `${replayed.data.event} queued again for delivery.`);
  })
  .post("/webhooks/:id/replay", async (c) => {
    const id = c.req.param("id");
    const form = await readForm(c, ReplayRangeForm);
    if (!form.ok) return detailPage(c, id, { replayValues: form.values, replayError: form.error }, 422);
    const replayed = await api(c).post<{ queued: number; truncated: boolean }>(`/webhooks/${seg(id)}/replay`, form.data);
    if (!replayed.ok) return refusedAction(c, id, replayed, { replayValues: form.values, replayError: replayed });
    const { queued, truncated } = replayed.data;
    const more = truncated ? " The range held more events: replay again from the last one sent." : "";
    return redirectWithFlash(c, endpointPath(id), `${queued} ${queued === 1 ? "delivery" : "deliveries"} queued.${more}`);
  });
