import { describe, expect, it } from "vitest";
import { newOrg } from "../helpers/api";
import { createContact, createFolder } from "./helpers";

describe("contact folders", () => {
  it("creates, reads, renames and lists a folder", async () => {
    const org = await newOrg();
    const created = await org.post("/contacts/folders", { name: "  Spring leads ", description: "From the spring fair" });
    expect(created.status).toBe(201);
    const folder = created.body.data;
    expect(folder).toMatchObject({ name: "Spring leads", description: "From the spring fair", contact_count: 0, is_default: false });
    expect(folder.created_at).toBe(folder.updated_at);

    expect((await org.get(`/contacts/folders/${folder.id}`)).body.data).toEqual(folder);

    const renamed = await org.patch(`/contacts/folders/${folder.id}`, { name: "Summer leads" });
    expect(renamed.status).toBe(200);
    expect(renamed.body.data).toMatchObject({ id: folder.id, name: "Summer leads", description: "From the spring fair" });
    const cleared = await org.patch(`/contacts/folders/${folder.id}`, { description: null });
    expect(cleared.body.data.description).toBeNull();

    const list = await org.get("/contacts/folders");
    expect(list.status).toBe(200);
    expect(list.body.data.map((f: any) => f.id)).toEqual([folder.id]);
    expect(list.body.pagination).toEqual({ total: 1, limit: 50, offset: 0, has_more: false });
  });

  it("answers 422 naming the field for bad bodies and queries", async () => {
    const org = await newOrg();
    for (const [body, field] of [
      [{}, "name"],
      [{ name: "" }, "name"],
      [{ name: "x".repeat(256) }, "name"],
      [{ name: "ok", description: "d".repeat(1001) }, "description"],
      [{ name: 5 }, "name"],
    ] as const) {
      const res = await org.post("/contacts/folders", body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.error.code).toBe("validation_error");
      expect(res.body.error.details.field).toBe(field);
    }
    for (const [query, field] of [
      ["sort_by=size", "sort_by"],
      ["order=up", "order"],
      ["limit=0", "limit"],
      ["limit=101", "limit"],
      ["offset=-1", "offset"],
    ]) {
      const res = await org.get(`/contacts/folders?${query}`);
      expect(res.status, query).toBe(422);
      expect(res.body.error.details.field).toBe(field);
    }
  });

  it("counts contacts per folder and sorts by contact_count, name and created_at", async () => {
    const org = await newOrg();
    const small = await createFolder(org, "beta");
    const big = await createFolder(org, "Alpha");
    const empty = await createFolder(org, "gamma");
    await createContact(org, { phone_number: "+14155550101", folder_id: small });
    for (const n of ["+14155550102", "+14155550103", "+14155550104"]) await createContact(org, { phone_number: n, folder_id: big });

    const ids = async (query: string) => (await org.get(`/contacts/folders?${query}`)).body.data.map((f: any) => f.id);
    const byCount = await org.get("/contacts/folders?sort_by=contact_count");
    expect(byCount.body.data.map((f: any) => [f.id, f.contact_count])).toEqual([
      [big, 3],
      [small, 1],
      [empty, 0],
    ]);
    expect(await ids("sort_by=contact_count&order=asc")).toEqual([empty, small, big]);
    expect(await ids("sort_by=name&order=asc")).toEqual([big, small, empty]);
    expect(await ids("")).toEqual([empty, big, small]);
    expect(await ids("order=asc")).toEqual([small, big, empty]);
    expect((await org.get(`/contacts/folders/${big}`)).body.data.contact_count).toBe(3);
  });

  it("pages with limit and offset", async () => {
    const org = await newOrg();
    const folders = [];
    for (const name of ["a", "b", "c"]) folders.push(await createFolder(org, name));
    const first = await org.get("/contacts/folders?limit=2&order=asc");
    expect(first.body.data.map((f: any) => f.id)).toEqual(folders.slice(0, 2));
    expect(first.body.pagination).toEqual({ total: 3, limit: 2, offset: 0, has_more: true });
    const second = await org.get("/contacts/folders?limit=2&offset=2&order=asc");
    expect(second.body.data.map((f: any) => f.id)).toEqual([folders[2]]);
    expect(second.body.pagination).toEqual({ total: 3, limit: 2, offset: 2, has_more: false });
  });

  it("deletes a folder together with every contact in it, and nothing else", async () => {
    const org = await newOrg();
    const doomed = await createFolder(org, "doomed");
    const kept = await createFolder(org, "kept");
    const gone = await createContact(org, { phone_number: "+14155550101", folder_id: doomed });
    await createContact(org, { phone_number: "+14155550102", folder_id: doomed });
    const stays = await createContact(org, { phone_number: "+14155550101", folder_id: kept });

    const res = await org.delete(`/contacts/folders/${doomed}`);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ id: doomed, deleted: true, contacts_deleted: 2 });
    expect((await org.get(`/contacts/folders/${doomed}`)).status).toBe(404);
    expect((await org.get(`/contacts/${gone.id}`)).status).toBe(404);
    expect((await org.get(`/contacts/${stays.id}`)).status).toBe(200);
    expect((await org.get("/contacts")).body.pagination.total).toBe(1);
    expect((await org.delete(`/contacts/folders/${doomed}`)).status).toBe(404);
  });

  it("answers 404 for unknown folders", async () => {
    const org = await newOrg();
    for (const res of [
      await org.get("/contacts/folders/00000000-0000-7000-8000-000000000000"),
      await org.patch("/contacts/folders/00000000-0000-7000-8000-000000000000", { name: "x" }),
      await org.delete("/contacts/folders/00000000-0000-7000-8000-000000000000"),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe("not_found");
    }
  });

  it("replays a create with the same idempotency key", async () => {
    const org = await newOrg();
    const headers = { "Idempotency-Key": "folder-create-1" };
    const first = await org.post("/contacts/folders", { name: "Once" }, headers);
    const again = await org.post("/contacts/folders", { name: "Once" }, headers);
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body.data.id).toBe(first.body.data.id);
    expect((await org.get("/contacts/folders")).body.data).toHaveLength(1);
  });
});
