import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { TwilioMediaClient, type MarkMode } from "../fakes/media-client";
import { adminFetch, newOrg } from "../helpers/api";
import { eventually } from "../helpers/eventually";
import { uniqueTag } from "../helpers/fakes";

export { control, FAKES, recorded, uniqueTag } from "../helpers/fakes";

/** The catalogue voice of each TTS provider (migrations/0001_seed_voices.sql). */
export const VOICES = {
  elevenlabs: "01900000-0000-7000-8000-000000000001",
  deepgram: "01900000-0000-7000-8000-000000000006",
  cartesia: "01900000-0000-7000-8000-000000000010",
  openai: "01900000-0000-7000-8000-000000000012",
} as const;

export function callStub(callId: string) {
  return env.CALL.get(env.CALL.idFromName(callId));
}

export const tick = (callId: string) => runDurableObjectAlarm(callStub(callId));

export { eventually };

export type Turn = { speaker: "agent" | "contact"; text: string; start_ms: number; end_ms: number; timestamp: number; interrupted: boolean };

export const transcript = (callId: string) => callStub(callId).transcript() as Promise<Turn[]>;

export const transcriptOf = (callId: string, turns: number, timeoutMs?: number) =>
  eventually(() => transcript(callId), (t) => t.length >= turns, `${turns} transcript turns`, timeoutMs);

export interface ClockLike {
  advance(ms: number): void;
}

/**
 * An org with an agent (the test's fields over sensible defaults), a simulator number, and an
 * outbound call to it already answered (the simulator answers +1…0001 after 2 s of its clock).
 * `marker` is unique to the test and sits in the system prompt, where the OpenAI fake's scripts
 * match.
 */
export async function answeredCall(clock: ClockLike, agent: Record<string, unknown> = {}, call: Record<string, unknown> = {}) {
  const org = await newOrg();
  await adminFetch(`/organizations/${org.orgId}`, { method: "PATCH", body: { rate_limit_per_minute: 100_000 } });
  const marker = uniqueTag("vl");
  const created = await org.post("/agents", {
    name: "Voice loop",
    voice_id: VOICES.elevenlabs,
    system_prompt: `You are Maya, a receptionist (${marker}). The caller is {{first_name}}.`,
    greeting: "Hello {{first_name}}, this is Maya.",
    inactivity_timeout: 10,
    join_timeout: 20,
    max_duration: 600,
    stt: { provider: "deepgram", model: "nova-3", endpointing_ms: 300 },
    ...agent,
  });
  if (created.status !== 201) throw new Error(`agent: ${created.status} ${JSON.stringify(created.body)}`);
  const agentId = created.body.data.id as string;
  const numberId = crypto.randomUUID();
  const from = `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`;
  const at = new Date().toISOString();
  await env.DB.prepare(
    `INSERT INTO phone_numbers (id, org_id, phone_number, provider, ownership, capabilities, outbound_agent_id, inbound_agent_id, created_at, updated_at)
     VALUES (?, ?, ?, 'simulator', 'managed', '["voice"]', ?, ?, ?, ?)`,
  )
    .bind(numberId, org.orgId, from, agentId, agentId, at, at)
    .run();
  const placed = await org.post("/calls", { agent_id: agentId, phone_number: "+14155550001", variables: { first_name: "Ana" }, ...call });
  if (placed.status !== 201) throw new Error(`call: ${placed.status} ${JSON.stringify(placed.body)}`);
  const callId = placed.body.data.id as string;
  await tick(callId); // dial
  clock.advance(2000);
  await tick(callId); // ringing, answered
  const row = (await org.get(`/calls/${callId}`)).body.data;
  if (row.status !== "in_progress") throw new Error(`the call is ${row.status}, not in progress`);
  return { org, callId, agentId, marker };
}

/** Twilio's side of the call's media stream, connected straight to the call's object. */
export async function connectMedia(callId: string, marks: MarkMode = "immediate"): Promise<TwilioMediaClient> {
  const twilio = await TwilioMediaClient.connect({ url: "https://truedy.test/media", fetcher: callStub(callId), customParameters: { callId }, marks });
  twilio.begin();
  return twilio;
}

/**
 * The usual first exchange on a connected call: the greeting is heard (the caller's line silent
 * meanwhile, as a carrier streams it), the caller speaks 1.2 s, then falls silent long enough to
 * end the turn. Waits for the agent's reply in the transcript unless `awaitReply` is false.
 */
export async function greetingThenCallerSpeaks(twilio: TwilioMediaClient, callId: string, { awaitReply = true } = {}): Promise<void> {
  await transcriptOf(callId, 1);
  await twilio.silence(twilio.audioMs);
  await twilio.speak(1200);
  await twilio.silence(700);
  if (awaitReply) await transcriptOf(callId, 3);
}

/**
 * Connects the call's media in "manual" playback (audio plays only when the test says, so the
 * agent can be held mid-sentence), lets the greeting play, then the caller asks their question
 * (`speechMs` of speech, then silence that ends the turn).
 */
export async function askAfterGreeting(callId: string, speechMs = 1000): Promise<TwilioMediaClient> {
  const twilio = await connectMedia(callId, "manual");
  await twilio.waitForEvent("mark");
  twilio.play();
  await transcriptOf(callId, 1);
  await twilio.speak(speechMs);
  await twilio.silence(700);
  return twilio;
}

/** The data of the call's events of one type, oldest first. */
export async function eventData(orgId: string, callId: string, type: string): Promise<any[]> {
  const rows = await env.DB.prepare("SELECT data FROM events WHERE org_id = ? AND type = ? ORDER BY created_at, rowid").bind(orgId, type).all<{ data: string }>();
  return rows.results.map((r) => JSON.parse(r.data)).filter((d) => d.call_id === callId);
}
