import { Hono } from "hono";
import { api, type ApiFailure } from "../api";
import { TextField } from "../fields";
import { redirectWithFlash, setFlash } from "../flash";
import { postedValues, text } from "../forms";
import { dateTime } from "../format";
import { ApiErrorBox, CsrfField, DataTable, Layout, pageStatus, render, RowAction, StatusBadge } from "../layout";
import { endSession, endSessionsForKey, type DashboardContext, type DashboardEnv } from "../session";

/** API keys: list, create (the secret shown once), revoke. */

interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  last4: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

async function keysPage(c: DashboardContext, extra: { created?: { name: string; api_key: string }; error?: ApiFailure } = {}) {
  const result = await api(c).get<ApiKey[]>("/api-keys");
  const current = c.get("session").apiKeyId;
  return render(
    c,
    <Layout c={c} title="API keys" active="api-keys">
      {extra.created ? (
        <section class="card" aria-labelledby="new-key-heading" role="status">
          <h2 id="new-key-heading">{`New key "${extra.created.name}"`}</h2>
          <p>Copy it now: this is the only time it is shown.</p>
          <p class="secret" id="new-key">
            {extra.created.api_key}
          </p>
        </section>
      ) : null}
      <form method="post" action="/app/api-keys" class="card filters">
        <CsrfField c={c} />
        <TextField name="name" label="New key's name" error={extra.error} placeholder="CRM integration" />
        <button type="submit" class="btn">
          Create key
        </button>
      </form>
      <ApiErrorBox error={extra.error} />
      {result.ok ? (
        <DataTable columns={["Name", "Key", "Status", "Created", "Last used", { label: "Revoke", visuallyHidden: true }]}>
          {result.data.map((key) => (
            <tr>
              <th scope="row">
                {key.name}
                {key.id === current ? <span class="muted"> (this session)</span> : null}
              </th>
              <td>
                <code>{`${key.prefix}…${key.last4}`}</code>
              </td>
              <td>{key.revoked_at ? <StatusBadge status="revoked" /> : <StatusBadge status="active" />}</td>
              <td>{dateTime(key.created_at)}</td>
              <td>{key.last_used_at ? dateTime(key.last_used_at) : "Never"}</td>
              <td>
                {key.revoked_at ? (
                  dateTime(key.revoked_at)
                ) : (
                  <RowAction c={c} action={`/app/api-keys/${key.id}/revoke`} label="Revoke" rowName={key.name} buttonClass="btn-danger" />
                )}
              </td>
            </tr>
          ))}
        </DataTable>
      ) : (
        <ApiErrorBox error={result} />
      )}
      <p class="help">Revoking takes effect at once. Revoking the key this session signed in with signs you out.</p>
    </Layout>,
    extra.error ? pageStatus(extra.error) : pageStatus(result),
  );
}

export const apiKeysPages = new Hono<DashboardEnv>()
  .get("/api-keys", (c) => keysPage(c))
  .post("/api-keys", async (c) => {
    const name = text(await postedValues(c), "name").trim();
    const result = await api(c).post<{ id: string; name: string; api_key: string }>("/api-keys", name ? { name } : {});
    // The secret is rendered in this response only: never stored, never put in a redirect.
    if (result.ok) return keysPage(c, { created: result.data });
    return keysPage(c, { error: result });
  })
  .post("/api-keys/:id/revoke", async (c) => {
    const id = c.req.param("id");
    const result = await api(c).delete<ApiKey>(`/api-keys/${id}`);
    if (!result.ok) return redirectWithFlash(c, "/app/api-keys", result.status === 404 ? "That key does not exist." : result.message, "error");
    if (id === c.get("session").apiKeyId) {
      await endSessionsForKey(c, id);
      await endSession(c);
      setFlash(c, "You revoked the key this session used, so you are signed out. Sign in with another key.");
      return c.redirect("/app/sign-in", 303);
    }
    // Sessions opened with the revoked key end too (they would on their next page anyway).
    await endSessionsForKey(c, id);
    return redirectWithFlash(c, "/app/api-keys", `Key "${result.data.name}" revoked.`);
  });
