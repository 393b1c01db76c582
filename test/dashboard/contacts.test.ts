import { describe, expect, it } from "vitest";
import { newDashboard, textOf } from "./helpers";

async function folderWithContacts(org: Awaited<ReturnType<typeof newDashboard>>["org"], name: string, phones: string[]) {
  const folder = await org.post("/contacts/folders", { name, description: "Spring list" });
  expect(folder.status).toBe(201);
  for (const [i, phone] of phones.entries()) {
    const res = await org.post("/contacts", { folder_id: folder.body.data.id, phone_number: phone, first_name: `Person${i}`, last_name: "Tester", email: `p${i}@example.com` });
    expect(res.status).toBe(201);
  }
  return folder.body.data as { id: string };
}

describe("dashboard contacts pages", () => {
  it("lists folders with their contact counts from the API", async () => {
    const { org, browser } = await newDashboard();
    await folderWithContacts(org, "Renewals <2026>", ["+14155550101", "+14155550102"]);
    const page = await browser.page("/app/contacts");
    expect(page.status).toBe(200);
    const text = textOf(page.text);
    expect(text).toContain("Renewals <2026>");
    expect(page.text).not.toContain("<2026>");
    expect(text).toMatch(/Renewals <2026> 2 Spring list/);
  });

  it("creates, renames and deletes a folder through the forms", async () => {
    const { org, browser } = await newDashboard();
    await browser.page("/app/contacts");
    const created = await browser.post("/app/contacts/folders", { name: "Leads", description: "From the fair" });
    expect(created.status).toBe(303);
    const folderPath = created.location!;
    expect(folderPath).toMatch(/^\/app\/contacts\/folders\/[\w-]+$/);
    const id = folderPath.split("/").pop()!;
    const shown = await browser.page(folderPath);
    expect(textOf(shown.text)).toContain("Folder “Leads” created.");
    expect(textOf(shown.text)).toContain("From the fair");

    // An empty name is refused by the form check, with the values kept.
    const blank = await browser.post(folderPath, { name: "  ", description: "kept" });
    expect(blank.status).toBe(422);
    expect(textOf(blank.text)).toContain("Enter a folder name");
    expect(blank.text).toContain("kept");

    const renamed = await browser.post(folderPath, { name: "Hot leads", description: "" });
    expect(renamed.status).toBe(303);
    expect((await org.get(`/contacts/folders/${id}`)).body.data).toMatchObject({ name: "Hot leads", description: null });

    // Deleting needs the confirmation box.
    const unconfirmed = await browser.post(`${folderPath}/delete`, {});
    expect(unconfirmed.status).toBe(422);
    expect(textOf(unconfirmed.text)).toContain("Tick the box");
    const deleted = await browser.post(`${folderPath}/delete`, { confirm: "yes" });
    expect(deleted.status).toBe(303);
    expect(deleted.location).toBe("/app/contacts");
    expect((await org.get(`/contacts/folders/${id}`)).status).toBe(404);
  });

  it("shows a folder's contacts with search and pagination", async () => {
    const { org, browser } = await newDashboard();
    const phones = Array.from({ length: 27 }, (_, i) => `+1415555${String(1000 + i)}`);
    const folder = await folderWithContacts(org, "Big", phones);
    const first = await browser.page(`/app/contacts/folders/${folder.id}`);
    expect(first.status).toBe(200);
    expect(textOf(first.text)).toContain("Contacts (27)");
    expect(textOf(first.text)).toContain("1–25 of 27");
    const second = await browser.page(`/app/contacts/folders/${folder.id}?offset=25&limit=25`);
    expect(textOf(second.text)).toContain("26–27 of 27");

    const found = await browser.page(`/app/contacts/folders/${folder.id}?search=Person7`);
    const text = textOf(found.text);
    expect(text).toContain("Person7 Tester");
    expect(text).toContain("+14155551007");
    expect(text).not.toContain("Person8 Tester");
    const none = await browser.page(`/app/contacts/folders/${folder.id}?search=nobody`);
    expect(textOf(none.text)).toContain("No contacts match “nobody”.");
  });

  it("imports a CSV and lists the bad row's number and problem", async () => {
    const { org, browser } = await newDashboard();
    const folder = await folderWithContacts(org, "Import", []);
    const page = await browser.page(`/app/contacts/folders/${folder.id}`);
    // The enhanced form: a progress bar, a status line and the regions the script swaps in.
    expect(page.text).toContain('<script src="/app/static/csv-upload.js"');
    expect(page.text).toContain('enctype="multipart/form-data"');
    expect(page.text).toMatch(/<progress id="csv-progress"[^>]*aria-label="Upload progress"/);
    expect(page.text).toContain('id="import-result"');

    const csv = "phone,first_name,email\n+14155550111,Ada,ada@example.com\nnot-a-phone,Bob,bob@example.com\n+14155550112,Cy,cy@example.com\n";
    const form = new FormData();
    form.append("file", new File([csv], "people.csv", { type: "text/csv" }));
    const res = await browser.post(`/app/contacts/folders/${folder.id}/import`, form);
    expect(res.status).toBe(200);
    const text = textOf(res.text);
    expect(text).toContain("2 new, 0 updated, 0 skipped (already in the folder or repeated in the file), 1 row with errors.");
    // The bad record is spreadsheet row 3 (header = row 1).
    expect(res.text).toMatch(/<th scope="row" class="num">3<\/th><td>not-a-phone<\/td><td>[^<]+<\/td>/);
    expect(text).toContain("Contacts (2)");
    expect((await org.get(`/contacts?folder_id=${folder.id}`)).body.pagination.total).toBe(2);

    // A file with no phone column: the API's message, in the result region, as a 422.
    const bad = new FormData();
    bad.append("file", new File(["name\nAda\n"], "bad.csv", { type: "text/csv" }));
    const refused = await browser.post(`/app/contacts/folders/${folder.id}/import`, bad);
    expect(refused.status).toBe(422);
    expect(textOf(refused.text)).toContain("The header row has no phone column");

    const empty = new FormData();
    empty.append("file", new File([""], "empty.csv"));
    const missing = await browser.post(`/app/contacts/folders/${folder.id}/import`, empty);
    expect(missing.status).toBe(422);
    expect(textOf(missing.text)).toContain("Choose a CSV file to upload");
  });

  it("adds, edits, opts out and deletes a contact", async () => {
    const { org, browser } = await newDashboard();
    const folder = await folderWithContacts(org, "People", []);
    const path = `/app/contacts/folders/${folder.id}`;
    await browser.page(path);

    const invalid = await browser.post(`${path}/contacts`, { phone_number: "12", first_name: "Ada" });
    expect(invalid.status).toBe(422);
    expect(invalid.text).toMatch(/id="add-phone_number"[^>]*aria-invalid="true"/);
    expect(invalid.text).toContain('value="Ada"');

    const added = await browser.post(`${path}/contacts`, { phone_number: "(415) 555-0123", default_country: "us", first_name: "Ada", last_name: "Lovelace" });
    expect(added.status).toBe(303);
    expect(textOf((await browser.page(added.location!)).text)).toContain("Ada Lovelace (+14155550123) added.");
    const [contact] = (await org.get(`/contacts?folder_id=${folder.id}`)).body.data;

    const duplicate = await browser.post(`${path}/contacts`, { phone_number: "+14155550123" });
    expect(duplicate.status).toBe(409);
    expect(textOf(duplicate.text)).toContain("already has a contact with phone number +14155550123");

    const contactPath = `/app/contacts/${contact.id}`;
    const edit = await browser.page(contactPath);
    expect(edit.status).toBe(200);
    expect(edit.text).toContain('value="Lovelace"');
    const saved = await browser.post(contactPath, { phone_number: "+14155550123", first_name: "Augusta", last_name: "", email: "ada@example.com", opted_out: "on", opted_out_was: "false" });
    expect(saved.status).toBe(303);
    const after = (await org.get(`/contacts/${contact.id}`)).body.data;
    expect(after).toMatchObject({ first_name: "Augusta", last_name: null, email: "ada@example.com", opted_out: true });
    expect((await org.get("/dnc")).body.data.map((d: { phone_number: string }) => d.phone_number)).toContain("+14155550123");

    const badEmail = await browser.post(contactPath, { phone_number: "+14155550123", email: "not-an-email", opted_out: "on", opted_out_was: "true" });
    expect(badEmail.status).toBe(422);
    expect(badEmail.text).toMatch(/id="edit-email"[^>]*aria-invalid="true"/);

    const deleted = await browser.post(`${contactPath}/delete`, {});
    expect(deleted.status).toBe(303);
    expect(deleted.location).toBe(path);
    expect((await org.get(`/contacts/${contact.id}`)).status).toBe(404);
  });

  it("answers 404 for another organization's folder or contact, on every page and form", async () => {
    const owner = await newDashboard("Owner");
    const folder = await folderWithContacts(owner.org, "Private", ["+14155550199"]);
    const [contact] = (await owner.org.get(`/contacts?folder_id=${folder.id}`)).body.data;
    const { browser } = await newDashboard("Intruder");
    await browser.page("/app/contacts");
    for (const path of [`/app/contacts/folders/${folder.id}`, `/app/contacts/${contact.id}`]) {
      const res = await browser.get(path);
      expect(res.status, path).toBe(404);
      expect(textOf(res.text)).toContain("That was not found");
    }
    const csv = new FormData();
    csv.append("file", new File(["phone\n+14155550100\n"], "x.csv"));
    const posts: [string, Record<string, string> | FormData][] = [
      [`/app/contacts/folders/${folder.id}`, { name: "Mine now" }],
      [`/app/contacts/folders/${folder.id}/delete`, { confirm: "yes" }],
      [`/app/contacts/folders/${folder.id}/contacts`, { phone_number: "+14155550100" }],
      [`/app/contacts/folders/${folder.id}/import`, csv],
      [`/app/contacts/${contact.id}`, { phone_number: "+14155550100", opted_out_was: "false" }],
      [`/app/contacts/${contact.id}/delete`, {}],
    ];
    for (const [path, form] of posts) expect((await browser.post(path, form)).status, path).toBe(404);
    expect((await owner.org.get(`/contacts/folders/${folder.id}`)).body.data).toMatchObject({ name: "Private", contact_count: 1 });
  });

  it("refuses every form post without the CSRF token", async () => {
    const { org, browser } = await newDashboard();
    const folder = await folderWithContacts(org, "Guarded", ["+14155550150"]);
    const [contact] = (await org.get(`/contacts?folder_id=${folder.id}`)).body.data;
    await browser.page("/app/contacts");
    const paths = [
      "/app/contacts/folders",
      `/app/contacts/folders/${folder.id}`,
      `/app/contacts/folders/${folder.id}/delete`,
      `/app/contacts/folders/${folder.id}/contacts`,
      `/app/contacts/folders/${folder.id}/import`,
      `/app/contacts/${contact.id}`,
      `/app/contacts/${contact.id}/delete`,
    ];
    for (const path of paths) {
      const res = await browser.post(path, { name: "x", confirm: "yes", phone_number: "+14155550151" }, { csrf: false });
      expect(res.status, path).toBe(403);
    }
    expect((await org.get(`/contacts/folders/${folder.id}`)).body.data).toMatchObject({ name: "Guarded", contact_count: 1 });
  });
});
