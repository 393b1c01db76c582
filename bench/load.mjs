// bench/load: one local workerd (fresh D1; served straight by workerd through Miniflare, or by
// `wrangler dev` with LOAD_ENGINE=wrangler) under everything at once for DURATION_SECONDS:
//   1. API traffic at a steady API_RATE requests/s (open loop: each request leaves on its own
//      schedule, whatever the earlier ones are doing), a fixed mix of list and by-id reads,
//      contact creates, simulator calls placed and read, and agent updates;
//   2. a simulator campaign of a few thousand contacts whose calling window closes about when
//      the run ends, so it dials about DIALS_PER_S a second (fast pacing: 10 caller IDs,
//      CAMPAIGN_DIAL_INTERVAL_MS=100);
//   3. LIVE_CALLS live Twilio calls at all times (the fake providers of bench/voice-fakes.mjs,
//      the Media Streams caller of bench/twilio-caller.mjs), each CALL_SECONDS long, speaking
//      whenever the agent has finished its turn; a new call starts as soon as one ends.
// The baseline, in the same run and on the same worker: the same API mix at the same rate alone
// for BASELINE_SECONDS before the mixed load.
//
// Prints API requests/s and p50/p99 per kind (and the ratio of the mixed-load figures to the
// API-alone ones), errors by kind, campaign dials/s and completion, live-call turns with the
// platform's turn overhead p99, and workerd's resident memory (VmRSS from /proc every 2 s: after
// seeding, peak, end). Exits 1 when any error was seen: a non-2xx or failed request, a call that
// failed or ended provider_error/carrier_error, a campaign contact that failed, a live call the
// platform cut short or a reply that never came.
//
//   node bench/load.mjs [--record]   (--record appends a row to bench/RESULTS.md; LOAD_NOTES adds
//                                     a note to it. DURATION_SECONDS=300, BASELINE_SECONDS=20,
//                                     API_RATE=10, DIALS_PER_S=5, LIVE_CALLS=4, CALL_SECONDS=20,
//                                     BENCH_PORT=8800 override the defaults; LOAD_ENGINE=wrangler runs
//                                     it under `wrangler dev` instead, whose front proxy fails under
//                                     this load (see startWorker); LOAD_WRANGLER_LOG=<file> keeps the
//                                     tail of the worker's output; LOAD_PROFILE=<file> writes a CPU
//                                     profile of the worker during the mixed load, .cpuprofile for
//                                     Chrome DevTools, and prints its hottest functions)
import { randomBytes } from "node:crypto";
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CITIES, localMinutes } from "./calling-day.mjs";
import { startCpuProfile } from "./cpu-profile.mjs";
import { createOrganization, freePort, root, startWorker } from "./lib.mjs";
import { TwilioMediaStream } from "./twilio-caller.mjs";
import { FRAME_MS, silenceFrame, speechFrames } from "./voice-audio.mjs";
import { startFakes } from "./voice-fakes.mjs";
import { cpuSeconds, openFds, rssMiB, workerdPids } from "./workerd-procs.mjs";

const DURATION_SECONDS = Number(process.env.DURATION_SECONDS ?? 300);
const BASELINE_SECONDS = Number(process.env.BASELINE_SECONDS ?? 20);
const API_RATE = Number(process.env.API_RATE ?? 10);
const DIALS_PER_S = Number(process.env.DIALS_PER_S ?? 5);
const LIVE_CALLS = Number(process.env.LIVE_CALLS ?? 4);
const CALL_SECONDS = Number(process.env.CALL_SECONDS ?? 20);
const PORT = Number(process.env.BENCH_PORT ?? 8800);
const ENGINE = process.env.LOAD_ENGINE ?? "workerd";
if (!["workerd", "wrangler"].includes(ENGINE)) throw new Error('LOAD_ENGINE must be "workerd" or "wrangler"');
const PROFILE = process.env.LOAD_PROFILE;
if (PROFILE && ENGINE !== "workerd") throw new Error("LOAD_PROFILE needs LOAD_ENGINE=workerd (wrangler dev keeps its own inspector)");
const RECORD = process.argv.includes("--record");
for (const [name, value] of Object.entries({ DURATION_SECONDS, BASELINE_SECONDS, API_RATE, DIALS_PER_S, CALL_SECONDS })) {
  if (!(value > 0)) throw new Error(`${name} must be a positive number`);
}
if (!(Number.isInteger(LIVE_CALLS) && LIVE_CALLS >= 0)) throw new Error("LIVE_CALLS must be a whole number ≥ 0");

const CAMPAIGN_NUMBERS = 10;
/** Seconds an answered simulator call lasts (campaign and API calls alike). */
const SIMULATOR_TALK_SECONDS = 2;
const API_FOLDER_SIZE = 2000;
const TWILIO_ACCOUNT_SID = `AC${"0".repeat(32)}`;
const TWILIO_AUTH_TOKEN = randomBytes(16).toString("hex");
/** Audio per TTS clause: about one agent turn every 2.5 s of a live call. */
const TTS_CLAUSE_MS = 1000;
const SPEECH = speechFrames(600 / FRAME_MS).map((f) => f.toString("base64"));
const SILENCE = silenceFrame().toString("base64");
/** The caller speaks once the agent's last mark came and no audio followed for this long. */
const QUIET_BEFORE_SPEAKING_MS = 300;
/** A reply that has not begun this long after the caller stopped counts as missing (an error). */
const REPLY_TIMEOUT_MS = 5000;
const ENDED = ["completed", "failed", "cancelled"];

const percentile = (values, p) => {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
};
const ms = (v) => (Number.isFinite(v) ? `${v.toFixed(0)} ms` : "–");
/** A failed fetch's reason: undici's "fetch failed" says nothing without its cause. */
const describe = (error) => `${error}${error?.cause ? ` (${error.cause.code ?? error.cause.message ?? error.cause})` : ""}`;
const ratio = (a, b) => (Number.isFinite(a / b) ? (a / b).toFixed(2) : "n/a");
const load = () => loadavg().map((l) => l.toFixed(2)).join(" ");

// ---------------------------------------------------------------------------------------------
// Where the campaign calls: a city inside its calling day (quiet hours 08:00–21:00 local) for the
// whole run, so the campaign's window can be "08:00 until the run ends" in that city's zone.

const neededMinutes = (BASELINE_SECONDS + DURATION_SECONDS) / 60 + 5;
const city = CITIES.find((c) => localMinutes(c.zone) >= 8 * 60 && localMinutes(c.zone) + neededMinutes < 21 * 60);
if (!city) throw new Error(`no city in bench/calling-day.mjs stays inside its 08:00–21:00 calling day for the next ${neededMinutes.toFixed(0)} minutes`);
const CAMPAIGN_CONTACTS = Math.round(DIALS_PER_S * DURATION_SECONDS);
// Every number ends in 1: the simulator answers it (…0002–…0005 would ring out, be busy, …).
const campaignPhone = (i) => city.phone(i * 10 + 1);

/**
 * The campaign's end_time (HH:MM in the city's zone): the last whole minute before the run ends,
 * or the next one when that leaves under three quarters of the run (short runs); and the seconds
 * of window left from now.
 */
function campaignWindowEnd() {
  const now = new Date();
  const nowMinutes = localMinutes(city.zone, now) + now.getSeconds() / 60;
  let end = Math.floor(nowMinutes + DURATION_SECONDS / 60);
  if ((end - nowMinutes) * 60 < 0.75 * DURATION_SECONDS) end = Math.ceil(nowMinutes + DURATION_SECONDS / 60);
  const hhmm = `${String(Math.floor(end / 60)).padStart(2, "0")}:${String(end % 60).padStart(2, "0")}`;
  return { hhmm, seconds: (end - nowMinutes) * 60 };
}

// ---------------------------------------------------------------------------------------------
// Setup.

const fakes = await startFakes({ twilioAuthToken: TWILIO_AUTH_TOKEN, ttsClauseMs: TTS_CLAUSE_MS });
let worker;
try {
  worker = await startWorker({
    port: PORT,
    engine: ENGINE,
    inspectorPort: PROFILE ? await freePort() : undefined,
    vars: {
      PUBLIC_BASE_URL: `http://127.0.0.1:${PORT}`,
      SIMULATOR_CALL_SECONDS: String(SIMULATOR_TALK_SECONDS),
      CAMPAIGN_DIAL_INTERVAL_MS: "100",
      ...fakes.workerVars(TWILIO_ACCOUNT_SID),
    },
  });
} catch (error) {
  await fakes.stop();
  throw error;
}

/**
 * Memory of the worker's workerd processes, sampled every 2 s from now on. A new set of pids
 * means workerd was restarted (wrangler dev restarts it when it dies): counted as an error.
 */
const memory = { pids: workerdPids(PORT), samples: [], restarts: 0 };
const sampleMemory = () => {
  const pids = workerdPids(PORT);
  if (pids.join() !== memory.pids.join()) {
    memory.restarts++;
    memory.pids = pids;
  }
  const total = rssMiB(memory.pids).reduce((a, b) => a + b, 0);
  // wrangler dev's proxy workerd has been seen to keep sockets in CLOSE-WAIT until it runs out of descriptors.
  const fds = Math.max(0, ...openFds(memory.pids));
  memory.samples.push({ at: performance.now(), total, fds });
  return total;
};
const memoryTimer = setInterval(sampleMemory, 2000);

let auth;
/** The setup's and the load's own bookkeeping calls (not part of the measured mix): must succeed. */
async function api(method, apiPath, body) {
  const res = await fetch(`${worker.baseUrl}/api/public/v1${apiPath}`, {
    method,
    headers: { authorization: `Bearer ${auth}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    // An overloaded `wrangler dev` can hold a request for minutes: the run must still end.
    signal: AbortSignal.timeout(60_000),
  });
  const json = await res.json();
  if (res.status >= 300) throw new Error(`${method} ${apiPath}: ${res.status} ${JSON.stringify(json).slice(0, 500)}`);
  return json;
}

async function importFolder(name, phones) {
  const folder = (await api("POST", "/contacts/folders", { name })).data;
  const form = new FormData();
  form.set("file", new Blob([`phone,first_name\n${phones.map((p, i) => `${p},Contact ${i}`).join("\n")}\n`], { type: "text/csv" }), "contacts.csv");
  form.set("folder_id", folder.id);
  const imported = await fetch(`${worker.baseUrl}/api/public/v1/contacts/import`, { method: "POST", headers: { authorization: `Bearer ${auth}` }, body: form }).then((r) => r.json());
  if (imported.data?.imported !== phones.length) throw new Error(`importing ${name}: ${JSON.stringify(imported).slice(0, 500)}`);
  return folder;
}

async function seed() {
  const org = await createOrganization(worker, "Load benchmark");
  auth = org.apiKey;
  const admin = { authorization: `Bearer ${worker.adminToken}`, "content-type": "application/json" };
  const patched = await fetch(`${worker.baseUrl}/api/admin/v1/organizations/${org.id}`, { method: "PATCH", headers: admin, body: JSON.stringify({ max_concurrent_calls: 1000 }) });
  if (!patched.ok) throw new Error(`raising the org's call limit: ${patched.status} ${await patched.text()}`);

  const voice = "01900000-0000-7000-8000-000000000001";
  // The API mix's agent: reads, updates and simulator calls from one simulator caller ID.
  const apiAgent = (await api("POST", "/agents", { name: "Load API agent", voice_id: voice, system_prompt: "Hi {{first_name}}" })).data;
  const [apiNumber] = (await api("POST", "/telephony/numbers/search", { area_code: "628", page_size: 1 })).data;
  const apiNumberRow = (await api("POST", "/telephony/numbers/purchase", { phone_number: apiNumber.phone_number })).data;
  await api("POST", "/telephony/numbers/assign", { number_id: apiNumberRow.id, agent_id: apiAgent.id, assignment_type: "outbound" });

  // The campaign's agent and caller IDs (simulator).
  const campaignAgent = (await api("POST", "/agents", { name: "Load campaign agent", voice_id: voice, system_prompt: "Hi {{first_name}}" })).data;
  for (const available of (await api("POST", "/telephony/numbers/search", { area_code: "415", page_size: CAMPAIGN_NUMBERS })).data.slice(0, CAMPAIGN_NUMBERS)) {
    const number = (await api("POST", "/telephony/numbers/purchase", { phone_number: available.phone_number })).data;
    await api("POST", "/telephony/numbers/assign", { number_id: number.id, agent_id: campaignAgent.id, assignment_type: "outbound" });
  }

  // The live calls' agent, as bench/voice configures it, on a Twilio number the fake Twilio sells.
  const voiceAgent = (
    await api("POST", "/agents", {
      name: "Load voice agent",
      voice_id: voice,
      system_prompt: "You are Maya, a receptionist. The caller is {{first_name}}.",
      greeting: "Hello {{first_name}}, this is Maya.",
      inactivity_timeout: 60,
      max_duration: 600,
      join_timeout: 30,
      stt: { provider: "deepgram", model: "nova-3", endpointing_ms: 10 },
    })
  ).data;
  const twilioNumber = (await api("POST", "/telephony/numbers/purchase", { phone_number: "+13125550100", provider: "twilio" })).data;
  await api("POST", "/telephony/numbers/assign", { number_id: twilioNumber.id, agent_id: voiceAgent.id, assignment_type: "outbound" });

  const apiFolder = await importFolder("Load API reads", Array.from({ length: API_FOLDER_SIZE }, (_, i) => `+1415${3_000_000 + i}`));
  const contactIds = [];
  for (let offset = 0; offset < 500; offset += 100) {
    contactIds.push(...(await api("GET", `/contacts?folder_id=${apiFolder.id}&limit=100&offset=${offset}`)).data.map((c) => c.id));
  }
  const postFolder = (await api("POST", "/contacts/folders", { name: "Load API creates" })).data;
  const campaignFolder = await importFolder("Load campaign", Array.from({ length: CAMPAIGN_CONTACTS }, (_, i) => campaignPhone(i)));
  return { apiAgent, campaignAgent, voiceAgent, apiFolder, postFolder, campaignFolder, contactIds };
}

// ---------------------------------------------------------------------------------------------
// 1. The API mix.

/** One pass of the mix (20 requests); the driver walks it in order, so every window gets the same blend. */
function apiMix(s) {
  const pick = (list) => list[Math.floor(Math.random() * list.length)];
  let contactNumber = 0;
  let calleeNumber = 0;
  const kinds = {
    "GET /agents": () => ["GET", "/agents?limit=20"],
    "GET /agents/{id}": () => ["GET", `/agents/${s.apiAgent.id}`],
    "PATCH /agents/{id}": () => ["PATCH", `/agents/${s.apiAgent.id}`, { name: `Load API agent ${Date.now()}` }],
    "GET /contacts": () => ["GET", `/contacts?folder_id=${s.apiFolder.id}&limit=50&offset=${50 * Math.floor(Math.random() * (API_FOLDER_SIZE / 50))}`],
    "GET /contacts/{id}": () => ["GET", `/contacts/${pick(s.contactIds)}`],
    "POST /contacts": () => ["POST", "/contacts", { folder_id: s.postFolder.id, phone_number: `+1628${2_000_000 + contactNumber++}`, first_name: "Load" }],
    "GET /calls": () => ["GET", "/calls?limit=20"],
    // Numbers ending in 1–9999 past …0005: the simulator answers them.
    "POST /calls": () => ["POST", "/calls", { agent_id: s.apiAgent.id, phone_number: `+1628555${String(1000 + (calleeNumber++ % 9000)).padStart(4, "0")}` }],
    "GET /calls/{id}": () => (s.callIds.length ? ["GET", `/calls/${pick(s.callIds.slice(-50))}`] : ["GET", "/calls?limit=1"]),
  };
  const weights = { "GET /agents": 2, "GET /agents/{id}": 3, "PATCH /agents/{id}": 1, "GET /contacts": 3, "GET /contacts/{id}": 3, "POST /contacts": 3, "GET /calls": 2, "POST /calls": 1, "GET /calls/{id}": 2 };
  const cycle = [];
  // Interleaved rather than in blocks: round r takes every kind that still has weight left.
  for (let r = 0; cycle.length < 20; r++) for (const [kind, w] of Object.entries(weights)) if (r < w) cycle.push(kind);
  return { kinds, cycle, names: Object.keys(weights) };
}

function newApiStats(names) {
  return { byKind: Object.fromEntries(names.map((n) => [n, { latencies: [], non2xx: 0, socket: 0, sample: null }])), done: 0, seconds: 0 };
}

/** Sends API_RATE requests a second for `seconds`, each on its own schedule, and waits for the last answers. */
async function driveApi(mix, seeded, seconds, stats, { until } = {}) {
  const start = performance.now();
  const inFlight = new Set();
  for (let i = 0; ; i++) {
    const due = start + (i * 1000) / API_RATE;
    if (due - start >= seconds * 1000 || (until && due >= until)) break;
    if (due > performance.now()) await sleep(due - performance.now());
    const kind = mix.cycle[i % mix.cycle.length];
    const [method, apiPath, body] = mix.kinds[kind]();
    const s = stats.byKind[kind];
    const sent = performance.now();
    const request = fetch(`${worker.baseUrl}/api/public/v1${apiPath}`, {
      method,
      headers: { authorization: `Bearer ${auth}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    })
      .then(async (res) => {
        const text = await res.text();
        s.latencies.push(performance.now() - sent);
        stats.done++;
        if (res.status >= 300) {
          s.non2xx++;
          s.sample ??= `${res.status} ${text.slice(0, 300)}`;
        } else if (kind === "POST /calls") seeded.callIds.push(JSON.parse(text).data.id);
      })
      .catch((error) => {
        s.socket++;
        s.sample ??= describe(error);
      });
    inFlight.add(request);
    request.finally(() => inFlight.delete(request));
  }
  await Promise.all(inFlight);
  stats.seconds = (performance.now() - start) / 1000;
  return stats;
}

// ---------------------------------------------------------------------------------------------
// 2. The campaign.

async function startCampaign(seeded) {
  const window = campaignWindowEnd();
  const created = performance.now();
  const campaign = (
    await api("POST", "/batch-calls", {
      name: "Load campaign",
      agent_id: seeded.campaignAgent.id,
      contact_folder_id: seeded.campaignFolder.id,
      timezone: city.zone,
      start_time: "08:00",
      end_time: window.hhmm,
      working_days: [1, 2, 3, 4, 5, 6, 7],
      max_concurrent_calls: 100,
      phone_rotation_strategy: "round_robin",
    })
  ).data;
  const scheduled = (await api("POST", `/batch-calls/${campaign.id}/schedule`, {})).data;
  if (scheduled.stats.scheduled !== CAMPAIGN_CONTACTS) throw new Error(`the campaign scheduled ${scheduled.stats.scheduled} of ${CAMPAIGN_CONTACTS} contacts`);
  return { id: campaign.id, window, setupSeconds: (performance.now() - created) / 1000, firstAttempts: scheduled.stats.attempts, stats: scheduled.stats, maxLive: 0, readErrors: [] };
}

/** Samples the campaign's own counters every 2 s until `until` (performance.now); a failed read is an error, not the end of the run. */
async function watchCampaign(campaign, until) {
  while (performance.now() < until) {
    await sleep(Math.min(2000, Math.max(0, until - performance.now())));
    try {
      campaign.stats = (await api("GET", `/batch-calls/${campaign.id}`)).data.stats;
      campaign.maxLive = Math.max(campaign.maxLive, campaign.stats.dialing + campaign.stats.in_progress);
    } catch (error) {
      campaign.readErrors.push(describe(error));
    }
  }
  // The figures are read once more at the end, so a failed last sample does not leave them stale.
  try {
    campaign.stats = (await api("GET", `/batch-calls/${campaign.id}`)).data.stats;
  } catch (error) {
    campaign.readErrors.push(describe(error));
  }
}

// ---------------------------------------------------------------------------------------------
// 3. Live calls.

/**
 * Twilio's side of one live call: 20 ms frames on an absolute schedule; a 600 ms utterance each
 * time the agent has finished its turn (a mark came, then QUIET_BEFORE_SPEAKING_MS without audio);
 * marks echoed at once. Times each reply as the caller hears it (first silent frame after the
 * utterance → first reply frame). A `clear` is right when agent audio came while the caller was
 * speaking (a clause late enough that the caller took the pause for the end of the turn: the
 * agent must stop for them), and an error otherwise.
 */
class LiveCaller extends TwilioMediaStream {
  constructor(options) {
    super({ ...options, authToken: TWILIO_AUTH_TOKEN, accountSid: TWILIO_ACCOUNT_SID });
    this.phase = "listening";
    this.speechLeft = 0;
    this.marks = 0;
    this.lastWasMark = false;
    this.lastOutAt = 0;
    this.speechEndAt = 0;
    this.callerSide = [];
    this.unanswered = 0;
    /** Agent audio arrived during the caller's current utterance. */
    this.talkedOver = false;
    this.bargeIns = 0;
  }

  begin() {
    this.sendStart();
    this.t0 = performance.now();
    this.sent = 0;
    this.tick();
  }

  onClose() {
    clearTimeout(this.timer);
  }

  tick() {
    const now = performance.now();
    while (this.t0 + this.sent * FRAME_MS <= now) this.sendFrame(now);
    this.timer = setTimeout(() => this.tick(), Math.max(0, this.t0 + this.sent * FRAME_MS - performance.now()));
  }

  sendFrame(now) {
    this.sent++;
    let payload = SILENCE;
    if (this.phase === "waiting" && now - this.speechEndAt > REPLY_TIMEOUT_MS) {
      this.unanswered++;
      this.phase = "listening";
      this.lastWasMark = true;
      this.marks = 1;
    }
    if (this.phase === "listening" && this.marks > 0 && this.lastWasMark && now - this.lastOutAt >= QUIET_BEFORE_SPEAKING_MS) {
      this.phase = "speaking";
      this.speechLeft = SPEECH.length;
      this.marks = 0;
      this.talkedOver = false;
    }
    if (this.phase === "speaking") {
      payload = SPEECH[SPEECH.length - this.speechLeft--];
      if (this.speechLeft === 0) this.phase = "end_of_speech";
    } else if (this.phase === "end_of_speech") {
      // The first silent frame: the fake STT finalizes the utterance on it.
      this.speechEndAt = now;
      this.phase = "waiting";
    }
    this.sendMedia(payload);
  }

  onEvent(message, at) {
    if (message.streamSid !== this.streamSid) this.errors.push(`${message.event} with streamSid ${message.streamSid}`);
    if (message.event === "media") {
      if (this.phase === "speaking" || this.phase === "end_of_speech") this.talkedOver = true;
      if (this.phase === "waiting") {
        this.callerSide.push(at - this.speechEndAt);
        this.phase = "listening";
      }
      this.lastOutAt = at;
      this.lastWasMark = false;
    } else if (message.event === "mark") {
      this.lastOutAt = at;
      this.lastWasMark = true;
      this.marks++;
      this.sendMark(message.mark?.name);
    } else if (message.event === "clear") {
      if (this.talkedOver) this.bargeIns++;
      else this.errors.push("a clear (nobody barged in)");
    }
    else this.errors.push(`an unknown event ${JSON.stringify(message.event)}`);
  }

  stop() {
    clearTimeout(this.timer);
    return super.stop();
  }
}

/** One live call from POST /calls to its row's end; what went wrong goes into `live.errors`. */
async function liveCall(seeded, live) {
  const call = (await api("POST", "/calls", { agent_id: seeded.voiceAgent.id, phone_number: `+1628555${String(1000 + (live.placed++ % 9000)).padStart(4, "0")}`, variables: { first_name: "Ana" } })).data;
  const twilio = await fakes.answered(call.id);
  const stream = new LiveCaller({ url: twilio.streamUrl, callSid: twilio.callSid, customParameters: twilio.parameters });
  await Promise.race([stream.opened, sleep(30_000).then(() => Promise.reject(new Error(`the media stream of call ${call.id} did not open within 30 s`)))]).catch(async (error) => {
    await stream.stop();
    throw error;
  });
  const started = performance.now();
  stream.begin();
  await sleep(CALL_SECONDS * 1000);
  await stream.stop();
  const done = await fakes.complete(call.id, (performance.now() - started) / 1000);
  if (done.error) throw new Error(`completing call ${call.id}: ${done.error}`);
  let row;
  for (let attempt = 0; ; attempt++) {
    row = (await api("GET", `/calls/${call.id}`)).data;
    if (ENDED.includes(row.status)) break;
    if (attempt > 150) throw new Error(`call ${call.id} is still ${row.status} 30 s after its completed callback`);
    await sleep(200);
  }
  live.calls++;
  live.turns.push(...(row.latency?.turns ?? []));
  live.callerSide.push(...stream.callerSide);
  live.unanswered += stream.unanswered;
  live.bargeIns += stream.bargeIns;
  const problems = [...new Set(stream.errors)];
  if (stream.closedBy) problems.push(`the platform closed the media stream: ${JSON.stringify(stream.closedBy)}`);
  if (row.status !== "completed" || row.end_reason !== "hangup_by_contact") problems.push(`ended ${row.status}/${row.end_reason}`);
  if (stream.unanswered) problems.push(`${stream.unanswered} replies never came`);
  if (problems.length) live.errors.push(`${call.id}: ${problems.join("; ")}`);
}

/** Keeps one live call going until `until`: the next starts when the last has ended. */
async function liveSlot(seeded, live, until) {
  while (performance.now() < until - CALL_SECONDS * 1000) {
    try {
      await liveCall(seeded, live);
    } catch (error) {
      live.errors.push(describe(error));
      await sleep(1000);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// After the load: the API mix's simulator calls must all have ended, none as an error.

async function apiCallOutcomes(seeded) {
  const deadline = performance.now() + 60_000;
  for (;;) {
    let live = 0;
    for (const status of ["queued", "ringing", "in_progress"]) live += (await api("GET", `/calls?agent_id=${seeded.apiAgent.id}&status=${status}&limit=1`)).pagination.total;
    if (live === 0 || performance.now() > deadline) break;
    await sleep(1000);
  }
  const outcomes = {};
  for (let offset = 0; ; offset += 100) {
    const page = await api("GET", `/calls?agent_id=${seeded.apiAgent.id}&limit=100&offset=${offset}`);
    for (const call of page.data) {
      const key = `${call.status}/${call.end_reason ?? "–"}`;
      outcomes[key] = (outcomes[key] ?? 0) + 1;
    }
    if (!page.pagination.has_more) break;
  }
  const bad = Object.entries(outcomes).filter(([key]) => key !== "completed/hangup_by_contact").reduce((sum, [, n]) => sum + n, 0);
  return { outcomes, bad };
}

// ---------------------------------------------------------------------------------------------
// Report and record.

function apiSummary(stats) {
  const all = Object.values(stats.byKind).flatMap((s) => s.latencies);
  const errors = Object.values(stats.byKind).reduce((sum, s) => sum + s.non2xx + s.socket, 0);
  return { rps: stats.done / stats.seconds, p50: percentile(all, 50), p99: percentile(all, 99), errors };
}

function machine() {
  const model = /^model name\s*:\s*(.+)$/m.exec(existsSync("/proc/cpuinfo") ? readFileSync("/proc/cpuinfo", "utf8") : "")?.[1]?.trim() ?? cpus()[0]?.model ?? "unknown CPU";
  return `${cpus().length}× ${model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
}

const RESULTS = path.join(root, "bench", "RESULTS.md");
const RESULTS_HEADER = `# bench/load results

One row per \`node bench/load.mjs --record\` run (\`npm run bench\` does not record). Everything runs on
one local workerd (fresh local D1; the Notes say \`wrangler dev\` when it ran behind wrangler's proxy) on the machine named in the row, with the
fake providers and the load generator on the same machine, so the figures are that machine's and
are shared with whatever else it was running (see the notes and the load average).
"API alone" is the same request mix at the same rate measured just before the mixed load in the
same run; ratios are mixed ÷ alone. Turn overhead is the platform's own time from STT final to the
first reply frame out (the call's latency.turns: total_ms − stt_final_ms).

| Date (UTC) | Machine | Duration | API req/s alone → mixed (ratio) | API p99 alone → mixed (ratio) | Worst kind p99 mixed (ratio) | Campaign dials/s, done | Live calls, turns, turn overhead p99 | workerd RSS start / peak / end | Errors | Notes |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
`;

function record(row) {
  if (!existsSync(RESULTS)) writeFileSync(RESULTS, RESULTS_HEADER);
  appendFileSync(RESULTS, `| ${row.join(" | ")} |\n`);
}

// ---------------------------------------------------------------------------------------------

let failed = false;
try {
  const loadAtStart = load();
  console.log(
    `load: one local workerd for ${DURATION_SECONDS} s: API ${API_RATE} req/s + a ${CAMPAIGN_CONTACTS}-contact simulator campaign (${city.zone}) + ${LIVE_CALLS} live Twilio calls of ${CALL_SECONDS} s; ` +
      `baseline the API mix alone for ${BASELINE_SECONDS} s (${machine()}, load average ${loadAtStart})`,
  );
  const seeded = { ...(await seed()), callIds: [] };
  const rssStart = sampleMemory();
  const mix = apiMix(seeded);

  const alone = await driveApi(mix, seeded, BASELINE_SECONDS, newApiStats(mix.names));

  const campaign = await startCampaign(seeded);
  const live = { placed: 0, calls: 0, turns: [], callerSide: [], unanswered: 0, bargeIns: 0, errors: [] };
  const fakesBefore = await fakes.stats();
  const started = performance.now();
  const until = started + DURATION_SECONDS * 1000;
  const mixedStats = newApiStats(mix.names);
  const profiler = PROFILE ? await startCpuProfile(worker.inspectorPort) : null;
  const cpuBefore = cpuSeconds(memory.pids).reduce((a, b) => a + b, 0);
  await Promise.all([
    driveApi(mix, seeded, DURATION_SECONDS, mixedStats, { until }),
    watchCampaign(campaign, until),
    ...Array.from({ length: LIVE_CALLS }, () => liveSlot(seeded, live, until)),
  ]);
  const loadSeconds = (performance.now() - started) / 1000;
  const cpuUsed = cpuSeconds(memory.pids).reduce((a, b) => a + b, 0) - cpuBefore;
  const hottest = await profiler?.stop(PROFILE);
  const rssEnd = sampleMemory();
  const rssPeak = Math.max(...memory.samples.filter((s) => s.at >= started).map((s) => s.total));
  const fdsPeak = Math.max(...memory.samples.map((s) => s.fds));
  const fakesAfter = await fakes.stats();
  const { outcomes, bad: badApiCalls } = await apiCallOutcomes(seeded).catch((error) => ({ outcomes: { [`unreadable: ${describe(error)}`]: 1 }, bad: 1 }));
  const cs = campaign.stats;
  const dials = cs.attempts - campaign.firstAttempts;
  const finished = cs.completed + cs.failed + cs.no_answer + cs.busy + cs.voicemail + cs.skipped;
  const loadAtEnd = load();

  const a = apiSummary(alone);
  const m = apiSummary(mixedStats);
  console.log(`  API, ${API_RATE} req/s offered (open loop), mix per 20 requests: ${mix.names.map((n) => `${n} ×${mix.cycle.filter((k) => k === n).length}`).join(", ")}`);
  console.log(`     kind                 alone: req/s  p50     p99    | mixed: req/s  p50     p99    | p99 ratio  errors non-2xx + socket`);
  let worst = { kind: "", p99: -Infinity, ratio: "n/a" };
  for (const kind of mix.names) {
    const sa = alone.byKind[kind];
    const sm = mixedStats.byKind[kind];
    const pa = percentile(sa.latencies, 99);
    const pm = percentile(sm.latencies, 99);
    if (pm > worst.p99) worst = { kind, p99: pm, ratio: ratio(pm, pa) };
    console.log(
      `     ${kind.padEnd(20)} ${(sa.latencies.length / alone.seconds).toFixed(1).padStart(10)}  ${ms(percentile(sa.latencies, 50)).padStart(6)} ${ms(pa).padStart(7)} | ` +
        `${(sm.latencies.length / mixedStats.seconds).toFixed(1).padStart(11)}  ${ms(percentile(sm.latencies, 50)).padStart(6)} ${ms(pm).padStart(7)} | ${ratio(pm, pa).padStart(9)}  ` +
        `alone ${sa.non2xx} + ${sa.socket}, mixed ${sm.non2xx} + ${sm.socket}${sa.sample ?? sm.sample ? `  (first: ${sa.sample ?? sm.sample})` : ""}`,
    );
  }
  console.log(
    `     all kinds: alone ${a.rps.toFixed(1)} req/s, p50 ${ms(a.p50)}, p99 ${ms(a.p99)}; mixed ${m.rps.toFixed(1)} req/s, p50 ${ms(m.p50)}, p99 ${ms(m.p99)}; ` +
      `ratios mixed/alone: throughput ${ratio(m.rps, a.rps)}, p99 ${ratio(m.p99, a.p99)}`,
  );
  console.log(
    `  campaign: ${CAMPAIGN_CONTACTS} contacts, window until ${campaign.window.hhmm} ${city.zone} (${campaign.window.seconds.toFixed(0)} s), create + schedule ${campaign.setupSeconds.toFixed(1)} s; ` +
      `${dials} dials in ${loadSeconds.toFixed(0)} s = ${(dials / loadSeconds).toFixed(1)} dials/s; finished ${finished} (${((100 * finished) / CAMPAIGN_CONTACTS).toFixed(1)}%): ` +
      `completed ${cs.completed}, failed ${cs.failed}, no answer ${cs.no_answer}, busy ${cs.busy}, voicemail ${cs.voicemail}, skipped ${cs.skipped}; most live at once ${campaign.maxLive}`,
  );
  const overheads = live.turns.map((t) => t.total_ms - t.stt_final_ms);
  console.log(
    `  live calls: ${live.calls} finished (${LIVE_CALLS} at a time), ${overheads.length} turns; platform turn overhead p50 ${ms(percentile(overheads, 50))} / p99 ${ms(percentile(overheads, 99))}; ` +
      `as the caller hears it p50 ${ms(percentile(live.callerSide, 50))} / p99 ${ms(percentile(live.callerSide, 99))}; ` +
      `agent cut off by the caller (a late clause met the caller's next words) ${live.bargeIns}; ` +
      `fake STT finals ${fakesAfter.counts.finals - fakesBefore.counts.finals}, fakes loop lag p99 ${ms(fakesAfter.loopP99Ms)}`,
  );
  console.log(`  API simulator calls: ${Object.entries(outcomes).map(([k, n]) => `${k} ${n}`).join(", ") || "none"}`);
  console.log(
    `  workerd RSS (${memory.pids.length} processes, VmRSS summed): after seeding ${rssStart.toFixed(0)} MiB, peak under load ${rssPeak.toFixed(0)} MiB, end ${rssEnd.toFixed(0)} MiB; ` +
      `most open file descriptors in one workerd ${fdsPeak}`,
  );
  console.log(
    `  workerd CPU during the mixed load: ${cpuUsed.toFixed(1)} s in ${loadSeconds.toFixed(0)} s (${((100 * cpuUsed) / loadSeconds).toFixed(0)} % of one core), ` +
      `${dials > 0 ? `${((1000 * cpuUsed) / (dials + mixedStats.done + live.turns.length)).toFixed(0)} ms per dial, API request or live turn` : "no dials"}`,
  );
  const errorKinds = {
    "API non-2xx": Object.values(alone.byKind).concat(Object.values(mixedStats.byKind)).reduce((s, k) => s + k.non2xx, 0),
    "API socket errors": Object.values(alone.byKind).concat(Object.values(mixedStats.byKind)).reduce((s, k) => s + k.socket, 0),
    "API calls not completed/hangup_by_contact": badApiCalls,
    "campaign contacts failed": cs.failed,
    "campaign reads failed": campaign.readErrors.length,
    "live calls with problems": live.errors.length,
    "fakes failure": fakes.failure() ? 1 : 0,
    "workerd restarts": memory.restarts,
  };
  const errorCount = Object.values(errorKinds).reduce((a2, b) => a2 + b, 0);
  if (hottest) {
    console.log(`  CPU profile of the worker during the mixed load: ${PROFILE}; hottest functions (self time):`);
    for (const h of hottest) console.log(`    ${(100 * h.share).toFixed(1).padStart(5)} %  ${String(h.ms).padStart(6)} ms  ${h.fn}`);
  }
  console.log(`  errors: ${errorCount} (${Object.entries(errorKinds).map(([k, n]) => `${k} ${n}`).join(", ")}); load average at the end ${loadAtEnd}`);
  for (const line of live.errors.slice(0, 5)) console.log(`    live: ${line}`);
  for (const line of campaign.readErrors.slice(0, 3)) console.log(`    campaign read: ${line}`);
  if (fakes.failure()) console.log(`    fakes: ${fakes.failure()}`);
  failed = errorCount > 0;
  // A failing run shows what the worker printed: usually the explanation (a crash, an overloaded object).
  if (failed) console.error(`--- the worker's output (tail) ---\n${worker.output().slice(-4000)}`);

  if (RECORD) {
    const errorsSeen = Object.entries(errorKinds).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(", ");
    const notes = [errorsSeen && `errors: ${errorsSeen}`, `workerd CPU ${((100 * cpuUsed) / loadSeconds).toFixed(0)} % of one core under the mixed load`, `load average ${loadAtStart} at start, ${loadAtEnd} at end`, ENGINE === "wrangler" && "under wrangler dev", process.env.LOAD_NOTES].filter(Boolean).join("; ");
    record([
      new Date().toISOString().slice(0, 16).replace("T", " "),
      machine(),
      `${DURATION_SECONDS} s (+${BASELINE_SECONDS} s alone); ${API_RATE} req/s offered, ${LIVE_CALLS} live calls`,
      `${a.rps.toFixed(1)} → ${m.rps.toFixed(1)} (${ratio(m.rps, a.rps)})`,
      `${ms(a.p99)} → ${ms(m.p99)} (${ratio(m.p99, a.p99)})`,
      `${worst.kind} ${ms(worst.p99)} (${worst.ratio})`,
      `${(dials / loadSeconds).toFixed(1)}/s, ${finished}/${CAMPAIGN_CONTACTS} (${((100 * finished) / CAMPAIGN_CONTACTS).toFixed(0)}%)`,
      `${live.calls}, ${overheads.length}, ${ms(percentile(overheads, 99))}`,
      `${rssStart.toFixed(0)} / ${rssPeak.toFixed(0)} / ${rssEnd.toFixed(0)} MiB`,
      `${errorCount}`,
      notes.replaceAll("|", "/"),
    ]);
    console.log(`  recorded in ${path.relative(root, RESULTS)}`);
  }
} catch (error) {
  console.error(`${error?.stack ?? error}\n--- the worker's output (tail) ---\n${worker.output().slice(-4000)}`);
  failed = true;
} finally {
  clearInterval(memoryTimer);
  if (process.env.LOAD_WRANGLER_LOG) writeFileSync(process.env.LOAD_WRANGLER_LOG, worker.output());
  await worker.stop();
  await fakes.stop();
}
if (failed) process.exitCode = 1;
