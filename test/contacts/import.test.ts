import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ImportRows, writeImportedContacts } from "../../src/db/contacts";
import { openDatabase, TenantDb } from "../../src/db/tenant";
import { MAX_IMPORT_ROWS, type ContactDraft } from "../../src/domain/contacts";
import { newOrg } from "../helpers/api";
import { createContact, createFolder, folderContacts, importCsv } from "./helpers";

const byPhone = (contacts: any[]) => Object.fromEntries(contacts.map((c) => [c.phone_number, c]));

describe("CSV import", () => {
  it("maps the standard columns and puts the rest into custom_fields", async () => {
    const org = await newOrg();
    const folderId = await createFolder(org);
    const csv = [
      "Phone,Name,E-mail,email,Company,Industry,Location,PIN Code,Keywords,Time Zone,timezone,CRM ID,Plan",
      "+14155550101,Ada King Lovelace,ignored,ada@example.com,Engines,Computing,London,EC1A,vip,x,Europe/London,A-1,gold",
      "+14155550102,Grace,,,,,,,,,,,",
    ].join("\n");
    const res = await importCsv(org, csv, { folder_id: folderId });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ imported: 2, updated: 0, skipped: 0, errors: 0, folder_id: folderId, error_details: [] });
    const contacts = byPhone(await folderContacts(org, folderId));
    expect(contacts["+14155550101"]).toMatchObject({
      first_name: "Ada King",
      last_name: "Lovelace",
      name: "Ada King Lovelace",
      email: "ada@example.com",
      company_name: "Engines",
      industry: "Computing",
      location: "London",
      pin_code: "EC1A",
      keywords: "vip",
      timezone: "Europe/London",
      custom_fields: { e_mail: "ignored", time_zone: "x", crm_id: "A-1", plan: "gold" },
      call_count: 0,
    });
    expect(contacts["+14155550102"]).toMatchObject({ first_name: "Grace", last_name: null, email: null, custom_fields: {} });
  });

  it("handles a BOM, CRLF line endings, quoted commas and quoted newlines, with spreadsheet row numbers", async () => {
    const org = await newOrg();
    const csv =
      "\uFEFFphone_number,first_name,last_name,notes\r\n" +
      '+14155550101,"Lovelace, Ada",,"first line\r\nsecond line"\r\n' +
      "+1 555,Bad,Number,x\r\n" +
      "\r\n" +
      '+14155550102,Grace,Hopper,"a, b, ""c"""\r\n' +
      "+14155550103,Eve,,ok,\r\n" +
      "+14155550104,Bad,Email,\"multi\nline\"\r\n" +
      "12,Also,Bad,z\r\n";
    const res = await importCsv(org, csv);
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ imported: 4, skipped: 0, errors: 2 });
    // Rows: header 1, Ada 2 (two lines), bad 3, blank 4, Grace 5, Eve 6, multi-line 7, "12" 8.
    expect(res.body.data.error_details).toEqual([
      { row: 3, phone: "+1 555", reason: "Invalid phone number format" },
      { row: 8, phone: "12", reason: expect.stringMatching(/E\.164/) },
    ]);
    const contacts = byPhone(await folderContacts(org, res.body.data.folder_id));
    expect(contacts["+14155550101"]).toMatchObject({ first_name: "Lovelace, Ada", custom_fields: { notes: "first line\r\nsecond line" } });
    expect(contacts["+14155550102"].custom_fields).toEqual({ notes: 'a, b, "c"' });
    expect(contacts["+14155550104"].custom_fields).toEqual({ notes: "multi\nline" });
  });

  it("reports bad rows and still imports every good one", async () => {
    const org = await newOrg();
    const rows = ["phone,email"];
    for (let i = 0; i < 30; i++) rows.push(i % 3 === 0 ? `+1415555${String(1000 + i)},not-an-email` : `+1415555${String(1000 + i)},p${i}@example.com`);
    const res = await importCsv(org, rows.join("\n"));
    expect(res.body.data).toMatchObject({ imported: 20, errors: 10, skipped: 0 });
    expect(res.body.data.error_details.map((e: any) => e.row)).toEqual([2, 5, 8, 11, 14, 17, 20, 23, 26, 29]);
    expect(res.body.data.error_details[0]).toEqual({ row: 2, phone: "+14155551000", reason: "Invalid email address" });
    expect((await org.get(`/contacts?folder_id=${res.body.data.folder_id}`)).body.pagination.total).toBe(20);
  });

  it("skips a phone repeated in the file and one already in the folder", async () => {
    const org = await newOrg();
    const folderId = await createFolder(org);
    const existing = await createContact(org, { phone_number: "+14155550101", folder_id: folderId, first_name: "Kept" });
    const res = await importCsv(org, "phone,first_name\n+14155550101,New\n+14155550102,First\n+1 (415) 555-0102,Second\n+14155550103,Third\n", {
      folder_id: folderId,
    });
    expect(res.body.data).toMatchObject({ imported: 2, updated: 0, skipped: 2, errors: 0, error_details: [] });
    const contacts = byPhone(await folderContacts(org, folderId));
    expect(Object.keys(contacts).sort()).toEqual(["+14155550101", "+14155550102", "+14155550103"]);
    expect(contacts["+14155550101"]).toMatchObject({ id: existing.id, first_name: "Kept" });
    expect(contacts["+14155550102"].first_name).toBe("First");

    const again = await importCsv(org, "phone,first_name\n+14155550101,New\n+14155550102,First\n", { folder_id: folderId });
    expect(again.body.data).toMatchObject({ imported: 0, skipped: 2 });
  });

  it("updates existing contacts with overwrite_existing, keeping their id and untouched fields", async () => {
    const org = await newOrg();
    const folderId = await createFolder(org);
    const existing = await createContact(org, {
      phone_number: "+14155550101",
      folder_id: folderId,
      first_name: "Old",
      email: "old@example.com",
      custom_fields: { a: "1", b: "2" },
    });
    const res = await importCsv(org, "phone,first_name,email,b,c\n+14155550101,New,,20,30\n+14155550102,Fresh,,,\n", {
      folder_id: folderId,
      overwrite_existing: "true",
    });
    expect(res.body.data).toMatchObject({ imported: 1, updated: 1, skipped: 0, errors: 0 });
    const updated = (await org.get(`/contacts/${existing.id}`)).body.data;
    expect(updated).toMatchObject({ first_name: "New", email: "old@example.com", custom_fields: { a: "1", b: "20", c: "30" } });
    expect(updated.created_at).toBe(existing.created_at);
  });

  it("imports into the lazily created default folder when folder_id is absent", async () => {
    const org = await newOrg();
    const res = await importCsv(org, "phone\n+14155550101\n");
    const folders = (await org.get("/contacts/folders")).body.data;
    expect(folders).toHaveLength(1);
    expect(folders[0]).toMatchObject({ id: res.body.data.folder_id, is_default: true, contact_count: 1 });
    const direct = await createContact(org, { phone_number: "+14155550102" });
    expect(direct.folder_id).toBe(res.body.data.folder_id);
  });

  it("reads national numbers with default_country and accepts the file as a plain form field", async () => {
    const org = await newOrg();
    const form = new FormData();
    form.append("file", "phone\n(415) 555-0101\n020 7946 0958\n");
    form.append("default_country", "US");
    const res = await org.send("POST", "/contacts/import", { body: form });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ imported: 1, errors: 1 });
    expect((await folderContacts(org, res.body.data.folder_id)).map((c) => c.phone_number)).toEqual(["+14155550101"]);
  });

  it("answers 422 naming the field for a missing file, a file without a phone column, and bad form fields", async () => {
    const org = await newOrg();
    const noFile = new FormData();
    noFile.append("folder_id", "x");
    const missing = await org.send("POST", "/contacts/import", { body: noFile });
    expect(missing.status).toBe(422);
    expect(missing.body.error.details.field).toBe("file");

    const noPhone = await importCsv(org, "name,email\nAda,ada@example.com\n");
    expect(noPhone.status).toBe(422);
    expect(noPhone.body.error.details.field).toBe("file");
    expect(noPhone.body.error.message).toMatch(/no phone column.*found: name, email/);

    const empty = await importCsv(org, "");
    expect(empty.status).toBe(422);
    expect(empty.body.error.details.field).toBe("file");

    for (const [fields, field] of [
      [{ overwrite_existing: "yes" }, "overwrite_existing"],
      [{ default_country: "Narnia" }, "default_country"],
    ] as const) {
      const res = await importCsv(org, "phone\n+14155550101\n", fields);
      expect(res.status).toBe(422);
      expect(res.body.error.details.field).toBe(field);
    }
    expect((await org.get("/contacts/folders")).body.data).toEqual([]);
  });

  it("answers 415 for a body that is not multipart", async () => {
    const org = await newOrg();
    for (const [contentType, body] of [
      ["text/csv", "phone\n+14155550101\n"],
      ["application/json", JSON.stringify({ file: "phone\n+14155550101\n" })],
    ]) {
      const res = await org.send("POST", "/contacts/import", { body, headers: { "content-type": contentType } });
      expect(res.status).toBe(415);
      expect(res.body.error.code).toBe("unsupported_media_type");
      expect(res.body.error.message).toMatch(/multipart\/form-data/);
    }
  });

  it("answers 404 for a folder_id that does not exist", async () => {
    const org = await newOrg();
    const res = await importCsv(org, "phone\n+14155550101\n", { folder_id: "00000000-0000-7000-8000-000000000000" });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("not_found");
  });

  it(`answers 413 for more than ${MAX_IMPORT_ROWS} rows, before importing any`, async () => {
    const org = await newOrg();
    const csv = `phone\n${"+14155550101\n".repeat(MAX_IMPORT_ROWS + 1)}`;
    const res = await importCsv(org, csv);
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe("payload_too_large");
    expect(res.body.error.message).toMatch(new RegExp(`more than ${MAX_IMPORT_ROWS} rows`));
    expect(res.body.error.details.max_rows).toBe(MAX_IMPORT_ROWS);
    expect((await org.get("/contacts")).body.pagination.total).toBe(0);
  });
});

describe("import writes", () => {
  const draft = (phoneNumber: string, extra: Partial<ContactDraft> = {}): ContactDraft => ({
    phoneNumber,
    firstName: null,
    lastName: null,
    email: null,
    companyName: null,
    industry: null,
    location: null,
    pinCode: null,
    keywords: null,
    timezone: null,
    customFields: {},
    ...extra,
  });

  /** Two rows of about 120 bytes per 300-byte statement: a 40-row import is a batch of 20 statements. */
  function encode(drafts: ContactDraft[]) {
    const rows = new ImportRows(Date.now(), 300);
    for (const d of drafts) rows.add(d);
    return rows.done();
  }

  it("spreads rows over several statements of one batch and counts them", async () => {
    const org = await newOrg();
    const folderId = await createFolder(org);
    const tenant = new TenantDb(openDatabase(env.DB), org.orgId);
    await createContact(org, { phone_number: "+14155551003", folder_id: folderId });
    const drafts = Array.from({ length: 40 }, (_, i) => draft(`+1415555${1000 + i}`, { firstName: `P${i}`, customFields: { n: String(i) } }));
    const rows = encode(drafts);
    expect(rows.chunks.length).toBe(20);
    const written = await writeImportedContacts(tenant, { folderId, rows, overwrite: false, nowMs: Date.now() });
    expect(written).toEqual({ imported: 39, updated: 0, skipped: 1 });
    const res = await org.get(`/contacts?folder_id=${folderId}&search=P17`);
    expect(res.body.data[0]).toMatchObject({ phone_number: "+14155551017", first_name: "P17", custom_fields: { n: "17" } });

    const again = await writeImportedContacts(tenant, { folderId, rows: encode(drafts.slice(0, 10)), overwrite: true, nowMs: Date.now() });
    expect(again).toEqual({ imported: 0, updated: 10, skipped: 0 });
  });

  it("is all or nothing: a failing statement late in the batch leaves no row from the earlier ones", async () => {
    const org = await newOrg();
    const folderId = await createFolder(org);
    const tenant = new TenantDb(openDatabase(env.DB), org.orgId);
    const drafts = Array.from({ length: 20 }, (_, i) => draft(`+1415555${1000 + i}`));
    // A null phone violates NOT NULL in the last statement only.
    drafts.push(draft(null as unknown as string));
    const rows = encode(drafts);
    expect(rows.chunks.length).toBeGreaterThan(5);
    await expect(writeImportedContacts(tenant, { folderId, rows, overwrite: false, nowMs: Date.now() })).rejects.toThrow(/NOT NULL/);
    expect((await org.get(`/contacts?folder_id=${folderId}`)).body.pagination.total).toBe(0);
  });
});
