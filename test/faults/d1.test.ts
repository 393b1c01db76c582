import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import worker from "../../src/index";
import { BASE, newOrg } from "../helpers/api";
import { createContact, createFolder } from "../contacts/helpers";
import { createEndpoint, receiverUrl } from "../webhooks/helpers";

/**
 * D1 failing in the middle of a request. A trigger that aborts one statement stands in for a D1
 * error (the statement fails, the rest of its batch is rolled back with it), and a binding whose
 * every call throws for D1 being unreachable. The client gets the plain error envelope, never a
 * stack, and nothing of the failed request is kept.
 */

const triggers: string[] = [];

/** Makes D1 fail the `event` (e.g. "BEFORE INSERT") statements on `table` matching `condition`, until the test ends. */
async function breakTable(table: string, event: string, condition: string) {
  const name = `fault_${crypto.randomUUID().replaceAll("-", "")}`;
  await env.DB.prepare(`CREATE TRIGGER ${name} ${event} ON ${table} WHEN ${condition} BEGIN SELECT RAISE(ABORT, 'injected D1 fault'); END`).run();
  triggers.push(name);
}

afterEach(async () => {
  for (const name of triggers.splice(0)) await env.DB.prepare(`DROP TRIGGER IF EXISTS ${name}`).run();
});

function expectInternalError(res: { status: number; body: any }) {
  expect(res.status).toBe(500);
  expect(res.body).toEqual({
    error: { code: "internal_error", message: "Internal error; quote the request id when reporting it" },
    meta: { request_id: expect.any(String), ts: expect.any(String) },
  });
  expect(JSON.stringify(res.body)).not.toMatch(/injected|D1|at .*\.ts/);
}

const uniquePhone = () => `+1415${String(2_000_000 + Math.floor(Math.random() * 7_000_000))}`;

describe("D1 statement errors mid-request", () => {
  it("opting a contact out: the DNC insert fails, so the contact's flag is not written either", async () => {
    const org = await newOrg();
    const phone = uniquePhone();
    const contact = await createContact(org, { folder_id: await createFolder(org), phone_number: phone, first_name: "Ada" });
    await breakTable("dnc_numbers", "BEFORE INSERT", `NEW.phone_number = '${phone}'`);

    const failed = await org.patch(`/contacts/${contact.id}`, { opted_out: true, first_name: "Changed" });
    expectInternalError(failed);
    // One batch: the contact update ran before the failing insert and was rolled back with it.
    expect((await org.get(`/contacts/${contact.id}`)).body.data).toMatchObject({ opted_out: false, first_name: "Ada" });
    const dncCount = () => env.DB.prepare("SELECT count(*) AS n FROM dnc_numbers WHERE org_id = ? AND phone_number = ?").bind(org.orgId, phone).first<{ n: number }>();
    expect((await dncCount())?.n).toBe(0);

    // D1 healthy again, the same request succeeds.
    for (const name of triggers.splice(0)) await env.DB.prepare(`DROP TRIGGER ${name}`).run();
    const retried = await org.patch(`/contacts/${contact.id}`, { opted_out: true, first_name: "Changed" });
    expect(retried.status).toBe(200);
    expect(retried.body.data).toMatchObject({ opted_out: true, first_name: "Changed" });
    expect((await dncCount())?.n).toBe(1);
  });

  it("deleting a webhook endpoint: the last delete fails, so its deliveries and attempts stay", async () => {
    const org = await newOrg();
    const { id } = await createEndpoint(org, receiverUrl("ok").url);
    const at = new Date().toISOString();
    const eventId = crypto.randomUUID();
    const deliveryId = crypto.randomUUID();
    await env.DB.batch([
      env.DB.prepare("INSERT INTO events (id, org_id, type, data, endpoint_id, created_at, dispatched_at) VALUES (?, ?, 'call.ended', '{}', NULL, ?, ?)").bind(eventId, org.orgId, at, at),
      env.DB.prepare(
        "INSERT INTO webhook_deliveries (id, org_id, endpoint_id, event_id, event_type, status, attempt_count, next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, 'call.ended', 'failed', 1, NULL, ?, ?)",
      ).bind(deliveryId, org.orgId, id, eventId, at, at),
    ]);
    const counts = async () => {
      const row = await env.DB.prepare(
        "SELECT (SELECT count(*) FROM webhook_endpoints WHERE id = ?1) AS endpoints, (SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = ?1) AS deliveries",
      )
        .bind(id)
        .first<{ endpoints: number; deliveries: number }>();
      return row;
    };
    expect(await counts()).toEqual({ endpoints: 1, deliveries: 1 });
    await breakTable("webhook_endpoints", "BEFORE DELETE", `OLD.id = '${id}'`);

    expectInternalError(await org.delete(`/webhooks/${id}`));
    expect(await counts()).toEqual({ endpoints: 1, deliveries: 1 });
    expect((await org.get(`/webhooks/${id}/deliveries`)).body.data).toHaveLength(1);
  });
});

function expectUnavailable(res: { status: number; headers: Headers; body: any }) {
  expect(res.status).toBe(503);
  expect(res.headers.get("retry-after")).toBe("5");
  expect(res.body).toEqual({
    error: { code: "service_unavailable", message: "The database is briefly unavailable; nothing was changed, retry in a few seconds" },
    meta: { request_id: expect.any(String), ts: expect.any(String) },
  });
}

describe("D1 unreachable", () => {
  it("answers every API request with a 503 and Retry-After, and a health check still answers", async () => {
    const org = await newOrg();
    const down = new Error("D1_ERROR: Network connection lost.");
    const unreachable = {
      prepare: () => {
        throw down;
      },
      batch: async () => {
        throw down;
      },
      exec: async () => {
        throw down;
      },
      withSession: () => unreachable,
      dump: async () => {
        throw down;
      },
    } as unknown as D1Database;
    for (const [method, path, body] of [
      ["GET", "/agents", undefined],
      ["POST", "/contacts/folders", { name: "During the outage" }],
    ] as const) {
      const ctx = createExecutionContext();
      const res = await worker.fetch(
        new Request(`${BASE}${path}`, {
          method,
          headers: { authorization: `Bearer ${org.apiKey}`, ...(body ? { "content-type": "application/json" } : {}) },
          body: body ? JSON.stringify(body) : undefined,
        }),
        { ...env, DB: unreachable },
        ctx,
      );
      await waitOnExecutionContext(ctx);
      expectUnavailable({ status: res.status, headers: res.headers, body: await res.json() });
    }
    const ctx = createExecutionContext();
    const health = await worker.fetch(new Request("https://truedy.test/health"), { ...env, DB: unreachable }, ctx);
    await waitOnExecutionContext(ctx);
    expect(health.status).toBe(200);
    // Nothing was written while it was down.
    const folders = (await org.get("/contacts/folders")).body.data as { name: string }[];
    expect(folders.map((f) => f.name)).not.toContain("During the outage");
  });
});
