import { z } from "zod";
import { forEachCsvRecord, hasMoreRecordsThan, readCsvHeader, type CsvRecord } from "./csv";
import { normalizePhone } from "./phone";

/** Contact rules with no I/O: field limits, names, time zones, and the CSV import plan. */

export const CONTACT_TEXT_LIMITS = {
  first_name: 100,
  last_name: 100,
  email: 254,
  company_name: 255,
  industry: 255,
  location: 255,
  pin_code: 32,
  keywords: 1000,
  timezone: 64,
} as const;
export type ContactTextField = keyof typeof CONTACT_TEXT_LIMITS;

export const CUSTOM_FIELD_LIMITS = { maxKeys: 100, keyLength: 100, valueLength: 2000 } as const;

export const LAST_CALL_OUTCOMES = ["contacted", "voicemail", "no_answer", "escalated", "interested", "not_interested"] as const;

/** Above this many records an upload is refused with 413; a 20 MB body holds about this many typical rows. */
export const MAX_IMPORT_ROWS = 200_000;

/** `error_details` lists this many failed rows at most, so a file of garbage cannot make a huge response; `errors` still counts all. */
export const MAX_ERROR_DETAILS = 1000;

/** `"  "` and `""` mean "no value", from JSON and CSV alike. */
export function cleanText(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const trimmed = value.trim();
  return trimmed === "" ? null : trimmed;
}

/** The display name: `"Ada Lovelace"`, `"Ada"`, or null when neither part is known. */
export function contactName(firstName: string | null, lastName: string | null): string | null {
  return [firstName, lastName].filter(Boolean).join(" ") || null;
}

/** `"Mary Ann Smith"` → Mary Ann / Smith: the last word is the family name, as most contact lists write it. */
export function splitName(name: string): { firstName: string | null; lastName: string | null } {
  const words = name.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return { firstName: null, lastName: null };
  if (words.length === 1) return { firstName: words[0], lastName: null };
  return { firstName: words.slice(0, -1).join(" "), lastName: words[words.length - 1] };
}

/**
 * The IANA zone if Intl knows it, else undefined. Intl also fixes the case (`america/new_york` →
 * `America/New_York`), but its answer for a link is ICU's old canonical name (`Asia/Kolkata` →
 * `Asia/Calcutta`), so a zone Intl renames is kept as the caller spelled it.
 */
export function canonicalTimeZone(zone: string): string | undefined {
  const name = zone.trim();
  if (name === "" || name.length > CONTACT_TEXT_LIMITS.timezone) return undefined;
  try {
    const resolved = new Intl.DateTimeFormat("en-US", { timeZone: name }).resolvedOptions().timeZone;
    return resolved.toLowerCase() === name.toLowerCase() ? resolved : name;
  } catch {
    return undefined;
  }
}

const emailFormat = z.email();
export const isEmail = (value: string) => emailFormat.safeParse(value).success;

// ---------------------------------------------------------------------------------------------
// CSV import

/** Header spellings per field, in priority order when a file has several (`phone` beats `phone_number`). */
const COLUMN_ALIASES = {
  phone: ["phone", "phone_number"],
  name: ["name"],
  first_name: ["first_name"],
  last_name: ["last_name"],
  email: ["email"],
  company_name: ["company_name", "company"],
  industry: ["industry"],
  location: ["location"],
  pin_code: ["pin_code"],
  keywords: ["keywords"],
  timezone: ["timezone"],
} as const satisfies Record<"phone" | "name" | ContactTextField, readonly string[]>;

export interface ColumnMap {
  phone: string;
  name?: string;
  fields: Partial<Record<ContactTextField, string>>;
  /** Every other column; its normalised header is the custom field's key. */
  custom: string[];
}

export type ColumnMapping = { ok: true; columns: ColumnMap } | { ok: false; reason: string };

export function mapColumns(headers: string[]): ColumnMapping {
  const used = new Set<string>();
  const pick = (aliases: readonly string[]) => {
    const header = aliases.find((a) => headers.includes(a));
    if (header) used.add(header);
    return header;
  };
  const phone = pick(COLUMN_ALIASES.phone);
  if (!phone) {
    return {
      ok: false,
      reason: `The header row has no phone column (expected "phone" or "phone_number"); found: ${headers.join(", ")}`,
    };
  }
  const name = pick(COLUMN_ALIASES.name);
  const fields: ColumnMap["fields"] = {};
  for (const field of Object.keys(CONTACT_TEXT_LIMITS) as ContactTextField[]) {
    const header = pick(COLUMN_ALIASES[field]);
    if (header) fields[field] = header;
  }
  const custom = headers.filter((h) => !used.has(h));
  if (custom.length > CUSTOM_FIELD_LIMITS.maxKeys) {
    return { ok: false, reason: `At most ${CUSTOM_FIELD_LIMITS.maxKeys} custom-field columns are allowed; the file has ${custom.length}` };
  }
  const long = custom.find((h) => h.length > CUSTOM_FIELD_LIMITS.keyLength);
  if (long) return { ok: false, reason: `Column name "${long.slice(0, 40)}…" is longer than ${CUSTOM_FIELD_LIMITS.keyLength} characters` };
  return { ok: true, columns: { phone, name, fields, custom } };
}

export interface ContactDraft {
  phoneNumber: string;
  firstName: string | null;
  lastName: string | null;
  email: string | null;
  companyName: string | null;
  industry: string | null;
  location: string | null;
  pinCode: string | null;
  keywords: string | null;
  timezone: string | null;
  customFields: Record<string, string>;
}

export interface ImportRowError {
  row: number;
  phone: string | null;
  reason: string;
}

export type RowCheck = { ok: true; contact: ContactDraft } | { ok: false; phone: string | null; reason: string };

/** One record → a contact, or the first reason it cannot be one. */
export function checkImportRecord(record: CsvRecord, columns: ColumnMap, defaultCountry?: string): RowCheck {
  const rawPhone = record[columns.phone] ?? "";
  const phone = normalizePhone(rawPhone, defaultCountry);
  const shownPhone = cleanText(rawPhone);
  if (!phone.ok) return { ok: false, phone: shownPhone, reason: phone.reason };

  const text: Partial<Record<ContactTextField, string | null>> = {};
  for (const [field, header] of Object.entries(columns.fields) as [ContactTextField, string][]) {
    const value = cleanText(record[header]);
    if (value !== null && value.length > CONTACT_TEXT_LIMITS[field]) {
      return { ok: false, phone: shownPhone, reason: `${field} is longer than ${CONTACT_TEXT_LIMITS[field]} characters` };
    }
    text[field] = value;
  }
  if (text.email && !isEmail(text.email)) return { ok: false, phone: shownPhone, reason: "Invalid email address" };
  let timezone: string | null = null;
  if (text.timezone) {
    const zone = canonicalTimeZone(text.timezone);
    if (!zone) return { ok: false, phone: shownPhone, reason: `Unknown time zone "${text.timezone}" (expected an IANA name such as America/New_York)` };
    timezone = zone;
  }
  let firstName = text.first_name ?? null;
  let lastName = text.last_name ?? null;
  const fullName = columns.name ? cleanText(record[columns.name]) : null;
  if (firstName === null && lastName === null && fullName !== null) {
    ({ firstName, lastName } = splitName(fullName));
    if ((firstName?.length ?? 0) > CONTACT_TEXT_LIMITS.first_name || (lastName?.length ?? 0) > CONTACT_TEXT_LIMITS.last_name) {
      return { ok: false, phone: shownPhone, reason: `name is too long to split into first_name and last_name (${CONTACT_TEXT_LIMITS.first_name} characters each)` };
    }
  }
  const customFields: Record<string, string> = {};
  for (const header of columns.custom) {
    const value = cleanText(record[header]);
    if (value === null) continue;
    if (value.length > CUSTOM_FIELD_LIMITS.valueLength) {
      return { ok: false, phone: shownPhone, reason: `${header} is longer than ${CUSTOM_FIELD_LIMITS.valueLength} characters` };
    }
    customFields[header] = value;
  }
  return {
    ok: true,
    contact: {
      phoneNumber: phone.e164,
      firstName,
      lastName,
      email: text.email ?? null,
      companyName: text.company_name ?? null,
      industry: text.industry ?? null,
      location: text.location ?? null,
      pinCode: text.pin_code ?? null,
      keywords: text.keywords ?? null,
      timezone,
      customFields,
    },
  };
}

/** The 413 answer for a file over the row cap, checked before any row is validated. */
export function rowCapProblem(text: string, maxRows: number) {
  if (!hasMoreRecordsThan(text, maxRows)) return undefined;
  return {
    ok: false as const,
    problem: "too_many_rows" as const,
    maxRows,
    reason: `The CSV has more than ${maxRows} rows; split it into files of at most ${maxRows} rows`,
  };
}

export interface ImportPlan {
  /** Valid rows handed to `onContact`: the first occurrence of each phone, in file order. */
  accepted: number;
  /** Rows whose phone already appeared earlier in the file. */
  duplicates: number;
  errors: number;
  errorDetails: ImportRowError[];
}

export type ImportPlanResult =
  | { ok: true; plan: ImportPlan }
  | { ok: false; problem: "empty" | "columns"; reason: string }
  | { ok: false; problem: "too_many_rows"; reason: string; maxRows: number };

/**
 * Reads the whole CSV and decides what to write, writing nothing: every row is checked, a bad row
 * only costs itself, and a phone seen earlier in the file is a duplicate. Each accepted contact is
 * handed to `onContact` as soon as it is read, so the caller can store it compactly instead of
 * holding an object per row (a 200,000-row file as objects is most of a Worker's 128 MB).
 */
export function planContactImport(
  text: string,
  options: { onContact: (contact: ContactDraft) => void; defaultCountry?: string; maxRows?: number },
): ImportPlanResult {
  const maxRows = options.maxRows ?? MAX_IMPORT_ROWS;
  const headers = readCsvHeader(text);
  if (!headers) return { ok: false, problem: "empty", reason: "The CSV file is empty; it needs a header row with a phone column" };
  const mapping = mapColumns(headers);
  if (!mapping.ok) return { ok: false, problem: "columns", reason: mapping.reason };
  const tooMany = rowCapProblem(text, maxRows);
  if (tooMany) return tooMany;

  const plan: ImportPlan = { accepted: 0, duplicates: 0, errors: 0, errorDetails: [] };
  const seen = new Set<string>();
  forEachCsvRecord(text, (record, row) => {
    const checked = checkImportRecord(record, mapping.columns, options.defaultCountry);
    if (!checked.ok) {
      plan.errors++;
      if (plan.errorDetails.length < MAX_ERROR_DETAILS) plan.errorDetails.push({ row, phone: checked.phone, reason: checked.reason });
      return;
    }
    if (seen.has(checked.contact.phoneNumber)) {
      plan.duplicates++;
      return;
    }
    seen.add(checked.contact.phoneNumber);
    plan.accepted++;
    options.onContact(checked.contact);
  });
  return { ok: true, plan };
}
