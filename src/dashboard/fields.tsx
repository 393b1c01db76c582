import type { Child } from "hono/jsx";
import type { ApiFailure } from "./api";
import { fieldError, list, text, type FormValues } from "./forms";

/**
 * Labelled form controls. Each has a visible label, its help and its error tied to it with
 * aria-describedby, and aria-invalid when its value was refused, so the form reads the same with
 * a screen reader as it looks.
 */

export interface Option {
  value: string;
  label: string;
}

interface FieldProps {
  name: string;
  label: string;
  /** The ids' prefix where a page has several forms (`add` gives `add-email`); without it the id is the name. */
  form?: string;
  /** The form as posted (or the filters): its value for the field wins over `value`. */
  values?: FormValues;
  /** The failure whose reason for this field is shown under it (forms.ts `fieldError`). */
  error?: ApiFailure;
  help?: Child;
  /** Spans both columns of a `form-grid`. */
  wide?: boolean;
}

function ids(p: FieldProps) {
  const input = p.form ? `${p.form}-${p.name}` : p.name;
  return { input, help: `${input}-help`, error: `${input}-error` };
}

function describedBy(p: FieldProps, message: string | undefined): string | undefined {
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

/** The value to show: the posted one when the form was posted with this field, else `value`. */
function shown(p: FieldProps & { value?: string }): string {
  return p.values && p.name in p.values ? text(p.values, p.name) : (p.value ?? "");
}

const fieldClass = (p: FieldProps) => (p.wide ? "field wide" : "field");

export function TextField(
  p: FieldProps & {
    type?: string;
    value?: string;
    required?: boolean;
    placeholder?: string;
    maxlength?: number;
    min?: number | string;
    max?: number | string;
    step?: string;
    list?: string;
    autocomplete?: string;
  },
) {
  const message = fieldError(p.error, p.name);
  return (
    <div class={fieldClass(p)}>
      <label for={ids(p).input}>{p.label}</label>
      <input
        id={ids(p).input}
        name={p.name}
        type={p.type ?? "text"}
        value={shown(p)}
        required={p.required}
        placeholder={p.placeholder}
        maxlength={p.maxlength}
        min={p.min}
        max={p.max}
        step={p.step}
        list={p.list}
        autocomplete={p.autocomplete}
        aria-invalid={message ? "true" : undefined}
        aria-describedby={describedBy(p, message)}
      />
      <FieldNotes {...p} message={message} />
    </div>
  );
}

/** A text area spans the grid unless `wide={false}`; `code` is for JSON. */
export function TextArea(p: FieldProps & { value?: string; required?: boolean; rows?: number; maxlength?: number; code?: boolean }) {
  const message = fieldError(p.error, p.name);
  return (
    <div class={fieldClass({ ...p, wide: p.wide ?? true })}>
      <label for={ids(p).input}>{p.label}</label>
      <textarea
        id={ids(p).input}
        name={p.name}
        rows={p.rows}
        maxlength={p.maxlength}
        class={p.code ? "code" : undefined}
        spellcheck={p.code ? false : undefined}
        required={p.required}
        aria-invalid={message ? "true" : undefined}
        aria-describedby={describedBy(p, message)}
      >
        {shown(p)}
      </textarea>
      <FieldNotes {...p} message={message} />
    </div>
  );
}

/** A select; `blank` is an empty first choice, `multiple` a list box of several. */
export function SelectField(p: FieldProps & { options: Option[]; value?: string; required?: boolean; blank?: string; multiple?: boolean }) {
  const message = fieldError(p.error, p.name);
  const selected = new Set(p.multiple ? list(p.values ?? {}, p.name) : [shown(p)]);
  return (
    <div class={fieldClass(p)}>
      <label for={ids(p).input}>{p.label}</label>
      <select
        id={ids(p).input}
        name={p.name}
        multiple={p.multiple}
        size={p.multiple ? Math.min(Math.max(p.options.length, 3), 8) : undefined}
        required={p.required}
        aria-invalid={message ? "true" : undefined}
        aria-describedby={describedBy(p, message)}
      >
        {p.blank !== undefined ? <option value="">{p.blank}</option> : null}
        {p.options.map((o) => (
          <option value={o.value} selected={selected.has(o.value)}>
            {o.label}
          </option>
        ))}
      </select>
      <FieldNotes {...p} message={message} />
    </div>
  );
}

/** One checkbox with its label to the right: ticked when the posted form has it, else `checked`. */
export function CheckboxField(p: FieldProps & { checked?: boolean; value?: string }) {
  const message = fieldError(p.error, p.name);
  const checked = p.values ? p.values[p.name] !== undefined : (p.checked ?? false);
  return (
    <div class={fieldClass(p)}>
      <label class="checkbox" for={ids(p).input}>
        <input
          type="checkbox"
          id={ids(p).input}
          name={p.name}
          value={p.value}
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
export function CheckboxGroup(p: FieldProps & { options: Option[] }) {
  const message = fieldError(p.error, p.name);
  const chosen = new Set(list(p.values ?? {}, p.name));
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

/** A GET form that narrows a list to one status ("Any status" shows all). */
export function StatusFilter(p: { action: string; form: string; name: string; label: string; value: string | undefined; statuses: readonly string[]; labelOf: (status: string) => string }) {
  return (
    <form method="get" action={p.action} class="filters">
      <SelectField form={p.form} name={p.name} label={p.label} blank="Any status" value={p.value ?? ""} options={p.statuses.map((s) => ({ value: s, label: p.labelOf(s) }))} />
      <button type="submit" class="btn-secondary">
        Filter
      </button>
    </form>
  );
}
