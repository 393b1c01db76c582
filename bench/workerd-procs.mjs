// The workerd processes of a `wrangler dev` that startWorker (bench/lib.mjs) ran, found in /proc
// (Linux only; none elsewhere), and their resident memory.
import { existsSync, readdirSync, readFileSync } from "node:fs";

/**
 * The workerd processes of the worker started on `port` by this process: below the `wrangler dev`
 * whose command line names the build directory, bench/.data/build-<port>-<our pid>, or (engine
 * "workerd") started by this process itself through Miniflare.
 */
export function workerdPids(port) {
  if (!existsSync("/proc/self/stat")) return [];
  const procs = [];
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      procs.push({ pid: Number(pid), ppid: Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]), cmd: readFileSync(`/proc/${pid}/cmdline`, "utf8") });
    } catch {
      // Gone meanwhile.
    }
  }
  const ours = new Set(
    procs.filter((p) => (p.cmd.includes(`build-${port}-${process.pid}`) && p.cmd.includes("wrangler")) || (p.ppid === process.pid && p.cmd.includes("workerd"))).map((p) => p.pid),
  );
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs) if (!ours.has(p.pid) && ours.has(p.ppid)) grew = Boolean(ours.add(p.pid));
  }
  return procs.filter((p) => ours.has(p.pid) && p.cmd.includes("workerd")).map((p) => p.pid);
}

/** VmRSS of each process in MiB (0 for one that has gone). */
export function rssMiB(pids) {
  return pids.map((pid) => {
    try {
      const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
      return kb ? Number(kb) / 1024 : 0;
    } catch {
      return 0;
    }
  });
}

/** Open file descriptors of each process (0 for one that has gone or cannot be read). */
export function openFds(pids) {
  return pids.map((pid) => {
    try {
      return readdirSync(`/proc/${pid}/fd`).length;
    } catch {
      return 0;
    }
  });
}

/** CPU time (user + system) each process has used so far, in seconds (0 for one that has gone). */
export function cpuSeconds(pids) {
  return pids.map((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // utime and stime are fields 14 and 15 of /proc/<pid>/stat, in clock ticks (100 a second on Linux).
      return (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      return 0;
    }
  });
}
