import type { Child } from "hono/jsx";
import { list, text, type FormValues } from "./forms";

/**
 * Labelled form controls. Each has a visible label, its help and its error tied to it with
 * aria-describedby, and aria-invalid when the API rejected its value, so the form reads the same
 * with a screen reader as it looks.
 */

interface Common {
  name: string;
  label: string;
  values: FormValues;
  /** Reasons by field name (forms.ts `issuesByField`). */
  errors?: Record<string, string>;
  help?: Child;
  required?: boolean;
  wide?: boolean;
}

function describedBy(name: string, help: unknown, error: unknown): string | undefined {
  const ids = [help ? `${name}-help` : "", error ? `${name}-error` : ""].filter(Boolean);
  return ids.length ? ids.join(" ") : undefined;
}

function Notes({ name, help, error }: { name: string; help?: Child; error?: string }) {
  return (
    <>
      {help ? (
        <p class="help" id={`${name}-help`}>
          {help}
        </p>
      ) : null}
      {error ? (
        <p class="field-error" id={`${name}-error`}>
          {error}
        </p>
      ) : null}
    </>
  );
}

export function TextField(props: Common & { type?: string; placeholder?: string; min?: number; max?: number; step?: string; autocomplete?: string }) {
  const { name, label, values, errors = {}, help, required, wide, type = "text", ...rest } = props;
  const error = errors[name];
  return (
    <div class={wide ? "field wide" : "field"}>
      <label for={name}>{label}</label>
      <input
        id={name}
        name={name}
        type={type}
        value={text(values, name)}
        required={required}
        aria-invalid={error ? "true" : undefined}
        aria-describedby={describedBy(name, help, error)}
        {...rest}
      />
      <Notes name={name} help={help} error={error} />
    </div>
  );
}

export function TextArea(props: Common & { rows?: number; code?: boolean }) {
  const { name, label, values, errors = {}, help, required, wide = true, rows = 4, code } = props;
  const error = errors[name];
  return (
    <div class={wide ? "field wide" : "field"}>
      <label for={name}>{label}</label>
      <textarea
        id={name}
        name={name}
        rows={rows}
        class={code ? "code" : undefined}
        spellcheck={code ? false : undefined}
        required={required}
        aria-invalid={error ? "true" : undefined}
        aria-describedby={describedBy(name, help, error)}
      >
        {text(values, name)}
      </textarea>
      <Notes name={name} help={help} error={error} />
    </div>
  );
}

export interface Option {
  value: string;
  label: string;
}

export function SelectField(props: Common & { options: Option[]; multiple?: boolean; blank?: string }) {
  const { name, label, values, errors = {}, help, required, wide, options, multiple, blank } = props;
  const error = errors[name];
  const selected = new Set(multiple ? list(values, name) : [text(values, name)]);
  return (
    <div class={wide ? "field wide" : "field"}>
      <label for={name}>{label}</label>
      <select
        id={name}
        name={name}
        multiple={multiple}
        size={multiple ? Math.min(Math.max(options.length, 3), 8) : undefined}
        required={required}
        aria-invalid={error ? "true" : undefined}
        aria-describedby={describedBy(name, help, error)}
      >
        {blank !== undefined ? <option value="">{blank}</option> : null}
        {options.map((option) => (
          <option value={option.value} selected={selected.has(option.value)}>
            {option.label}
          </option>
        ))}
      </select>
      <Notes name={name} help={help} error={error} />
    </div>
  );
}

export function Checkbox(props: Common) {
  const { name, label, values, errors = {}, help, wide } = props;
  const error = errors[name];
  return (
    <div class={wide ? "field wide" : "field"}>
      <label class="checkbox" for={name}>
        <input
          id={name}
          name={name}
          type="checkbox"
          checked={text(values, name) === "on"}
          aria-invalid={error ? "true" : undefined}
          aria-describedby={describedBy(name, help, error)}
        />
        {label}
      </label>
      <Notes name={name} help={help} error={error} />
    </div>
  );
}
