import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { manualClockPerTest } from "../helpers/clock";
import { answeredCall, connectMedia, control, greetingThenCallerSpeaks, eventually, FAKES, recorded, tick, transcriptOf, uniqueTag } from "./helpers";

/**
 * Issue 9 (security review): the platform's OPENAI_API_KEY goes only to OPENAI_BASE_URL's origin.
 * An agent whose `llm.base_url` points elsewhere sends its own `llm.api_key`, or no Authorization
 * header at all; the live call and the post-call analysis follow the same rule.
 *
 * "Elsewhere" is the same fake server under another origin: OPENAI_BASE_URL is
 * `http://127.0.0.1:<port>/v1`, so `http://localhost:<port>/v1` reaches the fake OpenAI (which
 * records every request's headers) while counting as a customer's own server.
 */

const START = Date.UTC(2030, 1, 9, 15, 0, 0);
const clock = manualClockPerTest(START);

const OTHER_ORIGIN = `${FAKES.replace("127.0.0.1", "localhost")}/v1`;
const PLATFORM_AUTH = `Bearer ${env.OPENAI_API_KEY}`;

afterEach(() => vi.restoreAllMocks());

type Call = Awaited<ReturnType<typeof answeredCall>>;

/** The call's chat requests: the live turn's (the call's marker is in the system prompt) and the analysis' (`marker` is in the success criteria). */
async function chats(call: Call, marker: string) {
  const requests = async (match: string) => (await recorded("openai", { contains: match })).filter((r) => r.path === "/v1/chat/completions");
  return { live: await requests(call.marker), analysis: await requests(marker) };
}

/** Greets (a fixed line), lets the caller speak once so the agent's LLM is asked for a reply, then waits for the call and its analysis to end. */
async function callerSpeaks({ org, callId }: Call, hangUp: boolean) {
  await control("/__fakes/deepgram/script", { tag: callId, lines: ["I would like to book an appointment"] });
  const twilio = await connectMedia(callId);
  await greetingThenCallerSpeaks(twilio, callId, { awaitReply: false });
  if (hangUp) {
    await transcriptOf(callId, 3);
    clock.advance(9000);
    expect((await org.post(`/calls/${callId}/hangup`)).status).toBe(200);
    await tick(callId);
  }
  const ended = await eventually(async () => (await org.get(`/calls/${callId}`)).body.data, (c) => c.status !== "in_progress" && c.analysis?.status !== "pending", "the call and its analysis to end", 20_000);
  await twilio.waitForClose();
  return ended;
}

const agentWith = (marker: string, llm: Record<string, unknown>) => ({
  success_criteria: `The contact booked (${marker}).`,
  llm: { provider: "openai", model: "gpt-4o-mini", ...llm },
});

describe("which key an agent's LLM server gets", () => {
  it("a base_url on another origin without api_key gets no Authorization header, live or in the analysis", async () => {
    const marker = uniqueTag("nokey");
    const call = await answeredCall(clock, agentWith(marker, { base_url: OTHER_ORIGIN }));
    const ended = await callerSpeaks(call, false);
    // The fake refuses a request without a key: the turn fails, and so does the analysis.
    expect(ended).toMatchObject({ status: "completed", end_reason: "provider_error", analysis: { status: "failed" } });
    const { live, analysis } = await chats(call, marker);
    expect(live).toHaveLength(1);
    expect(analysis).toHaveLength(1);
    for (const request of [...live, ...analysis]) {
      expect(request.headers.host).toMatch(/^localhost:/);
      expect(request.headers.authorization).toBeUndefined();
    }
  });

  it("with api_key, the agent's own key goes, live and in the analysis", async () => {
    const marker = uniqueTag("ownkey");
    const ownKey = `sk-agent-${crypto.randomUUID()}`;
    const call = await answeredCall(clock, agentWith(marker, { base_url: OTHER_ORIGIN, api_key: ownKey }));
    const ended = await callerSpeaks(call, false);
    expect(ended).toMatchObject({ end_reason: "provider_error", analysis: { status: "failed" } });
    const { live, analysis } = await chats(call, marker);
    expect(live).toHaveLength(1);
    expect(analysis).toHaveLength(1);
    for (const request of [...live, ...analysis]) expect(request.headers.authorization).toBe(`Bearer ${ownKey}`);
  });

  it("a base_url on OPENAI_BASE_URL's origin gets the platform key, and the call goes on", async () => {
    const marker = uniqueTag("samekey");
    const call = await answeredCall(clock, agentWith(marker, { base_url: `${env.OPENAI_BASE_URL}/` }));
    await control("/__fakes/openai/script", { match: call.marker, replies: [{ content: "Of course. Which day suits you?" }] });
    const ended = await callerSpeaks(call, true);
    expect(ended.end_reason).toBe("hangup_by_api");
    expect((await transcriptOf(call.callId, 3))[2]).toMatchObject({ speaker: "agent", text: "Of course. Which day suits you?" });
    const { live, analysis } = await chats(call, marker);
    expect(live).toHaveLength(1);
    expect(analysis.length).toBeGreaterThanOrEqual(1);
    for (const request of [...live, ...analysis]) {
      expect(request.headers.host).toMatch(/^127\.0\.0\.1:/);
      expect(request.headers.authorization).toBe(PLATFORM_AUTH);
    }
  });

  it("checks base_url again at call time: a stored private one ends the call with provider_error saying so, and the analysis fails the same way", async () => {
    const errors: string[] = [];
    vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => void errors.push(args.map(String).join(" ")));
    const marker = uniqueTag("private");
    const call = await answeredCall(clock, agentWith(marker, {}));
    // As if saved where the policy allowed it (or before it existed): the API itself refuses it now.
    await env.DB.prepare("UPDATE agents SET llm = ? WHERE id = ?")
      .bind(JSON.stringify({ provider: "openai", model: "gpt-4o-mini", base_url: "https://10.20.30.40/v1" }), call.agentId)
      .run();
    const ended = await callerSpeaks(call, false);
    expect(ended).toMatchObject({ end_reason: "provider_error", analysis: { status: "failed" } });
    expect(ended.analysis.error).toBe("The analysis model could not be used: llm.base_url is refused: Must not target a private, loopback or link-local address");
    const line = await eventually(async () => errors.find((l) => l.includes(call.callId) && l.includes("ending the call: provider_error")), Boolean, "the call's end to be logged");
    expect(line).toContain("llm provider openai: llm.base_url is refused: Must not target a private, loopback or link-local address");
    const { live, analysis } = await chats(call, marker);
    expect([...live, ...analysis]).toEqual([]);
  });
});
