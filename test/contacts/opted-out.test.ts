import { describe, expect, it } from "vitest";
import { newOrg } from "../helpers/api";
import { createContact, createFolder, importCsv } from "./helpers";

describe("contact opted_out", () => {
  it("starts false and is listed in the contact object", async () => {
    const org = await newOrg();
    const contact = await createContact(org, { phone_number: "+14155550101" });
    expect(contact).toMatchObject({ opted_out: false, opted_out_at: null });
  });

  it("PATCH opted_out: true flags the contact and lists its number with source opt_out in one write", async () => {
    const org = await newOrg();
    const [a, b] = [await createFolder(org, "A"), await createFolder(org, "B")];
    const contact = await createContact(org, { phone_number: "+14155550101", folder_id: a });
    const twin = await createContact(org, { phone_number: "+14155550101", folder_id: b });

    const res = await org.patch(`/contacts/${contact.id}`, { opted_out: true });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ opted_out: true, opted_out_at: expect.any(String) });
    const check = (await org.get("/dnc/check?phone_number=%2B14155550101")).body.data;
    expect(check).toMatchObject({ listed: true, entry: { phone_number: "+14155550101", source: "opt_out", reason: "Contact opted out" } });
    // The number joined the list, so the org's other contacts with it are flagged too.
    expect((await org.get(`/contacts/${twin.id}`)).body.data.opted_out).toBe(true);

    // Repeating it keeps the first opt-out time and the one entry.
    const again = await org.patch(`/contacts/${contact.id}`, { opted_out: true, first_name: "Ada" });
    expect(again.body.data).toMatchObject({ opted_out: true, opted_out_at: res.body.data.opted_out_at, first_name: "Ada" });
    expect((await org.get("/dnc")).body.pagination.total).toBe(1);
  });

  it("PATCH opted_out: false clears the flag but leaves the number on the list, so calls stay refused", async () => {
    const org = await newOrg();
    const contact = await createContact(org, { phone_number: "+14155550101" });
    await org.patch(`/contacts/${contact.id}`, { opted_out: true });
    const cleared = await org.patch(`/contacts/${contact.id}`, { opted_out: false });
    expect(cleared.body.data).toMatchObject({ opted_out: false, opted_out_at: null });
    expect((await org.get("/dnc/check?phone_number=%2B14155550101")).body.data.listed).toBe(true);
  });

  it("keeps an existing entry's source and reason when an opted-out contact's number was already listed", async () => {
    const org = await newOrg();
    const entry = (await org.post("/dnc", { phone_number: "+14155550101", reason: "Complaint" })).body.data;
    const contact = await createContact(org, { phone_number: "+14155550102" });
    const moved = await org.patch(`/contacts/${contact.id}`, { phone_number: "+14155550101", opted_out: true });
    expect(moved.body.data).toMatchObject({ phone_number: "+14155550101", opted_out: true });
    expect((await org.get("/dnc")).body.data).toEqual([entry]);
  });

  it("flags contacts created, imported or renumbered onto a listed number", async () => {
    const org = await newOrg();
    await org.post("/dnc", { phone_number: "+14155550101" });
    expect(await createContact(org, { phone_number: "+14155550101" })).toMatchObject({ opted_out: true, opted_out_at: expect.any(String) });

    const folderId = await createFolder(org);
    const imported = await importCsv(org, "phone\n+14155550101\n+14155550102\n", { folder_id: folderId });
    expect(imported.body.data).toMatchObject({ imported: 2 });
    const flags = Object.fromEntries(((await org.get(`/contacts?folder_id=${folderId}`)).body.data as any[]).map((c) => [c.phone_number, [c.opted_out, c.opted_out_at !== null]]));
    expect(flags).toEqual({ "+14155550101": [true, true], "+14155550102": [false, false] });

    const other = await createContact(org, { phone_number: "+14155550103" });
    expect((await org.patch(`/contacts/${other.id}`, { phone_number: "+14155550101", folder_id: await createFolder(org, "B") })).body.data.opted_out).toBe(true);
    // An explicit choice wins over the listing.
    const chosen = await createContact(org, { phone_number: "+14155550104" });
    expect((await org.patch(`/contacts/${chosen.id}`, { phone_number: "+14155550101", folder_id: await createFolder(org, "C"), opted_out: false })).body.data.opted_out).toBe(false);
  });

  it("filters the list with opted_out=true|false", async () => {
    const org = await newOrg();
    const out = await createContact(org, { phone_number: "+14155550101" });
    const inList = await createContact(org, { phone_number: "+14155550102" });
    await org.patch(`/contacts/${out.id}`, { opted_out: true });
    expect((await org.get("/contacts?opted_out=true")).body.data.map((c: any) => c.id)).toEqual([out.id]);
    expect((await org.get("/contacts?opted_out=false")).body.data.map((c: any) => c.id)).toEqual([inList.id]);
    expect((await org.get("/contacts")).body.pagination.total).toBe(2);
    const bad = await org.get("/contacts?opted_out=yes");
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.field).toBe("opted_out");
  });

  it("answers 404 to another org's contact and lists nothing for it", async () => {
    const owner = await newOrg("Owner");
    const intruder = await newOrg("Intruder");
    const contact = await createContact(owner, { phone_number: "+14155550101" });
    expect((await intruder.patch(`/contacts/${contact.id}`, { opted_out: true })).status).toBe(404);
    expect((await intruder.get("/dnc")).body.pagination.total).toBe(0);
    expect((await owner.get("/dnc")).body.pagination.total).toBe(0);
    expect((await owner.get(`/contacts/${contact.id}`)).body.data.opted_out).toBe(false);
  });
});
