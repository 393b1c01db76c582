import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { manualClockPerTest } from "../helpers/clock";
import { orgWithCaller } from "../calls/helpers";
import { FAKES, answeredCall, connectMedia, control, greetingThenCallerSpeaks, eventually, tick, uniqueTag } from "../voice-loop/helpers";
import { Browser, newDashboard, signIn, textOf } from "./helpers";

// Far in the future so real alarms never fire on their own: tests move this clock and run the alarm.
const START = Date.UTC(2030, 4, 6, 15, 0, 0);
const clock = manualClockPerTest(START);

async function withRecording(callId: string, bytes: Uint8Array) {
  await env.FILES.put(`recordings/dashboard/${callId}.wav`, bytes, { httpMetadata: { contentType: "audio/wav" } });
  await env.DB.prepare("UPDATE calls SET recording_key = ? WHERE id = ?").bind(`recordings/dashboard/${callId}.wav`, callId).run();
}

describe("dashboard: calls", () => {
  it("lists calls with status, direction, agent and date filters and paginates", async () => {
    const { org, agentId } = await orgWithCaller();
    const browser = await signIn(org.apiKey);
    const queued = (await org.post("/calls", { agent_id: agentId, phone_number: "+14155550001" })).body.data.id;
    const cancelled = (await org.post("/calls", { agent_id: agentId, phone_number: "+14155550002" })).body.data.id;
    await org.post(`/calls/${cancelled}/cancel`);

    const all = await browser.get("/app/calls");
    expect(all.status).toBe(200);
    expect(all.text).toContain(`href="/app/calls/${queued}"`);
    expect(all.text).toContain(`href="/app/calls/${cancelled}"`);
    const text = textOf(all.text);
    expect(text).toContain("Caller Outbound +14155550002");
    expect(text).toContain("cancelled cancelled"); // status and end reason

    const onlyCancelled = await browser.get("/app/calls?status=cancelled");
    expect(onlyCancelled.text).toContain(`/app/calls/${cancelled}"`);
    expect(onlyCancelled.text).not.toContain(`/app/calls/${queued}"`);
    // The status filter keeps its choice in the form.
    expect(onlyCancelled.text).toMatch(/<option value="cancelled" selected/);

    expect(textOf((await browser.get("/app/calls?direction=inbound")).text)).toContain("No calls match these filters.");
    expect((await browser.get(`/app/calls?agent_id=${agentId}&direction=outbound`)).text).toContain(`/app/calls/${queued}"`);
    // Dates are whole UTC days, the end day included.
    expect((await browser.get("/app/calls?from=2030-05-06&to=2030-05-06")).text).toContain(`/app/calls/${queued}"`);
    expect(textOf((await browser.get("/app/calls?from=2030-05-07")).text)).toContain("No calls match these filters.");
    expect(textOf((await browser.get("/app/calls?to=2030-05-05")).text)).toContain("No calls match these filters.");
    expect(textOf((await browser.get("/app/calls?from=yesterday")).text)).toContain("Dates must be written as YYYY-MM-DD");

    const firstPage = await browser.get("/app/calls?limit=1");
    expect(textOf(firstPage.text)).toContain("1–1 of 2");
    expect(firstPage.text).toContain('href="/app/calls?limit=1&amp;offset=1"');
    const secondPage = await browser.get("/app/calls?limit=1&offset=1");
    expect(textOf(secondPage.text)).toContain("2–2 of 2");
    expect(secondPage.text).toContain('rel="prev"');
  });

  it("shows a call's transcript, tool calls, per-turn latency and recording, with a hang-up button while live", async () => {
    const { org, callId, agentId, marker } = await answeredCall(clock, {}, { call_settings: { recording_enabled: true } });
    const browser = await signIn(org.apiKey);
    const path = `/tool-api/${uniqueTag("hours")}`;
    const tool = await org.post("/tools", {
      name: "Opening hours",
      definition: { description: "Tells the opening hours", http: { url: `${FAKES}${path}`, method: "GET" } },
    });
    expect((await org.patch(`/agents/${agentId}`, { tools: [tool.body.data.id] })).status).toBe(200);
    await control("/__fakes/tools/respond", { path, body: { open: "9 to 5" } });
    await control("/__fakes/openai/script", {
      match: marker,
      replies: [{ tool_calls: [{ name: "opening_hours", arguments: {} }] }, { content: "We are open nine to five." }],
    });
    await control("/__fakes/deepgram/script", { tag: callId, lines: ["When are you open"], fallback: "" });
    const twilio = await connectMedia(callId);
    await greetingThenCallerSpeaks(twilio, callId);

    // Live: the page offers to hang up, and the button does.
    const live = await browser.get(`/app/calls/${callId}`);
    expect(live.status).toBe(200);
    expect(live.text).toContain(`action="/app/calls/${callId}/hangup"`);
    const hungUp = await browser.post(`/app/calls/${callId}/hangup`);
    expect(hungUp.status).toBe(303);
    await tick(callId);
    await twilio.waitForClose();
    await eventually(() => org.get(`/calls/${callId}`), (res) => res.body.data.recording_url !== null, "the recording");
    const call = (await org.get(`/calls/${callId}`)).body.data;
    expect(call).toMatchObject({ status: "completed", end_reason: "hangup_by_api" });

    const page = await browser.get(`/app/calls/${callId}`);
    expect(page.status).toBe(200);
    const text = textOf(page.text);
    expect(text).toContain("Hanging up: the call ends as soon as the carrier confirms.");
    expect(text).toContain("hangup by api");
    expect(page.text).not.toContain(`action="/app/calls/${callId}/hangup"`);
    // Transcript turns: speaker, times, text.
    expect(text).toMatch(/Agent 0:00\.0–0:0\d\.\d Hello Ana, this is Maya\./);
    expect(text).toMatch(/Contact 0:0\d\.\d–0:0\d\.\d When are you open/);
    expect(text).toContain("We are open nine to five.");
    // The tool call: name, request, status, answer.
    expect(text).toContain("opening_hours");
    expect(text).toContain(`GET ${FAKES}${path}`);
    expect(page.text).toContain("9 to 5");
    // Latency: one caller turn, with p50/p95 rows.
    const [turn] = call.latency.turns;
    expect(text).toContain(`p50 ${call.latency.p50_ms} ms, p95 ${call.latency.p95_ms} ms`);
    expect(text).toContain(`1 ${turn.stt_final_ms} ${turn.llm_first_token_ms} ${turn.tts_first_byte_ms} ${turn.first_audio_ms} ${turn.total_ms}`);
    expect(text).toMatch(/p50 \d+ \d+ \d+ \d+ \d+ p95/);
    // The recording plays through the dashboard.
    expect(page.text).toContain(`<audio controls="" preload="none" src="/app/calls/${callId}/recording">`);
    const audio = await browser.get(`/app/calls/${callId}/recording`);
    expect(audio.status).toBe(200);
    expect(audio.headers.get("content-type")).toBe("audio/wav");
    expect(audio.text.startsWith("RIFF")).toBe(true);
  });

  it("proxies the recording only with a session of the call's org", async () => {
    const { org, agentId } = await orgWithCaller();
    const browser = await signIn(org.apiKey);
    const id = (await org.post("/calls", { agent_id: agentId, phone_number: "+14155550001" })).body.data.id;

    // No recording yet: the page says so and the proxy answers 404.
    expect(textOf((await browser.get(`/app/calls/${id}`)).text)).toContain("No recording for this call.");
    const missing = await browser.get(`/app/calls/${id}/recording`);
    expect(missing.status).toBe(404);
    expect(missing.text).toContain("no recording");

    const bytes = new Uint8Array([82, 73, 70, 70, 1, 2, 3, 4, 5, 6]);
    await withRecording(id, bytes);
    const served = await browser.fetch(`/app/calls/${id}/recording`);
    expect(served.status).toBe(200);
    expect(served.headers.get("content-type")).toBe("audio/wav");
    expect(served.headers.get("cache-control")).toBe("private, no-store");
    expect(served.text).toBe(String.fromCharCode(...bytes));

    expect((await new Browser().get(`/app/calls/${id}/recording`)).location).toBe("/app/sign-in");
    expect(textOf((await browser.get(`/app/calls/${id}`)).text)).not.toContain("No recording for this call.");
    const intruder = await newDashboard("Intruder");
    const foreign = await intruder.browser.get(`/app/calls/${id}/recording`);
    expect(foreign.status).toBe(404);
    expect(foreign.text).not.toContain("RIFF");
  });

  it("shows the post-call analysis: summary, success, sentiment and data", async () => {
    const { org, agentId } = await orgWithCaller();
    const browser = await signIn(org.apiKey);
    const id = (await org.post("/calls", { agent_id: agentId, phone_number: "+14155550001" })).body.data.id;
    expect(textOf((await browser.get(`/app/calls/${id}`)).text)).toContain("No analysis: only answered calls are analysed.");
    const analysis = {
      status: "completed",
      summary: "Ana confirmed Tuesday at ten.",
      success: true,
      sentiment: "positive",
      data: { confirmed: true, slot: "Tue 10:00" },
      error: null,
      errors: [],
      skip_reason: null,
      analyzed_at: new Date(START).toISOString(),
    };
    await env.DB.prepare("UPDATE calls SET analysis = ?, analysis_status = 'completed' WHERE id = ?").bind(JSON.stringify(analysis), id).run();
    const text = textOf((await browser.get(`/app/calls/${id}`)).text);
    expect(text).toContain("Summary Ana confirmed Tuesday at ten.");
    expect(text).toContain("Success Yes");
    expect(text).toContain("Sentiment positive");
    expect(text).toContain('"slot": "Tue 10:00"');
    await env.DB.prepare("UPDATE calls SET analysis = ? WHERE id = ?")
      .bind(JSON.stringify({ ...analysis, status: "failed", summary: null, success: null, sentiment: null, data: null, error: "The model did not answer" }), id)
      .run();
    expect(textOf((await browser.get(`/app/calls/${id}`)).text)).toContain("The analysis failed: The model did not answer");
  });

  it("answers 404 for another organization's call on every call page", async () => {
    const { org, agentId } = await orgWithCaller();
    const id = (await org.post("/calls", { agent_id: agentId, phone_number: "+14155550001" })).body.data.id;
    const { browser: intruder } = await newDashboard("Intruder");
    const detail = await intruder.get(`/app/calls/${id}`);
    expect(detail.status).toBe(404);
    expect(textOf(detail.text)).toContain("That was not found");
    expect(detail.text).not.toContain("+14155550001");
    expect((await intruder.get(`/app/calls/${id}/recording`)).status).toBe(404);
    expect((await intruder.post(`/app/calls/${id}/hangup`)).status).toBe(404);
    expect((await org.get(`/calls/${id}`)).body.data.status).toBe("queued");
    expect((await intruder.get("/app/calls/not-a-call-id")).status).toBe(404);
  });
});
