import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { manualClockPerTest } from "../helpers/clock";
import { estimateFrequency, rms, TTS_MS_PER_CHAR, TTS_TONE_HZ } from "../fakes/audio";
import { samplesOf, WEB_FRAME_BYTES, WebCallClient, WebConnectError, type WebMarkMode } from "../fakes/web-client";
import { adminFetch, fakeRequests, newOrg } from "../helpers/api";
import { callStub, control, eventData, eventually, recorded, tick, transcriptOf, uniqueTag, VOICES } from "../voice-loop/helpers";
import { limiterStub } from "./helpers";

// Far in the future so real alarms never fire on their own: tests move this clock and run the alarm.
const START = Date.UTC(2030, 2, 4, 15, 0, 0);
const clock = manualClockPerTest(START);

const GREETING = "Hello {{first_name}}, this is Maya.";

/** An org with an active agent whose system prompt carries a marker unique to the test (where the OpenAI fake's scripts match). */
async function orgWithAgent(agent: Record<string, unknown> = {}, org: Record<string, unknown> = {}) {
  const client = await newOrg();
  await adminFetch(`/organizations/${client.orgId}`, { method: "PATCH", body: { rate_limit_per_minute: 100_000, ...org } });
  const marker = uniqueTag("web");
  const created = await client.post("/agents", {
    name: "Web tester",
    voice_id: VOICES.elevenlabs,
    system_prompt: `You are Maya, a receptionist (${marker}). The caller is {{first_name}}.`,
    greeting: GREETING,
    inactivity_timeout: 10,
    max_duration: 600,
    stt: { provider: "deepgram", model: "nova-3", endpointing_ms: 300 },
    ...agent,
  });
  if (created.status !== 201) throw new Error(`agent: ${created.status} ${JSON.stringify(created.body)}`);
  return { org: client, agentId: created.body.data.id as string, marker };
}

type Org = Awaited<ReturnType<typeof orgWithAgent>>["org"];

async function createWebCall(org: Org, agentId: string, body: Record<string, unknown> = {}) {
  const res = await org.post("/calls/web", { agent_id: agentId, variables: { first_name: "Ana" }, ...body });
  if (res.status !== 201) throw new Error(`POST /calls/web: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data as { call: any; token: string; expires_at: string; websocket_url: string };
}

const connect = (url: string, marks?: WebMarkMode) => WebCallClient.connect({ url, fetcher: exports.default, marks });

/** The handshake's refusal: its status and error envelope. */
async function refusal(url: string, headers: Record<string, string> = { Upgrade: "websocket" }) {
  const res = await exports.default.fetch(new Request(url.replace(/^ws(s?):/, "http$1:"), { headers }));
  expect(res.webSocket, "the handshake must not be accepted").toBeFalsy();
  return { status: res.status, body: (await res.json()) as any };
}

const callOf = async (org: Org, id: string) => (await org.get(`/calls/${id}`)).body.data;

async function eventTypes(orgId: string, callId: string) {
  const rows = await env.DB.prepare("SELECT type, data FROM events WHERE org_id = ? ORDER BY created_at, rowid").bind(orgId).all<{ type: string; data: string }>();
  return rows.results.filter((r) => JSON.parse(r.data).call_id === callId).map((r) => r.type);
}

describe("POST /calls/web", () => {
  it("creates a queued webrtc call with a short-lived token and a wss:// URL, without any phone number", async () => {
    const { org, agentId } = await orgWithAgent();
    const res = await org.post("/calls/web", { agent_id: agentId, variables: { first_name: "Ana", visits: 3 }, metadata: { source: "dashboard" } });
    expect(res.status).toBe(201);
    const { call, token, expires_at, websocket_url } = res.body.data;
    expect(call).toMatchObject({
      agent_id: agentId,
      direction: "webrtc",
      status: "queued",
      end_reason: null,
      to: "web",
      from: "web",
      phone_number_id: null,
      provider: "web",
      variables: { first_name: "Ana", visits: "3" },
      metadata: { source: "dashboard" },
      ringing_at: null,
      started_at: null,
    });
    expect(token).toMatch(/^wct1\.\d+\.[0-9a-f]{64}$/);
    expect(expires_at).toBe(new Date(START + 60_000).toISOString());
    expect(websocket_url).toBe(`wss://truedy.test/web-calls/${call.id}/stream?token=${encodeURIComponent(token)}`);

    // It holds one of the org's slots, and call.started went out: set up, nothing rings.
    expect(await limiterStub(org.orgId).callSlotStats()).toMatchObject({ granted: 1, waiting: 0 });
    expect(await eventTypes(org.orgId, call.id)).toEqual(["call.started"]);
    // Listed under its direction only.
    const webrtc = await org.get("/calls?direction=webrtc");
    expect(webrtc.status).toBe(200);
    expect(webrtc.body.data.map((c: any) => c.id)).toEqual([call.id]);
    expect((await org.get("/calls?direction=outbound")).body.data).toEqual([]);
  });

  it("replays the same call for the same Idempotency-Key", async () => {
    const { org, agentId } = await orgWithAgent();
    const body = { agent_id: agentId };
    const first = await org.post("/calls/web", body, { "Idempotency-Key": "web-1" });
    const again = await org.post("/calls/web", body, { "Idempotency-Key": "web-1" });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body.data.call.id).toBe(first.body.data.call.id);
    expect((await org.get("/calls?direction=webrtc")).body.pagination.total).toBe(1);
  });

  it("validates the body and the agent with 422s, and malformed JSON with 400", async () => {
    const { org, agentId } = await orgWithAgent();
    const unknown = await org.post("/calls/web", { agent_id: "00000000-0000-7000-8000-00000000dead" });
    expect(unknown.status).toBe(422);
    expect(unknown.body.error).toMatchObject({ code: "validation_error", details: { field: "agent_id" } });

    const draft = await org.post("/agents", { name: "Draft", voice_id: VOICES.elevenlabs, system_prompt: "Hi", status: "draft" });
    expect(draft.status).toBe(201);
    const notActive = await org.post("/calls/web", { agent_id: draft.body.data.id });
    expect(notActive.status).toBe(422);
    expect(notActive.body.error.details).toMatchObject({ field: "agent_id" });
    expect(notActive.body.error.message).toContain("draft");

    for (const [body, field] of [
      [{}, "agent_id"],
      [{ agent_id: agentId, variables: { first_name: { nested: true } } }, "variables.first_name"],
      [{ agent_id: agentId, metadata: { n: 1 } }, "metadata.n"],
    ] as const) {
      const res = await org.post("/calls/web", body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.error).toMatchObject({ code: "validation_error", details: { field } });
    }
    const malformed = await org.post("/calls/web", "{not json");
    expect(malformed.status).toBe(400);
    // Nothing was created by any of them.
    expect((await org.get("/calls")).body.data).toEqual([]);
    // And the route needs an API key like the rest of the API.
    const anonymous = await exports.default.fetch(new Request("https://truedy.test/api/public/v1/calls/web", { method: "POST", body: JSON.stringify({ agent_id: agentId }), headers: { "content-type": "application/json" } }));
    expect(anonymous.status).toBe(401);
  });

  it("refuses with 409 concurrency_limit_reached when the org has no free slot, keeping nothing, and accepts once one frees", async () => {
    const { org, agentId } = await orgWithAgent({}, { max_concurrent_calls: 1 });
    const first = await createWebCall(org, agentId);
    const refused = await org.post("/calls/web", { agent_id: agentId });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: "concurrency_limit_reached", details: { max_concurrent_calls: 1 } });
    expect((await org.get("/calls")).body.data.map((c: any) => c.id)).toEqual([first.call.id]);
    expect(await limiterStub(org.orgId).callSlotStats()).toMatchObject({ granted: 1, waiting: 0 });

    await org.post(`/calls/${first.call.id}/cancel`);
    expect(await callOf(org, first.call.id)).toMatchObject({ status: "cancelled", end_reason: "cancelled" });
    expect(await limiterStub(org.orgId).callSlotStats()).toMatchObject({ granted: 0, waiting: 0 });
    const second = await createWebCall(org, agentId);
    expect(second.call.status).toBe("queued");
  });
});

describe("web call: the browser's socket", () => {
  it("answers on connect, greets in PCM16 16 kHz, answers the caller's turn, and ends completed when the browser hangs up", async () => {
    const { org, agentId, marker } = await orgWithAgent({ recording_enabled: true });
    const { call, websocket_url } = await createWebCall(org, agentId);
    await control("/__fakes/deepgram/script", { tag: call.id, lines: ["I would like to book an appointment"] });
    await control("/__fakes/openai/script", { match: marker, replies: [{ content: "Of course. Which day suits you?" }] });

    const browser = await connect(websocket_url);
    expect(await browser.ready).toEqual({ type: "ready", call_id: call.id, sample_rate: 16000 });
    const answered = await callOf(org, call.id);
    expect(answered).toMatchObject({ status: "in_progress", ringing_at: null, started_at: new Date(START).toISOString() });

    // The greeting: 24 characters at the TTS fake's 60 ms each, as 20 ms messages of 640 bytes at 16 kHz.
    const [greeting] = await transcriptOf(call.id, 1);
    expect(greeting).toMatchObject({ speaker: "agent", text: "Hello Ana, this is Maya.", start_ms: 0, interrupted: false });
    const greetingMs = 24 * TTS_MS_PER_CHAR;
    expect(browser.audioMs).toBe(greetingMs);
    expect(browser.audioMessages.every((m) => m.length === WEB_FRAME_BYTES)).toBe(true);
    const samples = samplesOf(browser.audio);
    // The ElevenLabs fake's 440 Hz tone, read at 16 kHz: the audio really is at that rate.
    const tone = estimateFrequency(samples.subarray(1600, samples.length - 1600), 16000);
    expect(Math.abs(tone - TTS_TONE_HZ.elevenlabs)).toBeLessThan(10);
    expect(rms(samples.subarray(1600, samples.length - 1600))).toBeGreaterThan(1000);
    expect(browser.of("mark").length).toBeGreaterThan(0);
    expect(browser.echoedMarks).toEqual(browser.of("mark").map((m) => m.name));

    // The caller speaks over the line after the greeting; the agent answers.
    const audioBefore = browser.audioMs;
    // Paced like a microphone (faster than real time): the turn's times below are exact to a frame.
    await browser.silence(greetingMs, { paceMs: 2 });
    await browser.speak(1200, { paceMs: 2 });
    await browser.silence(700, { paceMs: 2 });
    const turns = await transcriptOf(call.id, 3);
    expect(turns.map((t) => [t.speaker, t.text, t.interrupted])).toEqual([
      ["agent", "Hello Ana, this is Maya.", false],
      ["contact", "I would like to book an appointment", false],
      ["agent", "Of course. Which day suits you?", false],
    ]);
    // On the call's clock: the caller spoke from 1.44 s to 2.64 s (± a frame of resampling delay).
    expect(Math.abs(turns[1].start_ms - greetingMs)).toBeLessThanOrEqual(20);
    expect(Math.abs(turns[1].end_ms - (greetingMs + 1200))).toBeLessThanOrEqual(20);
    // Spoken clause by clause: "Of course." then "Which day suits you?".
    expect(browser.audioMs - audioBefore).toBe(("Of course.".length + "Which day suits you?".length) * TTS_MS_PER_CHAR);
    // Deepgram heard what the phone leg carries: μ-law 8 kHz, every ms the browser sent.
    const [listen] = await control<any[]>(`/__fakes/deepgram/connections?tag=${call.id}`);
    expect(listen.query).toMatchObject({ encoding: "mulaw", sample_rate: "8000" });
    await eventually(() => control<any[]>(`/__fakes/deepgram/connections?tag=${call.id}`), (c) => c[0]?.audio_ms === browser.sentMs, "Deepgram to get all the audio");
    // The LLM saw the conversation.
    const chats = (await recorded("openai", { contains: marker })).filter((r) => r.path === "/v1/chat/completions");
    expect(JSON.parse(chats[0].body).messages.at(-1)).toEqual({ role: "user", content: "I would like to book an appointment" });
    expect(browser.errors).toEqual([]);

    clock.advance(12_300);
    browser.hangup();
    expect(await browser.waitFor((m) => m.type === "ended")).toEqual({ type: "ended", end_reason: "hangup_by_contact" });
    await browser.waitForClose();
    const ended = await eventually(() => callOf(org, call.id), (c) => c.status !== "in_progress", "the call to end");
    expect(ended).toMatchObject({ status: "completed", end_reason: "hangup_by_contact", duration_seconds: 13, cost_credits: Math.round(13 * (1 / 60) * 10_000) / 10_000 });
    expect(ended.latency.turns).toHaveLength(1);
    // `call.analyzed` follows on its own time, once the queued post-call analysis has run.
    expect((await eventTypes(org.orgId, call.id)).filter((type) => type !== "call.analyzed")).toEqual(["call.started", "call.answered", "call.ended"]);
    expect((await eventData(org.orgId, call.id, "call.ended"))[0]).toMatchObject({ direction: "webrtc", end_reason: "hangup_by_contact" });
    expect((await org.get(`/calls/${call.id}/transcript`)).body.data.turns).toEqual(turns);
    expect(await limiterStub(org.orgId).callSlotStats()).toMatchObject({ granted: 0 });

    // The caller's leg of the recording is the browser's audio, converted to the phone format.
    const object = await eventually(() => env.FILES.get(`recordings/${org.orgId}/${call.id}.wav`), (o) => o !== null, "the recording");
    const wav = new DataView(await object!.arrayBuffer());
    const channel = (side: 0 | 1, fromMs: number, toMs: number) => {
      const out = new Int16Array((toMs - fromMs) * 8);
      for (let i = 0; i < out.length; i++) out[i] = wav.getInt16(44 + (fromMs * 8 + i) * 4 + side * 2, true);
      return out;
    };
    expect(rms(channel(0, greetingMs + 100, greetingMs + 1100))).toBeGreaterThan(1000);
    expect(estimateFrequency(channel(1, 200, 1200), 8000)).toBeGreaterThan(430);
    expect(rms(channel(0, 200, 1200))).toBe(0);
  });

  it("ends completed / hangup_by_contact when the browser just closes its socket", async () => {
    const { org, agentId } = await orgWithAgent();
    const { call, websocket_url } = await createWebCall(org, agentId);
    const browser = await connect(websocket_url);
    await browser.ready;
    clock.advance(4_000);
    browser.close(1000, "tab closed");
    const ended = await eventually(() => callOf(org, call.id), (c) => c.status !== "in_progress", "the call to end");
    expect(ended).toMatchObject({ status: "completed", end_reason: "hangup_by_contact", duration_seconds: 4 });
    // The slot is given back just after the row is written.
    await eventually(() => limiterStub(org.orgId).callSlotStats(), (s) => s.granted === 0, "the call slot to be released");
  });

  it("POST /calls/{id}/hangup ends it hangup_by_api at once: the browser hears `ended`, its socket closes, no carrier is called", async () => {
    const { org, agentId } = await orgWithAgent();
    const { call, websocket_url } = await createWebCall(org, agentId);
    const browser = await connect(websocket_url);
    await browser.ready;
    clock.advance(2_500);
    const res = await org.post(`/calls/${call.id}/hangup`);
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ status: "completed", end_reason: "hangup_by_api", duration_seconds: 3 });
    expect(await browser.waitFor((m) => m.type === "ended")).toEqual({ type: "ended", end_reason: "hangup_by_api" });
    await browser.waitForClose();
    expect(await fakeRequests("twilio", call.id)).toEqual([]);
    expect(await fakeRequests("telnyx", call.id)).toEqual([]);
    expect(await eventTypes(org.orgId, call.id)).toEqual(["call.started", "call.answered", "call.ended"]);
    // A second hang-up is a state conflict, like any ended call's.
    expect((await org.post(`/calls/${call.id}/hangup`)).status).toBe(409);
  });

  it("ends max_duration and inactivity calls on our side, closing the socket", async () => {
    const { org, agentId } = await orgWithAgent({ max_duration: 30, inactivity_timeout: 3 });
    const long = await createWebCall(org, agentId);
    const browser = await connect(long.websocket_url);
    await browser.ready;
    clock.advance(30_000);
    await tick(long.call.id);
    expect(await callOf(org, long.call.id)).toMatchObject({ status: "completed", end_reason: "max_duration", duration_seconds: 30 });
    expect(await browser.waitFor((m) => m.type === "ended")).toEqual({ type: "ended", end_reason: "max_duration" });
    await browser.waitForClose();

    const quiet = await createWebCall(org, agentId);
    const silent = await connect(quiet.websocket_url);
    await transcriptOf(quiet.call.id, 1); // the greeting played (its mark came back): silence counts from here
    clock.advance(3_000);
    await tick(quiet.call.id); // the re-prompt
    await transcriptOf(quiet.call.id, 2);
    clock.advance(3_000);
    await tick(quiet.call.id);
    expect(await callOf(org, quiet.call.id)).toMatchObject({ status: "completed", end_reason: "inactivity" });
    expect(await silent.waitFor((m) => m.type === "ended")).toEqual({ type: "ended", end_reason: "inactivity" });
    await silent.waitForClose();
  });

  it("sends `clear` when the user talks over the agent, and keeps only what was heard", async () => {
    const FIRST = "Our restaurant opens at noon every day.";
    const REPLY = `${FIRST} We have a sunny patio by the river. The kitchen serves seasonal dishes from local farms.`;
    const { agentId, marker, org } = await orgWithAgent({ greeting: "Hello {{first_name}}." });
    const { call, websocket_url } = await createWebCall(org, agentId);
    await control("/__fakes/deepgram/script", { tag: call.id, lines: ["What are your opening hours", "wait a moment please"] });
    await control("/__fakes/openai/script", { match: marker, replies: [{ content: REPLY, delay_ms_per_chunk: 20 }, { content: "Sure, take your time." }] });
    await control("/__fakes/elevenlabs/tts", { match: "sunny patio", chunk_delay_ms: 60 });
    // "manual": audio plays (and marks echo) only when the test says, so the agent stays mid-sentence.
    const browser = await connect(websocket_url, "manual");
    const greetingMark = await browser.waitFor((m) => m.type === "mark");
    browser.play();
    await transcriptOf(call.id, 1);

    await browser.speak(1000);
    await browser.silence(700);
    await browser.waitFor((m) => m.type === "mark" && m.name !== greetingMark.name, { what: "the reply's first mark" });
    browser.play(); // the first sentence is heard
    await eventually(() => recorded("elevenlabs", { contains: "sunny patio" }), (r) => r.length === 1, "the second sentence's TTS request");
    await browser.speak(600); // "wait…"
    await browser.waitFor((m) => m.type === "clear", { what: "clear" });
    await browser.silence(700);
    await browser.until(() => browser.of("mark").some((m) => !browser.echoedMarks.includes(m.name as string)), "the second reply's mark");
    browser.play();
    const turns = await transcriptOf(call.id, 5);
    expect(turns.map((t) => [t.speaker, t.interrupted])).toEqual([
      ["agent", false],
      ["contact", false],
      ["agent", true],
      ["contact", false],
      ["agent", false],
    ]);
    expect(turns[2].text.startsWith(FIRST)).toBe(true);
    expect(turns[2].text.length).toBeLessThan(REPLY.length);
    expect(turns[4].text).toBe("Sure, take your time.");
    expect(browser.errors).toEqual([]);
    browser.hangup();
    await browser.waitForClose();
  });

  it("takes the page's keypad keys as the caller's entry", async () => {
    const { org, agentId, marker } = await orgWithAgent();
    const { call, websocket_url } = await createWebCall(org, agentId);
    await control("/__fakes/openai/script", { match: marker, replies: [{ content: "You chose option three." }] });
    const browser = await connect(websocket_url);
    await browser.ready;
    await transcriptOf(call.id, 1);
    for (const key of ["3", "#"]) browser.dtmf(key);
    const turns = await transcriptOf(call.id, 3);
    expect(turns.map((t) => [t.speaker, t.text])).toEqual([
      ["agent", "Hello Ana, this is Maya."],
      ["contact", "[keypad: 3#]"],
      ["agent", "You chose option three."],
    ]);
    expect(browser.errors).toEqual([]);
    browser.hangup();
    await browser.waitForClose();
  });

  it("answers protocol errors with an `error` message and keeps the call up", async () => {
    const { org, agentId } = await orgWithAgent({ greeting: null, first_speaker: "user" });
    const { call, websocket_url } = await createWebCall(org, agentId);
    const browser = await connect(websocket_url);
    await browser.ready;
    browser.sendBytes(new Uint8Array(641));
    browser.sendBytes(new Uint8Array(32_002));
    browser.ws.send("not json");
    browser.sendJson({ type: "dance" });
    browser.sendJson({ type: "mark" });
    browser.dtmf("x");
    const errors = await browser.until(() => (browser.of("error").length >= 6 ? browser.of("error") : undefined), "six errors");
    // Sorted: a Durable Object may run queued socket messages out of order (see FrameReorderer).
    expect(errors.map((e) => e.code).sort()).toEqual(["audio_too_long", "invalid_audio", "invalid_message", "invalid_message", "invalid_message", "invalid_message"]);
    // A full second in one message is fine, and none of the refused audio reached the loop.
    browser.sendBytes(new Uint8Array(32_000));
    await eventually(() => callStub(call.id).mediaSession(), (m) => m?.framesIn === 1, "the one accepted message to be counted");
    expect((await callOf(org, call.id)).status).toBe("in_progress");
    browser.hangup();
    await browser.waitForClose();
  });
});

describe("web call: connect tokens", () => {
  it("refuses a missing, tampered, expired-format or other call's token with 401, and a non-WebSocket request with 400, before any upgrade", async () => {
    const { org, agentId } = await orgWithAgent();
    const a = await createWebCall(org, agentId);
    const b = await createWebCall(org, agentId);
    const base = a.websocket_url.split("?")[0];
    const [, expires, signature] = a.token.split(".");
    const flipped = signature.slice(0, -1) + (signature.endsWith("0") ? "1" : "0");

    for (const url of [
      base,
      `${base}?token=`,
      `${base}?token=${encodeURIComponent(`wct1.${expires}.${flipped}`)}`,
      // The signature covers the expiry: a later one with the same signature is not ours.
      `${base}?token=${encodeURIComponent(`wct1.${Number(expires) + 60_000}.${signature}`)}`,
      `${base}?token=garbage`,
      // Call b's own (valid) token on call a, and a's token on b.
      `${base}?token=${encodeURIComponent(b.token)}`,
      b.websocket_url.replace(encodeURIComponent(b.token), encodeURIComponent(a.token)),
      // A call that does not exist.
      `wss://truedy.test/web-calls/00000000-0000-7000-8000-00000000beef/stream?token=${encodeURIComponent(a.token)}`,
    ]) {
      const { status, body } = await refusal(url);
      expect(status, url).toBe(401);
      expect(body.error.code, url).toBe("unauthorized");
    }
    const plain = await refusal(a.websocket_url, {});
    expect(plain.status).toBe(400);
    // None of that connected or changed anything: both calls still take their first connection.
    const browser = await connect(a.websocket_url);
    await browser.ready;
    expect((await callOf(org, a.call.id)).status).toBe("in_progress");
    expect((await callOf(org, b.call.id)).status).toBe("queued");
    browser.hangup();
    await browser.waitForClose();
  });

  it("is single use: a second connection is refused with 403 while the first goes on", async () => {
    const { org, agentId } = await orgWithAgent();
    const { call, websocket_url } = await createWebCall(org, agentId);
    const first = await connect(websocket_url);
    await first.ready;
    const again = await refusal(websocket_url);
    expect(again.status).toBe(403);
    expect(again.body.error).toMatchObject({ code: "forbidden" });
    expect(again.body.error.message).toContain("already used");
    expect((await callOf(org, call.id)).status).toBe("in_progress");
    expect(first.closed).toBeUndefined();
    first.hangup();
    await first.waitForClose();
    // After the call, still refused.
    expect((await refusal(websocket_url)).status).toBe(403);
  });

  it("lets exactly one of two simultaneous handshakes in", async () => {
    const { org, agentId } = await orgWithAgent();
    const { call, websocket_url } = await createWebCall(org, agentId);
    const results = await Promise.allSettled([connect(websocket_url), connect(websocket_url), connect(websocket_url)]);
    const accepted = results.filter((r): r is PromiseFulfilledResult<WebCallClient> => r.status === "fulfilled");
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(accepted).toHaveLength(1);
    expect(refused.map((r) => r.reason instanceof WebConnectError && r.reason.status)).toEqual([403, 403]);
    await accepted[0].value.ready;
    expect((await callOf(org, call.id)).status).toBe("in_progress");
    accepted[0].value.hangup();
    await accepted[0].value.waitForClose();
  });

  it("refuses a valid token once the call was hung up before connecting (403)", async () => {
    const { org, agentId } = await orgWithAgent();
    const { call, websocket_url } = await createWebCall(org, agentId);
    const res = await org.post(`/calls/${call.id}/hangup`);
    expect(res.body.data).toMatchObject({ status: "cancelled", end_reason: "hangup_by_api" });
    const refused = await refusal(websocket_url);
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toContain("over");
  });

  it("expires unused: 401 after 60 s, and the call's alarm ends it failed / no_answer and frees its slot", async () => {
    const { org, agentId } = await orgWithAgent({}, { max_concurrent_calls: 1 });
    const { call, websocket_url } = await createWebCall(org, agentId);
    expect((await org.post("/calls/web", { agent_id: agentId })).status).toBe(409);

    clock.advance(59_999);
    await tick(call.id);
    expect((await callOf(org, call.id)).status).toBe("queued");
    clock.advance(1);
    const expired = await refusal(websocket_url);
    expect(expired.status).toBe(401);
    expect(expired.body.error.message).toContain("expired");
    await tick(call.id);
    expect(await callOf(org, call.id)).toMatchObject({ status: "failed", end_reason: "no_answer", duration_seconds: 0, cost_credits: 0 });
    expect(await eventTypes(org.orgId, call.id)).toEqual(["call.started", "call.failed"]);
    expect(await limiterStub(org.orgId).callSlotStats()).toMatchObject({ granted: 0, waiting: 0 });
    // The slot is free again.
    expect((await createWebCall(org, agentId)).call.status).toBe("queued");
  });
});

describe("web calls: organizations", () => {
  it("answers 404 on another organization's web call, on every /calls/{id} route", async () => {
    const { org, agentId } = await orgWithAgent();
    const { call } = await createWebCall(org, agentId);
    const other = await newOrg();
    for (const [method, path] of [
      ["GET", `/calls/${call.id}`],
      ["GET", `/calls/${call.id}/transcript`],
      ["GET", `/calls/${call.id}/recording`],
      ["POST", `/calls/${call.id}/hangup`],
      ["POST", `/calls/${call.id}/cancel`],
    ] as const) {
      const res = method === "GET" ? await other.get(path) : await other.post(path);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.error.code).toBe("not_found");
    }
    expect((await other.get("/calls?direction=webrtc")).body.data).toEqual([]);
    expect((await callOf(org, call.id)).status).toBe("queued");
  });
});
