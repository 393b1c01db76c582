import { cleanText, MAX_ERROR_DETAILS, MAX_IMPORT_ROWS, rowCapProblem, type ImportPlan, type ImportPlanResult } from "./contacts";
import { forEachCsvRecord, readCsvHeader } from "./csv";
import { normalizePhone } from "./phone";

/** Do-not-call list rules with no I/O: entry limits and the CSV import plan. */

export const DNC_SOURCES = ["api", "opt_out", "import"] as const;
export type DncSource = (typeof DNC_SOURCES)[number];

export const DNC_REASON_MAX_LENGTH = 500;

/** The reason recorded when a contact is marked `opted_out` and its number joins the list that way. */
export const OPT_OUT_REASON = "Contact opted out";

/** Header spellings, in priority order as for contacts: `phone` beats `phone_number`. */
const PHONE_COLUMNS = ["phone", "phone_number"];
const REASON_COLUMN = "reason";

export interface DncDraft {
  phoneNumber: string;
  reason: string | null;
}

/**
 * Reads a do-not-call CSV and decides what to list, writing nothing. The rules are the contact
 * import's (spreadsheet row numbers, a bad row costs only itself, the first occurrence of a phone
 * wins and later ones are duplicates, the same row cap), so a file that imports as contacts
 * imports here too; columns other than the phone and `reason` are ignored.
 */
export function planDncImport(
  text: string,
  options: { onEntry: (entry: DncDraft) => void; defaultCountry?: string; maxRows?: number },
): ImportPlanResult {
  const maxRows = options.maxRows ?? MAX_IMPORT_ROWS;
  const headers = readCsvHeader(text);
  if (!headers) return { ok: false, problem: "empty", reason: "The CSV file is empty; it needs a header row with a phone column" };
  const phoneColumn = PHONE_COLUMNS.find((name) => headers.includes(name));
  if (!phoneColumn) {
    return {
      ok: false,
      problem: "columns",
      reason: `The header row has no phone column (expected "phone" or "phone_number"); found: ${headers.join(", ")}`,
    };
  }
  const tooMany = rowCapProblem(text, maxRows);
  if (tooMany) return tooMany;

  const plan: ImportPlan = { accepted: 0, duplicates: 0, errors: 0, errorDetails: [] };
  const reject = (row: number, phone: string | null, reason: string) => {
    plan.errors++;
    if (plan.errorDetails.length < MAX_ERROR_DETAILS) plan.errorDetails.push({ row, phone, reason });
  };
  const seen = new Set<string>();
  forEachCsvRecord(text, (record, row) => {
    const rawPhone = record[phoneColumn] ?? "";
    const shownPhone = cleanText(rawPhone);
    const phone = normalizePhone(rawPhone, options.defaultCountry);
    if (!phone.ok) return reject(row, shownPhone, phone.reason);
    const reason = cleanText(record[REASON_COLUMN]);
    if (reason !== null && reason.length > DNC_REASON_MAX_LENGTH) {
      return reject(row, shownPhone, `reason is longer than ${DNC_REASON_MAX_LENGTH} characters`);
    }
    if (seen.has(phone.e164)) {
      plan.duplicates++;
      return;
    }
    seen.add(phone.e164);
    plan.accepted++;
    options.onEntry({ phoneNumber: phone.e164, reason });
  });
  return { ok: true, plan };
}
