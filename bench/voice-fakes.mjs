// The providers of bench/voice, answering instantly, in a process of their own (so their work and
// the caller-side measurements in bench/voice.mjs do not share an event loop). One HTTP server on
// 127.0.0.1 speaks:
//   - Deepgram live: upgrade on /v1/listen; μ-law frames judged by energy; the first silent frame
//     after speech gets a final `Results` (is_final and speech_final true, a fixed transcript,
//     word timings in stream time). KeepAlive is ignored, CloseStream closes.
//   - OpenAI-compatible streaming chat: POST /v1/chat/completions → SSE, a short first sentence then
//     a longer one, all written at once, then `data: [DONE]`.
//   - ElevenLabs TTS: POST /v1/text-to-speech/{voice}/stream?output_format=ulaw_8000 → raw μ-law
//     PACED AT REAL TIME, 160 bytes every 20 ms (absolute schedule) for TTS_CLAUSE_MS per clause, so
//     the platform, which forwards audio as it arrives, sends 50 frames/s to the caller. Each frame
//     starts with its write time (stampFrame), so the caller can separate the fake's lateness from
//     the platform's.
//   - Twilio REST (2010-04-01): buying a number, creating a call (then, like Twilio, a signed
//     `in-progress` status callback and a signed fetch of the call's TwiML, whose <Stream> URL and
//     <Parameter>s go to the parent), hanging a call up.
// Run by startFakes() below through child_process.fork; talks to the parent over IPC.
import { fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { WebSocketServer } from "ws";
import { FRAME_BYTES, FRAME_MS, isVoiced, stampFrame, toneFrames, twilioSignature } from "./voice-audio.mjs";

export const FAKE_KEYS = { deepgram: "bench-deepgram-key", openai: "bench-openai-key", elevenlabs: "bench-elevenlabs-key" };
export const TRANSCRIPT = "I would like to book an appointment please";
export const REPLY = ["Sure thing.", " I have booked you in for Tuesday at ten in the morning."];

/**
 * Forks the fakes and waits until they listen. `answered(callId)` resolves with
 * `{callId, callSid, streamUrl, parameters}` once the fake Twilio has answered that call.
 */
export async function startFakes({ twilioAuthToken, ttsClauseMs }) {
  const answers = new Map();
  const answerWaiters = new Map();
  const onAnswered = (message) => {
    answers.set(message.callId, message);
    answerWaiters.get(message.callId)?.(message);
  };
  const child = fork(new URL(import.meta.url).pathname, ["--serve"], {
    env: { ...process.env, BENCH_TWILIO_AUTH_TOKEN: twilioAuthToken, BENCH_TTS_CLAUSE_MS: String(ttsClauseMs) },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const waiting = new Map();
  let seq = 0;
  let failure = null;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const port = await new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the fakes exited (${code}) before listening`)));
    child.on("message", (message) => {
      if (message.type === "ready") resolve(message.port);
      else if (message.type === "answered") onAnswered(message);
      else if (message.type === "failure") failure ??= message.error;
      else if (message.type === "reply") {
        waiting.get(message.seq)?.(message);
        waiting.delete(message.seq);
      }
    });
  });
  const ask = (message) =>
    new Promise((resolve) => {
      const id = ++seq;
      waiting.set(id, resolve);
      child.send({ ...message, seq: id });
    });
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    port,
    baseUrl,
    /** The worker vars that send Twilio, Deepgram, OpenAI and ElevenLabs traffic to these fakes. */
    workerVars: (twilioAccountSid) => ({
      TWILIO_API_BASE_URL: baseUrl,
      TWILIO_ACCOUNT_SID: twilioAccountSid,
      TWILIO_AUTH_TOKEN: twilioAuthToken,
      DEEPGRAM_API_BASE_URL: baseUrl,
      DEEPGRAM_API_KEY: FAKE_KEYS.deepgram,
      OPENAI_BASE_URL: `${baseUrl}/v1`,
      OPENAI_API_KEY: FAKE_KEYS.openai,
      ELEVENLABS_API_BASE_URL: baseUrl,
      ELEVENLABS_API_KEY: FAKE_KEYS.elevenlabs,
    }),
    /** The fake Twilio's answer of call `callId` (its media stream URL), within 30 s. */
    answered: async (callId) => {
      let timer;
      try {
        return (
          answers.get(callId) ??
          (await Promise.race([
            new Promise((resolve) => answerWaiters.set(callId, resolve)),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new Error(`call ${callId} was not answered by the fake Twilio within 30 s (${failure ?? "no error from the fakes"})`)), 30_000);
            }),
          ]))
        );
      } finally {
        clearTimeout(timer);
        answerWaiters.delete(callId);
      }
    },
    /** Twilio's `completed` status callback for the call (the caller hung up after `seconds`). */
    complete: (callId, seconds) => ask({ type: "complete", callId, seconds }),
    /** Audio per TTS clause from now on. */
    setClauseMs: (clauseMs) => ask({ type: "tts", clauseMs }),
    /** The fakes' event-loop lag p99, TTS write lateness p99 and max (ms), request counts; resets the first two. */
    stats: () => ask({ type: "stats" }),
    /** The first error a fake hit (a callback refused, a bad request), or null. */
    failure: () => failure,
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The child process.

function serve() {
  const authToken = process.env.BENCH_TWILIO_AUTH_TOKEN;
  const framesOf = (clauseMs) => Math.max(1, Math.round(clauseMs / FRAME_MS));
  let ttsAudio = toneFrames(framesOf(Number(process.env.BENCH_TTS_CLAUSE_MS ?? 2000)), [440], 6000);
  const loop = monitorEventLoopDelay({ resolution: 2 });
  loop.enable();
  let ttsLateness = [];
  const counts = { listen: 0, finals: 0, chat: 0, tts: 0, dials: 0, answered: 0, completed: 0 };
  const fail = (error) => process.send({ type: "failure", error: String(error?.stack ?? error) });
  const hex = (n) => randomBytes(n).toString("hex");
  const accountSid = process.env.BENCH_TWILIO_ACCOUNT_SID ?? "AC" + "0".repeat(32);
  /** Twilio calls by CallSid. */
  const calls = new Map();
  const byCallId = new Map();

  const readBody = (req) =>
    new Promise((resolve, reject) => {
      const parts = [];
      req.on("data", (c) => parts.push(c));
      req.on("end", () => resolve(Buffer.concat(parts).toString("utf8")));
      req.on("error", reject);
    });
  const json = (res, status, body) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };

  /** A form POST signed as Twilio signs it. */
  async function twilioPost(url, params) {
    const form = new URLSearchParams(params);
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": twilioSignature(authToken, url, form) },
      body: form.toString(),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`POST ${url} → ${res.status} ${text.slice(0, 300)}`);
    return text;
  }

  const statusCallback = (call, status, extra = {}) =>
    twilioPost(call.statusUrl, {
      AccountSid: accountSid,
      CallSid: call.sid,
      CallStatus: status,
      Direction: "outbound-api",
      From: call.from,
      To: call.to,
      SequenceNumber: String(call.sequence++),
      Timestamp: new Date().toUTCString(),
      CallbackSource: "call-progress-events",
      ...extra,
    });

  /** What Twilio does once the callee picks up: report it, fetch the TwiML, open the stream (the parent does). */
  async function answer(call) {
    try {
      await statusCallback(call, "in-progress");
      const twiml = await twilioPost(call.twimlUrl, { AccountSid: accountSid, CallSid: call.sid, CallStatus: "in-progress", Direction: "outbound-api", From: call.from, To: call.to });
      const streamUrl = /<Stream[^>]*\burl="([^"]+)"/.exec(twiml)?.[1]?.replace(/&amp;/g, "&");
      if (!streamUrl) throw new Error(`the TwiML has no <Stream>: ${twiml.slice(0, 300)}`);
      const parameters = Object.fromEntries([...twiml.matchAll(/<Parameter name="([^"]*)" value="([^"]*)"\s*\/>/g)].map((m) => [m[1], m[2]]));
      counts.answered++;
      process.send({ type: "answered", callId: call.callId, callSid: call.sid, streamUrl, parameters });
    } catch (error) {
      fail(`answering call ${call.callId}: ${error}`);
    }
  }

  async function twilio(req, res, path) {
    const form = new URLSearchParams(req.method === "POST" ? await readBody(req) : "");
    const base = `/2010-04-01/Accounts/${accountSid}`;
    if (req.method === "POST" && path === `${base}/IncomingPhoneNumbers.json`) {
      return json(res, 201, { sid: `PN${hex(16)}`, phone_number: form.get("PhoneNumber"), capabilities: { voice: true, sms: false, mms: false } });
    }
    if (req.method === "POST" && path === `${base}/Calls.json`) {
      const twimlUrl = form.get("Url");
      const callId = /\/twiml\/([^/?]+)/.exec(twimlUrl ?? "")?.[1];
      if (!callId) return json(res, 400, { code: 21205, message: "Url is not a valid URL", status: 400 });
      const call = { sid: `CA${hex(16)}`, callId, twimlUrl, statusUrl: form.get("StatusCallback"), from: form.get("From"), to: form.get("To"), sequence: 0, ended: false };
      calls.set(call.sid, call);
      byCallId.set(callId, call);
      counts.dials++;
      json(res, 201, { sid: call.sid, status: "queued", to: call.to, from: call.from });
      // The callee answers a moment after the call is created (Twilio's callbacks never beat its answer).
      setTimeout(() => void answer(call), 50);
      return;
    }
    const hangup = new RegExp(`^${base}/Calls/(CA[0-9a-f]+)\\.json$`).exec(path);
    if (req.method === "POST" && hangup) {
      const call = calls.get(hangup[1]);
      if (!call) return json(res, 404, { code: 20404, message: "The requested resource was not found", status: 404 });
      json(res, 200, { sid: call.sid, status: "completed" });
      if (!call.ended) {
        call.ended = true;
        setTimeout(() => statusCallback(call, "completed", { CallDuration: "1" }).catch(fail), 10);
      }
      return;
    }
    json(res, 404, { code: 20404, message: `The fake Twilio has no ${req.method} ${path}`, status: 404 });
  }

  async function chat(req, res) {
    const body = JSON.parse((await readBody(req)) || "{}");
    counts.chat++;
    if (req.headers.authorization !== `Bearer ${FAKE_KEYS.openai}`) return json(res, 401, { error: { message: "Incorrect API key provided", type: "invalid_request_error", code: "invalid_api_key" } });
    const id = `chatcmpl-${hex(8)}`;
    const created = Math.floor(Date.now() / 1000);
    const chunk = (delta, finish = null) =>
      `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model: body.model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    res.end(
      chunk({ role: "assistant", content: "" }) +
        REPLY.map((piece) => chunk({ content: piece })).join("") +
        chunk({}, "stop") +
        `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model: body.model, choices: [], usage: { prompt_tokens: 50, completion_tokens: 20, total_tokens: 70 } })}\n\n` +
        "data: [DONE]\n\n",
    );
  }

  async function tts(req, res, url) {
    await readBody(req);
    counts.tts++;
    if (req.headers["xi-api-key"] !== FAKE_KEYS.elevenlabs) return json(res, 401, { detail: { status: "invalid_api_key", message: "Invalid API key" } });
    if (url.searchParams.get("output_format") !== "ulaw_8000") return json(res, 400, { detail: { status: "invalid_output_format", message: "this fake makes ulaw_8000 only" } });
    res.writeHead(200, { "content-type": "audio/basic" });
    const audio = ttsAudio;
    // Absolute schedule: frame k leaves at start + 20k ms, however late a timer fires.
    const start = performance.now();
    let next = 0;
    let timer;
    const tick = () => {
      const now = performance.now();
      const due = Math.min(audio.length, Math.floor((now - start) / FRAME_MS) + 1);
      // How late this write is against the frame's slot: the fakes' own share of any jitter.
      if (next < due) {
        const late = now - (start + next * FRAME_MS);
        ttsLateness.push(late);
        if (process.env.VOICE_DEBUG === "1" && late > 10) console.log(`    DEBUG fake TTS write ${late.toFixed(1)} ms late (${Date.now() % 100000})`);
      }
      // Each frame carries its write time, so the caller can tell our lateness from the platform's.
      while (next < due) res.write(stampFrame(audio[next++]));
      if (next >= audio.length) return res.end();
      timer = setTimeout(tick, start + next * FRAME_MS - performance.now());
    };
    res.on("close", () => clearTimeout(timer));
    tick();
  }

  /** One Deepgram live connection: a final `Results` on the first silent frame after speech. */
  function listen(ws) {
    counts.listen++;
    if (process.env.VOICE_DEBUG === "1") console.log(`    DEBUG fake Deepgram socket opened (${Date.now() % 100000})`);
    let bytes = 0;
    let rest = Buffer.alloc(0);
    let speech = null;
    let segmentStart = 0;
    const round = (s) => Math.round(s * 1000) / 1000;
    ws.on("message", (data, isBinary) => {
      if (!isBinary) {
        const type = (() => {
          try {
            return JSON.parse(data.toString("utf8")).type;
          } catch {
            return undefined;
          }
        })();
        if (type === "CloseStream") ws.close(1000, "");
        return;
      }
      let all = rest.length ? Buffer.concat([rest, data]) : data;
      let at = 0;
      for (; at + FRAME_BYTES <= all.length; at += FRAME_BYTES) {
        const frame = all.subarray(at, at + FRAME_BYTES);
        const start = bytes / 8000;
        bytes += FRAME_BYTES;
        if (isVoiced(frame)) {
          speech ??= { start, end: start };
          speech.end = bytes / 8000;
          continue;
        }
        if (!speech) continue;
        const tokens = TRANSCRIPT.split(" ");
        const slot = (speech.end - speech.start) / tokens.length;
        const words = tokens.map((w, i) => ({ word: w.toLowerCase(), start: round(speech.start + i * slot), end: round(speech.start + (i + 1) * slot), confidence: 0.99, punctuated_word: w }));
        const now = bytes / 8000;
        ws.send(
          JSON.stringify({
            type: "Results",
            channel_index: [0, 1],
            duration: round(now - segmentStart),
            start: round(segmentStart),
            is_final: true,
            speech_final: true,
            from_finalize: false,
            channel: { alternatives: [{ transcript: `${TRANSCRIPT}.`, confidence: 0.99, words }] },
          }),
        );
        counts.finals++;
        segmentStart = now;
        speech = null;
      }
      rest = Buffer.from(all.subarray(at));
    });
    ws.on("error", () => {});
    if (process.env.VOICE_DEBUG === "1") ws.on("close", (code) => console.log(`    DEBUG fake Deepgram socket closed ${code} (${Date.now() % 100000}, ${bytes} bytes heard)`));
  }

  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const server = createServer({ noDelay: true, keepAliveTimeout: 60_000 }, (req, res) => {
    const url = new URL(req.url, "http://127.0.0.1");
    const route = async () => {
      if (url.pathname.startsWith("/2010-04-01/")) return twilio(req, res, url.pathname);
      if (req.method === "POST" && url.pathname === "/v1/chat/completions") return chat(req, res);
      if (req.method === "POST" && /^\/v1\/text-to-speech\/[^/]+\/stream$/.test(url.pathname)) return tts(req, res, url);
      json(res, 404, { error: `no fake for ${req.method} ${url.pathname}` });
    };
    route().catch((error) => {
      fail(error);
      if (!res.headersSent) json(res, 500, { error: String(error) });
      else res.destroy();
    });
  });
  server.on("upgrade", (req, socket, head) => {
    const url = new URL(req.url, "http://127.0.0.1");
    if (url.pathname !== "/v1/listen" || req.headers.authorization !== `Token ${FAKE_KEYS.deepgram}`) {
      socket.end("HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n");
      return;
    }
    if (url.searchParams.get("encoding") !== "mulaw" || url.searchParams.get("sample_rate") !== "8000") {
      socket.end("HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, listen);
  });

  process.on("message", async (message) => {
    if (message.type === "complete") {
      const call = byCallId.get(message.callId);
      let error = null;
      if (!call) error = `no Twilio call for ${message.callId}`;
      else if (!call.ended) {
        call.ended = true;
        try {
          await statusCallback(call, "completed", { CallDuration: String(Math.max(1, Math.round(message.seconds))) });
          counts.completed++;
        } catch (e) {
          error = String(e);
        }
      }
      process.send({ type: "reply", seq: message.seq, error });
    } else if (message.type === "tts") {
      ttsAudio = toneFrames(framesOf(message.clauseMs), [440], 6000);
      process.send({ type: "reply", seq: message.seq });
    } else if (message.type === "stats") {
      const late = Float64Array.from(ttsLateness).sort();
      const ttsLateP99 = late.length ? late[Math.min(late.length - 1, Math.ceil(0.99 * late.length) - 1)] : NaN;
      process.send({ type: "reply", seq: message.seq, loopP99Ms: Math.max(0, loop.percentile(99) / 1e6 - 2), ttsLateP99, ttsLateMax: late.length ? late[late.length - 1] : NaN, counts: { ...counts } });
      loop.reset();
      ttsLateness = [];
    }
  });
  process.on("disconnect", () => process.exit(0));
  server.listen(0, "127.0.0.1", () => process.send({ type: "ready", port: server.address().port }));
}

if (process.argv[2] === "--serve" && process.send) serve();
