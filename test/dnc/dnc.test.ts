import { describe, expect, it } from "vitest";
import { orgWithCaller } from "../calls/helpers";
import { createContact, createFolder } from "../contacts/helpers";
import { newOrg } from "../helpers/api";
import { addDnc, listedNumbers } from "./helpers";

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe("do-not-call list", () => {
  it("adds, gets, lists and removes an entry", async () => {
    const org = await newOrg();
    const res = await org.post("/dnc", { phone_number: "+14155550123", reason: "  Asked not to be called  " });
    expect(res.status).toBe(201);
    const entry = res.body.data;
    expect(entry).toEqual({ id: expect.any(String), phone_number: "+14155550123", reason: "Asked not to be called", source: "api", created_at: expect.stringMatching(ISO) });
    expect((await org.get(`/dnc/${entry.id}`)).body.data).toEqual(entry);
    const list = await org.get("/dnc");
    expect(list.body.data).toEqual([entry]);
    expect(list.body.pagination).toEqual({ total: 1, limit: 50, offset: 0, has_more: false });

    const deleted = await org.delete(`/dnc/${entry.id}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body.data).toEqual({ id: entry.id, deleted: true });
    expect((await org.get(`/dnc/${entry.id}`)).status).toBe(404);
    expect((await org.delete(`/dnc/${entry.id}`)).status).toBe(404);
    expect(await listedNumbers(org)).toEqual([]);
  });

  it("adds idempotently: a listed number answers 200 with its entry, unchanged", async () => {
    const org = await newOrg();
    const first = await addDnc(org, { phone_number: "+14155550123", reason: "first" });
    const again = await org.post("/dnc", { phone_number: "(415) 555-0123", default_country: "US", reason: "second" });
    expect(again.status).toBe(200);
    expect(again.body.data).toEqual(first);
    expect(await listedNumbers(org)).toEqual(["+14155550123"]);
  });

  it("replays an idempotency key and refuses it with another body", async () => {
    const org = await newOrg();
    const headers = { "Idempotency-Key": "dnc-add-1" };
    const first = await org.post("/dnc", { phone_number: "+14155550123" }, headers);
    const replay = await org.post("/dnc", { phone_number: "+14155550123" }, headers);
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.body.data).toEqual(first.body.data);
    expect((await org.post("/dnc", { phone_number: "+14155550124" }, headers)).body.error.code).toBe("idempotency_key_reused");
  });

  it("normalises national numbers with default_country and refuses what is not a number", async () => {
    const org = await newOrg();
    expect(await addDnc(org, { phone_number: "020 7946 0958", default_country: "gb" })).toMatchObject({ phone_number: "+442079460958", reason: null });
    expect(await addDnc(org, { phone_number: "+1 (415) 555-2671" })).toMatchObject({ phone_number: "+14155552671" });
    const cases: [Record<string, unknown>, string, RegExp?][] = [
      [{}, "phone_number"],
      [{ phone_number: "4155552671" }, "phone_number", /default_country/],
      [{ phone_number: "+1415" }, "phone_number", /Invalid phone number format/],
      [{ phone_number: "4155552671", default_country: "ZZ" }, "default_country"],
      [{ phone_number: "+14155552671", reason: "x".repeat(501) }, "reason"],
    ];
    for (const [body, field, message] of cases) {
      const res = await org.post("/dnc", body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.error).toMatchObject({ code: "validation_error", details: { field } });
      if (message) expect(res.body.error.message).toMatch(message);
    }
    expect(await listedNumbers(org)).toEqual(["+14155552671", "+442079460958"]);
  });

  it("searches by part of the number and pages newest first", async () => {
    const org = await newOrg();
    for (const phone of ["+14155550101", "+14155550102", "+442079460958"]) await addDnc(org, { phone_number: phone });
    expect((await org.get("/dnc?search=(415) 555")).body.data.map((e: any) => e.phone_number)).toEqual(["+14155550102", "+14155550101"]);
    expect((await org.get("/dnc?search=%2B44")).body.data.map((e: any) => e.phone_number)).toEqual(["+442079460958"]);
    const page = await org.get("/dnc?limit=2&offset=1");
    expect(page.body.data.map((e: any) => e.phone_number)).toEqual(["+14155550102", "+14155550101"]);
    expect(page.body.pagination).toEqual({ total: 3, limit: 2, offset: 1, has_more: false });
    expect((await org.get("/dnc?limit=101")).status).toBe(422);
  });

  it("checks a number, normalising it first", async () => {
    const org = await newOrg();
    const entry = await addDnc(org, { phone_number: "+14155550123" });
    const listed = await org.get("/dnc/check?phone_number=(415)%20555-0123&default_country=US");
    expect(listed.status).toBe(200);
    expect(listed.body.data).toEqual({ phone_number: "+14155550123", listed: true, entry });
    expect((await org.get("/dnc/check?phone_number=%2B14155550124")).body.data).toEqual({ phone_number: "+14155550124", listed: false, entry: null });
    const bad = await org.get("/dnc/check?phone_number=12");
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.field).toBe("phone_number");
    expect((await org.get("/dnc/check")).body.error.details.field).toBe("phone_number");
  });

  it("marks every contact with the number opted_out in the same write, and only when the number is new to the list", async () => {
    const org = await newOrg();
    const [a, b] = [await createFolder(org, "A"), await createFolder(org, "B")];
    const inA = await createContact(org, { phone_number: "+14155550123", folder_id: a });
    const inB = await createContact(org, { phone_number: "+14155550123", folder_id: b });
    const other = await createContact(org, { phone_number: "+14155550124", folder_id: a });
    expect(inA).toMatchObject({ opted_out: false, opted_out_at: null });

    const entry = await addDnc(org, { phone_number: "+14155550123" });
    for (const id of [inA.id, inB.id]) {
      expect((await org.get(`/contacts/${id}`)).body.data).toMatchObject({ opted_out: true, opted_out_at: entry.created_at });
    }
    expect((await org.get(`/contacts/${other.id}`)).body.data.opted_out).toBe(false);

    // A deliberate un-flag survives adding the already-listed number again.
    await org.patch(`/contacts/${inA.id}`, { opted_out: false });
    expect((await org.post("/dnc", { phone_number: "+14155550123" })).status).toBe(200);
    expect((await org.get(`/contacts/${inA.id}`)).body.data.opted_out).toBe(false);

    // Removing the number leaves the flags: the person asked not to be called.
    await org.delete(`/dnc/${entry.id}`);
    expect((await org.get(`/contacts/${inB.id}`)).body.data.opted_out).toBe(true);
  });

  it("refuses a call to a listed number with 422 number_on_dnc_list, and places it once the number is removed", async () => {
    const { org, agentId } = await orgWithCaller();
    const entry = await addDnc(org, { phone_number: "(415) 555-0001", default_country: "US" });
    const refused = await org.post("/calls", { agent_id: agentId, phone_number: "+14155550001" });
    expect(refused.status).toBe(422);
    expect(refused.body.error).toMatchObject({ code: "number_on_dnc_list", details: { field: "phone_number", phone_number: "+14155550001" } });
    expect((await org.get("/calls")).body.data).toEqual([]);

    await org.delete(`/dnc/${entry.id}`);
    expect((await org.post("/calls", { agent_id: agentId, phone_number: "+14155550001" })).status).toBe(201);
  });

  it("documents the routes under the Do-not-call list tag", async () => {
    const org = await newOrg();
    const doc = (await org.get("/openapi.json")).body;
    for (const [path, methods] of [["/dnc", ["get", "post"]], ["/dnc/{id}", ["get", "delete"]], ["/dnc/check", ["get"]], ["/dnc/import", ["post"]]] as const) {
      for (const method of methods) expect(doc.paths[`/api/public/v1${path}`][method].tags, `${method} ${path}`).toEqual(["Do-not-call list"]);
    }
  });
});
