/**
 * Rules for knowledge-base documents uploaded as base64 inside JSON: which types we ingest, how
 * the file name and bytes must agree with the declared type, and a strict base64 decoder that
 * reports where the input went wrong and never builds a second copy of a 50 MB payload as a
 * string.
 */

export const DOCUMENT_TYPES = {
  "application/pdf": { extensions: [".pdf"], label: "PDF" },
  "text/plain": { extensions: [".txt", ".text"], label: "plain text" },
  "text/markdown": { extensions: [".md", ".markdown"], label: "Markdown" },
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document": { extensions: [".docx"], label: "Word (DOCX)" },
} as const;

export type DocumentContentType = keyof typeof DOCUMENT_TYPES;
export const DOCUMENT_CONTENT_TYPES = Object.keys(DOCUMENT_TYPES) as [DocumentContentType, ...DocumentContentType[]];

export const MAX_DOCUMENT_BYTES = 50 * 1024 * 1024;

export interface FieldProblem {
  field: string;
  reason: string;
}

/** The extension of a file name, lowercased with its dot, or undefined when it has none. */
export function fileExtension(filename: string): string | undefined {
  const match = /(\.[A-Za-z0-9]+)$/.exec(filename);
  return match && match.index > 0 ? match[1].toLowerCase() : undefined;
}

export function checkExtension(filename: string, contentType: DocumentContentType): string | undefined {
  const extension = fileExtension(filename);
  const allowed: readonly string[] = DOCUMENT_TYPES[contentType].extensions;
  if (extension && allowed.includes(extension)) return undefined;
  return `${contentType} files must be named ${allowed.map((e) => `*${e}`).join(" or ")}; got "${filename}"`;
}

const BASE64_BODY = /^[A-Za-z0-9+/]*$/;
const STRAY_CHARACTER = /[^A-Za-z0-9+/=\s]/;

/**
 * The byte length `data` decodes to, or a reason it is not base64. Whitespace (MIME line breaks)
 * is allowed; padding is optional but must be at the end. Cheap: it lets the caller refuse an
 * oversized document before decoding it.
 */
export function base64DecodedLength(data: string): { ok: true; bytes: number; compact: string } | { ok: false; reason: string } {
  const stray = STRAY_CHARACTER.exec(data);
  if (stray) return { ok: false, reason: `Not valid base64: unexpected character at position ${stray.index}` };
  const compact = /\s/.test(data) ? data.replace(/\s+/g, "") : data;
  const unpadded = compact.replace(/={1,2}$/, "");
  if (!BASE64_BODY.test(unpadded)) return { ok: false, reason: "Not valid base64: '=' padding may only appear at the end" };
  if (unpadded.length % 4 === 1) return { ok: false, reason: "Not valid base64: truncated input" };
  if (compact.length !== unpadded.length && compact.length % 4 !== 0) return { ok: false, reason: "Not valid base64: wrong padding" };
  return { ok: true, bytes: Math.floor((unpadded.length * 3) / 4), compact: unpadded };
}

/** Decodes validated, unpadded base64 in slices so no full-size binary string is ever built. */
export function decodeBase64(compact: string, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  const SLICE = 64 * 1024; // a multiple of 4 characters, so every slice decodes on its own
  let offset = 0;
  for (let i = 0; i < compact.length; i += SLICE) {
    let part = compact.slice(i, i + SLICE);
    if (part.length % 4) part += "=".repeat(4 - (part.length % 4));
    const binary = atob(part);
    for (let j = 0; j < binary.length; j++) out[offset++] = binary.charCodeAt(j);
  }
  return out;
}

function startsWith(bytes: Uint8Array, signature: number[]): boolean {
  return signature.every((b, i) => bytes[i] === b);
}

/**
 * Checks that the bytes look like the declared type: PDFs carry `%PDF-` within their first
 * kilobyte, DOCX files are ZIP archives, and text is UTF-8 without NUL bytes (which would mean
 * UTF-16 or a binary file). This stops mislabelled uploads before ingestion, not a forged file.
 */
export function checkMagicBytes(bytes: Uint8Array, contentType: DocumentContentType): string | undefined {
  const label = DOCUMENT_TYPES[contentType].label;
  switch (contentType) {
    case "application/pdf": {
      const head = String.fromCharCode(...bytes.subarray(0, 1024));
      return head.includes("%PDF-") ? undefined : `Does not look like a ${label}: no %PDF- header`;
    }
    case "application/vnd.openxmlformats-officedocument.wordprocessingml.document":
      return startsWith(bytes, [0x50, 0x4b, 0x03, 0x04]) ? undefined : `Does not look like a ${label} file: not a ZIP archive`;
    case "text/plain":
    case "text/markdown": {
      if (bytes.includes(0)) return `Does not look like ${label}: contains NUL bytes (UTF-16 or binary data?)`;
      try {
        new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
        return undefined;
      } catch {
        return `Does not look like ${label}: not valid UTF-8`;
      }
    }
  }
}

export type DecodedDocument = { ok: true; bytes: Uint8Array } | { ok: false; tooLarge: boolean; problem: FieldProblem };

/**
 * Everything a document upload must pass, in the order that fails cheapest: name against type,
 * base64 syntax, size (before decoding), then the bytes themselves. Fields are named as in the
 * request body (`file.data`, `file.content_type`).
 */
export function decodeDocument(file: { filename: string; content_type: DocumentContentType; data: string }): DecodedDocument {
  const bad = (field: string, reason: string, tooLarge = false): DecodedDocument => ({ ok: false, tooLarge, problem: { field, reason } });
  const extensionProblem = checkExtension(file.filename, file.content_type);
  if (extensionProblem) return bad("file.content_type", extensionProblem);
  const length = base64DecodedLength(file.data);
  if (!length.ok) return bad("file.data", length.reason);
  if (length.bytes === 0) return bad("file.data", "The file is empty");
  if (length.bytes > MAX_DOCUMENT_BYTES) {
    return bad("file.data", `The file is ${length.bytes} bytes; the limit is ${MAX_DOCUMENT_BYTES} bytes (50 MB)`, true);
  }
  const bytes = decodeBase64(length.compact, length.bytes);
  const magicProblem = checkMagicBytes(bytes, file.content_type);
  if (magicProblem) return bad("file.data", magicProblem);
  return { ok: true, bytes };
}
