import type { Child, PropsWithChildren } from "hono/jsx";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ApiFailure, ApiResult, Pagination } from "./api";
import { CSRF_FIELD } from "./csrf";
import { consumeFlash } from "./flash";
import { plainReason } from "./forms";
import type { DashboardContext } from "./session";

/** The dashboard's page frame and the small components every page shares. */

export const NAV = [
  { key: "agents", label: "Agents", href: "/app/agents" },
  { key: "calls", label: "Calls", href: "/app/calls" },
  { key: "contacts", label: "Contacts", href: "/app/contacts" },
  { key: "campaigns", label: "Campaigns", href: "/app/campaigns" },
  { key: "numbers", label: "Numbers", href: "/app/numbers" },
  { key: "webhooks", label: "Webhooks", href: "/app/webhooks" },
  { key: "dnc", label: "DNC", href: "/app/dnc" },
  { key: "api-keys", label: "API keys", href: "/app/api-keys" },
  { key: "analytics", label: "Analytics", href: "/app/analytics" },
] as const;

export type NavKey = (typeof NAV)[number]["key"];

/** A whole HTML document from a page's JSX, with the doctype the JSX cannot express. */
export async function render(c: DashboardContext, page: Child, status: ContentfulStatusCode = 200): Promise<Response> {
  const html = await page;
  consumeFlash(c);
  return c.html(`<!DOCTYPE html>${html}`, status);
}

type LayoutProps = PropsWithChildren<{
  c: DashboardContext;
  title: string;
  active?: NavKey;
  /** Client scripts under /app/static/, e.g. ["test-call.js"]. */
  scripts?: string[];
}>;

export function Layout({ c, title, active, scripts = [], children }: LayoutProps) {
  const session = c.get("session");
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${title} · Truedy`}</title>
        <link rel="stylesheet" href="/app/static/app.css" />
        {/* No favicon: an empty data URL stops the browser asking for /favicon.ico (a 404 on every page). */}
        <link rel="icon" href="data:," />
        {scripts.map((name) => (
          <script src={`/app/static/${name}`} defer></script>
        ))}
      </head>
      <body>
        <a class="skip-link" href="#main">
          Skip to content
        </a>
        <header class="site-header">
          <a class="brand" href="/app">
            Truedy
          </a>
          {session ? (
            <nav aria-label="Main">
              <ul class="nav-list">
                {NAV.map((item) => (
                  <li>
                    <a href={item.href} aria-current={item.key === active ? "page" : undefined}>
                      {item.label}
                    </a>
                  </li>
                ))}
                <li>
                  <a href="/docs">Docs</a>
                </li>
                <li>
                  <form method="post" action="/app/sign-out" class="inline-form">
                    <CsrfField c={c} />
                    <button type="submit" class="btn-link">
                      Sign out
                    </button>
                  </form>
                </li>
              </ul>
            </nav>
          ) : null}
        </header>
        <main id="main" tabindex={-1}>
          <h1>{title}</h1>
          <Flash c={c} />
          {children}
        </main>
      </body>
    </html>
  );
}

/** The session's CSRF token as the hidden `_csrf` field every dashboard form carries. */
export function CsrfField({ c }: { c: DashboardContext }) {
  const session = c.get("session");
  return session ? <input type="hidden" name={CSRF_FIELD} value={session.csrfToken} /> : null;
}

/**
 * A one-button form in a table row; `children` are its hidden fields. Every row's button reads
 * the same, so `rowName` finishes its label for screen readers ("Remove +14155550123").
 */
export function RowAction({ c, action, label, rowName, buttonClass, children }: PropsWithChildren<{ c: DashboardContext; action: string; label: string; rowName: string; buttonClass: string }>) {
  return (
    <form method="post" action={action} class="inline-form">
      <CsrfField c={c} />
      {children}
      <button type="submit" class={buttonClass}>
        {label} <span class="visually-hidden">{rowName}</span>
      </button>
    </form>
  );
}

/** "Are you sure?" for a page of its own: what will happen, the button that does it, and a way back. */
export function ConfirmForm({ c, action, confirm, back, children }: PropsWithChildren<{ c: DashboardContext; action: string; confirm: string; back: string }>) {
  return (
    <form method="post" action={action} class="card narrow">
      <CsrfField c={c} />
      <p>{children}</p>
      <div class="actions">
        <button type="submit" class="btn-danger">
          {confirm}
        </button>
        <a href={back}>Keep it</a>
      </div>
    </form>
  );
}

/** The message the previous request left (see flash.ts). */
export function Flash({ c }: { c: DashboardContext }) {
  const flash = c.get("flash");
  if (!flash) return null;
  return (
    <div class={`flash flash-${flash.kind}`} role={flash.kind === "error" ? "alert" : "status"}>
      {flash.text}
    </div>
  );
}

/** What a failed API call means, in words for a person rather than a status code. */
export function plainHeadline(error: Pick<ApiFailure, "status" | "code">): string {
  if (error.code === "rate_limit_exceeded") return "Too many requests right now. Wait a minute and try again.";
  if (error.code === "concurrency_limit_reached") return "All of your organization's call slots are busy. Try again when a call ends.";
  switch (error.status) {
    case 400:
      return "The request could not be understood.";
    case 403:
      return "That is not allowed.";
    case 404:
      return "That was not found. It may have been deleted, or it belongs to another organization.";
    case 409:
      return "That cannot be done in the item's current state.";
    case 413:
      return "That is too large.";
    case 422:
      return "Some of the values need fixing.";
    default:
      return error.status >= 500 ? "Something went wrong on our side. Please try again." : "The request did not succeed.";
  }
}

interface Issue {
  field: string;
  reason: string;
}

function fieldIssues(details: Record<string, unknown> | undefined): Issue[] {
  const issues = details?.issues;
  if (!Array.isArray(issues)) return [];
  return issues.filter((i): i is Issue => typeof i?.field === "string" && typeof i?.reason === "string");
}

/** An API error: a plain headline, the API's own message, and each field at fault. */
export function ApiErrorBox({ error }: { error: ApiFailure | undefined | null }) {
  if (!error) return null;
  const issues = fieldIssues(error.details);
  return (
    <div class="error-box" role="alert">
      <p class="error-headline">{plainHeadline(error)}</p>
      <p>{error.message}</p>
      {issues.length > 1 ? (
        <ul>
          {issues.map((issue) => (
            <li>
              <strong>{issue.field}</strong>: {plainReason(issue.reason)}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

/**
 * A list read from the API: the API's error, a sentence when there is nothing, or what
 * `children` draws of the items (a DataTable, with a Pager where the page has one).
 */
export function ApiList<T>({ result, empty, children }: { result: ApiResult<T[]>; empty: Child; children: (items: T[], pagination: Pagination | undefined) => Child }) {
  if (!result.ok) return <ApiErrorBox error={result} />;
  if (result.data.length === 0) return <p>{empty}</p>;
  return <>{children(result.data, result.pagination)}</>;
}

/** A table column: its heading, right-aligned for figures, or read only by screen readers (an actions column). */
type Column = string | { label: string; numeric?: boolean; visuallyHidden?: boolean };

function ColumnHeading({ column }: { column: Column }) {
  const { label, numeric, visuallyHidden } = typeof column === "string" ? { label: column } : column;
  return (
    <th scope="col" class={numeric ? "num" : undefined}>
      {visuallyHidden ? <span class="visually-hidden">{label}</span> : label}
    </th>
  );
}

/** A scrollable table with column headings; `children` are its body rows. */
export function DataTable({ columns, caption, children }: PropsWithChildren<{ columns: Column[]; caption?: Child }>) {
  return (
    <div class="table-wrap">
      <table>
        {caption ? <caption>{caption}</caption> : null}
        <thead>
          <tr>
            {columns.map((column) => (
              <ColumnHeading column={column} />
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/** Previous / next links that keep the page's other query parameters (filters). */
export function Pager({ c, pagination }: { c: DashboardContext; pagination: Pagination | undefined }) {
  if (!pagination || pagination.total === 0) return null;
  const { total, limit, offset } = pagination;
  const link = (newOffset: number) => {
    const url = new URL(c.req.url);
    url.searchParams.set("offset", String(Math.max(0, newOffset)));
    url.searchParams.set("limit", String(limit));
    return `${url.pathname}?${url.searchParams}`;
  };
  const first = offset + 1;
  const last = Math.min(offset + limit, total);
  return (
    <nav class="pager" aria-label="Pagination">
      {offset > 0 ? (
        <a href={link(offset - limit)} rel="prev">
          Previous
        </a>
      ) : null}
      <span>{`${first}–${last} of ${total}`}</span>
      {pagination.has_more ? (
        <a href={link(offset + limit)} rel="next">
          Next
        </a>
      ) : null}
    </nav>
  );
}

const STATUS_TONES: Record<string, string> = {
  active: "good",
  completed: "good",
  succeeded: "good",
  in_progress: "live",
  ringing: "live",
  dialing: "live",
  queued: "neutral",
  scheduled: "neutral",
  pending: "neutral",
  draft: "neutral",
  paused: "warn",
  retry_scheduled: "warn",
  training: "warn",
  no_answer: "warn",
  busy: "warn",
  voicemail: "warn",
  skipped: "warn",
  failed: "bad",
  cancelled: "bad",
  revoked: "bad",
};

/** A status as text in a coloured pill; the text carries the meaning, the colour only helps. */
export function StatusBadge({ status }: { status: string | null | undefined }) {
  if (!status) return <span class="muted">—</span>;
  return <span class={`badge badge-${STATUS_TONES[status] ?? "neutral"}`}>{status.replaceAll("_", " ")}</span>;
}

/** The HTTP status a page answers with: 200, or the API's error status. */
export function pageStatus(result: { ok: true } | Pick<ApiFailure, "ok" | "status">): ContentfulStatusCode {
  if (result.ok) return 200;
  return (result.status >= 400 && result.status <= 599 ? result.status : 500) as ContentfulStatusCode;
}

/** A full page for a failed read: 404 for other orgs' ids, the API's message otherwise. */
export function errorPage(c: DashboardContext, error: ApiFailure, title = error.status === 404 ? "Not found" : "Something went wrong") {
  return render(
    c,
    <Layout c={c} title={title}>
      <ApiErrorBox error={error} />
      <p>
        <a href="/app">Back to the dashboard</a>
      </p>
    </Layout>,
    pageStatus(error),
  );
}
