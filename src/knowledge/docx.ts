import { decodeEntities } from "../domain/knowledge";
import { IngestError } from "./errors";

/**
 * DOCX text extraction with no library: a DOCX file is a ZIP archive whose main part is
 * `word/document.xml`. The archive's central directory (found through the end-of-central-directory
 * record at the end of the file) says where that entry's bytes are and how they are compressed;
 * deflated entries are inflated with the runtime's DecompressionStream("deflate-raw").
 */

/** word/document.xml of real documents is a few MB at most; more is a zip bomb or not a document. */
export const MAX_DOCUMENT_XML_BYTES = 64 * 1024 * 1024;

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;

interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
}

/** Lists the entries of a ZIP archive from its central directory. */
export function readZipDirectory(bytes: Uint8Array): ZipEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The EOCD record is 22 bytes plus a comment of at most 65,535 bytes, at the very end.
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65535); i--) {
    if (view.getUint32(i, true) === EOCD_SIGNATURE) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new IngestError("Not a valid DOCX file: the ZIP archive has no central directory (truncated or corrupt?)");
  const count = view.getUint16(eocd + 10, true);
  const size = view.getUint32(eocd + 12, true);
  const offset = view.getUint32(eocd + 16, true);
  if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
    throw new IngestError("Not a supported DOCX file: ZIP64 archives are not supported");
  }
  if (offset + size > eocd) throw new IngestError("Not a valid DOCX file: the ZIP central directory points outside the file");

  const entries: ZipEntry[] = [];
  let p = offset;
  const names = new TextDecoder();
  for (let n = 0; n < count; n++) {
    if (p + 46 > bytes.length || view.getUint32(p, true) !== CENTRAL_SIGNATURE) {
      throw new IngestError("Not a valid DOCX file: corrupt ZIP central directory");
    }
    const nameLength = view.getUint16(p + 28, true);
    const extraLength = view.getUint16(p + 30, true);
    const commentLength = view.getUint16(p + 32, true);
    entries.push({
      flags: view.getUint16(p + 8, true),
      method: view.getUint16(p + 10, true),
      compressedSize: view.getUint32(p + 20, true),
      uncompressedSize: view.getUint32(p + 24, true),
      localHeaderOffset: view.getUint32(p + 42, true),
      name: names.decode(bytes.subarray(p + 46, p + 46 + nameLength)),
    });
    p += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** The uncompressed bytes of one entry (stored or deflated), refusing more than `maxBytes`. */
export async function readZipEntry(bytes: Uint8Array, entry: ZipEntry, maxBytes: number): Promise<Uint8Array> {
  if (entry.flags & 1) throw new IngestError(`Not a supported DOCX file: ${entry.name} is encrypted (password-protected document)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const local = entry.localHeaderOffset;
  if (local + 30 > bytes.length || view.getUint32(local, true) !== LOCAL_SIGNATURE) {
    throw new IngestError(`Not a valid DOCX file: corrupt ZIP entry ${entry.name}`);
  }
  const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
  const end = start + entry.compressedSize;
  if (end > bytes.length) throw new IngestError(`Not a valid DOCX file: ZIP entry ${entry.name} is truncated`);
  const data = bytes.subarray(start, end);
  if (entry.method === 0) {
    if (data.length > maxBytes) throw new IngestError(`${entry.name} is larger than ${maxBytes} bytes`);
    return data;
  }
  if (entry.method !== 8) throw new IngestError(`Not a supported DOCX file: ${entry.name} uses ZIP compression method ${entry.method}`);

  const inflated = new Blob([data]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
  const reader = inflated.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel();
        throw new IngestError(`Not a supported DOCX file: ${entry.name} inflates to more than ${maxBytes} bytes`);
      }
      parts.push(value);
    }
  } catch (error) {
    if (error instanceof IngestError) throw error;
    throw new IngestError(`Not a valid DOCX file: ${entry.name} could not be decompressed (${(error as Error).message})`);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

/** Elements whose text is not part of the document as read: deleted revisions, field codes, fallbacks. */
const SKIPPED = new Set(["w:delText", "w:instrText", "mc:Fallback", "w:del"]);

/**
 * The visible text of a WordprocessingML body: the `w:t` runs of each paragraph, `w:tab` as a
 * tab, `w:br`/`w:cr` as a line break, one blank line after each paragraph (`w:p`) and a space
 * between table cells. Tracked deletions and field codes are left out.
 */
export function documentXmlText(xml: string): string {
  const out: string[] = [];
  let inText = false;
  let skipDepth = 0;
  const tokens = /<(\/?)([A-Za-z][\w:.-]*)([^>]*?)(\/?)>|([^<]+)/g;
  for (let m = tokens.exec(xml); m; m = tokens.exec(xml)) {
    const [, closing, name, , selfClosing, text] = m;
    if (text !== undefined) {
      if (inText && skipDepth === 0) out.push(decodeEntities(text));
      continue;
    }
    if (SKIPPED.has(name)) {
      if (!selfClosing) skipDepth += closing ? -1 : 1;
      continue;
    }
    if (skipDepth > 0) continue;
    if (name === "w:t") inText = !closing && !selfClosing;
    else if (name === "w:tab" && !closing) out.push("\t");
    else if ((name === "w:br" || name === "w:cr") && !closing) out.push("\n");
    else if (name === "w:p" && (closing || selfClosing)) out.push("\n\n");
    else if (name === "w:tc" && closing) out.push(" ");
  }
  return out.join("");
}

/** The text of a DOCX file. */
export async function extractDocx(bytes: Uint8Array): Promise<string> {
  const entries = readZipDirectory(bytes);
  const main = entries.find((e) => e.name === "word/document.xml");
  if (!main) throw new IngestError("Not a valid DOCX file: the archive has no word/document.xml");
  const xml = new TextDecoder().decode(await readZipEntry(bytes, main, MAX_DOCUMENT_XML_BYTES));
  return documentXmlText(xml);
}
