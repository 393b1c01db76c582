import { describe, expect, it } from "vitest";
import {
  base64DecodedLength,
  checkExtension,
  checkMagicBytes,
  decodeBase64,
  decodeDocument,
  fileExtension,
  MAX_DOCUMENT_BYTES,
} from "../../src/domain/documents";
import { toBase64 } from "../../src/lib/crypto";

const DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

/** Byte arrays compared as one string: vitest's element-wise diff is slow on large arrays. */
const same = (a: Uint8Array, b: Uint8Array) => expect(toBase64(a)).toBe(toBase64(b));

function decode(text: string): Uint8Array {
  const length = base64DecodedLength(text);
  if (!length.ok) throw new Error(length.reason);
  return decodeBase64(length.compact, length.bytes);
}

describe("base64", () => {
  it("decodes padded, unpadded and line-wrapped input exactly", () => {
    const bytes = new Uint8Array(200_001).map((_, i) => (i * 7919) % 256);
    const encoded = toBase64(bytes);
    same(decode(encoded), bytes);
    same(decode(encoded.replace(/=+$/, "")), bytes);
    same(decode(encoded.replace(/(.{76})/g, "$1\r\n")), bytes);
    expect(decode("")).toEqual(new Uint8Array());
    expect(new TextDecoder().decode(decode("aGk="))).toBe("hi");
  });

  it("decodes across slice boundaries", () => {
    const bytes = new Uint8Array(64 * 1024 * 3 + 5).map((_, i) => i % 251);
    same(decode(toBase64(bytes)), bytes);
  });

  it("rejects what is not base64, saying where", () => {
    expect(base64DecodedLength("aGVs*bG8=")).toEqual({ ok: false, reason: "Not valid base64: unexpected character at position 4" });
    expect(base64DecodedLength("aGVsbG8-")).toMatchObject({ ok: false });
    expect(base64DecodedLength("aG=Vs")).toMatchObject({ ok: false, reason: expect.stringContaining("padding") });
    expect(base64DecodedLength("aGVsb")).toMatchObject({ ok: false, reason: expect.stringContaining("truncated") });
    expect(base64DecodedLength("aGk")).toMatchObject({ ok: true, bytes: 2 });
    expect(base64DecodedLength("aGk==")).toMatchObject({ ok: false });
  });

  it("computes the decoded size without decoding", () => {
    expect(base64DecodedLength("A".repeat(4 * 1000))).toMatchObject({ ok: true, bytes: 3000 });
    expect(base64DecodedLength("AAAAAA==")).toMatchObject({ ok: true, bytes: 4 });
  });
});

describe("file names and types", () => {
  it("finds the extension", () => {
    expect(fileExtension("Report.Final.PDF")).toBe(".pdf");
    expect(fileExtension("README")).toBeUndefined();
    expect(fileExtension(".env")).toBeUndefined();
  });

  it("matches extensions to content types", () => {
    expect(checkExtension("a.pdf", "application/pdf")).toBeUndefined();
    expect(checkExtension("a.markdown", "text/markdown")).toBeUndefined();
    expect(checkExtension("a.txt", "text/plain")).toBeUndefined();
    expect(checkExtension("a.docx", DOCX)).toBeUndefined();
    expect(checkExtension("a.doc", DOCX)).toContain("*.docx");
    expect(checkExtension("a.md", "text/plain")).toContain("*.txt");
  });

  it("checks the leading bytes against the type", () => {
    const ascii = (text: string) => new TextEncoder().encode(text);
    expect(checkMagicBytes(ascii("%PDF-1.4\n"), "application/pdf")).toBeUndefined();
    expect(checkMagicBytes(ascii("\n\n%PDF-1.4\n"), "application/pdf")).toBeUndefined();
    expect(checkMagicBytes(ascii("<html>"), "application/pdf")).toContain("%PDF-");
    expect(checkMagicBytes(new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0]), DOCX)).toBeUndefined();
    expect(checkMagicBytes(ascii("PK"), DOCX)).toContain("ZIP");
    expect(checkMagicBytes(ascii("héllo"), "text/plain")).toBeUndefined();
    expect(checkMagicBytes(new Uint8Array([0xc3, 0x28]), "text/markdown")).toContain("UTF-8");
    expect(checkMagicBytes(new Uint8Array([0x68, 0, 0x69, 0]), "text/plain")).toContain("NUL");
  });
});

describe("decodeDocument", () => {
  const text = (data: string) => ({ filename: "notes.txt", content_type: "text/plain" as const, data });

  it("returns the bytes of a valid document", () => {
    const result = decodeDocument(text(toBase64(new TextEncoder().encode("hello"))));
    expect(result.ok && new TextDecoder().decode(result.bytes)).toBe("hello");
  });

  it("names the field at fault, cheapest check first", () => {
    expect(decodeDocument({ ...text("***"), filename: "notes.pdf" })).toMatchObject({ ok: false, problem: { field: "file.content_type" } });
    expect(decodeDocument(text("***"))).toMatchObject({ ok: false, tooLarge: false, problem: { field: "file.data" } });
    expect(decodeDocument(text(""))).toMatchObject({ ok: false, problem: { field: "file.data", reason: "The file is empty" } });
  });

  it("refuses a document over the limit before decoding it", () => {
    const data = "A".repeat(Math.ceil(((MAX_DOCUMENT_BYTES + 1) * 4) / 3) + 4);
    expect(decodeDocument(text(data))).toMatchObject({ ok: false, tooLarge: true, problem: { field: "file.data" } });
  });
});
