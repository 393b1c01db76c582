import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { newOrg, rawFetch, BASE } from "../helpers/api";
import { createContact, createFolder } from "./helpers";

describe("contacts: create and read", () => {
  it("creates a contact with every field and reads it back", async () => {
    const org = await newOrg();
    const folderId = await createFolder(org);
    const res = await org.post("/contacts", {
      phone_number: "+1 (415) 555-2671",
      folder_id: folderId,
      first_name: " Ada ",
      last_name: "Lovelace",
      email: "ada@example.com",
      company_name: "Analytical Engines",
      industry: "Computing",
      location: "London",
      pin_code: "EC1A 1BB",
      keywords: "vip,math",
      timezone: "europe/london",
      custom_fields: { crm_id: "A-1", score: 7, vip: true },
    });
    expect(res.status).toBe(201);
    const contact = res.body.data;
    expect(contact).toMatchObject({
      folder_id: folderId,
      phone_number: "+14155552671",
      first_name: "Ada",
      last_name: "Lovelace",
      name: "Ada Lovelace",
      email: "ada@example.com",
      company_name: "Analytical Engines",
      industry: "Computing",
      location: "London",
      pin_code: "EC1A 1BB",
      keywords: "vip,math",
      timezone: "Europe/London",
      custom_fields: { crm_id: "A-1", score: "7", vip: "true" },
      call_count: 0,
      last_called_at: null,
      last_call_outcome: null,
    });
    expect((await org.get(`/contacts/${contact.id}`)).body.data).toEqual(contact);
  });

  it("normalises a national number with default_country and accepts metadata as custom_fields", async () => {
    const org = await newOrg();
    const contact = await createContact(org, { phone_number: "020 7946 0958", default_country: "GB", metadata: { crm_id: "7" } });
    expect(contact).toMatchObject({ phone_number: "+442079460958", custom_fields: { crm_id: "7" }, name: null });
  });

  it("answers 422 naming the field at fault", async () => {
    const org = await newOrg();
    const cases: [Record<string, unknown>, string, RegExp?][] = [
      [{}, "phone_number"],
      [{ phone_number: "4155552671" }, "phone_number", /default_country/],
      [{ phone_number: "+1415" }, "phone_number", /Invalid phone number format/],
      [{ phone_number: "(415) 555-2671", default_country: "ZZ" }, "default_country"],
      [{ phone_number: "+14155552671", email: "nope" }, "email"],
      [{ phone_number: "+14155552671", first_name: "x".repeat(101) }, "first_name"],
      [{ phone_number: "+14155552671", last_name: "x".repeat(101) }, "last_name"],
      [{ phone_number: "+14155552671", timezone: "Mars/Base" }, "timezone"],
      [{ phone_number: "+14155552671", custom_fields: { a: { nested: true } } }, "custom_fields.a"],
      [{ phone_number: "+14155552671", custom_fields: ["x"] }, "custom_fields"],
      [{ phone_number: "+14155552671", overwrite_existing: "yes" }, "overwrite_existing"],
    ];
    for (const [body, field, message] of cases) {
      const res = await org.post("/contacts", body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.error.code).toBe("validation_error");
      expect(res.body.error.details.field, JSON.stringify(body)).toBe(field);
      if (message) expect(res.body.error.message).toMatch(message);
    }
    expect((await org.get("/contacts")).body.pagination.total).toBe(0);
  });

  it("answers 400 for malformed JSON and 404 for an unknown contact", async () => {
    const org = await newOrg();
    expect((await org.post("/contacts", "{nope")).status).toBe(400);
    const missing = await org.get("/contacts/00000000-0000-7000-8000-000000000000");
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("not_found");
  });

  it("puts contacts without folder_id into one lazily created default folder", async () => {
    const org = await newOrg();
    expect((await org.get("/contacts/folders")).body.data).toEqual([]);
    const [a, b] = await Promise.all([
      createContact(org, { phone_number: "+14155550101" }),
      createContact(org, { phone_number: "+14155550102" }),
    ]);
    expect(a.folder_id).toBe(b.folder_id);
    const folders = (await org.get("/contacts/folders")).body.data;
    expect(folders).toHaveLength(1);
    expect(folders[0]).toMatchObject({ id: a.folder_id, is_default: true, contact_count: 2 });
  });

  it("answers 404 for a folder_id that does not exist", async () => {
    const org = await newOrg();
    const res = await org.post("/contacts", { phone_number: "+14155550101", folder_id: "00000000-0000-7000-8000-000000000000" });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("not_found");
  });
});

describe("contacts: duplicates by phone within a folder", () => {
  it("answers 409 for a phone already in the folder, naming the existing contact", async () => {
    const org = await newOrg();
    const folderId = await createFolder(org);
    const first = await createContact(org, { phone_number: "+14155550101", folder_id: folderId, first_name: "Ada" });
    const dup = await org.post("/contacts", { phone_number: "+1 415-555-0101", folder_id: folderId, first_name: "Eve" });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe("conflict");
    expect(dup.body.error.details).toMatchObject({ field: "phone_number", contact_id: first.id, folder_id: folderId });
    expect((await org.get(`/contacts/${first.id}`)).body.data.first_name).toBe("Ada");

    const otherFolder = await createFolder(org, "Other");
    expect((await org.post("/contacts", { phone_number: "+14155550101", folder_id: otherFolder })).status).toBe(201);
  });

  it("updates the existing contact with overwrite_existing and answers 200", async () => {
    const org = await newOrg();
    const folderId = await createFolder(org);
    const first = await createContact(org, { phone_number: "+14155550101", folder_id: folderId, first_name: "Ada", email: "a@example.com" });
    const res = await org.post("/contacts", {
      phone_number: "+14155550101",
      folder_id: folderId,
      first_name: "Augusta",
      custom_fields: { crm_id: "9" },
      overwrite_existing: true,
    });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ id: first.id, first_name: "Augusta", email: "a@example.com", custom_fields: { crm_id: "9" } });
    expect((await org.get(`/contacts?folder_id=${folderId}`)).body.pagination.total).toBe(1);
  });

  it("keeps the duplicate rule when a PATCH moves a contact or changes its phone", async () => {
    const org = await newOrg();
    const a = await createFolder(org, "A");
    const b = await createFolder(org, "B");
    const inA = await createContact(org, { phone_number: "+14155550101", folder_id: a });
    await createContact(org, { phone_number: "+14155550101", folder_id: b });
    const other = await createContact(org, { phone_number: "+14155550102", folder_id: a });

    const move = await org.patch(`/contacts/${inA.id}`, { folder_id: b });
    expect(move.status).toBe(409);
    expect(move.body.error.code).toBe("conflict");
    const renumber = await org.patch(`/contacts/${other.id}`, { phone_number: "+14155550101" });
    expect(renumber.status).toBe(409);
    expect((await org.get(`/contacts/${inA.id}`)).body.data.folder_id).toBe(a);

    const c = await createFolder(org, "C");
    const moved = await org.patch(`/contacts/${inA.id}`, { folder_id: c });
    expect(moved.status).toBe(200);
    expect(moved.body.data.folder_id).toBe(c);
  });
});

describe("contacts: update and delete", () => {
  it("changes only the fields sent; null clears, custom_fields replaces", async () => {
    const org = await newOrg();
    const contact = await createContact(org, {
      phone_number: "+14155550101",
      first_name: "Ada",
      last_name: "Lovelace",
      email: "a@example.com",
      custom_fields: { a: "1", b: "2" },
    });
    const res = await org.patch(`/contacts/${contact.id}`, { last_name: null, email: "", custom_fields: { c: "3" }, timezone: "Asia/Kolkata" });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({
      first_name: "Ada",
      last_name: null,
      name: "Ada",
      email: null,
      custom_fields: { c: "3" },
      timezone: "Asia/Kolkata",
      phone_number: "+14155550101",
    });
    const renumbered = await org.patch(`/contacts/${contact.id}`, { phone_number: "(415) 555-0199", default_country: "US" });
    expect(renumbered.body.data.phone_number).toBe("+14155550199");

    const bad = await org.patch(`/contacts/${contact.id}`, { phone_number: "0199" });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.field).toBe("phone_number");
    const badFolder = await org.patch(`/contacts/${contact.id}`, { folder_id: "00000000-0000-7000-8000-000000000000" });
    expect(badFolder.status).toBe(404);
  });

  it("deletes a contact", async () => {
    const org = await newOrg();
    const contact = await createContact(org, { phone_number: "+14155550101" });
    const res = await org.delete(`/contacts/${contact.id}`);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ id: contact.id, deleted: true });
    expect((await org.get(`/contacts/${contact.id}`)).status).toBe(404);
    expect((await org.delete(`/contacts/${contact.id}`)).status).toBe(404);
  });

  it("replays a create with the same idempotency key and refuses the key for another body", async () => {
    const org = await newOrg();
    const headers = { "Idempotency-Key": "contact-1" };
    const first = await org.post("/contacts", { phone_number: "+14155550101" }, headers);
    const again = await org.post("/contacts", { phone_number: "+14155550101" }, headers);
    expect(again.status).toBe(201);
    expect(again.body.data.id).toBe(first.body.data.id);
    const reused = await org.post("/contacts", { phone_number: "+14155550102" }, headers);
    expect(reused.status).toBe(422);
    expect(reused.body.error.code).toBe("idempotency_key_reused");
  });
});

describe("contacts: listing", () => {
  async function seed() {
    const org = await newOrg();
    const folderId = await createFolder(org);
    const people = [
      ["+14155550101", "Ada", "Lovelace", "ada@analytical.example"],
      ["+14155550102", "Grace", "Hopper", "grace@navy.example"],
      ["+442079460958", "Alan", "Turing", "alan@bletchley.example"],
      ["+14155550104", "Katherine", "Johnson", "kj@nasa.example"],
      ["+14155550105", "Edsger", "Dijkstra", "ewd@tue.example"],
    ];
    const ids: string[] = [];
    for (const [phone_number, first_name, last_name, email] of people) {
      ids.push((await createContact(org, { phone_number, first_name, last_name, email, folder_id: folderId })).id);
    }
    return { org, folderId, ids };
  }

  it("pages with offset or with a 1-based page, newest first", async () => {
    const { org, ids } = await seed();
    const newestFirst = [...ids].reverse();
    const first = await org.get("/contacts?limit=2");
    expect(first.body.data.map((c: any) => c.id)).toEqual(newestFirst.slice(0, 2));
    expect(first.body.pagination).toEqual({ total: 5, limit: 2, offset: 0, has_more: true, page: 1, pages: 3 });

    const page2 = await org.get("/contacts?limit=2&page=2");
    expect(page2.body.data.map((c: any) => c.id)).toEqual(newestFirst.slice(2, 4));
    expect(page2.body.pagination).toEqual({ total: 5, limit: 2, offset: 2, has_more: true, page: 2, pages: 3 });

    const byOffset = await org.get("/contacts?limit=2&offset=4");
    expect(byOffset.body.data.map((c: any) => c.id)).toEqual(newestFirst.slice(4));
    expect(byOffset.body.pagination).toEqual({ total: 5, limit: 2, offset: 4, has_more: false, page: 3, pages: 3 });

    expect((await org.get("/contacts?limit=2&page=3&offset=4")).status).toBe(200);
    const both = await org.get("/contacts?limit=2&page=2&offset=0");
    expect(both.status).toBe(422);
    expect(both.body.error.details.field).toBe("page");
    for (const query of ["limit=0", "limit=101", "page=0", "offset=-1", "last_call_outcome=happy"]) {
      const res = await org.get(`/contacts?${query}`);
      expect(res.status, query).toBe(422);
      expect(res.body.error.details.field).toBe(query.split("=")[0]);
    }
    expect((await org.get("/contacts")).body.pagination.limit).toBe(50);
  });

  it("searches names, emails and phone numbers case-insensitively", async () => {
    const { org, ids } = await seed();
    const search = async (term: string) =>
      (await org.get(`/contacts?search=${encodeURIComponent(term)}`)).body.data.map((c: any) => c.id).sort();
    expect(await search("LOVELACE")).toEqual([ids[0]]);
    expect(await search("grace hopper")).toEqual([ids[1]]);
    expect(await search("NASA.example")).toEqual([ids[3]]);
    expect(await search("+44 20 7946")).toEqual([ids[2]]);
    expect(await search("(415) 555-0105")).toEqual([ids[4]]);
    expect(await search("415555010")).toEqual([ids[0], ids[1], ids[3], ids[4]].sort());
    expect(await search("a")).toHaveLength(5);
    expect(await search("50%_")).toEqual([]);
  });

  it("filters by folder and by last call outcome", async () => {
    const { org, folderId, ids } = await seed();
    const other = await createFolder(org, "Other");
    const elsewhere = await createContact(org, { phone_number: "+14155550101", folder_id: other });
    const inFolder = await org.get(`/contacts?folder_id=${folderId}`);
    expect(inFolder.body.pagination.total).toBe(5);
    expect((await org.get(`/contacts?folder_id=${other}`)).body.data.map((c: any) => c.id)).toEqual([elsewhere.id]);
    expect((await org.get("/contacts?folder_id=00000000-0000-7000-8000-000000000000")).body.data).toEqual([]);

    // Outcomes are written by the call engine, not through this API.
    await env.DB.prepare("UPDATE contacts SET last_call_outcome = 'voicemail', call_count = 1 WHERE id = ?").bind(ids[2]).run();
    const voicemail = await org.get("/contacts?last_call_outcome=voicemail");
    expect(voicemail.body.data.map((c: any) => [c.id, c.last_call_outcome, c.call_count])).toEqual([[ids[2], "voicemail", 1]]);
  });
});

describe("contacts: OpenAPI", () => {
  it("documents every contacts route with tags, summaries and examples", async () => {
    const doc = (await rawFetch(`${BASE}/openapi.json`)).body;
    const routes = [
      ["get", "/contacts/folders"],
      ["post", "/contacts/folders"],
      ["get", "/contacts/folders/{id}"],
      ["patch", "/contacts/folders/{id}"],
      ["delete", "/contacts/folders/{id}"],
      ["post", "/contacts/import"],
      ["get", "/contacts"],
      ["post", "/contacts"],
      ["get", "/contacts/{id}"],
      ["patch", "/contacts/{id}"],
      ["delete", "/contacts/{id}"],
    ];
    for (const [method, path] of routes) {
      const op = doc.paths[`/api/public/v1${path}`]?.[method];
      expect(op, `${method} ${path}`).toBeDefined();
      expect(op.tags).toEqual(["Contacts"]);
      expect(op.summary).toBeTruthy();
      expect(op.description).toBeTruthy();
      expect(op.responses["422"]).toBeDefined();
      const success = op.responses["200"] ?? op.responses["201"];
      expect(success.content["application/json"].schema.example ?? success.content["application/json"].example, `${method} ${path}`).toBeDefined();
    }
    const upload = doc.paths["/api/public/v1/contacts/import"].post.requestBody.content["multipart/form-data"].schema;
    expect(upload.properties.file).toMatchObject({ type: "string", format: "binary" });
    expect(upload.required).toContain("file");
  });
});
