// bench/webhooks: 10,000 events through the whole pipeline on `wrangler dev` (event row → Queue
// dispatch → delivery row → Queue delivery → signed POST) to a receiver on 127.0.0.1, against
// a plain loop of fetch() calls from Node to the same receiver with the same concurrency, in the
// same run. Prints deliveries/s, emit-to-receipt latency p50/p99, and the throughput ratio.
//
//   node bench/webhooks.mjs          (WEBHOOK_EVENTS=2000 and BENCH_PORT=8791 override the defaults)
import http from "node:http";
import { performance } from "node:perf_hooks";
import { createOrganization, startWorker } from "./lib.mjs";

const EVENTS = Number(process.env.WEBHOOK_EVENTS ?? 10_000);
const PORT = Number(process.env.BENCH_PORT ?? 8791);
const CONCURRENCY = 50;

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** A receiver that answers 204 and records, per event id, when it arrived (ms since epoch). */
async function startReceiver() {
  const arrivals = new Map();
  let onArrival = () => {};
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const at = Date.now();
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        if (!arrivals.has(body.id)) arrivals.set(body.id, { at, emittedAt: Date.parse(body.timestamp) });
      } catch {
        // The baseline loop sends the same shape; anything else is ignored.
      }
      res.writeHead(204).end();
      onArrival();
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/hook`,
    arrivals,
    waitFor: (n, timeoutMs) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${arrivals.size}/${n} deliveries arrived in ${timeoutMs} ms`)), timeoutMs);
        onArrival = () => {
          if (arrivals.size >= n) {
            clearTimeout(timer);
            resolve();
          }
        };
        onArrival();
      }),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

async function inParallel(count, concurrency, task) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

async function throughPlatform() {
  const receiver = await startReceiver();
  const worker = await startWorker({ port: PORT });
  try {
    const org = await createOrganization(worker, "Webhook benchmark");
    const headers = { authorization: `Bearer ${org.apiKey}`, "content-type": "application/json" };
    const created = await fetch(`${worker.baseUrl}/api/public/v1/webhooks`, {
      method: "POST",
      headers,
      body: JSON.stringify({ url: receiver.url, events: ["*"] }),
    }).then((r) => r.json());
    const endpointId = created.data.id;
    const started = performance.now();
    await inParallel(EVENTS, CONCURRENCY, async () => {
      const res = await fetch(`${worker.baseUrl}/api/public/v1/webhooks/${endpointId}/test`, { method: "POST", headers });
      if (res.status !== 202) throw new Error(`emit failed: ${res.status} ${await res.text()}`);
    });
    const emitSeconds = (performance.now() - started) / 1000;
    await receiver.waitFor(EVENTS, 30 * 60_000);
    const seconds = (performance.now() - started) / 1000;
    const latencies = [...receiver.arrivals.values()].map((a) => a.at - a.emittedAt).sort((a, b) => a - b);
    return { seconds, emitSeconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
  } finally {
    await worker.stop();
    await receiver.close();
  }
}

/** The floor: Node POSTing the same-sized envelope to the same kind of receiver, no queue, no DB. */
async function plainFetchLoop() {
  const receiver = await startReceiver();
  try {
    const started = performance.now();
    await inParallel(EVENTS, CONCURRENCY, async (i) => {
      const body = JSON.stringify({ id: `evt-${i}`, event: "webhook.test", timestamp: new Date().toISOString(), data: { endpoint_id: "x", message: "This is a test event from Truedy." } });
      const res = await fetch(receiver.url, { method: "POST", headers: { "content-type": "application/json" }, body });
      await res.arrayBuffer();
    });
    return { seconds: (performance.now() - started) / 1000 };
  } finally {
    await receiver.close();
  }
}

const platform = await throughPlatform();
const floor = await plainFetchLoop();
const platformRate = EVENTS / platform.seconds;
const floorRate = EVENTS / floor.seconds;
console.log(`webhooks: ${EVENTS} events, ${CONCURRENCY} concurrent emitters`);
console.log(`  platform (emit → queue → signed POST): ${platformRate.toFixed(0)} deliveries/s (emitting took ${platform.emitSeconds.toFixed(1)} s), emit→receipt p50 ${platform.p50} ms, p99 ${platform.p99} ms`);
console.log(`  baseline (plain fetch loop from Node): ${floorRate.toFixed(0)} deliveries/s`);
console.log(`  ratio platform/baseline: ${(platformRate / floorRate).toFixed(3)}`);
