import { createServer, type Server } from "node:http";
import type { Browser, Page } from "playwright-core";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { capture, connectBrowser, eventually, expectCleanConsole, newOrganization, newPage, signIn } from "./helpers";

// Scenario f: an endpoint created in the dashboard, pointed at a tiny receiver on 127.0.0.1 (the
// URL rules admit loopback when SIMULATOR_ENABLED); a test event lands in its delivery log,
// Replay sends it again, and both the receiver and the log see the second attempt.

interface Received {
  id: string;
  headers: Record<string, string>;
  body: string;
}

function startReceiver(): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      received.push({ id: String(req.headers["webhook-id"]), headers: req.headers as Record<string, string>, body });
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("ok");
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks`, received })));
}

/** The delivery log's one row, read after a reload (the log is rendered on the server). */
async function deliveryRow(page: Page) {
  await page.reload();
  const rows = page.getByRole("region", { name: "Delivery log" }).getByRole("row");
  if ((await rows.count()) !== 2) return undefined;
  const cells = await rows.nth(1).getByRole("cell").allInnerTexts();
  return { status: cells[0].split("\n")[0].trim(), attempts: Number(cells[1]), lastResponse: cells[2].split("\n")[0].trim() };
}

describe("webhook delivery replay", () => {
  let browser: Browser;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    browser = await connectBrowser();
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => receiver?.server.close(resolve));
  });

  it("replays a delivery from the log and the receiver gets it again", async () => {
    // An organization of its own: no other scenario's calls or campaigns send events here.
    const org = await newOrganization("Webhook replay");
    const page = await newPage(browser);
    await signIn(page, org.apiKey);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Webhooks" }).click();
    await page.waitForURL("**/app/webhooks");
    await capture(page, "webhook-replay", "list");

    await page.getByLabel("URL", { exact: true }).fill(receiver.url);
    await page.getByRole("button", { name: "Create endpoint" }).click();
    await page.getByRole("heading", { level: 1, name: "Endpoint created" }).waitFor();
    const secret = (await page.locator("#webhook-secret").innerText()).trim();
    expect(secret).toMatch(/^whsec_/);
    await capture(page, "webhook-replay", "secret");
    await page.getByRole("link", { name: "I have copied it: go to the endpoint" }).click();
    await page.getByRole("heading", { level: 1, name: "Webhook endpoint" }).waitFor();
    expect(await page.getByRole("region", { name: "Delivery log" }).innerText()).toContain("No deliveries yet.");
    await capture(page, "webhook-replay", "endpoint");

    await page.getByRole("button", { name: "Send a test event" }).click();
    expect(await page.getByRole("status").first().innerText()).toContain("Test event queued.");
    const first = await eventually("the receiver to get the test event", async () => receiver.received[0]);
    expect(JSON.parse(first.body).event).toBe("webhook.test");
    // Signed with the secret the page showed once: the receiver can trust it.
    expect(() => new Webhook(secret).verify(first.body, first.headers)).not.toThrow();
    const delivered = await eventually("the delivery in the log", async () => {
      const row = await deliveryRow(page);
      return row?.status === "succeeded" ? row : undefined;
    });
    expect(delivered).toEqual({ status: "succeeded", attempts: 1, lastResponse: "HTTP 200" });
    await capture(page, "webhook-replay", "delivered");

    await page.getByRole("button", { name: /^Replay webhook\.test / }).click();
    expect(await page.getByRole("status").first().innerText()).toContain("webhook.test queued again for delivery.");
    const second = await eventually("the receiver to get the replay", async () => receiver.received[1]);
    // The same event again: receivers deduplicate on webhook-id.
    expect(second.id).toBe(first.id);
    expect(second.body).toBe(first.body);
    const replayed = await eventually("the second attempt in the log", async () => {
      const row = await deliveryRow(page);
      return row?.attempts === 2 && row.status === "succeeded" ? row : undefined;
    });
    expect(replayed).toEqual({ status: "succeeded", attempts: 2, lastResponse: "HTTP 200" });
    const log = page.getByRole("region", { name: "Delivery log" });
    await log.getByText("Every attempt").click();
    const attempts = (await log.getByRole("listitem").allInnerTexts()).map((t) => t.trim());
    expect(attempts).toHaveLength(2);
    expect(attempts[0]).toMatch(/^#1 .* · HTTP 200 · \d+ ms$/);
    expect(attempts[1]).toMatch(/^#2 .* · HTTP 200 · \d+ ms$/);
    expect(receiver.received).toHaveLength(2);
    await capture(page, "webhook-replay", "replayed");
    expectCleanConsole(page);
    await page.context().close();
  });
});
