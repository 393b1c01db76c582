import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { newOrg } from "../helpers/api";
import { createEndpoint, receiverUrl } from "./helpers";

describe("webhook endpoints API", () => {
  it("creates an endpoint, shows the secret only on create, and never stores it in plaintext", async () => {
    const org = await newOrg();
    const { url } = receiverUrl("ok");
    const created = await org.post("/webhooks", { url, events: ["call.ended", "call.ended", "batch.completed"], description: "CRM" });
    expect(created.status).toBe(201);
    expect(created.body.data).toMatchObject({ url, events: ["call.ended", "batch.completed"], enabled: true, disabled_reason: null });
    const secret = created.body.data.secret;
    expect(secret).toMatch(/^whsec_/);
    const fetched = await org.get(`/webhooks/${created.body.data.id}`);
    expect(fetched.body.data.secret).toBeUndefined();
    expect(JSON.stringify((await org.get("/webhooks")).body)).not.toContain(secret);
    const row = await env.DB.prepare("SELECT * FROM webhook_endpoints WHERE id = ?").bind(created.body.data.id).first();
    expect(JSON.stringify(row)).not.toContain(secret.slice(6));
  });

  it("normalises a wildcard subscription and validates URLs and event names", async () => {
    const org = await newOrg();
    const star = await org.post("/webhooks", { url: "https://example.com/hook", events: ["call.ended", "*"] });
    expect(star.body.data.events).toEqual(["*"]);
    const cases: [Record<string, unknown>, string][] = [
      [{ url: "http://example.com/hook", events: ["*"] }, "url"],
      [{ url: "https://10.0.0.1/hook", events: ["*"] }, "url"],
      [{ url: "https://169.254.169.254/latest", events: ["*"] }, "url"],
      [{ url: "not a url", events: ["*"] }, "url"],
      [{ url: "https://example.com/hook", events: [] }, "events"],
      [{ url: "https://example.com/hook", events: ["call.exploded"] }, "events.0"],
      [{ url: "https://example.com/hook", events: ["*"], enabled: "yes" }, "enabled"],
    ];
    for (const [body, field] of cases) {
      const res = await org.post("/webhooks", body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.error.details.field).toBe(field);
    }
  });

  it("updates, disables and re-enables an endpoint, clearing its failure streak", async () => {
    const org = await newOrg();
    const { id } = await createEndpoint(org, "https://example.com/a");
    await env.DB.prepare("UPDATE webhook_endpoints SET enabled = 0, disabled_reason = 'x', failing_since = '2026-01-01T00:00:00.000Z' WHERE id = ?").bind(id).run();
    const res = await org.patch(`/webhooks/${id}`, { enabled: true, events: ["call.failed"], url: "https://example.com/b" });
    expect(res.body.data).toMatchObject({ enabled: true, disabled_reason: null, failing_since: null, events: ["call.failed"], url: "https://example.com/b" });
    const off = await org.patch(`/webhooks/${id}`, { enabled: false });
    expect(off.body.data).toMatchObject({ enabled: false, disabled_reason: "Disabled through the API" });
    expect((await org.get("/webhooks?enabled=false")).body.data).toHaveLength(1);
  });

  it("rotates the secret and reports the overlap window", async () => {
    const org = await newOrg();
    const { id, secret } = await createEndpoint(org, "https://example.com/a");
    const rotated = await org.post(`/webhooks/${id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.data.secret).not.toBe(secret);
    const expires = Date.parse(rotated.body.data.previous_secret_expires_at);
    expect(expires - Date.now()).toBeGreaterThan(23.9 * 3600_000);
  });

  it("deletes an endpoint with its delivery log", async () => {
    const org = await newOrg();
    const { id } = await createEndpoint(org, "https://example.com/a");
    expect((await org.delete(`/webhooks/${id}`)).body.data).toEqual({ id, deleted: true });
    expect((await org.get(`/webhooks/${id}`)).status).toBe(404);
  });

  it("hides another organization's endpoints and deliveries behind 404 on every /{id} route", async () => {
    const owner = await newOrg();
    const intruder = await newOrg();
    const { id } = await createEndpoint(owner, "https://example.com/a");
    const at = new Date().toISOString();
    const deliveryId = crypto.randomUUID();
    await env.DB.prepare("INSERT INTO events (id, org_id, type, data, created_at) VALUES (?, ?, 'call.ended', '{}', ?)").bind("evt-x-" + deliveryId, owner.orgId, at).run();
    await env.DB.prepare(
      "INSERT INTO webhook_deliveries (id, org_id, endpoint_id, event_id, event_type, status, created_at, updated_at) VALUES (?, ?, ?, ?, 'call.ended', 'failed', ?, ?)",
    )
      .bind(deliveryId, owner.orgId, id, "evt-x-" + deliveryId, at, at)
      .run();
    const range = { since: "2020-01-01T00:00:00Z", until: "2100-01-01T00:00:00Z" };
    const attempts = [
      intruder.get(`/webhooks/${id}`),
      intruder.patch(`/webhooks/${id}`, { enabled: false }),
      intruder.post(`/webhooks/${id}/rotate-secret`),
      intruder.post(`/webhooks/${id}/test`),
      intruder.get(`/webhooks/${id}/deliveries`),
      intruder.get(`/webhooks/${id}/deliveries/${deliveryId}`),
      intruder.post(`/webhooks/${id}/deliveries/${deliveryId}/replay`),
      intruder.post(`/webhooks/${id}/replay`, range),
      intruder.delete(`/webhooks/${id}`),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe("not_found");
    }
    // A delivery id from the owner's org is also invisible under the intruder's own endpoint.
    const own = await createEndpoint(intruder, "https://example.com/b");
    expect((await intruder.get(`/webhooks/${own.id}/deliveries/${deliveryId}`)).status).toBe(404);
    const still = await owner.get(`/webhooks/${id}`);
    expect(still.body.data.enabled).toBe(true);
    expect((await owner.get(`/webhooks/${id}/deliveries/${deliveryId}`)).status).toBe(200);
  });
});
