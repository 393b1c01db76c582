import { z } from "zod";
import type { ApiFailure } from "./api";
import type { DashboardContext } from "./session";

/**
 * Reading and checking the dashboard's forms (fields.tsx draws them). A posted form is strings,
 * repeated names as lists. Pages whose values the API judges read them with `text` and `list`;
 * pages that check a form first describe it with a zod schema of the field shapes below. Either
 * way a failure looks like the API's own 422, so pages show both the same way.
 */

export type FormValues = Record<string, string | string[] | undefined>;

export type FormResult<T> = { ok: true; data: T; values: FormValues } | { ok: false; error: ApiFailure; values: FormValues };

/** The posted form without the CSRF field; repeated names (checkboxes) as lists, files dropped (see the CSV import). */
export async function postedValues(c: DashboardContext): Promise<FormValues> {
  const body = await c.req.parseBody({ all: true });
  const values: FormValues = {};
  for (const [name, value] of Object.entries(body)) {
    if (name === "_csrf") continue;
    if (typeof value === "string") values[name] = value;
    else if (Array.isArray(value)) values[name] = value.filter((v): v is string => typeof v === "string");
  }
  return values;
}

/** One field's value ("" when absent; the first of a repeated name). */
export function text(values: FormValues, name: string): string {
  const value = values[name];
  return (Array.isArray(value) ? value[0] : value) ?? "";
}

/** A repeated field's non-blank values. */
export function list(values: FormValues, name: string): string[] {
  const value = values[name];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).filter((v) => v !== "");
}

// ---------------------------------------------------------------------------------------------
// Failures and their wording

/**
 * A validation failure shaped like the API's 422. The message lists every issue unless told
 * otherwise (the agent form words it as the API does, since it mixes its own and the API's).
 */
export function formFailure(issues: { field: string; reason: string }[], message = issues.map((i) => `${i.field}: ${i.reason}`).join("; ")): ApiFailure {
  return {
    ok: false,
    status: 422,
    code: "validation_error",
    message,
    details: { field: issues[0]?.field, reason: issues[0]?.reason, issues },
  };
}

/** A 422 naming one field, worded like the API's (see src/lib/errors.ts `invalidField`). */
function fieldFailure(field: string, reason: string): ApiFailure {
  return formFailure([{ field, reason }], `Invalid ${field}: ${reason}`);
}

/** Thrown by the boxes below; the page turns it back into its failure. */
export class FormProblem extends Error {
  constructor(readonly failure: ApiFailure) {
    super(failure.message);
    this.name = "FormProblem";
  }
}

/**
 * zod's wording of the commonest problems, said for people ("Required" rather than "Too small:
 * expected string to have >=1 characters"); anything else is the API's reason as is.
 */
export function plainReason(reason: string): string {
  if (/^Too small: expected string to have >=1 characters?$/.test(reason)) return "Required";
  if (/^Invalid input: expected \w+, received undefined$/.test(reason)) return "Required";
  const type = reason.match(/^Invalid input: expected (number|boolean|string|object|array), received \w+$/);
  if (type) return `Must be ${type[1] === "array" ? "a list" : type[1] === "object" ? "an object" : `a ${type[1]}`}`;
  const tooBig = reason.match(/^Too big: expected (?:string|array) to have <=(\d+) (characters?|items?)$/);
  if (tooBig) return `At most ${tooBig[1]} ${tooBig[2]}`;
  const bounds = reason.match(/^Too (small|big): expected number to be ([<>]=?)(-?[\d.]+)$/);
  if (bounds) return `Must be ${{ ">=": "at least", ">": "more than", "<=": "at most", "<": "less than" }[bounds[2]]} ${bounds[3]}`;
  return reason;
}

/** The per-field reasons of a failure (`details.issues`), by the top-level field they concern. */
export function issuesByField(failure: ApiFailure | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const issues = failure?.details?.issues;
  if (Array.isArray(issues)) {
    for (const issue of issues) {
      if (typeof issue?.field !== "string" || typeof issue?.reason !== "string") continue;
      const top = issue.field.split(".")[0];
      const reason = plainReason(issue.reason);
      out[top] ??= issue.field === top ? reason : `${issue.field}: ${reason}`;
    }
  } else if (typeof failure?.details?.field === "string" && typeof failure.details.reason === "string") {
    out[failure.details.field.split(".")[0]] = plainReason(failure.details.reason);
  }
  return out;
}

/** The reason a failure gives for this field, if any. */
export function fieldError(failure: ApiFailure | undefined, name: string): string | undefined {
  return issuesByField(failure)[name];
}

// ---------------------------------------------------------------------------------------------
// Forms the dashboard checks itself: a zod schema over the posted strings

export function parseForm<S extends z.ZodType>(values: FormValues, schema: S): FormResult<z.output<S>> {
  const parsed = schema.safeParse(values);
  if (parsed.success) return { ok: true, data: parsed.data, values };
  return { ok: false, error: formFailure(parsed.error.issues.map((i) => ({ field: i.path.join(".") || "form", reason: i.message }))), values };
}

export async function readForm<S extends z.ZodType>(c: DashboardContext, schema: S): Promise<FormResult<z.output<S>>> {
  return parseForm(await postedValues(c), schema);
}

/** A text box's value: trimmed, at most `max` characters; absent when left empty. */
export const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max, `At most ${max} characters`)
    .optional()
    .transform((v) => (v ? v : undefined));

export const requiredText = (max: number, what: string) => z.string({ error: `Enter ${what}` }).trim().min(1, `Enter ${what}`).max(max, `At most ${max} characters`);

/** A checkbox: present (any value) means ticked. */
export const checkbox = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .transform((v) => v !== undefined);

/** Checkboxes sharing a name: always a list. */
export const manyOf = <T extends z.ZodType>(item: T) => z.preprocess((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]), z.array(item));

/** A whole number typed into a box; absent when left empty. */
export const optionalInteger = (min: number, max: number) =>
  z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      if (!v) return undefined;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: "custom", message: `Enter a whole number from ${min} to ${max}` });
        return z.NEVER;
      }
      return n;
    });

// ---------------------------------------------------------------------------------------------
// Boxes whose type the API cannot take as text (read imperatively; they throw FormProblem)

/** A number box: blank is `undefined`, anything else must be a number. */
export function numberField(values: FormValues, name: string, options: { integer?: boolean } = {}): number | undefined {
  const raw = text(values, name).trim();
  if (raw === "") return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new FormProblem(fieldFailure(name, "Must be a number"));
  if (options.integer && !Number.isInteger(value)) throw new FormProblem(fieldFailure(name, "Must be a whole number"));
  return value;
}

/** A JSON textarea: blank is `undefined`; the API validates the document's shape. */
export function jsonField(values: FormValues, name: string): unknown {
  const raw = text(values, name).trim();
  if (raw === "") return undefined;
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw new FormProblem(fieldFailure(name, `Not valid JSON (${error instanceof Error ? error.message : "parse error"})`));
  }
}

/** Pretty JSON for a textarea; blank for null. */
export function jsonText(value: unknown): string {
  return value === null || value === undefined ? "" : JSON.stringify(value, null, 2);
}

/** `2026-03-02` (a date input) as the ISO instant that day starts, UTC; `nextDay` for an inclusive end. */
export function dayStart(date: string, nextDay = false): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return undefined;
  const ms = Date.parse(`${date}T00:00:00Z`);
  if (Number.isNaN(ms)) return undefined;
  return new Date(ms + (nextDay ? 86_400_000 : 0)).toISOString();
}
