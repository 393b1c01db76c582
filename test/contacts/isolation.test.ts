import { describe, expect, it } from "vitest";
import { newOrg } from "../helpers/api";
import { createContact, createFolder, importCsv } from "./helpers";

/** Another organization's folders and contacts do not exist for this one: every /{id} route answers 404 and changes nothing. */
describe("contacts across organizations", () => {
  async function setup() {
    const owner = await newOrg("Owner");
    const intruder = await newOrg("Intruder");
    const folderId = await createFolder(owner, "Private");
    const contact = await createContact(owner, { phone_number: "+14155550101", folder_id: folderId, first_name: "Ada" });
    const folder = (await owner.get(`/contacts/folders/${folderId}`)).body.data;
    return { owner, intruder, folder, contact };
  }

  it("GET, PATCH and DELETE /contacts/folders/{id} answer 404 and leave the folder alone", async () => {
    const { owner, intruder, folder } = await setup();
    for (const res of [
      await intruder.get(`/contacts/folders/${folder.id}`),
      await intruder.patch(`/contacts/folders/${folder.id}`, { name: "Mine now" }),
      await intruder.delete(`/contacts/folders/${folder.id}`),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe("not_found");
    }
    expect((await owner.get(`/contacts/folders/${folder.id}`)).body.data).toEqual(folder);
    expect((await intruder.get("/contacts/folders")).body.data).toEqual([]);
  });

  it("GET, PATCH and DELETE /contacts/{id} answer 404 and leave the contact alone", async () => {
    const { owner, intruder, contact } = await setup();
    for (const res of [
      await intruder.get(`/contacts/${contact.id}`),
      await intruder.patch(`/contacts/${contact.id}`, { first_name: "Mallory" }),
      await intruder.delete(`/contacts/${contact.id}`),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe("not_found");
    }
    expect((await owner.get(`/contacts/${contact.id}`)).body.data).toEqual(contact);
    expect((await intruder.get("/contacts")).body.pagination.total).toBe(0);
  });

  it("refuses another org's folder_id when creating, moving, importing and listing", async () => {
    const { owner, intruder, folder } = await setup();
    const create = await intruder.post("/contacts", { phone_number: "+14155550102", folder_id: folder.id });
    expect(create.status).toBe(404);

    const own = await createContact(intruder, { phone_number: "+14155550103" });
    const move = await intruder.patch(`/contacts/${own.id}`, { folder_id: folder.id });
    expect(move.status).toBe(404);
    expect((await intruder.get(`/contacts/${own.id}`)).body.data.folder_id).toBe(own.folder_id);

    const imported = await importCsv(intruder, "phone\n+14155550104\n", { folder_id: folder.id });
    expect(imported.status).toBe(404);

    expect((await intruder.get(`/contacts?folder_id=${folder.id}`)).body.data).toEqual([]);
    expect((await owner.get(`/contacts/folders/${folder.id}`)).body.data).toEqual(folder);
  });

  it("keeps the same phone in two orgs apart, and a search sees only its own org", async () => {
    const { owner, intruder } = await setup();
    const theirs = await createContact(intruder, { phone_number: "+14155550101", first_name: "Ada" });
    const search = await intruder.get("/contacts?search=ada");
    expect(search.body.data.map((c: any) => c.id)).toEqual([theirs.id]);
    expect((await owner.get("/contacts?search=ada")).body.data.map((c: any) => c.id)).not.toContain(theirs.id);
  });
});
