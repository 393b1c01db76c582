import { describe, expect, it } from "vitest";
import { JsonArrayChunks } from "../../src/db/contacts";
import {
  canonicalTimeZone,
  contactName,
  mapColumns,
  MAX_ERROR_DETAILS,
  planContactImport,
  splitName,
  type ContactDraft,
  type ImportPlan,
} from "../../src/domain/contacts";
import { hasMoreRecordsThan, normalizeHeader } from "../../src/domain/csv";
import { isPhoneCountry, normalizePhone, phoneSearchDigits } from "../../src/domain/phone";

type PlanOptions = { defaultCountry?: string; maxRows?: number };

/** The plan plus the contacts it handed out. */
function plan(csv: string, options: PlanOptions = {}): ImportPlan & { contacts: ContactDraft[] } {
  const contacts: ContactDraft[] = [];
  const result = planContactImport(csv, { ...options, onContact: (contact) => contacts.push(contact) });
  if (!result.ok) throw new Error(`unexpected ${result.problem}: ${result.reason}`);
  return { ...result.plan, contacts };
}

const attempt = (csv: string, options: PlanOptions = {}) => planContactImport(csv, { ...options, onContact: () => {} });

describe("phone normalisation", () => {
  it("accepts E.164 and formatted international numbers", () => {
    expect(normalizePhone("+14155552671")).toEqual({ ok: true, e164: "+14155552671" });
    expect(normalizePhone(" +1 (415) 555-2671 ")).toEqual({ ok: true, e164: "+14155552671" });
    expect(normalizePhone("+44 20 7946 0958", "US")).toEqual({ ok: true, e164: "+442079460958" });
  });

  it("reads national numbers in the default country only", () => {
    expect(normalizePhone("(415) 555-2671", "US")).toEqual({ ok: true, e164: "+14155552671" });
    expect(normalizePhone("020 7946 0958", "gb")).toEqual({ ok: true, e164: "+442079460958" });
    const national = normalizePhone("4155552671");
    expect(national.ok).toBe(false);
    expect(!national.ok && national.reason).toMatch(/default_country/);
  });

  it("rejects numbers outside the numbering plan, and empty ones", () => {
    expect(normalizePhone("+1415555")).toEqual({ ok: false, reason: "Invalid phone number format" });
    expect(normalizePhone("+10005550123")).toEqual({ ok: false, reason: "Invalid phone number format" });
    expect(normalizePhone("not a phone", "US")).toEqual({ ok: false, reason: "Invalid phone number format" });
    expect(normalizePhone("  ")).toEqual({ ok: false, reason: "Phone number is missing" });
  });

  it("knows ISO country codes and phone-like search terms", () => {
    expect(isPhoneCountry("US")).toBe(true);
    expect(isPhoneCountry("gb")).toBe(true);
    expect(isPhoneCountry("XX")).toBe(false);
    expect(isPhoneCountry("USA")).toBe(false);
    expect(phoneSearchDigits("(415) 555-01")).toBe("41555501");
    expect(phoneSearchDigits("+44")).toBe("44");
    expect(phoneSearchDigits("ada")).toBeUndefined();
    expect(phoneSearchDigits("+-")).toBeUndefined();
  });
});

describe("contact fields", () => {
  it("derives and splits names", () => {
    expect(contactName("Ada", "Lovelace")).toBe("Ada Lovelace");
    expect(contactName("Ada", null)).toBe("Ada");
    expect(contactName(null, null)).toBeNull();
    expect(splitName("  Mary Ann   Smith ")).toEqual({ firstName: "Mary Ann", lastName: "Smith" });
    expect(splitName("Cher")).toEqual({ firstName: "Cher", lastName: null });
    expect(splitName("   ")).toEqual({ firstName: null, lastName: null });
  });

  it("canonicalises IANA time zones through Intl", () => {
    expect(canonicalTimeZone("Europe/London")).toBe("Europe/London");
    expect(canonicalTimeZone("america/new_york")).toBe("America/New_York");
    expect(canonicalTimeZone("Asia/Kolkata")).toBe("Asia/Kolkata");
    expect(canonicalTimeZone(" UTC ")).toBe("UTC");
    expect(canonicalTimeZone("Mars/Olympus_Mons")).toBeUndefined();
    expect(canonicalTimeZone("")).toBeUndefined();
  });
});

describe("CSV headers and columns", () => {
  it("normalises case, spaces, dashes and the BOM", () => {
    expect(normalizeHeader("\uFEFF Phone Number ")).toBe("phone_number");
    expect(normalizeHeader("First-Name")).toBe("first_name");
    expect(normalizeHeader("CRM  ID")).toBe("crm_id");
  });

  it("maps known columns and sends the rest to custom fields", () => {
    const mapping = mapColumns(["phone_number", "name", "email", "company", "plan", "crm_id"]);
    expect(mapping).toEqual({
      ok: true,
      columns: { phone: "phone_number", name: "name", fields: { email: "email", company_name: "company" }, custom: ["plan", "crm_id"] },
    });
  });

  it("prefers the canonical spelling when a file has both", () => {
    const mapping = mapColumns(["company", "company_name", "phone", "phone_number"]);
    expect(mapping.ok && mapping.columns).toMatchObject({ phone: "phone", fields: { company_name: "company_name" }, custom: ["company", "phone_number"] });
  });

  it("requires a phone column and names what it found", () => {
    const mapping = mapColumns(["name", "email"]);
    expect(mapping.ok).toBe(false);
    expect(!mapping.ok && mapping.reason).toMatch(/no phone column.*found: name, email/);
  });
});

describe("planContactImport", () => {
  it("maps a row, splitting `name` when first and last names are absent", () => {
    const { contacts, errors } = plan("phone,name,email,company,CRM ID\n+14155552671,Ada King Lovelace,ada@example.com,Engines,A-1\n");
    expect(errors).toBe(0);
    expect(contacts).toEqual([
      {
        phoneNumber: "+14155552671",
        firstName: "Ada King",
        lastName: "Lovelace",
        email: "ada@example.com",
        companyName: "Engines",
        industry: null,
        location: null,
        pinCode: null,
        keywords: null,
        timezone: null,
        customFields: { crm_id: "A-1" },
      },
    ]);
  });

  it("keeps explicit first and last names over `name`, and drops empty custom cells", () => {
    const { contacts } = plan("phone,first_name,last_name,name,notes\n+14155552671,Ada,,Someone Else,\n");
    expect(contacts[0]).toMatchObject({ firstName: "Ada", lastName: null, customFields: {} });
  });

  it("strips a BOM and reads CRLF line endings", () => {
    const { contacts } = plan("\uFEFFPhone,First Name\r\n+14155552671,Ada\r\n+14155552672,Bob\r\n");
    expect(contacts.map((c) => [c.phoneNumber, c.firstName])).toEqual([
      ["+14155552671", "Ada"],
      ["+14155552672", "Bob"],
    ]);
  });

  it("numbers rows as a spreadsheet does: quoted newlines stay in their cell, blank lines count", () => {
    const csv = [
      "phone,name,notes",
      '+14155552671,"Lovelace, Ada","line one',
      'line two, with a comma"',
      "bad-phone,Bob,x",
      "",
      '+14155552672,"Carol ""CJ"" Jones","multi',
      "",
      'line"',
      "+1415,Dan,y",
    ].join("\r\n");
    const result = plan(csv);
    expect(result.contacts.map((c) => [c.firstName, c.lastName, c.customFields.notes])).toEqual([
      ["Lovelace,", "Ada", "line one\r\nline two, with a comma"],
      ['Carol "CJ"', "Jones", "multi\r\n\r\nline"],
    ]);
    // Records: header (1), Ada (2), bad-phone (3), blank (4), Carol (5), Dan (6).
    expect(result.errorDetails).toEqual([
      { row: 3, phone: "bad-phone", reason: expect.stringMatching(/E\.164/) },
      { row: 6, phone: "+1415", reason: "Invalid phone number format" },
    ]);
  });

  it("skips a phone repeated in the file, keeping its first row, and counts errors per row", () => {
    const result = plan(
      "phone,email,timezone\n+14155552671,a@example.com,\n+1 415 555 2671,b@example.com,\n+14155552672,not-an-email,\n+14155552673,,Mars/Base\n,,\n",
    );
    expect(result.contacts.map((c) => c.email)).toEqual(["a@example.com"]);
    expect(result.duplicates).toBe(1);
    expect(result.errors).toBe(2);
    expect(result.errorDetails.map((e) => [e.row, e.reason])).toEqual([
      [4, "Invalid email address"],
      [5, expect.stringMatching(/Unknown time zone "Mars\/Base"/)],
    ]);
  });

  it("reports a row with no phone, and rejects over-long fields", () => {
    const result = plan(`phone,first_name,notes\n,Ada,x\n+14155552671,${"a".repeat(101)},x\n+14155552672,Bob,${"n".repeat(2001)}\n`);
    expect(result.contacts).toEqual([]);
    expect(result.errorDetails.map((e) => [e.row, e.phone, e.reason])).toEqual([
      [2, null, "Phone number is missing"],
      [3, "+14155552671", "first_name is longer than 100 characters"],
      [4, "+14155552672", "notes is longer than 2000 characters"],
    ]);
  });

  it("reads national numbers in the default country", () => {
    const { contacts, errors } = plan("phone\n(415) 555-2671\n020 7946 0958\n", { defaultCountry: "US" });
    expect(contacts.map((c) => c.phoneNumber)).toEqual(["+14155552671"]);
    expect(errors).toBe(1);
    expect(plan("phone\n020 7946 0958\n", { defaultCountry: "GB" }).contacts[0].phoneNumber).toBe("+442079460958");
  });

  it("lists at most MAX_ERROR_DETAILS rows but counts every error", () => {
    const csv = `phone\n${"x\n".repeat(MAX_ERROR_DETAILS + 5)}`;
    const result = plan(csv);
    expect(result.errors).toBe(MAX_ERROR_DETAILS + 5);
    expect(result.errorDetails).toHaveLength(MAX_ERROR_DETAILS);
  });

  it("refuses a file without a header, without a phone column, or over the row cap", () => {
    expect(attempt("")).toMatchObject({ ok: false, problem: "empty" });
    expect(attempt("\uFEFF\r\n")).toMatchObject({ ok: false, problem: "empty" });
    expect(attempt("name,email\nAda,a@b.co\n")).toMatchObject({ ok: false, problem: "columns" });
    expect(attempt("phone\n+14155552671\n+14155552672\n+14155552673\n", { maxRows: 2 })).toMatchObject({
      ok: false,
      problem: "too_many_rows",
      maxRows: 2,
    });
  });

  it("accepts a header-only file as an empty import", () => {
    expect(plan("phone,name\r\n")).toEqual({ accepted: 0, contacts: [], duplicates: 0, errors: 0, errorDetails: [] });
  });
});

describe("row cap", () => {
  it("counts records, not lines: quoted newlines and blank lines do not count", () => {
    const twoRecords = 'phone,notes\n+14155552671,"a\nb\nc"\n\n\n+14155552672,"d\ne"\n';
    expect(hasMoreRecordsThan(twoRecords, 2)).toBe(false);
    expect(hasMoreRecordsThan(twoRecords, 1)).toBe(true);
    expect(attempt(twoRecords, { maxRows: 2 }).ok).toBe(true);
  });

  it("sees lone-CR line endings", () => {
    expect(hasMoreRecordsThan("phone\r1\r2\r3", 2)).toBe(true);
    expect(hasMoreRecordsThan("phone\r1\r2", 2)).toBe(false);
  });
});

describe("JsonArrayChunks", () => {
  it("splits into JSON arrays under the byte budget, counting UTF-8 bytes", () => {
    const items = Array.from({ length: 10 }, (_, i) => ["é".repeat(10), i]);
    const builder = new JsonArrayChunks(60);
    for (const item of items) builder.push(item);
    const chunks = builder.done();
    for (const chunk of chunks) expect(new TextEncoder().encode(chunk).length).toBeLessThanOrEqual(60);
    expect(chunks.flatMap((c) => JSON.parse(c))).toEqual(items);
    // Each item is 26 bytes of JSON but only 16 characters: counting characters would fit three.
    expect(chunks.length).toBe(5);
    expect(builder.count).toBe(10);
  });

  it("keeps small items together and gives an oversized one its own array", () => {
    const builder = new JsonArrayChunks(12);
    for (const item of [1, 2, "a long string", 3]) builder.push(item);
    expect(builder.done()).toEqual(["[1,2]", '["a long string"]', "[3]"]);
    expect(new JsonArrayChunks(100).done()).toEqual([]);
  });
});
