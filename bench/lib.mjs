// Shared by the benchmarks: runs a worker on 127.0.0.1 with a fresh local D1 (migrated), offline
// and without telemetry, under `wrangler dev` or directly on workerd through Miniflare, and
// creates organizations through the admin bootstrap endpoint.
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, cpSync, writeFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export const root = path.resolve(import.meta.dirname, "..");
const wranglerBin = path.join(root, "node_modules/wrangler/bin/wrangler.js");

const wranglerEnv = {
  ...process.env,
  CI: "true",
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_HIDE_BANNER: "true",
  XDG_CONFIG_HOME: path.join(root, ".xdg"),
};

/** A port nobody is listening on (the inspector, so parallel runs do not fight over 9229; the browser tests' worker). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const wrangler = (args) => execFileSync(process.execPath, [wranglerBin, ...args], { cwd: root, env: wranglerEnv, stdio: ["ignore", "pipe", "pipe"] });

/**
 * Bundles the worker once into `outDir`, with a copy of its config beside it. `wrangler dev` then
 * serves that bundle with `--no-bundle` and watches only these copies, so people editing the
 * sources (or wrangler.toml) during a run cannot restart the worker in the middle of a measurement.
 */
function buildWorker(configPath, outDir) {
  wrangler(["deploy", "--dry-run", "--outdir", outDir, "--config", configPath]);
  const entry = readdirSync(outDir).find((f) => f.endsWith(".js"));
  if (!entry) throw new Error(`wrangler produced no bundle in ${outDir}`);
  const configCopy = path.join(outDir, "wrangler.toml");
  copyFileSync(configPath, configCopy);
  // `[assets] directory` is relative to the config, so the static files are copied beside the copy.
  const assets = /^\[assets\][^[]*?^directory\s*=\s*"([^"]+)"/m.exec(readFileSync(configPath, "utf8"))?.[1];
  if (assets) cpSync(path.resolve(path.dirname(configPath), assets), path.resolve(outDir, assets), { recursive: true });
  return { entry: path.join(outDir, entry), config: configCopy };
}

/**
 * Starts the worker on 127.0.0.1:`port`. By default against a fresh, migrated local D1 in
 * bench/.data/; `persistTo` shares another worker's data instead (then `migrate: false`, and stop()
 * leaves it in place). `config` picks another wrangler config, relative to the repository. Rate
 * limiting is off (a benchmark is a flood by design). `stop()` ends the worker and removes what
 * this call created.
 *
 * `engine: "wrangler"` (default) runs `wrangler dev`, as a developer would. `engine: "workerd"`
 * serves the same bundle and bindings straight from workerd through Miniflare, without wrangler
 * dev's front proxy: under sustained load that proxy answers 503 ("Your worker restarted
 * mid-request"), resets connections and leaks sockets, which would be counted as our errors.
 * With it, `inspectorPort` opens workerd's DevTools inspector there (bench/cpu-profile.mjs).
 */
export async function startWorker({ port = 8788, config = "wrangler.toml", persistTo, migrate = true, vars = {}, readyTimeoutMs = 90_000, engine = "wrangler", inspectorPort } = {}) {
  // A worker left running on this port would answer the readiness probe instead of ours.
  await new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", () => reject(new Error(`port ${port} is already in use; stop whatever listens there (an earlier benchmark?)`)));
    probe.listen(port, "127.0.0.1", () => probe.close(resolve));
  });
  const dataRoot = path.join(root, "bench", ".data");
  const buildDir = path.join(dataRoot, `build-${port}-${process.pid}`);
  const ownsData = persistTo === undefined;
  const dataDir = persistTo ?? path.join(dataRoot, `state-${port}-${process.pid}`);
  const cleanUp = (keepData) => {
    rmSync(buildDir, { recursive: true, force: true });
    if (ownsData && !keepData) rmSync(dataDir, { recursive: true, force: true });
  };
  cleanUp(false);
  mkdirSync(dataDir, { recursive: true });
  const configPath = path.resolve(root, config);
  let build;
  try {
    if (migrate) wrangler(["d1", "migrations", "apply", "DB", "--local", "--persist-to", dataDir, "--config", configPath]);
    build = buildWorker(configPath, buildDir);
  } catch (error) {
    cleanUp(false);
    throw error;
  }

  const adminToken = randomBytes(24).toString("hex");
  const allVars = {
    ADMIN_TOKEN: adminToken,
    ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    RATE_LIMIT_ENABLED: "false",
    ...vars,
  };
  if (engine === "workerd") return startOnWorkerd({ port, build, dataDir, allVars, adminToken, cleanUp, inspectorPort });
  const envFile = path.join(dataDir, "bench.env");
  writeFileSync(envFile, Object.entries(allVars).map(([name, value]) => `${name}=${value}`).join("\n") + "\n");
  const args = [
    wranglerBin,
    "dev",
    build.entry,
    "--no-bundle",
    "--config",
    build.config,
    "--local",
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--inspector-ip",
    "127.0.0.1",
    "--inspector-port",
    String(await freePort()),
    "--persist-to",
    dataDir,
    "--show-interactive-dev-session=false",
    "--log-level",
    "warn",
    // Our own env file, so a developer's .dev.vars (loaded from the working directory) cannot
    // override the benchmark's admin token and keys.
    "--env-file",
    envFile,
    ...Object.entries(allVars).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
  ];
  const child = spawn(process.execPath, args, { cwd: root, env: wranglerEnv, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let output = "";
  const keep = (chunk) => {
    output = (output + chunk).slice(-20_000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  let hasExited = false;
  exited.then(() => {
    hasExited = true;
  });

  const stop = async ({ keepData = false } = {}) => {
    if (!hasExited) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // Already gone.
      }
      const done = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
      if (!done) {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // Already gone.
        }
        await exited;
      }
    }
    cleanUp(keepData);
  };

  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + readyTimeoutMs;
  while (true) {
    if (hasExited) {
      await stop();
      throw new Error(`wrangler dev exited before it was ready:\n${output}`);
    }
    try {
      await fetch(baseUrl);
      break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`wrangler dev was not ready after ${readyTimeoutMs} ms:\n${output}`);
    }
    await sleep(250);
  }
  return { baseUrl, adminToken, persistTo: dataDir, stop, output: () => output };
}

/** The bundle of buildWorker on workerd through Miniflare, with the bindings wrangler would give it. */
async function startOnWorkerd({ port, build, dataDir, allVars, adminToken, cleanUp, inspectorPort }) {
  const { Miniflare } = await import("miniflare");
  const { unstable_getMiniflareWorkerOptions } = await import("wrangler");
  const { workerOptions } = unstable_getMiniflareWorkerOptions(build.config);
  let output = "";
  const keep = (chunk) => {
    output = (output + chunk).slice(-20_000);
  };
  const mf = new Miniflare({
    host: "127.0.0.1",
    port,
    inspectorPort,
    // Where `wrangler d1 migrations apply --persist-to dataDir` put the database.
    defaultPersistRoot: path.join(dataDir, "v3"),
    handleRuntimeStdio(stdout, stderr) {
      stdout.on("data", keep);
      stderr.on("data", keep);
    },
    workers: [{ ...workerOptions, name: "truedy", modules: true, scriptPath: build.entry, bindings: { ...workerOptions.bindings, ...allVars } }],
  });
  try {
    await mf.ready;
  } catch (error) {
    cleanUp(false);
    throw error;
  }
  const stop = async ({ keepData = false } = {}) => {
    await mf.dispose().catch(() => {});
    cleanUp(keepData);
  };
  return { baseUrl: `http://127.0.0.1:${port}`, adminToken, persistTo: dataDir, stop, output: () => output, inspectorPort };
}

/** `POST /api/admin/v1/organizations` → `{ id, apiKey }`. */
export async function createOrganization(worker, name = "Benchmark org") {
  const res = await fetch(`${worker.baseUrl}/api/admin/v1/organizations`, {
    method: "POST",
    headers: { authorization: `Bearer ${worker.adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ name }),
  });
  const body = await res.json();
  if (res.status !== 201) throw new Error(`creating an organization failed: ${res.status} ${JSON.stringify(body)}`);
  return { id: body.data.id, apiKey: body.data.api_key };
}
