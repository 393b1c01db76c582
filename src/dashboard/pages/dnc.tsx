import { Hono } from "hono";
import { api, type ApiFailure } from "../api";
import { TextField } from "../fields";
import { redirectWithFlash } from "../flash";
import { postedValues, text, type FormValues } from "../forms";
import { dateTime, words } from "../format";
import { ApiErrorBox, ApiList, CsrfField, DataTable, Layout, Pager, pageStatus, render, RowAction } from "../layout";
import type { DashboardContext, DashboardEnv } from "../session";

/** The do-not-call list: search, add, remove. */

interface DncEntry {
  id: string;
  phone_number: string;
  reason: string | null;
  source: string;
  created_at: string;
}

function AddForm({ c, values, error }: { c: DashboardContext; values: FormValues; error?: ApiFailure }) {
  return (
    <form method="post" action="/app/dnc" class="card">
      <h2>Add a number</h2>
      <CsrfField c={c} />
      <ApiErrorBox error={error} />
      <div class="form-grid">
        <TextField name="phone_number" label="Phone number" type="tel" values={values} error={error} required help="E.164 (+14155550123), or a national number with its country below." />
        <TextField name="default_country" label="Country for national numbers" values={values} error={error} placeholder="US" />
        <TextField name="reason" label="Reason" values={values} error={error} wide placeholder="Asked not to be called again" />
      </div>
      <button type="submit" class="btn">
        Add to the list
      </button>
    </form>
  );
}

async function dncPage(c: DashboardContext, form: { values: FormValues; error?: ApiFailure } = { values: {} }) {
  const search = c.req.query("search") ?? "";
  const result = await api(c).get<DncEntry[]>("/dnc", { search, limit: c.req.query("limit"), offset: c.req.query("offset") });
  return render(
    c,
    <Layout c={c} title="Do-not-call list" active="dnc">
      <p>Numbers here are never called, by single calls or campaigns.</p>
      <AddForm c={c} values={form.values} error={form.error} />
      <form method="get" action="/app/dnc" class="filters card" role="search" aria-label="Search the list">
        <TextField name="search" label="Number contains" type="search" values={{ search }} />
        <button type="submit" class="btn-secondary">
          Search
        </button>
        {search ? <a href="/app/dnc">Show all</a> : null}
      </form>
      <ApiList result={result} empty={search ? "No listed number matches this search." : "The list is empty."}>
        {(entries, pagination) => (
          <>
            <DataTable columns={["Number", "Reason", "Added by", "Added", { label: "Remove", visuallyHidden: true }]}>
              {entries.map((entry) => (
                <tr>
                  <th scope="row">{entry.phone_number}</th>
                  <td>{entry.reason ?? "—"}</td>
                  <td>{entry.source === "opt_out" ? "The contact, on a call" : words(entry.source)}</td>
                  <td>{dateTime(entry.created_at)}</td>
                  <td>
                    <RowAction c={c} action={`/app/dnc/${entry.id}/delete`} label="Remove" rowName={entry.phone_number} buttonClass="btn-secondary" />
                  </td>
                </tr>
              ))}
            </DataTable>
            <Pager c={c} pagination={pagination} />
          </>
        )}
      </ApiList>
    </Layout>,
    form.error ? pageStatus(form.error) : pageStatus(result),
  );
}

export const dncPages = new Hono<DashboardEnv>()
  .get("/dnc", (c) => dncPage(c))
  .post("/dnc", async (c) => {
    const values = await postedValues(c);
    const body: Record<string, unknown> = { phone_number: text(values, "phone_number") };
    if (text(values, "default_country").trim()) body.default_country = text(values, "default_country").trim();
    if (text(values, "reason").trim()) body.reason = text(values, "reason");
    const result = await api(c).post<DncEntry>("/dnc", body);
    if (result.ok) {
      const message = result.status === 201 ? `${result.data.phone_number} will not be called.` : `${result.data.phone_number} was already on the list.`;
      return redirectWithFlash(c, "/app/dnc", message);
    }
    return dncPage(c, { values, error: result });
  })
  .post("/dnc/:id/delete", async (c) => {
    const result = await api(c).delete(`/dnc/${c.req.param("id")}`);
    if (!result.ok) return redirectWithFlash(c, "/app/dnc", result.status === 404 ? "That number is no longer on the list." : result.message, "error");
    return redirectWithFlash(c, "/app/dnc", "Number removed from the list: it may be called again.");
  });
