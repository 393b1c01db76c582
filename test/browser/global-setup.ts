import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import path from "node:path";
import { chromium, type BrowserServer } from "playwright-core";
import type { TestProject } from "vitest/node";
import { createOrganization, freePort, root, startWorker, type Worker } from "../../bench/lib.mjs";
import { startFakes, type Fakes } from "../../bench/voice-fakes.mjs";
import { CHROMIUM_ARGS, CHROMIUM_PATH, SCREENSHOT_DIR, TWILIO_ACCOUNT_SID } from "./config";

/**
 * The browser run's world, started once: the instant voice fakes of bench/voice-fakes.mjs
 * (Deepgram, OpenAI, ElevenLabs, Twilio), `wrangler dev` on a free loopback port with a fresh
 * migrated D1 pointed at them, an organization with an API key, and one Chromium (Debian's) that
 * every scenario connects to. A small control server on loopback lets scenarios, which run in
 * another process, ask the fake Twilio which calls it answered and end them.
 */
export default async function setup(project: TestProject) {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`No Chromium at ${CHROMIUM_PATH}. Install Debian's (as .ci/run does): apt-get install -y --no-install-recommends chromium`);
  }
  rmSync(SCREENSHOT_DIR, { recursive: true, force: true });
  mkdirSync(SCREENSHOT_DIR, { recursive: true });

  const twilioAuthToken = randomBytes(16).toString("hex");
  let fakes: Fakes | undefined;
  let worker: Worker | undefined;
  let control: Server | undefined;
  let browser: BrowserServer | undefined;

  const teardown = async () => {
    await browser?.close().catch(() => {});
    await new Promise((resolve) => (control ? control.close(resolve) : resolve(undefined)));
    if (worker) {
      // What the worker logged is the first place to look when a scenario fails.
      mkdirSync(path.join(root, ".vitest"), { recursive: true });
      writeFileSync(path.join(root, ".vitest", "browser-wrangler.log"), worker.output());
      await worker.stop();
    }
    await fakes?.stop();
  };

  try {
    // Short agent clauses, so a scripted conversation takes a couple of seconds.
    fakes = await startFakes({ twilioAuthToken, ttsClauseMs: 300 });
    control = await startControl(fakes);

    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    worker = await startWorker({
      port,
      vars: {
        PUBLIC_BASE_URL: baseUrl,
        // Simulator calls hang up after 2 s and a campaign dials every 200 ms, so a campaign
        // finishes while a scenario watches.
        SIMULATOR_CALL_SECONDS: "2",
        CAMPAIGN_DIAL_INTERVAL_MS: "200",
        RATE_LIMIT_ENABLED: "false",
        ...fakes.workerVars(TWILIO_ACCOUNT_SID),
      },
    });
    const org = await createOrganization(worker, "Browser tests");

    browser = await chromium.launchServer({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });

    const controlAddress = control.address();
    if (controlAddress === null || typeof controlAddress === "string") throw new Error("the control server has no port");
    project.provide("baseUrl", baseUrl);
    project.provide("adminToken", worker.adminToken);
    project.provide("apiKey", org.apiKey);
    project.provide("controlUrl", `http://127.0.0.1:${controlAddress.port}`);
    project.provide("twilioAuthToken", twilioAuthToken);
    project.provide("browserWsEndpoint", browser.wsEndpoint());
  } catch (error) {
    await teardown();
    // A failed wrangler command (its output is in the message) also carries that output as
    // buffers, which vitest would print byte by byte.
    throw (error as { stderr?: unknown }).stderr ? new Error((error as Error).message) : error;
  }
  return teardown;
}

/**
 * `GET /answered/<call id>` → the fake Twilio's answer for that call (its stream URL and
 * <Parameter>s; waits up to 30 s); `POST /complete/<call id>?seconds=n` → Twilio's `completed`
 * callback for it; `GET /failure` → the first error a fake hit, or null.
 */
function startControl(fakes: Fakes): Promise<Server> {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const answeredMatch = /^\/answered\/([^/]+)$/.exec(url.pathname);
    const completeMatch = /^\/complete\/([^/]+)$/.exec(url.pathname);
    if (req.method === "GET" && answeredMatch) {
      try {
        return reply(200, await fakes.answered(answeredMatch[1]));
      } catch (error) {
        return reply(404, { error: String((error as Error).message) });
      }
    }
    if (req.method === "POST" && completeMatch) {
      const { error } = await fakes.complete(completeMatch[1], Number(url.searchParams.get("seconds") ?? "1"));
      return error ? reply(409, { error }) : reply(200, { completed: completeMatch[1] });
    }
    if (req.method === "GET" && url.pathname === "/failure") return reply(200, { failure: fakes.failure() });
    reply(404, { error: `no control route ${req.method} ${url.pathname}` });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}
