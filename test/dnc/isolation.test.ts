import { describe, expect, it } from "vitest";
import { createContact } from "../contacts/helpers";
import { newOrg } from "../helpers/api";
import { addDnc, importDncCsv, listedNumbers } from "./helpers";

/** Another organization's do-not-call list does not exist for this one: 404 on every /{id} route, nothing through check or list. */
describe("do-not-call list across organizations", () => {
  it("answers 404 to GET and DELETE /dnc/{id} and leaves the entry alone", async () => {
    const owner = await newOrg("Owner");
    const intruder = await newOrg("Intruder");
    const entry = await addDnc(owner, { phone_number: "+14155550123", reason: "private" });
    for (const res of [await intruder.get(`/dnc/${entry.id}`), await intruder.delete(`/dnc/${entry.id}`)]) {
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe("not_found");
    }
    expect((await owner.get(`/dnc/${entry.id}`)).body.data).toEqual(entry);
  });

  it("does not reveal another org's listing through check, list or search", async () => {
    const owner = await newOrg("Owner");
    const intruder = await newOrg("Intruder");
    await addDnc(owner, { phone_number: "+14155550123" });
    expect((await intruder.get("/dnc/check?phone_number=%2B14155550123")).body.data).toEqual({ phone_number: "+14155550123", listed: false, entry: null });
    expect((await intruder.get("/dnc?search=4155550123")).body.pagination.total).toBe(0);
  });

  it("lists a number per org: the same number is listed and flagged separately, each org's contacts untouched by the other", async () => {
    const owner = await newOrg("Owner");
    const other = await newOrg("Other");
    const othersContact = await createContact(other, { phone_number: "+14155550123" });
    const ownerEntry = await addDnc(owner, { phone_number: "+14155550123" });
    expect((await other.get(`/contacts/${othersContact.id}`)).body.data.opted_out).toBe(false);
    const imported = await importDncCsv(other, "phone\n+14155550123\n");
    expect(imported.body.data).toMatchObject({ imported: 1, skipped: 0 });
    expect((await other.get(`/contacts/${othersContact.id}`)).body.data.opted_out).toBe(true);
    expect(await listedNumbers(owner)).toEqual(["+14155550123"]);
    expect((await owner.get(`/dnc/${ownerEntry.id}`)).body.data).toEqual(ownerEntry);
  });
});
