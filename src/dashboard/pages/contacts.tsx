import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import { api, type ApiFailure, type ApiResult, type Pagination } from "../api";
import { redirectWithFlash } from "../flash";
import { CheckboxField, TextArea, TextField } from "../fields";
import { checkbox, optionalText, readForm, requiredText, type FormValues } from "../forms";
import { formatCount, seg } from "../figures";
import { dateTime } from "../format";
import { ApiErrorBox, ApiList, CsrfField, DataTable, errorPage, Layout, pageStatus, Pager, render, StatusBadge } from "../layout";
import type { DashboardContext, DashboardEnv } from "../session";

/** Contacts pages: folders (list, create, rename, delete), a folder's contacts, the CSV import, one contact. */

interface Folder {
  id: string;
  name: string;
  description: string | null;
  contact_count: number;
  is_default: boolean;
  created_at: string;
}

interface Contact {
  id: string;
  folder_id: string;
  phone_number: string;
  first_name: string | null;
  last_name: string | null;
  name: string | null;
  email: string | null;
  company_name: string | null;
  timezone: string | null;
  custom_fields: Record<string, string>;
  call_count: number;
  last_called_at: string | null;
  last_call_outcome: string | null;
  opted_out: boolean;
  opted_out_at: string | null;
  created_at: string;
}

interface ImportResult {
  imported: number;
  updated: number;
  skipped: number;
  errors: number;
  error_details: { row: number; phone: string | null; reason: string }[];
}

const PAGE_SIZE = 25;

const FolderForm = z.object({ name: requiredText(255, "a folder name"), description: optionalText(1000) });

const ContactFields = {
  first_name: optionalText(100),
  last_name: optionalText(100),
  email: optionalText(255),
  company_name: optionalText(255),
  timezone: optionalText(64),
  default_country: optionalText(2).transform((v) => v?.toUpperCase()),
};
const NewContactForm = z.object({ phone_number: requiredText(64, "a phone number"), ...ContactFields });
const EditContactForm = z.object({ phone_number: requiredText(64, "a phone number"), ...ContactFields, opted_out: checkbox, opted_out_was: z.enum(["true", "false"]) });
const DeleteFolderForm = z.object({ confirm: z.literal("yes", { error: "Tick the box to confirm that every contact in the folder is deleted too" }) });

const Query = z.object({
  search: z.string().trim().max(100).optional().catch(undefined),
  offset: z.coerce.number().int().min(0).catch(0).default(0),
});

const folderPath = (id: string) => `/app/contacts/folders/${seg(id)}`;
const contactName = (contact: Contact) => contact.name ?? "(no name)";

// ---------------------------------------------------------------------------------------------
// Folders list

async function foldersPage(c: DashboardContext, form: { values?: FormValues; error?: ApiFailure } = {}, status: ContentfulStatusCode = 200) {
  const offset = Query.parse(c.req.query()).offset;
  const folders = await api(c).get<Folder[]>("/contacts/folders", { limit: PAGE_SIZE, offset, sort_by: "name", order: "asc" });
  return render(
    c,
    <Layout c={c} title="Contacts" active="contacts">
      <p>Contacts live in folders. Open a folder to see, search, add or import its contacts.</p>
      <section aria-labelledby="folders-heading">
        <h2 id="folders-heading">Folders</h2>
        <ApiList result={folders} empty="No folders yet. Create one below, or add a contact and it goes to your default folder.">
          {(folderList) => (
            <DataTable columns={["Folder", { label: "Contacts", numeric: true }, "Description", "Created"]}>
              {folderList.map((f) => (
                <tr>
                  <th scope="row">
                    <a href={folderPath(f.id)}>{f.name}</a>
                    {f.is_default ? <span class="muted"> (default)</span> : null}
                  </th>
                  <td class="num">{formatCount(f.contact_count)}</td>
                  <td>{f.description ?? ""}</td>
                  <td>{dateTime(f.created_at)}</td>
                </tr>
              ))}
            </DataTable>
          )}
        </ApiList>
        {folders.ok ? <Pager c={c} pagination={folders.pagination} /> : null}
      </section>
      <section aria-labelledby="new-folder-heading" class="card narrow">
        <h2 id="new-folder-heading">New folder</h2>
        <ApiErrorBox error={form.error} />
        <form method="post" action="/app/contacts/folders">
          <CsrfField c={c} />
          <TextField form="new-folder" name="name" label="Name" required maxlength={255} autocomplete="off" values={form.values} error={form.error} />
          <TextArea form="new-folder" name="description" label="Description (optional)" maxlength={1000} values={form.values} error={form.error} />
          <button type="submit">Create folder</button>
        </form>
      </section>
    </Layout>,
    status,
  );
}

// ---------------------------------------------------------------------------------------------
// One folder

interface FolderPageState {
  addValues?: FormValues;
  addError?: ApiFailure;
  settingsValues?: FormValues;
  settingsError?: ApiFailure;
  deleteError?: ApiFailure;
  imported?: ImportResult;
  importError?: ApiFailure;
}

function ImportOutcome({ result, error }: { result?: ImportResult; error?: ApiFailure }) {
  if (!result && !error) return <div id="import-result"></div>;
  return (
    <div id="import-result">
      <h3 tabindex={-1}>Import result</h3>
      {error ? (
        <ApiErrorBox error={error} />
      ) : result ? (
        <>
          <p role="status">
            {`${formatCount(result.imported)} new, ${formatCount(result.updated)} updated, ${formatCount(result.skipped)} skipped (already in the folder or repeated in the file), ${formatCount(result.errors)} ${result.errors === 1 ? "row" : "rows"} with errors.`}
          </p>
          {result.error_details.length > 0 ? (
            <DataTable
              columns={[{ label: "Row", numeric: true }, "Phone", "Problem"]}
              caption={
                result.errors > result.error_details.length
                  ? `Rows not imported (the first ${formatCount(result.error_details.length)} of ${formatCount(result.errors)})`
                  : "Rows not imported"
              }
            >
              {result.error_details.map((e) => (
                <tr>
                  <th scope="row" class="num">
                    {e.row}
                  </th>
                  <td>{e.phone ?? "(empty)"}</td>
                  <td>{e.reason}</td>
                </tr>
              ))}
            </DataTable>
          ) : null}
          <p class="help">Row numbers are spreadsheet rows: the header is row 1, the first contact row 2.</p>
        </>
      ) : null}
    </div>
  );
}

function ContactsTable({ c, folder, contacts, pagination, search }: { c: DashboardContext; folder: Folder; contacts: ApiResult<Contact[]>; pagination?: Pagination; search?: string }) {
  return (
    <section aria-labelledby="contacts-heading" id="contacts-section">
      <h2 id="contacts-heading">{`Contacts (${formatCount(folder.contact_count)})`}</h2>
      <form method="get" action={folderPath(folder.id)} role="search" class="filters">
        <div class="field">
          <label for="contact-search">Search by name, phone or email</label>
          <input id="contact-search" type="search" name="search" value={search ?? ""} maxlength={100} />
        </div>
        <button type="submit" class="btn-secondary">
          Search
        </button>
        {search ? <a href={folderPath(folder.id)}>Clear search</a> : null}
      </form>
      <ApiList result={contacts} empty={search ? `No contacts match “${search}”.` : "This folder has no contacts yet. Add one or import a CSV file below."}>
        {(contactList) => (
          <DataTable columns={["Name", "Phone", "Email", { label: "Calls", numeric: true }, "Last outcome", "Opted out"]}>
            {contactList.map((contact) => (
              <tr>
                <th scope="row">
                  <a href={`/app/contacts/${seg(contact.id)}`}>{contactName(contact)}</a>
                </th>
                <td>{contact.phone_number}</td>
                <td>{contact.email ?? ""}</td>
                <td class="num">{contact.call_count}</td>
                <td>
                  <StatusBadge status={contact.last_call_outcome} />
                </td>
                <td>{contact.opted_out ? <span class="badge badge-bad">opted out</span> : "no"}</td>
              </tr>
            ))}
          </DataTable>
        )}
      </ApiList>
      {contacts.ok ? <Pager c={c} pagination={pagination} /> : null}
    </section>
  );
}

async function folderPage(c: DashboardContext, id: string, state: FolderPageState = {}, status: ContentfulStatusCode = 200) {
  const query = Query.parse(c.req.query());
  const folder = await api(c).get<Folder>(`/contacts/folders/${seg(id)}`);
  if (!folder.ok) return errorPage(c, folder);
  const f = folder.data;
  const contacts = await api(c).get<Contact[]>("/contacts", { folder_id: f.id, search: query.search, limit: PAGE_SIZE, offset: query.offset });
  // A contact's details are someone else's: the browser must not offer the user's own.
  const add = { form: "add", values: state.addValues, error: state.addError, autocomplete: "off" };
  return render(
    c,
    <Layout c={c} title={`Folder: ${f.name}`} active="contacts" scripts={["csv-upload.js"]}>
      <p>
        <a href="/app/contacts">All folders</a>
      </p>
      {f.description ? <p>{f.description}</p> : null}
      <ContactsTable c={c} folder={f} contacts={contacts} pagination={contacts.ok ? contacts.pagination : undefined} search={query.search} />

      <section aria-labelledby="import-heading" class="card">
        <h2 id="import-heading">Import contacts (CSV)</h2>
        <p class="help">
          The first row names the columns. A phone or phone_number column is required; first_name, last_name, name, email, company_name, timezone and
          any other columns are kept too.
        </p>
        <form
          method="post"
          action={`${folderPath(f.id)}/import`}
          enctype="multipart/form-data"
          data-csv-upload
          data-progress="csv-progress"
          data-status="csv-status"
          data-replace="import-result contacts-section"
        >
          <CsrfField c={c} />
          <div class="field">
            <label for="csv-file">CSV file</label>
            <input id="csv-file" type="file" name="file" accept=".csv,text/csv" required />
          </div>
          <CheckboxField form="import" name="overwrite_existing" value="true" label="Update contacts already in this folder (matched by phone)" />
          <TextField
            form="import"
            name="default_country"
            label="Country for numbers without a +country code (optional)"
            help="Two letters, e.g. US or GB."
            maxlength={2}
            autocomplete="off"
          />
          <div class="actions">
            <button type="submit">Upload and import</button>
          </div>
          <progress id="csv-progress" max={100} value={0} hidden aria-label="Upload progress"></progress>
          <p id="csv-status" role="status" aria-live="polite"></p>
        </form>
        <ImportOutcome result={state.imported} error={state.importError} />
      </section>

      <section aria-labelledby="add-heading" class="card">
        <h2 id="add-heading">Add a contact</h2>
        <ApiErrorBox error={state.addError} />
        <form method="post" action={`${folderPath(f.id)}/contacts`}>
          <CsrfField c={c} />
          <div class="form-grid">
            <TextField {...add} name="phone_number" label="Phone number" type="tel" required help="E.164 such as +14155550123, or a national number with a country below." />
            <TextField {...add} name="default_country" label="Country (optional)" maxlength={2} />
            <TextField {...add} name="first_name" label="First name" maxlength={100} />
            <TextField {...add} name="last_name" label="Last name" maxlength={100} />
            <TextField {...add} name="email" label="Email" type="email" />
            <TextField {...add} name="company_name" label="Company" />
            <TextField {...add} name="timezone" label="Time zone (optional)" help="An IANA name such as America/New_York." />
          </div>
          <button type="submit">Add contact</button>
        </form>
      </section>

      <section aria-labelledby="settings-heading" class="card narrow">
        <h2 id="settings-heading">Folder settings</h2>
        <ApiErrorBox error={state.settingsError} />
        <form method="post" action={folderPath(f.id)}>
          <CsrfField c={c} />
          <TextField form="folder" name="name" label="Name" required maxlength={255} autocomplete="off" value={f.name} values={state.settingsValues} error={state.settingsError} />
          <TextArea form="folder" name="description" label="Description" maxlength={1000} value={f.description ?? ""} values={state.settingsValues} error={state.settingsError} />
          <button type="submit">Save folder</button>
        </form>
        <h3>Delete this folder</h3>
        <ApiErrorBox error={state.deleteError} />
        <form method="post" action={`${folderPath(f.id)}/delete`}>
          <CsrfField c={c} />
          <CheckboxField form="delete" name="confirm" value="yes" label={`Also delete its ${formatCount(f.contact_count)} contacts; this cannot be undone`} />
          <button type="submit" class="btn-danger">
            Delete folder
          </button>
        </form>
      </section>
    </Layout>,
    status,
  );
}

/** The JSON answer of a multipart API call, as the other API calls give it. */
async function resultOf<T>(res: Response): Promise<ApiResult<T>> {
  const body = (await res.json().catch(() => undefined)) as { data?: T; error?: { code?: string; message?: string; details?: Record<string, unknown> } } | undefined;
  if (res.ok) return { ok: true, status: res.status, data: body?.data as T };
  return {
    ok: false,
    status: res.status,
    code: body?.error?.code ?? "unknown_error",
    message: body?.error?.message ?? `The API answered ${res.status}`,
    details: body?.error?.details,
  };
}


// ---------------------------------------------------------------------------------------------
// One contact

async function contactPage(
  c: DashboardContext,
  id: string,
  form: { values?: FormValues; error?: ApiFailure; deleteError?: ApiFailure } = {},
  status: ContentfulStatusCode = 200,
) {
  const found = await api(c).get<Contact>(`/contacts/${seg(id)}`);
  if (!found.ok) return errorPage(c, found);
  const contact = found.data;
  const customFields = Object.entries(contact.custom_fields);
  const edit = { form: "edit", values: form.values, error: form.error, autocomplete: "off" };
  return render(
    c,
    <Layout c={c} title={`Contact: ${contactName(contact)}`} active="contacts">
      <p>
        <a href={folderPath(contact.folder_id)}>Back to the folder</a>
      </p>
      <dl class="kv">
        <dt>Calls</dt>
        <dd>{contact.call_count}</dd>
        <dt>Last called</dt>
        <dd>{dateTime(contact.last_called_at)}</dd>
        <dt>Last outcome</dt>
        <dd>
          <StatusBadge status={contact.last_call_outcome} />
        </dd>
        <dt>Added</dt>
        <dd>{dateTime(contact.created_at)}</dd>
        {customFields.map(([key, value]) => (
          <>
            <dt>{key}</dt>
            <dd>{value}</dd>
          </>
        ))}
      </dl>
      <section aria-labelledby="edit-heading" class="card">
        <h2 id="edit-heading">Edit</h2>
        <ApiErrorBox error={form.error} />
        <form method="post" action={`/app/contacts/${seg(contact.id)}`}>
          <CsrfField c={c} />
          <input type="hidden" name="opted_out_was" value={String(contact.opted_out)} />
          <div class="form-grid">
            <TextField {...edit} name="phone_number" label="Phone number" type="tel" required value={contact.phone_number} />
            <TextField {...edit} name="default_country" label="Country for a national number (optional)" maxlength={2} />
            <TextField {...edit} name="first_name" label="First name" maxlength={100} value={contact.first_name ?? ""} />
            <TextField {...edit} name="last_name" label="Last name" maxlength={100} value={contact.last_name ?? ""} />
            <TextField {...edit} name="email" label="Email" type="email" value={contact.email ?? ""} />
            <TextField {...edit} name="company_name" label="Company" value={contact.company_name ?? ""} />
            <TextField {...edit} name="timezone" label="Time zone" value={contact.timezone ?? ""} />
          </div>
          <CheckboxField
            form="edit"
            name="opted_out"
            label="Opted out: never call this contact"
            help="Ticking it also puts the number on your do-not-call list. Unticking it leaves the number listed; remove it on the DNC page to call it again."
            checked={contact.opted_out}
            values={form.values}
            error={form.error}
          />
          <button type="submit">Save contact</button>
        </form>
      </section>
      <section aria-labelledby="delete-heading" class="card narrow">
        <h2 id="delete-heading">Delete</h2>
        <ApiErrorBox error={form.deleteError} />
        <form method="post" action={`/app/contacts/${seg(contact.id)}/delete`}>
          <CsrfField c={c} />
          <button type="submit" class="btn-danger">
            Delete this contact
          </button>
        </form>
      </section>
    </Layout>,
    status,
  );
}

/** A cleared box means "clear the field" when editing. */
const orNull = (value: string | undefined) => value ?? null;

export const contactsPages = new Hono<DashboardEnv>()
  .get("/contacts", (c) => foldersPage(c))
  .post("/contacts/folders", async (c) => {
    const form = await readForm(c, FolderForm);
    if (!form.ok) return foldersPage(c, form, 422);
    const created = await api(c).post<Folder>("/contacts/folders", form.data);
    if (!created.ok) return foldersPage(c, { values: form.values, error: created }, 422);
    return redirectWithFlash(c, folderPath(created.data.id), `Folder “${created.data.name}” created.`);
  })
  // The folders are the contacts home page; without this, "folders" would be read as a contact id.
  .get("/contacts/folders", (c) => c.redirect("/app/contacts", 303))
  .get("/contacts/folders/:id", (c) => folderPage(c, c.req.param("id")))
  .post("/contacts/folders/:id", async (c) => {
    const id = c.req.param("id");
    const form = await readForm(c, FolderForm);
    if (!form.ok) return folderPage(c, id, { settingsValues: form.values, settingsError: form.error }, 422);
    const updated = await api(c).patch<Folder>(`/contacts/folders/${seg(id)}`, { name: form.data.name, description: form.data.description ?? null });
    if (!updated.ok) {
      if (updated.status === 404) return errorPage(c, updated);
      return folderPage(c, id, { settingsValues: form.values, settingsError: updated }, pageStatus(updated));
    }
    return redirectWithFlash(c, folderPath(id), "Folder saved.");
  })
  .post("/contacts/folders/:id/delete", async (c) => {
    const id = c.req.param("id");
    const form = await readForm(c, DeleteFolderForm);
    if (!form.ok) return folderPage(c, id, { deleteError: form.error }, 422);
    const deleted = await api(c).delete<{ contacts_deleted: number }>(`/contacts/folders/${seg(id)}`);
    if (!deleted.ok) return deleted.status === 404 ? errorPage(c, deleted) : folderPage(c, id, { deleteError: deleted }, pageStatus(deleted));
    return redirectWithFlash(c, "/app/contacts", `Folder deleted with its ${formatCount(deleted.data.contacts_deleted)} contacts.`);
  })
  .post("/contacts/folders/:id/contacts", async (c) => {
    const id = c.req.param("id");
    const form = await readForm(c, NewContactForm);
    if (!form.ok) return folderPage(c, id, { addValues: form.values, addError: form.error }, 422);
    const created = await api(c).post<Contact>("/contacts", { ...form.data, folder_id: id });
    if (!created.ok) return created.status === 404 ? errorPage(c, created) : folderPage(c, id, { addValues: form.values, addError: created }, pageStatus(created));
    return redirectWithFlash(c, folderPath(id), `${contactName(created.data)} (${created.data.phone_number}) added.`);
  })
  .post("/contacts/folders/:id/import", async (c) => {
    const id = c.req.param("id");
    const body = await c.req.parseBody();
    const file = body.file;
    if (!(file instanceof File) || file.size === 0) {
      return folderPage(c, id, { importError: { ok: false, status: 422, code: "validation_error", message: "Choose a CSV file to upload; the one sent was empty or missing." } }, 422);
    }
    const upload = new FormData();
    upload.append("file", file, file.name || "contacts.csv");
    upload.append("folder_id", id);
    upload.append("overwrite_existing", body.overwrite_existing === "true" ? "true" : "false");
    if (typeof body.default_country === "string" && body.default_country.trim()) upload.append("default_country", body.default_country.trim().toUpperCase());
    const result = await resultOf<ImportResult>(await api(c).raw("POST", "/contacts/import", { body: upload }));
    if (!result.ok) return result.status === 404 ? errorPage(c, result) : folderPage(c, id, { importError: result }, pageStatus(result));
    // The result is shown on the answer itself rather than after a redirect: it can list a thousand rows.
    return folderPage(c, id, { imported: result.data });
  })
  .get("/contacts/:id", (c) => contactPage(c, c.req.param("id")))
  .post("/contacts/:id", async (c) => {
    const id = c.req.param("id");
    const form = await readForm(c, EditContactForm);
    if (!form.ok) return contactPage(c, id, form, 422);
    const { opted_out, opted_out_was, default_country, ...fields } = form.data;
    const changes: Record<string, unknown> = {
      phone_number: fields.phone_number,
      default_country,
      first_name: orNull(fields.first_name),
      last_name: orNull(fields.last_name),
      email: orNull(fields.email),
      company_name: orNull(fields.company_name),
      timezone: orNull(fields.timezone),
    };
    // Only a change is sent: re-sending `true` would list the number again.
    if (String(opted_out) !== opted_out_was) changes.opted_out = opted_out;
    const updated = await api(c).patch<Contact>(`/contacts/${seg(id)}`, changes);
    if (!updated.ok) return updated.status === 404 ? errorPage(c, updated) : contactPage(c, id, { values: form.values, error: updated }, pageStatus(updated));
    return redirectWithFlash(c, `/app/contacts/${seg(id)}`, "Contact saved.");
  })
  .post("/contacts/:id/delete", async (c) => {
    const id = c.req.param("id");
    const found = await api(c).get<Contact>(`/contacts/${seg(id)}`);
    if (!found.ok) return errorPage(c, found);
    const deleted = await api(c).delete(`/contacts/${seg(id)}`);
    if (!deleted.ok) return deleted.status === 404 ? errorPage(c, deleted) : contactPage(c, id, { deleteError: deleted }, pageStatus(deleted));
    return redirectWithFlash(c, folderPath(found.data.folder_id), `${contactName(found.data)} deleted.`);
  });
