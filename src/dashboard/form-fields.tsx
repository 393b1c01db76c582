import { z } from "zod";
import type { ApiFailure } from "./api";
import type { DashboardContext } from "./session";

/**
 * Reading and drawing the forms of the contacts, campaigns, webhooks and analytics pages. A form
 * is checked for shape here (strings of bounded length, the right choices); what the values mean
 * is the API's to judge, so its message is the one people see.
 */

export type FormValues = Record<string, string | string[] | undefined>;

export type FormResult<T> = { ok: true; data: T; values: FormValues } | { ok: false; error: ApiFailure; values: FormValues };

/** The posted form, repeated names (checkboxes) as arrays; files are dropped (see the CSV import). */
export async function postedValues(c: DashboardContext): Promise<FormValues> {
  const body = await c.req.parseBody({ all: true });
  const values: FormValues = {};
  for (const [name, value] of Object.entries(body)) {
    if (name === "_csrf") continue;
    const list = (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === "string");
    values[name] = Array.isArray(value) ? list : list[0];
  }
  return values;
}

/** A validation failure shaped like the API's, so pages show both the same way. */
export function formFailure(issues: { field: string; reason: string }[]): ApiFailure {
  return {
    ok: false,
    status: 422,
    code: "validation_error",
    message: issues.map((i) => `${i.field}: ${i.reason}`).join("; "),
    details: { field: issues[0]?.field, reason: issues[0]?.reason, issues },
  };
}

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

/** The reason the API (or the form check) gave for this field, if any. */
export function fieldError(error: ApiFailure | undefined, name: string): string | undefined {
  const issues = error?.details?.issues;
  if (!Array.isArray(issues)) return undefined;
  const issue = issues.find((i) => typeof i?.field === "string" && (i.field === name || i.field.startsWith(`${name}.`)));
  return typeof issue?.reason === "string" ? issue.reason : undefined;
}

const single = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value) ?? "";

interface FieldProps {
  name: string;
  label: string;
  /** The id prefix of the form, so two forms on one page never share ids. */
  form: string;
  values?: FormValues;
  error?: ApiFailure;
  help?: string;
}

const ids = (p: FieldProps) => ({ input: `${p.form}-${p.name}`, help: `${p.form}-${p.name}-help`, error: `${p.form}-${p.name}-error` });

function describedBy(p: FieldProps, message: string | undefined) {
  const { help, error } = ids(p);
  return [p.help ? help : "", message ? error : ""].filter(Boolean).join(" ") || undefined;
}

function FieldNotes(p: FieldProps & { message: string | undefined }) {
  const { help, error } = ids(p);
  return (
    <>
      {p.help ? (
        <p class="help" id={help}>
          {p.help}
        </p>
      ) : null}
      {p.message ? (
        <p class="field-error" id={error}>
          {p.message}
        </p>
      ) : null}
    </>
  );
}

export function TextField(
  p: FieldProps & { type?: string; required?: boolean; value?: string; placeholder?: string; maxlength?: number; min?: number | string; max?: number | string; autocomplete?: string; list?: string },
) {
  const message = fieldError(p.error, p.name);
  return (
    <div class="field">
      <label for={ids(p).input}>{p.label}</label>
      <input
        id={ids(p).input}
        name={p.name}
        type={p.type ?? "text"}
        value={p.values && p.name in p.values ? single(p.values[p.name]) : (p.value ?? "")}
        required={p.required}
        placeholder={p.placeholder}
        maxlength={p.maxlength}
        min={p.min}
        max={p.max}
        list={p.list}
        autocomplete={p.autocomplete ?? "off"}
        aria-invalid={message ? "true" : undefined}
        aria-describedby={describedBy(p, message)}
      />
      <FieldNotes {...p} message={message} />
    </div>
  );
}

export function TextArea(p: FieldProps & { value?: string; maxlength?: number }) {
  const message = fieldError(p.error, p.name);
  return (
    <div class="field">
      <label for={ids(p).input}>{p.label}</label>
      <textarea id={ids(p).input} name={p.name} maxlength={p.maxlength} aria-invalid={message ? "true" : undefined} aria-describedby={describedBy(p, message)}>
        {p.values && p.name in p.values ? single(p.values[p.name]) : (p.value ?? "")}
      </textarea>
      <FieldNotes {...p} message={message} />
    </div>
  );
}

export function SelectField(p: FieldProps & { options: { value: string; label: string }[]; value?: string; required?: boolean; blank?: string }) {
  const message = fieldError(p.error, p.name);
  const current = p.values && p.name in p.values ? single(p.values[p.name]) : (p.value ?? "");
  return (
    <div class="field">
      <label for={ids(p).input}>{p.label}</label>
      <select id={ids(p).input} name={p.name} required={p.required} aria-invalid={message ? "true" : undefined} aria-describedby={describedBy(p, message)}>
        {p.blank !== undefined ? <option value="">{p.blank}</option> : null}
        {p.options.map((o) => (
          <option value={o.value} selected={o.value === current}>
            {o.label}
          </option>
        ))}
      </select>
      <FieldNotes {...p} message={message} />
    </div>
  );
}

/** One checkbox with its label to the right. */
export function CheckboxField(p: FieldProps & { checked?: boolean; value?: string }) {
  const message = fieldError(p.error, p.name);
  const checked = p.values ? p.values[p.name] !== undefined : (p.checked ?? false);
  return (
    <div class="field">
      <label class="checkbox" for={ids(p).input}>
        <input
          type="checkbox"
          id={ids(p).input}
          name={p.name}
          value={p.value ?? "on"}
          checked={checked}
          aria-invalid={message ? "true" : undefined}
          aria-describedby={describedBy(p, message)}
        />
        {p.label}
      </label>
      <FieldNotes {...p} message={message} />
    </div>
  );
}

/** Checkboxes sharing one name, in a fieldset whose legend names the group. */
export function CheckboxGroup(p: FieldProps & { options: { value: string; label: string }[]; checked?: string[] }) {
  const message = fieldError(p.error, p.name);
  const raw = p.values ? p.values[p.name] : p.checked;
  const chosen = new Set(raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]);
  return (
    <fieldset aria-describedby={describedBy(p, message)} aria-invalid={message ? "true" : undefined}>
      <legend>{p.label}</legend>
      <div class="checkbox-grid">
        {p.options.map((o, i) => (
          <label class="checkbox" for={`${ids(p).input}-${i}`}>
            <input type="checkbox" id={`${ids(p).input}-${i}`} name={p.name} value={o.value} checked={chosen.has(o.value)} />
            {o.label}
          </label>
        ))}
      </div>
      <FieldNotes {...p} message={message} />
    </fieldset>
  );
}

/** Carries values of earlier steps (or filters) through a form as hidden fields. */
export function HiddenFields({ values, skip = [] }: { values: FormValues; skip?: string[] }) {
  return (
    <>
      {Object.entries(values).flatMap(([name, value]) =>
        skip.includes(name) || value === undefined ? [] : [value].flat().map((v) => <input type="hidden" name={name} value={v} />),
      )}
    </>
  );
}
