import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DncImportRows, writeDncImport } from "../../src/db/dnc";
import { openDatabase, TenantDb } from "../../src/db/tenant";
import { MAX_IMPORT_ROWS } from "../../src/domain/contacts";
import { createContact } from "../contacts/helpers";
import { newOrg, type ApiClient } from "../helpers/api";
import { addDnc, importDncCsv, listedNumbers } from "./helpers";

async function entries(org: ApiClient) {
  return Object.fromEntries(((await org.get("/dnc?limit=100")).body.data as any[]).map((e) => [e.phone_number, e]));
}

describe("do-not-call CSV import", () => {
  it("lists each good row with its reason, reporting bad rows by spreadsheet row number", async () => {
    const org = await newOrg();
    const csv = [
      "\uFEFFPhone Number,Reason,Notes",
      "+14155550101,Complaint,ignored",
      "415-555-0102,,",
      "not a number,spam,",
      "",
      "+1415,short,",
      '"(415) 555-0103","Said ""stop""",',
    ].join("\r\n");
    const res = await importDncCsv(org, csv, { default_country: "US" });
    expect(res.status).toBe(200);
    // Rows: header 1, 2, 3, bad 4, blank 5, bad 6, 7.
    expect(res.body.data).toEqual({
      imported: 3,
      skipped: 0,
      errors: 2,
      error_details: [
        { row: 4, phone: "not a number", reason: "Invalid phone number format" },
        { row: 6, phone: "+1415", reason: "Invalid phone number format" },
      ],
    });
    const listed = await entries(org);
    expect(listed["+14155550101"]).toMatchObject({ reason: "Complaint", source: "import" });
    expect(listed["+14155550102"]).toMatchObject({ reason: null, source: "import" });
    expect(listed["+14155550103"]).toMatchObject({ reason: 'Said "stop"', source: "import" });
  });

  it("needs default_country for national numbers", async () => {
    const org = await newOrg();
    const res = await importDncCsv(org, "phone\n4155550101\n");
    expect(res.body.data).toMatchObject({ imported: 0, errors: 1, error_details: [{ row: 2, phone: "4155550101", reason: expect.stringMatching(/default_country/) }] });
  });

  it("skips numbers repeated in the file or already listed, keeping the existing entry", async () => {
    const org = await newOrg();
    const existing = await addDnc(org, { phone_number: "+14155550101", reason: "kept" });
    const csv = "phone,reason\n+14155550101,replaced?\n+14155550102,first\n+1 415 555 0102,second\n+14155550103,\n";
    const res = await importDncCsv(org, csv);
    expect(res.body.data).toEqual({ imported: 2, skipped: 2, errors: 0, error_details: [] });
    const listed = await entries(org);
    expect(listed["+14155550101"]).toEqual(existing);
    expect(listed["+14155550102"].reason).toBe("first");

    const again = await importDncCsv(org, csv);
    expect(again.body.data).toEqual({ imported: 0, skipped: 4, errors: 0, error_details: [] });
  });

  it("marks the contacts of newly listed numbers opted_out, and only those", async () => {
    const org = await newOrg();
    const alreadyListed = await createContact(org, { phone_number: "+14155550101" });
    await addDnc(org, { phone_number: "+14155550101" });
    await org.patch(`/contacts/${alreadyListed.id}`, { opted_out: false });
    const fresh = await createContact(org, { phone_number: "+14155550102" });
    const untouched = await createContact(org, { phone_number: "+14155550103" });

    await importDncCsv(org, "phone\n+14155550101\n+14155550102\n");
    expect((await org.get(`/contacts/${fresh.id}`)).body.data).toMatchObject({ opted_out: true, opted_out_at: expect.any(String) });
    expect((await org.get(`/contacts/${alreadyListed.id}`)).body.data.opted_out).toBe(false);
    expect((await org.get(`/contacts/${untouched.id}`)).body.data.opted_out).toBe(false);
  });

  it("refuses files it cannot read with 422 naming file, and non-multipart bodies with 415", async () => {
    const org = await newOrg();
    for (const csv of ["", "name,email\nAda,ada@example.com\n"]) {
      const res = await importDncCsv(org, csv);
      expect(res.status).toBe(422);
      expect(res.body.error.details.field).toBe("file");
    }
    expect((await org.send("POST", "/dnc/import", { body: new FormData() })).body.error.details.field).toBe("file");
    const json = await org.post("/dnc/import", { file: "phone\n+14155550101\n" });
    expect(json.status).toBe(415);
    expect(await listedNumbers(org)).toEqual([]);
  });

  it("refuses a file over 20 MB or over the row cap with 413 before listing anything", async () => {
    const org = await newOrg();
    const big = `phone\n${"+14155550101\n".repeat(Math.ceil((20 * 1024 * 1024) / 13) + 10)}`;
    const res = await importDncCsv(org, big);
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe("payload_too_large");

    const tooManyRows = await importDncCsv(org, `phone\n${"+14155550101\n".repeat(MAX_IMPORT_ROWS + 1)}`);
    expect(tooManyRows.status).toBe(413);
    expect(tooManyRows.body.error.details).toEqual({ field: "file", max_rows: MAX_IMPORT_ROWS });
    expect(await listedNumbers(org)).toEqual([]);
  });

  it("is all or nothing: a failing statement late in the batch leaves no entry and no flag from the earlier ones", async () => {
    const org = await newOrg();
    const contact = await createContact(org, { phone_number: "+14155551000" });
    const tenant = new TenantDb(openDatabase(env.DB), org.orgId);
    // About two entries per statement, so the batch has many statements before the bad one.
    const rows = new DncImportRows(Date.now(), 100);
    for (let i = 0; i < 20; i++) rows.add({ phoneNumber: `+1415555${1000 + i}`, reason: null });
    // A null phone violates NOT NULL in the last insert only.
    rows.add({ phoneNumber: null as unknown as string, reason: null });
    const encoded = rows.done();
    expect(encoded.chunks.length).toBeGreaterThan(5);
    await expect(writeDncImport(tenant, encoded, Date.now())).rejects.toThrow(/NOT NULL/);
    expect(await listedNumbers(org)).toEqual([]);
    expect((await org.get(`/contacts/${contact.id}`)).body.data.opted_out).toBe(false);
  });
});
