import Papa from "papaparse";

/**
 * CSV reading on strings with papaparse (its File/worker paths are browser-only). Records are
 * numbered as a spreadsheet shows them: the header is row 1, the first record row 2, a quoted
 * newline stays inside its cell, and a blank line is still a row. That is why `skipEmptyLines`
 * is off: papaparse would drop blank lines from the count and every later row number would be
 * wrong, so blank records are skipped here instead, after they have been counted.
 */

export type CsvRecord = Record<string, string>;

/** `"\uFEFF First-Name "` → `first_name`: case, surrounding space, and `-`/space runs → `_`. */
export function normalizeHeader(header: string): string {
  return header.replace(/^\uFEFF/, "").trim().toLowerCase().replace(/[\s-]+/g, "_");
}

const baseConfig = {
  header: true,
  skipEmptyLines: false,
  transformHeader: normalizeHeader,
} as const;

const stripBom = (text: string) => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);

function isBlank(record: CsvRecord): boolean {
  for (const key in record) {
    const value = record[key];
    if (typeof value === "string" && value.trim() !== "") return false;
  }
  return true;
}

/**
 * The header row, normalised. papaparse renames repeated names (`phone`, `phone_1`), so every
 * column keeps its own key. Undefined when the text has no header at all.
 */
export function readCsvHeader(text: string): string[] | undefined {
  const { meta } = Papa.parse<CsvRecord>(stripBom(text), { ...baseConfig, preview: 1 });
  const fields = (meta.fields ?? []).filter((f) => f !== "");
  return fields.length ? fields : undefined;
}

/** Line breaks (LF, CRLF or a lone CR), an upper bound on the number of records after the header. */
function countLineBreaks(text: string, stopAfter: number): number {
  let breaks = 0;
  for (let i = 0; i < text.length && breaks <= stopAfter; i++) {
    const code = text.charCodeAt(i);
    if (code === 10 || (code === 13 && text.charCodeAt(i + 1) !== 10)) breaks++;
  }
  return breaks;
}

/**
 * Whether the file holds more than `max` non-blank records. Counting line breaks settles it for
 * almost every file without parsing (records after the header never outnumber them); only a file
 * with more lines than the cap is parsed, exactly, since quoted newlines and blank lines add lines
 * but not records. Either way this runs before any row is validated, so refusing an oversized
 * file costs a parse, not an import.
 */
export function hasMoreRecordsThan(text: string, max: number): boolean {
  if (countLineBreaks(text, max) <= max) return false;
  let records = 0;
  Papa.parse<CsvRecord>(stripBom(text), {
    ...baseConfig,
    step: (result, parser) => {
      if (!isBlank(result.data)) records++;
      if (records > max) parser.abort();
    },
  });
  return records > max;
}

/**
 * Calls `onRecord` for every non-blank record with its spreadsheet row number. Cells beyond the
 * header's width (papaparse's `__parsed_extra`) have no column name and are dropped.
 */
export function forEachCsvRecord(text: string, onRecord: (record: CsvRecord, row: number) => void): void {
  let row = 1;
  Papa.parse<CsvRecord & { __parsed_extra?: unknown }>(stripBom(text), {
    ...baseConfig,
    step: ({ data }) => {
      row++;
      delete data.__parsed_extra;
      if (!isBlank(data)) onRecord(data, row);
    },
  });
}
