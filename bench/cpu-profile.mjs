// A CPU profile of the worker's isolate over the DevTools protocol that workerd serves on its
// inspector port (startWorker's `inspectorPort`, engine "workerd"): where the worker's own
// JavaScript spends its time under load. Time inside workerd's native code (SQLite, sockets) shows
// as the JavaScript that called it, or as "(program)".
import { writeFileSync } from "node:fs";
import WebSocket from "ws";

/** Starts profiling the worker named `workerName`; `stop(file)` writes the .cpuprofile and returns the hottest functions. */
export async function startCpuProfile(inspectorPort, workerName = "truedy") {
  const targets = await fetch(`http://127.0.0.1:${inspectorPort}/json/list`).then((r) => r.json());
  const target = targets.find((t) => String(t.id ?? "").includes(workerName) || String(t.title ?? "").includes(workerName)) ?? targets[0];
  if (!target?.webSocketDebuggerUrl) throw new Error(`no inspector target for ${workerName} on port ${inspectorPort}: ${JSON.stringify(targets)}`);
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  let nextId = 0;
  const pending = new Map();
  ws.on("message", (data) => {
    const message = JSON.parse(String(data));
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.error) waiter.reject(new Error(`${waiter.method}: ${JSON.stringify(message.error)}`));
    else waiter.resolve(message.result);
  });
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = ++nextId;
      pending.set(id, { resolve, reject, method });
      ws.send(JSON.stringify({ id, method, params }));
    });
  await send("Profiler.enable");
  // 1 ms samples: fine enough for request handlers, light enough not to skew the load much.
  await send("Profiler.setSamplingInterval", { interval: 1000 });
  await send("Profiler.start");
  return {
    async stop(file) {
      const { profile } = await send("Profiler.stop");
      ws.close();
      writeFileSync(file, JSON.stringify(profile));
      return hottest(profile);
    },
  };
}

/** Self time per function (name, file:line), highest first, with its share of all samples. */
export function hottest(profile, count = 15) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const intervals = profile.timeDeltas ?? [];
  const selfMs = new Map();
  let totalMs = 0;
  profile.samples.forEach((id, i) => {
    const ms = (intervals[i + 1] ?? intervals[i] ?? 0) / 1000;
    const frame = nodes.get(id).callFrame;
    const file = frame.url ? frame.url.slice(frame.url.lastIndexOf("/") + 1) : "";
    const key = `${frame.functionName || "(anonymous)"} ${file}${file ? `:${frame.lineNumber + 1}` : ""}`;
    selfMs.set(key, (selfMs.get(key) ?? 0) + ms);
    totalMs += ms;
  });
  return [...selfMs.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([fn, ms]) => ({ fn, ms: Math.round(ms), share: totalMs ? ms / totalMs : 0 }));
}
