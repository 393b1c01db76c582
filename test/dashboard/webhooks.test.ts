import { describe, expect, it } from "vitest";
import type { ApiClient } from "../helpers/api";
import { createEndpoint, eventually, receivedBy, receiverUrl } from "../webhooks/helpers";
import { newDashboard, textOf } from "./helpers";

async function deliveriesOf(org: ApiClient, endpointId: string) {
  return (await org.get(`/webhooks/${endpointId}/deliveries`)).body.data as { id: string; status: string; event: string; attempts: { attempt: number; response_status: number | null }[] }[];
}

describe("dashboard webhook pages", () => {
  it("lists endpoints from the API", async () => {
    const { org, browser } = await newDashboard();
    await createEndpoint(org, receiverUrl("ok").url, ["call.ended", "batch.completed"]);
    const page = await browser.page("/app/webhooks");
    expect(page.status).toBe(200);
    const text = textOf(page.text);
    expect(text).toContain("/receiver/ok/");
    expect(text).toContain("call.ended, batch.completed");
    expect(text).toContain("enabled");
  });

  it("creates an endpoint, shows its secret once, edits and deletes it", async () => {
    const { org, browser } = await newDashboard();
    await browser.page("/app/webhooks");
    const { url } = receiverUrl("ok");

    const noEvents = await browser.post("/app/webhooks", { url, enabled: "on" });
    expect(noEvents.status).toBe(422);
    expect(textOf(noEvents.text)).toContain("Choose at least one event");
    const badUrl = await browser.post("/app/webhooks", { url: "ftp://example.com/hook", events: "call.ended", enabled: "on" });
    expect(badUrl.status).toBe(422);
    expect(badUrl.text).toMatch(/id="endpoint-url"[^>]*aria-invalid="true"/);

    const created = await browser.post("/app/webhooks", { url, events: ["call.ended", "call.failed"], description: "CRM sync", enabled: "on" });
    expect(created.status).toBe(200);
    const secret = created.text.match(/whsec_[A-Za-z0-9+/=_-]+/)?.[0];
    expect(secret).toBeTruthy();
    expect(textOf(created.text)).toContain("shown only this once");
    const [endpoint] = (await org.get("/webhooks")).body.data;
    expect(endpoint).toMatchObject({ url, events: ["call.ended", "call.failed"], description: "CRM sync", enabled: true });

    const detail = await browser.page(`/app/webhooks/${endpoint.id}`);
    expect(detail.status).toBe(200);
    expect(detail.text).not.toContain(secret!);

    const edited = await browser.post(`/app/webhooks/${endpoint.id}`, { url, events: "*", description: "" });
    expect(edited.status).toBe(303);
    expect((await org.get(`/webhooks/${endpoint.id}`)).body.data).toMatchObject({ events: ["*"], description: null, enabled: false });

    const rotated = await browser.post(`/app/webhooks/${endpoint.id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    const newSecret = rotated.text.match(/whsec_[A-Za-z0-9+/=_-]+/)?.[0];
    expect(newSecret).toBeTruthy();
    expect(newSecret).not.toBe(secret);
    expect(textOf(rotated.text)).toContain("signed with both this secret and the previous one");

    const deleted = await browser.post(`/app/webhooks/${endpoint.id}/delete`);
    expect(deleted.status).toBe(303);
    expect((await org.get(`/webhooks/${endpoint.id}`)).status).toBe(404);
  });

  it("shows the delivery log, and Replay sends a delivery again as a new attempt", async () => {
    const { org, browser } = await newDashboard();
    const { url, tag } = receiverUrl("ok");
    const { id } = await createEndpoint(org, url);
    await browser.page(`/app/webhooks/${id}`);
    const test = await browser.post(`/app/webhooks/${id}/test`);
    expect(test.status).toBe(303);
    await receivedBy(tag);
    const [delivered] = await eventually(async () => {
      const list = await deliveriesOf(org, id);
      return list[0]?.status === "succeeded" && list;
    }, "the test delivery to succeed");

    const log = await browser.page(`/app/webhooks/${id}`);
    const text = textOf(log.text);
    expect(text).toContain("Test event queued.");
    expect(text).toMatch(/webhook\.test \S+ succeeded 1 HTTP 204/);
    expect(text).toContain("#1");
    const replayAction = `/app/webhooks/${id}/deliveries/${delivered.id}/replay`;
    expect(log.text).toContain(`action="${replayAction}"`);

    const replay = await browser.post(replayAction);
    expect(replay.status).toBe(303);
    expect(textOf((await browser.page(`/app/webhooks/${id}`)).text)).toContain("webhook.test queued again for delivery.");
    await receivedBy(tag, 2);
    const again = await eventually(async () => {
      const [d] = await deliveriesOf(org, id);
      return d.status === "succeeded" && d.attempts.length === 2 && d;
    }, "the replayed attempt");
    expect(again.id).toBe(delivered.id);
    expect(again.attempts.map((a) => a.attempt)).toEqual([1, 2]);
    expect(textOf((await browser.page(`/app/webhooks/${id}`)).text)).toMatch(/webhook\.test \S+ succeeded 2 HTTP 204/);
    const failedOnly = textOf((await browser.page(`/app/webhooks/${id}?status=failed`)).text);
    expect(failedOnly).toContain("No deliveries failed yet.");
    expect(failedOnly).not.toMatch(/webhook\.test \S+ succeeded/);
  });

  it("replays a time range and refuses in plain words while the endpoint is disabled", async () => {
    const { org, browser } = await newDashboard();
    const { url } = receiverUrl("ok");
    const { id } = await createEndpoint(org, url);
    await browser.page(`/app/webhooks/${id}`);
    const since = new Date(Date.now() - 3_600_000).toISOString().slice(0, 16);
    const until = new Date(Date.now() + 3_600_000).toISOString().slice(0, 16);

    const backwards = await browser.post(`/app/webhooks/${id}/replay`, { since: until, until: since });
    expect(backwards.status).toBe(422);
    expect(textOf(backwards.text)).toContain("Must be after since");
    const malformed = await browser.post(`/app/webhooks/${id}/replay`, { since: "yesterday", until });
    expect(malformed.status).toBe(422);
    expect(textOf(malformed.text)).toContain("Use a date and time such as");

    const replayed = await browser.post(`/app/webhooks/${id}/replay`, { since, until });
    expect(replayed.status).toBe(303);
    expect(textOf((await browser.page(`/app/webhooks/${id}`)).text)).toMatch(/\d+ deliver(y|ies) queued\./);

    await org.patch(`/webhooks/${id}`, { enabled: false });
    const blocked = await browser.post(`/app/webhooks/${id}/replay`, { since, until });
    expect(blocked.status).toBe(409);
    expect(textOf(blocked.text)).toContain("The endpoint is disabled; re-enable it");
  });

  it("answers 404 for another organization's endpoint on every page and form", async () => {
    const owner = await newDashboard("Owner");
    const { id } = await createEndpoint(owner.org, receiverUrl("ok").url);
    const { browser } = await newDashboard("Intruder");
    await browser.page("/app/webhooks");
    expect((await browser.get(`/app/webhooks/${id}`)).status).toBe(404);
    const range = { since: "2026-01-01T00:00", until: "2026-01-02T00:00" };
    const posts: [string, Record<string, string | string[]>][] = [
      [`/app/webhooks/${id}`, { url: "https://example.com/x", events: "*", enabled: "on" }],
      [`/app/webhooks/${id}/delete`, {}],
      [`/app/webhooks/${id}/rotate-secret`, {}],
      [`/app/webhooks/${id}/test`, {}],
      [`/app/webhooks/${id}/deliveries/whatever/replay`, {}],
      [`/app/webhooks/${id}/replay`, range],
    ];
    for (const [path, form] of posts) expect((await browser.post(path, form)).status, path).toBe(404);
    expect((await owner.org.get(`/webhooks/${id}`)).body.data.enabled).toBe(true);
  });

  it("refuses every form post without the CSRF token", async () => {
    const { org, browser } = await newDashboard();
    const { id } = await createEndpoint(org, receiverUrl("ok").url);
    await browser.page("/app/webhooks");
    const paths = ["/app/webhooks", `/app/webhooks/${id}`, `/app/webhooks/${id}/delete`, `/app/webhooks/${id}/rotate-secret`, `/app/webhooks/${id}/test`, `/app/webhooks/${id}/deliveries/x/replay`, `/app/webhooks/${id}/replay`];
    for (const path of paths) {
      const res = await browser.post(path, { url: "https://example.com/x", events: "*", since: "2026-01-01T00:00", until: "2026-01-02T00:00" }, { csrf: false });
      expect(res.status, path).toBe(403);
    }
    expect((await org.get("/webhooks")).body.pagination.total).toBe(1);
    expect((await org.get(`/webhooks/${id}/deliveries`)).body.pagination.total).toBe(0);
  });
});
