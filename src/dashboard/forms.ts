import type { ApiFailure } from "./api";

/**
 * HTML form values and the conversions shared by the pages: a posted form as strings (repeated
 * fields as arrays), and local checks for what a text box cannot express to the API (a number,
 * a JSON document). Their failures look like the API's own 422, so pages show both the same way.
 */

export type FormValues = Record<string, string | string[]>;

/** `c.req.parseBody({ all: true })` without files and without the CSRF field. */
export function formValues(parsed: Record<string, unknown>): FormValues {
  const values: FormValues = {};
  for (const [name, value] of Object.entries(parsed)) {
    if (name === "_csrf") continue;
    if (typeof value === "string") values[name] = value;
    else if (Array.isArray(value)) values[name] = value.filter((v): v is string => typeof v === "string");
  }
  return values;
}

export function text(values: FormValues, name: string): string {
  const value = values[name];
  return (Array.isArray(value) ? value[0] : value) ?? "";
}

export function list(values: FormValues, name: string): string[] {
  const value = values[name];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).filter((v) => v !== "");
}

/** A 422 naming one field, shaped like the API's (see src/lib/errors.ts `invalidField`). */
export function fieldFailure(field: string, reason: string): ApiFailure {
  return {
    ok: false,
    status: 422,
    code: "validation_error",
    message: `Invalid ${field}: ${reason}`,
    details: { field, reason, issues: [{ field, reason }] },
  };
}

export class FormProblem extends Error {
  constructor(readonly failure: ApiFailure) {
    super(failure.message);
    this.name = "FormProblem";
  }
}

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

/** The API's per-field reasons (`details.issues`), by the top-level field they concern. */
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

/** `2026-03-02` (a date input) as the ISO instant that day starts, UTC; `nextDay` for an inclusive end. */
export function dayStart(date: string, nextDay = false): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return undefined;
  const ms = Date.parse(`${date}T00:00:00Z`);
  if (Number.isNaN(ms)) return undefined;
  return new Date(ms + (nextDay ? 86_400_000 : 0)).toISOString();
}
