import { DurableObject } from "cloudflare:workers";
import { z } from "zod";
import { CarrierError, carrierFor, openCredentials } from "../src/carriers";
import { inArray } from "drizzle-orm";
import { addDncNumber } from "../src/db/dnc";
import { agents, calls, phoneNumbers, tools, voices } from "../src/db/schema";
import { openAuthTokens } from "../src/db/tool-auth-tokens";
import { openLlmApiKey } from "../src/db/llm-api-key";
import { OPT_OUT_REASON } from "../src/domain/dnc";
import { openDatabase, TenantDb } from "../src/db/tenant";
import {
  applyCarrierEvent,
  callCost,
  endCall,
  initialCallState,
  isTerminal,
  machineHeard,
  markStarted,
  markWebCallStarted,
  webCallConnected,
  type CallState,
  type CarrierEvent,
  type EndReason,
  type Transition,
} from "../src/domain/calls";
import { analysisPlan, contactOutcome, pendingAnalysis, skippedAnalysis, type CallAnalysis } from "../src/domain/call-analysis";
import { simulatorScript } from "../src/domain/simulator";
import type { VoicemailAction } from "../src/domain/voicemail";
import { enqueueAnalysis } from "../src/calls/analysis";
import { callContact, recordContactCall } from "../src/db/call-contacts";
import { alarmTime, configureClock, currentClock } from "../src/lib/clock";
import { fromBase64 } from "../src/lib/crypto";
import { telnyxLink, twilioLink, webLink } from "../src/voice/media-link";
import { encodeMulaw } from "../src/voice/mulaw";
import { pcm16FromBytesLE, Resampler } from "../src/voice/resample";
import { parseWebClientMessage, WEB_SAMPLE_RATE, webAudioProblem } from "../src/voice/web-protocol";
import { verifyWebCallToken } from "../src/calls/web-call-tokens";
import { MULAW_SILENCE } from "../src/voice/playout";
import { VoiceSession, type HostActionResult, type HostCallAction } from "../src/voice/session";
import { voiceSessionConfig, type CallTool, type VoiceSessionConfig } from "../src/voice/session-config";
import { FrameReorderer, KEYPAD_KEY, latencySummary, streamStartProblem, type StreamStartProblem } from "../src/voice/session-rules";
import { VoiceStore, type ToolCallRecord } from "../src/voice/session-store";
import { stereoWavFromMulaw } from "../src/voice/wav";
import { publishEvents, recordEvent } from "../src/webhooks/emit";

/** What the engine knows about a call when it creates its object. */
export interface CallSpec {
  id: string;
  orgId: string;
  agentId: string;
  /** `webrtc`: a browser call (POST /calls/web), no carrier; its socket is the media stream. */
  direction: "outbound" | "inbound" | "webrtc";
  to: string;
  from: string;
  phoneNumberId: string | null;
  provider: "twilio" | "telnyx" | "custom_sip" | "simulator" | "web";
  /** Browser calls: when the connect token expires (epoch ms); unconnected by then, the call ends `no_answer`. */
  connectDeadline?: number;
  /** Known up front for inbound calls; outbound calls get it from the carrier at dial time. */
  providerCallId: string | null;
  joinTimeoutSeconds: number;
  maxDurationSeconds: number;
  recordingEnabled: boolean;
  machineDetection: boolean;
  /** With machineDetection: the carrier also reports the end of a machine's greeting (to leave a message then). */
  detectMessageEnd?: boolean;
  /** The agent's voicemail action, for outbound calls (src/domain/voicemail.ts); null/absent: none. */
  voicemail?: VoicemailAction | null;
  /** The org's concurrent-call limit at creation. */
  concurrencyLimit: number;
  batchCallId: string | null;
  metadata: Record<string, string>;
}

/** `dial_unconfirmed`: the dial request timed out; unless the carrier reports the call by then, it was not placed. */
/** `inactivity`: the caller has been silent for the agent's inactivity_timeout (armed by the voice loop). */
/** `wrap_up`: max_duration is near, the agent says goodbye (then ends the call; `max_duration` is the hard stop). */
/** `voicemail`: a machine answered and the agent leaves a message; past this the call ends anyway. */
type TimerKind = "dial" | "dial_unconfirmed" | "ring_timeout" | "wrap_up" | "max_duration" | "hangup_grace" | "simulator" | "inactivity" | "connect_timeout" | "voicemail";
interface Timer {
  kind: TimerKind;
  at: number;
  /** For `simulator`: the scripted carrier event to replay. */
  event?: Pick<CarrierEvent, "kind" | "answeredBy">;
}

interface Stored {
  spec: CallSpec;
  state: CallState;
  timers: Timer[];
  /** Whether this call holds (or waits for) a slot in the org's OrgLimiter. */
  slot: "none" | "waiting" | "granted" | "released";
  /** `restartExpected`: the carrier is replacing the stream (Twilio DTMF), so its `stop` does not end the call. */
  media: { streamSid: string | null; connectedAt: number | null; stoppedAt: number | null; reconnects?: number; restartExpected?: boolean };
  /** R2 key of the stereo WAV, once written. */
  recordingKey?: string;
  /** A machine answered and the agent leaves a message: whether its greeting has ended (the beep). */
  voicemail?: { greetingEnded: boolean };
  /** Carrier calls reported after this call was taken as never placed, each hung up once. */
  strayCallIds?: string[];
}

/**
 * How long a call whose dial request timed out waits for the carrier's first callback (which
 * names our call, so it is adopted) before it is taken as never placed: Twilio and Telnyx report
 * `initiated` within seconds of creating a call. Redialling at once instead could ring the callee
 * twice, as neither offers an idempotency key for call creation. (Never past the ring timeout.)
 */
const DIAL_CONFIRM_MS = 15_000;

/** Slack past the longest a call can last, before its slot lease is presumed lost. */
const LEASE_SLACK_MS = 5 * 60_000;
/** How long we wait for the carrier to confirm a hang-up we asked for before recording it ourselves. */
const HANGUP_GRACE_MS = 60_000;
/**
 * Streams Twilio may reconnect through its `<Redirect>` per call. A deploy drops a stream once;
 * a stream that keeps dropping is a fault, and looping on it would bill the caller for silence.
 */
const MAX_STREAM_RECONNECTS = 5;
/**
 * How long before max_duration the agent starts its goodbye: enough to say a sentence or two
 * before the carrier's own time limit (set to max_duration at dial) cuts the line.
 */
const WRAP_UP_MS = 10_000;
/** Recorded audio is written once this much is pending (about a second of the call). */
const AUDIO_FLUSH_BYTES = 8_000;
/** 20 s of μ-law per row of the audio table. */
const MAX_AUDIO_ROW_BYTES = 160_000;
/** Extra time past join_timeout before we stop waiting for the carrier's own no-answer report. */
const RING_SLACK_MS = 5_000;

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * Frames Twilio and Telnyx send on a media stream; only what this object records is checked
 * closely. Twilio: `streamSid`, `sequenceNumber`, `start.mediaFormat`. Telnyx (realtime.md §2):
 * `stream_id`, `sequence_number`, `start.{call_control_id, media_format}`, tracks `inbound` /
 * `outbound`, and an `error` frame `{error:{code, title, detail}}`. Fields read only for a log
 * are left loose, so an unexpected type there never drops a frame.
 */
const MediaFrame = z.object({
  event: z.enum(["connected", "start", "media", "mark", "dtmf", "stop", "error"]),
  streamSid: z.string().optional(),
  sequenceNumber: z.union([z.string().max(20), z.number()]).optional(),
  sequence_number: z.union([z.string().max(20), z.number()]).optional(),
  stream_id: z.string().optional(),
  start: z
    .object({
      streamSid: z.string().optional(),
      callSid: z.string().optional(),
      call_control_id: z.unknown().optional(),
      media_format: z.unknown().optional(),
      mediaFormat: z.unknown().optional(),
    })
    .passthrough()
    .optional(),
  media: z
    .object({ track: z.string().optional(), chunk: z.union([z.string().max(20), z.number()]).optional(), payload: z.string().max(100_000) })
    .optional(),
  mark: z.object({ name: z.string().max(200) }).optional(),
  // Twilio {track, digit}, Telnyx {digit}: one key a frame.
  dtmf: z.object({ digit: z.string().regex(KEYPAD_KEY) }).passthrough().optional(),
  error: z.unknown().optional(),
  payload: z.unknown().optional(),
});

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The little the media path needs to know about the call. */
interface LiveCall {
  spec: CallSpec;
  answeredAt: number | null;
  ended: boolean;
  /** The carrier's id of the call (Telnyx: the call_control_id its stream's `start` must name). */
  providerCallId: string | null;
  /** A machine answered and the agent leaves a message (a loop started now waits for the beep instead of greeting). */
  machine: { greetingEnded: boolean } | null;
}

const liveCall = (stored: Stored): LiveCall => ({
  spec: stored.spec,
  answeredAt: stored.state.answeredAt,
  ended: isTerminal(stored.state.status),
  providerCallId: stored.state.providerCallId,
  machine: stored.state.answeredBy === "machine" && stored.voicemail ? { ...stored.voicemail } : null,
});

/**
 * How long a call answered by a machine may last while the agent leaves its message: the wait for
 * the beep (VOICEMAIL_GREETING_TIMEOUT_MS) plus a message. Past it the call ends `voicemail`
 * whatever happened (no media stream, a TTS that never answered).
 */
const VOICEMAIL_LIMIT_MS = 90_000;

/**
 * One per call (`idFromName(callId)`): owns the call's state machine, its timers (dial, ring
 * timeout, max duration, hang-up grace, simulator script) on a single alarm, its concurrency slot,
 * the D1 mirror row and the webhook events of every transition. The decisions are the pure
 * functions of src/domain/calls.ts; this class only stores, schedules and talks to the outside.
 */
export class CallDO extends DurableObject<Env> {
  /** Conversation history, transcript and latency of the voice loop, in this object's storage. */
  readonly #voiceStore: VoiceStore;
  /** The live voice loop, from the stream's `start` frame to its end (in memory: a live call keeps the object awake). */
  #voice: VoiceSession | null = null;
  /** The media socket the live voice loop talks on. */
  #voiceSocket: WebSocket | null = null;
  /** Bytes of each recorded leg (stored and pending), so the agent leg can be padded to where the caller's stands. */
  #legBytes: { caller: number; agent: number } | null = null;
  /**
   * Recorded audio not yet written, in order: the 50 frames a second are written about once a
   * second as one row per leg run, not one SQL write each (the media path's hot loop).
   */
  #pendingAudio: { leg: "caller" | "agent"; bytes: Uint8Array }[] = [];
  #pendingAudioBytes = 0;
  /** Media frames received since the count was last stored (diagnostics; stored when a stream stops). */
  #framesIn = 0;
  /**
   * What the media path needs, in memory: frames are then handled without awaiting storage, which
   * would let a later frame overtake an earlier one (the loop must hear the caller in order).
   */
  #live: LiveCall | null = null;
  /** Per media socket: frames back in chunk order (they can be handled out of order). */
  #reorderers = new WeakMap<WebSocket, FrameReorderer>();
  /** Caller audio that came before the stream's `start` (reordered ahead of it), for the loop. */
  #beforeStart: Uint8Array[] = [];
  /** Browser calls: per socket, the 16 kHz → 8 kHz resampler of the user's audio (its state spans messages). */
  #webDownsamplers = new WeakMap<WebSocket, Resampler>();
  /** Browser audio that came while the call was being loaded after hibernation, in order. */
  #webBacklog: Uint8Array[] = [];
  /** Browser calls: a connection took the token (also kept as media.connectedAt). */
  #webClaimed = false;
  /** Media sockets whose `start` was refused (see #refuseStream): nothing more they send is heard. */
  #refused = new WeakSet<WebSocket>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    configureClock(env);
    // Caller audio (μ-law) kept for the recording, in arrival order; the agent leg joins it with the voice loop.
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS audio (seq INTEGER PRIMARY KEY AUTOINCREMENT, leg TEXT NOT NULL, bytes BLOB NOT NULL)");
    // Counted apart from the call record, so the 50 frames a second never rewrite that record.
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS media_frames (id INTEGER PRIMARY KEY CHECK (id = 1), frames_in INTEGER NOT NULL)");
    this.#voiceStore = new VoiceStore(ctx.storage);
  }

  async #load(): Promise<Stored | undefined> {
    return this.ctx.storage.get<Stored>("call");
  }

  async #save(stored: Stored): Promise<void> {
    await this.ctx.storage.put("call", stored);
    const next = stored.timers.reduce<number | null>((min, t) => (min === null || t.at < min ? t.at : min), null);
    if (next === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(alarmTime(next));
  }

  #tenant(stored: Stored) {
    return new TenantDb(openDatabase(this.env.DB), stored.spec.orgId);
  }

  #limiter(stored: Stored) {
    return this.env.ORG_LIMITER.get(this.env.ORG_LIMITER.idFromName(stored.spec.orgId));
  }

  /** The public shape of the call, also used as webhook event data. */
  #view(stored: Stored) {
    const { spec, state } = stored;
    const rate = Number(this.env.CALL_CREDITS_PER_MINUTE ?? "1");
    return {
      call_id: spec.id,
      agent_id: spec.agentId,
      direction: spec.direction,
      status: state.status,
      end_reason: state.endReason,
      from_number: spec.from,
      to_number: spec.to,
      answered_by: state.answeredBy,
      duration_seconds: state.durationSeconds,
      cost_credits: state.durationSeconds === null ? null : callCost(state.durationSeconds, Number.isFinite(rate) ? rate : 1),
      batch_call_id: spec.batchCallId,
      metadata: spec.metadata,
      ringing_at: iso(state.ringingAt),
      started_at: iso(state.answeredAt),
      ended_at: iso(state.endedAt),
      latency: latencySummary(this.#voiceStore.latencyTurns()),
    };
  }

  /**
   * Stores the new state, mirrors it to D1 and records its webhook events in the same D1 batch,
   * then publishes them. Also keeps timers and the slot in line with the new status.
   */
  async #commit(stored: Stored, transition: Transition): Promise<void> {
    const before = stored.state;
    stored.state = transition.state;
    const now = currentClock().now();
    if (transition.state.status === "in_progress" && before.status !== "in_progress") {
      stored.timers = stored.timers.filter((t) => t.kind !== "ring_timeout" && t.kind !== "connect_timeout");
      const endAt = (transition.state.answeredAt ?? now) + stored.spec.maxDurationSeconds * 1000;
      stored.timers.push({ kind: "max_duration", at: endAt });
      // Short calls have no room for a goodbye; they just end.
      if (stored.spec.maxDurationSeconds * 1000 >= 2 * WRAP_UP_MS) stored.timers.push({ kind: "wrap_up", at: endAt - WRAP_UP_MS });
    }
    if (isTerminal(transition.state.status)) stored.timers = [];
    await this.#save(stored);
    this.#live = liveCall(stored);
    // A browser is told why its call ended before its socket closes.
    if (isTerminal(transition.state.status) && stored.spec.direction === "webrtc") this.#closeWebSockets(transition.state.endReason);
    // Nothing more is said on an ended call (and no more agent audio joins the recording).
    if (isTerminal(transition.state.status)) this.#stopVoice({ closeStream: true });

    const tenant = this.#tenant(stored);
    const view = this.#view(stored);
    const events = transition.events.map((type) => recordEvent(tenant, now, type, view));
    const ending = isTerminal(transition.state.status) && !isTerminal(before.status) ? await this.#ending(stored, tenant, now) : null;
    await tenant.commit([
      tenant.update(calls, stored.spec.id, {
        status: view.status,
        endReason: view.end_reason,
        providerCallId: stored.state.providerCallId,
        answeredBy: view.answered_by,
        durationSeconds: view.duration_seconds,
        costCredits: view.cost_credits,
        ringingAt: view.ringing_at,
        startedAt: view.started_at,
        endedAt: view.ended_at,
        ...(isTerminal(view.status) ? { latency: view.latency } : {}),
        ...ending?.changes,
        updatedAt: new Date(now).toISOString(),
      }),
      ...events.map((e) => e.statement),
      ...(ending?.statements ?? []),
    ]);
    await publishEvents(this.env.WEBHOOK_QUEUE, events.map((e) => e.id));
    if (isTerminal(transition.state.status)) {
      await this.#releaseSlot(stored);
      await this.#writeRecording(stored);
    }
    // A lost send loses nothing: the row says `pending` and the sweep re-sends it.
    if (ending?.analyse) await enqueueAnalysis(this.env.WEBHOOK_QUEUE, stored.spec.id, 1);
    if (stored.spec.batchCallId) await this.#reportToCampaign(stored.spec.batchCallId, view);
  }

  /**
   * What the end of the call writes with its row: its analysis (`pending` and queued once committed
   * when it was answered and the contact spoke; `skipped` when a machine answered or nobody spoke;
   * none when it was never answered) and, for a call made to a contact, that contact's call count,
   * last call time and last outcome (src/domain/call-analysis.ts `contactOutcome`; the analysis
   * refines it later).
   */
  async #ending(stored: Stored, tenant: TenantDb, now: number) {
    const { state, spec } = stored;
    const at = new Date(now).toISOString();
    let analysis: CallAnalysis | null = null;
    if (state.answeredAt !== null) {
      const plan = analysisPlan(state, await this.#voiceStore.transcript());
      analysis = plan === "analyse" ? pendingAnalysis() : skippedAnalysis(plan, at);
    }
    const contact = callContact(spec.metadata, spec.to, iso(state.endedAt));
    const outcome = contactOutcome({ ...state, answered: state.answeredAt !== null }, analysis);
    return {
      analyse: analysis?.status === "pending",
      changes: analysis ? { analysis, analysisStatus: analysis.status, analysisAttempts: 0, analysisNextAttemptAt: analysis.status === "pending" ? at : null } : {},
      statements: contact && outcome ? [recordContactCall(tenant, contact, outcome, at)] : [],
    };
  }

  /**
   * Tells the campaign that placed this call how it stands. A lost report is not fatal: the
   * campaign asks the call itself once the call should have ended.
   */
  async #reportToCampaign(batchCallId: string, view: NonNullable<Awaited<ReturnType<CallDO["snapshot"]>>>): Promise<void> {
    try {
      await this.env.CAMPAIGN.get(this.env.CAMPAIGN.idFromName(batchCallId)).callUpdated({
        callId: view.call_id,
        status: view.status,
        endReason: view.end_reason,
        durationSeconds: view.duration_seconds,
        costCredits: view.cost_credits,
        endedAt: view.ended_at ? Date.parse(view.ended_at) : null,
      });
    } catch (error) {
      console.error(JSON.stringify({ level: "warn", message: "campaign report failed; the campaign will check the call", call_id: view.call_id, error: String(error) }));
    }
  }

  /**
   * Writes the call's audio to R2 as a stereo WAV (caller left, agent right) when recording is
   * on, once, and points the call row at it.
   */
  async #writeRecording(stored: Stored): Promise<void> {
    if (!stored.spec.recordingEnabled || stored.recordingKey) return;
    this.#persistMedia();
    const legs = { caller: [] as Uint8Array[], agent: [] as Uint8Array[] };
    for (const row of this.ctx.storage.sql.exec<{ leg: string; bytes: ArrayBuffer }>("SELECT leg, bytes FROM audio ORDER BY seq")) {
      (row.leg === "agent" ? legs.agent : legs.caller).push(new Uint8Array(row.bytes));
    }
    if (legs.caller.length === 0 && legs.agent.length === 0) return;
    const key = `recordings/${stored.spec.orgId}/${stored.spec.id}.wav`;
    await this.env.FILES.put(key, stereoWavFromMulaw(concatBytes(legs.caller), concatBytes(legs.agent)), { httpMetadata: { contentType: "audio/wav" } });
    stored.recordingKey = key;
    await this.ctx.storage.put("call", stored);
    await this.#tenant(stored).update(calls, stored.spec.id, { recordingKey: key });
    this.ctx.storage.sql.exec("DELETE FROM audio");
    this.#legBytes = null;
  }

  async #releaseSlot(stored: Stored): Promise<void> {
    if (stored.slot === "none" || stored.slot === "released") return;
    stored.slot = "released";
    await this.ctx.storage.put("call", stored);
    await this.#limiter(stored).releaseCallSlot(stored.spec.id, stored.spec.concurrencyLimit, currentClock().now());
  }

  /**
   * Creates the call's state and, for outbound calls, asks the org for a slot: granted means a
   * `dial` timer due now (the alarm places the call, so the API request never waits on the
   * carrier and a failed dial is retried); waiting means `slotGranted` will come later.
   * Calling it again returns the existing call unchanged.
   */
  async start(spec: CallSpec): Promise<ReturnType<CallDO["snapshot"]>> {
    const existing = await this.#load();
    if (existing) return this.#view(existing);
    const now = currentClock().now();
    const stored: Stored = {
      spec,
      state: { ...initialCallState(), providerCallId: spec.providerCallId },
      timers: [],
      slot: "none",
      media: { streamSid: null, connectedAt: null, stoppedAt: null },
    };
    // Stored before asking for a slot: while we wait for the limiter's answer it may already
    // hand us a freed slot (slotGranted), which must find this call to act on.
    await this.#save(stored);
    if (spec.direction === "outbound") {
      const leaseMs = (spec.joinTimeoutSeconds + spec.maxDurationSeconds) * 1000 + LEASE_SLACK_MS;
      const answer = await this.#limiter(stored).acquireCallSlot(spec.id, spec.concurrencyLimit, leaseMs, now);
      const current = (await this.#load()) ?? stored;
      if (current.slot === "none" && isTerminal(current.state.status)) {
        // Cancelled while we waited for the answer: give the slot (or place in line) straight back.
        current.slot = answer;
        await this.#releaseSlot(current);
      } else if (current.slot === "none") {
        current.slot = answer;
        if (answer === "granted") current.timers.push({ kind: "dial", at: now });
        await this.#save(current);
      }
      return this.#view(current);
    }
    return this.#view(stored);
  }

  /**
   * Creates a browser call (`webrtc`): it takes one of the org's slots now or not at all (a
   * browser does not wait in line; refused, nothing is kept). Granted, the call is `started` and
   * waits `queued` for its browser until the connect token expires (`connect_timeout`).
   * Calling it again for the same call changes nothing.
   */
  async startWeb(spec: CallSpec): Promise<{ ok: true } | { ok: false; reason: "concurrency_limit" }> {
    if (await this.#load()) return { ok: true };
    const now = currentClock().now();
    const deadline = spec.connectDeadline ?? now + spec.joinTimeoutSeconds * 1000;
    const limiter = this.env.ORG_LIMITER.get(this.env.ORG_LIMITER.idFromName(spec.orgId));
    const leaseMs = Math.max(0, deadline - now) + spec.maxDurationSeconds * 1000 + LEASE_SLACK_MS;
    // Nothing is stored before the answer: a grant arriving meanwhile (slotGranted) finds no call and is ignored.
    const answer = await limiter.acquireCallSlot(spec.id, spec.concurrencyLimit, leaseMs, now);
    if (answer !== "granted") {
      await limiter.releaseCallSlot(spec.id, spec.concurrencyLimit, currentClock().now());
      return { ok: false, reason: "concurrency_limit" };
    }
    const stored: Stored = {
      spec,
      state: initialCallState(),
      timers: [{ kind: "connect_timeout", at: deadline }],
      slot: "granted",
      media: { streamSid: null, connectedAt: null, stoppedAt: null },
    };
    await this.#commit(stored, markWebCallStarted(stored.state));
    return { ok: true };
  }

  /** OrgLimiter: a slot freed up for this waiting call. */
  async slotGranted(): Promise<void> {
    const stored = await this.#load();
    // "none": the grant overtook the answer to our own acquireCallSlot (see start).
    if (!stored || (stored.slot !== "waiting" && stored.slot !== "none") || isTerminal(stored.state.status)) return;
    // A browser call never waits for a slot (see startWeb), so it has nothing to dial.
    if (stored.spec.direction === "webrtc") return;
    stored.slot = "granted";
    stored.timers.push({ kind: "dial", at: currentClock().now() });
    await this.#save(stored);
  }

  /** OrgLimiter: the slot's lease ran out with no word from the carrier. */
  async slotLeaseExpired(): Promise<void> {
    const stored = await this.#load();
    if (!stored) return;
    stored.slot = "released";
    if (!isTerminal(stored.state.status)) {
      await this.#hangupAtCarrier(stored);
      await this.#commit(stored, endCall(stored.state, "carrier_error", currentClock().now()));
    } else {
      await this.ctx.storage.put("call", stored);
    }
  }

  snapshot() {
    return this.ctx.storage.get<Stored>("call").then((stored) => (stored ? this.#view(stored) : null));
  }

  /** A normalised report from the carrier (status callback, webhook, or the simulator's script). */
  async carrierEvent(event: CarrierEvent) {
    const stored = await this.#load();
    if (!stored) return null;
    // The carrier did place the call whose dial request timed out: adopt it (call.started, as a dial that answered).
    const unconfirmed = stored.timers.some((t) => t.kind === "dial_unconfirmed");
    if (unconfirmed && event.providerCallId && !stored.state.providerCallId && !isTerminal(stored.state.status)) {
      stored.timers = stored.timers.filter((t) => t.kind !== "dial_unconfirmed");
      await this.#commit(stored, markStarted(stored.state, event.providerCallId));
    }
    if (this.#isStrayCall(stored, event)) {
      await this.#hangUpStrayCall(stored, event.providerCallId!);
      return this.#view(stored);
    }
    const transition = applyCarrierEvent(stored.state, event);
    if (transition.state !== stored.state) await this.#commit(stored, transition);
    await this.#afterCarrierEvent(stored, event);
    return this.#view(stored);
  }

  /**
   * A live call the carrier reports for a call of ours that ended without one: the carrier placed
   * it after all, after the dial timed out and the confirmation window passed (a callback more
   * than 15 s late). Nobody would talk to the callee, so it is hung up at once.
   */
  #isStrayCall(stored: Stored, event: CarrierEvent): boolean {
    const live = event.kind === "initiated" || event.kind === "ringing" || event.kind === "answered" || event.kind === "machine_detection";
    return live && !!event.providerCallId && isTerminal(stored.state.status) && !stored.state.providerCallId && !stored.strayCallIds?.includes(event.providerCallId);
  }

  async #hangUpStrayCall(stored: Stored, providerCallId: string): Promise<void> {
    stored.strayCallIds = [...(stored.strayCallIds ?? []), providerCallId];
    await this.#save(stored);
    console.warn(JSON.stringify({ level: "warn", message: "the carrier placed a call we had taken as failed; hanging it up", call_id: stored.spec.id, provider_call_id: providerCallId }));
    try {
      await (await this.#carrier(stored)).hangup(providerCallId);
    } catch (error) {
      console.error(JSON.stringify({ level: "error", message: "could not hang up the stray carrier call", call_id: stored.spec.id, provider_call_id: providerCallId, error: String(error) }));
    }
  }

  /** A machine verdict (or an answer that came with one) is acted on once the call is answered. */
  async #afterCarrierEvent(stored: Stored, event: Pick<CarrierEvent, "kind" | "answeredBy" | "machineGreeting">): Promise<void> {
    if (event.kind !== "machine_detection" && event.kind !== "answered") return;
    if (stored.state.answeredBy !== "machine" || isTerminal(stored.state.status)) return;
    if (stored.state.status !== "in_progress") {
      // The verdict overtook the answer: what it said about the greeting waits for the answer.
      if (event.machineGreeting === "ended" && !stored.voicemail) {
        // Re-read: another event may have changed the call while the commit awaited D1.
        const current = (await this.#load()) ?? stored;
        current.voicemail = stored.voicemail = { greetingEnded: true };
        await this.ctx.storage.put("call", current);
      }
      return;
    }
    await this.#machineAnswered(stored, { greetingEnded: event.machineGreeting === "ended", tellVoice: true, why: "the carrier's answering-machine detection" });
  }

  /**
   * The voice loop read the callee's first words as a voicemail greeting: the call is marked
   * answered by a machine and the agent's voicemail action follows (the loop itself already
   * stopped talking, and waits for the beep when it leaves a message).
   */
  async #machineHeard(cues: string[]): Promise<void> {
    const stored = await this.#load();
    if (!stored || isTerminal(stored.state.status)) return;
    const transition = machineHeard(stored.state);
    if (transition.state !== stored.state) await this.#commit(stored, transition);
    await this.#machineAnswered(stored, { greetingEnded: false, tellVoice: false, why: `the callee's first words read as a voicemail greeting: ${cues.join(", ")}` });
  }

  /**
   * A machine answered (the carrier's detection, or the transcript): the agent's voicemail action.
   * `hangup` ends the call now (`voicemail`); `leave_message` lets the voice loop wait for the
   * beep, say the message and end the call, with a timer in case it never can. No action: the
   * agent talks on (the call still ends `voicemail`, answered by a machine).
   */
  async #machineAnswered(stored: Stored, options: { greetingEnded: boolean; tellVoice: boolean; why: string }): Promise<void> {
    const action = stored.spec.voicemail ?? null;
    if (!action || isTerminal(stored.state.status)) return;
    if (action === "hangup") return this.#endByAgent(stored, "voicemail", `a machine answered (${options.why}); the agent hangs up on voicemail`);
    // Re-read: the voice loop may have armed a timer while a commit before this awaited D1.
    const current = (await this.#load()) ?? stored;
    const greetingEnded = options.greetingEnded || current.voicemail?.greetingEnded === true;
    const first = !current.timers.some((t) => t.kind === "voicemail");
    current.voicemail = { greetingEnded };
    if (first) current.timers.push({ kind: "voicemail", at: currentClock().now() + VOICEMAIL_LIMIT_MS });
    await this.#save(current);
    stored.voicemail = current.voicemail;
    stored.timers = current.timers;
    this.#live = liveCall(current);
    if (first) console.log(JSON.stringify({ level: "info", message: "a machine answered: leaving the voicemail message", detail: options.why, call_id: stored.spec.id, greeting_ended: greetingEnded }));
    if (options.tellVoice) this.#voice?.machineDetected(greetingEnded);
  }

  /**
   * Ends the call at the customer's request. Before a carrier call exists it is cancelled on the
   * spot; otherwise the carrier is asked to hang up and its confirmation (with the billed
   * duration) ends the call, or the grace timer does if the carrier stays silent.
   */
  async hangup(reason: Extract<EndReason, "hangup_by_api" | "cancelled">) {
    const stored = await this.#load();
    if (!stored) return null;
    if (isTerminal(stored.state.status)) return this.#view(stored);
    const now = currentClock().now();
    if (!stored.state.providerCallId) {
      await this.#commit(stored, endCall(stored.state, reason, now));
      return this.#view(stored);
    }
    stored.state = { ...stored.state, pendingEndReason: reason };
    stored.timers = stored.timers.filter((t) => t.kind !== "hangup_grace");
    stored.timers.push({ kind: "hangup_grace", at: now + HANGUP_GRACE_MS });
    await this.#save(stored);
    await this.#hangupAtCarrier(stored);
    return this.#view(stored);
  }

  async #hangupAtCarrier(stored: Stored): Promise<void> {
    // A browser call has no carrier: ending it closes its socket (#commit), nothing else.
    if (stored.spec.direction === "webrtc") return;
    const providerCallId = stored.state.providerCallId;
    if (!providerCallId) return;
    if (stored.spec.provider === "simulator") {
      // The simulated carrier confirms at once, as a real one would with a callback.
      const now = currentClock().now();
      stored.timers = stored.timers.filter((t) => t.kind !== "simulator");
      stored.timers.push({ kind: "simulator", at: now, event: { kind: stored.state.status === "in_progress" ? "completed" : "canceled" } });
      await this.#save(stored);
      return;
    }
    try {
      const carrier = await this.#carrier(stored);
      await carrier.hangup(providerCallId);
    } catch (error) {
      // The grace timer still ends the call on our side if the carrier never confirms.
      console.error(JSON.stringify({ level: "error", message: "carrier hangup failed", call_id: stored.spec.id, error: String(error) }));
    }
  }

  async #carrier(stored: Stored) {
    const provider = stored.spec.provider === "custom_sip" ? "twilio" : stored.spec.provider;
    if (provider === "web") throw new Error(`call ${stored.spec.id} is a browser call and has no carrier`);
    let credentials = null;
    if (stored.spec.phoneNumberId) {
      const number = await this.#tenant(stored).find(phoneNumbers, stored.spec.phoneNumberId);
      credentials = number ? await openCredentials(this.env, number.credentialsEncrypted) : null;
    }
    return carrierFor(this.env, provider, credentials?.kind === provider ? credentials : null);
  }

  async #dial(stored: Stored, now: number): Promise<void> {
    if (stored.state.status !== "queued" || stored.state.providerCallId) return;
    let providerCallId: string;
    try {
      const carrier = await this.#carrier(stored);
      ({ providerCallId } = await carrier.dial({
        callId: stored.spec.id,
        to: stored.spec.to,
        from: stored.spec.from,
        timeoutSeconds: stored.spec.joinTimeoutSeconds,
        timeLimitSeconds: stored.spec.maxDurationSeconds,
        machineDetection: stored.spec.machineDetection,
        detectMessageEnd: stored.spec.detectMessageEnd === true,
        record: stored.spec.recordingEnabled,
        publicBaseUrl: this.env.PUBLIC_BASE_URL,
      }));
    } catch (error) {
      if (error instanceof CarrierError && error.details?.timed_out === true) {
        console.warn(JSON.stringify({ level: "warn", message: "dial timed out; waiting for the carrier's callbacks before taking it as failed", call_id: stored.spec.id, error: String(error) }));
        stored.timers.push({ kind: "dial_unconfirmed", at: now + Math.min(DIAL_CONFIRM_MS, stored.spec.joinTimeoutSeconds * 1000) });
        stored.timers.push({ kind: "ring_timeout", at: now + stored.spec.joinTimeoutSeconds * 1000 + RING_SLACK_MS });
        await this.#save(stored);
        return;
      }
      console.error(JSON.stringify({ level: "error", message: "dial failed", call_id: stored.spec.id, error: String(error) }));
      // The call never connected: whatever the carrier answered (5xx, refusal, bad credentials),
      // that is a carrier_error; provider_error is for the voice loop's services.
      await this.#commit(stored, endCall(stored.state, "carrier_error", now));
      return;
    }
    stored.timers.push({ kind: "ring_timeout", at: now + stored.spec.joinTimeoutSeconds * 1000 + RING_SLACK_MS });
    if (stored.spec.provider === "simulator") {
      const talkSeconds = Number(this.env.SIMULATOR_CALL_SECONDS ?? "5");
      for (const step of simulatorScript(stored.spec.to, { joinTimeoutSeconds: stored.spec.joinTimeoutSeconds, talkSeconds })) {
        stored.timers.push({ kind: "simulator", at: now + step.afterMs, event: { kind: step.kind, answeredBy: step.answeredBy } });
      }
    }
    await this.#commit(stored, markStarted(stored.state, providerCallId));
  }

  /** Runs every timer that is due, in time order, then re-arms for the next one. */
  async alarm(): Promise<void> {
    const stored = await this.#load();
    if (!stored) return;
    const now = currentClock().now();
    const due = stored.timers.filter((t) => t.at <= now).sort((a, b) => a.at - b.at);
    stored.timers = stored.timers.filter((t) => t.at > now);
    await this.ctx.storage.put("call", stored);
    for (const timer of due) {
      if (isTerminal(stored.state.status)) break;
      switch (timer.kind) {
        case "dial":
          await this.#dial(stored, now);
          break;
        case "simulator":
          if (timer.event) {
            const transition = applyCarrierEvent(stored.state, { ...timer.event, at: timer.at, providerCallId: stored.state.providerCallId ?? undefined });
            if (transition.state !== stored.state) await this.#commit(stored, transition);
            await this.#afterCarrierEvent(stored, timer.event);
          }
          break;
        case "voicemail":
          // The message could not be left in time (no media stream, a greeting that never ended).
          if (stored.state.status === "in_progress") await this.#endByAgent(stored, "voicemail", "a machine answered and the voicemail message could not be left in time");
          break;
        case "dial_unconfirmed":
          // No word from the carrier since the dial timed out: it was not placed.
          if (stored.state.status === "queued" && !stored.state.providerCallId) {
            console.error(JSON.stringify({ level: "error", message: "dial failed: the carrier never reported the call after the request timed out", call_id: stored.spec.id }));
            await this.#commit(stored, endCall(stored.state, "carrier_error", now));
          }
          break;
        case "connect_timeout":
          // A browser call whose token expired unused: nobody came to the call.
          if (stored.state.status === "queued") await this.#commit(stored, endCall(stored.state, "no_answer", now));
          break;
        case "ring_timeout":
          if (stored.state.status === "queued" || stored.state.status === "ringing") {
            await this.#hangupAtCarrier(stored);
            await this.#commit(stored, endCall(stored.state, "no_answer", now));
          }
          break;
        case "max_duration":
          if (stored.state.status === "in_progress") {
            stored.state = { ...stored.state, pendingEndReason: "max_duration" };
            await this.#hangupAtCarrier(stored);
            await this.#commit(stored, endCall(stored.state, "max_duration", now));
          }
          break;
        case "wrap_up":
          // No live conversation to wrap up: the max_duration timer ends the call as it is.
          this.#voice?.wrapUp();
          break;
        case "hangup_grace":
          await this.#commit(stored, endCall(stored.state, stored.state.pendingEndReason ?? "hangup_by_api", now));
          break;
        case "inactivity":
          // The first silence gets a re-prompt (spoken by the voice loop); the second ends the call.
          if (this.#voice?.inactivityTimeout() === "hangup") await this.#endByAgent(stored, "inactivity", "the caller stayed silent after a re-prompt");
          break;
      }
    }
    // Re-read: the voice loop may have armed a timer while this ran.
    await this.#save((await this.#load()) ?? stored);
  }

  /** Arms (or with null, cancels) the one timer of this kind. */
  async #setTimer(kind: TimerKind, at: number | null): Promise<void> {
    const stored = await this.#load();
    if (!stored || isTerminal(stored.state.status)) return;
    const had = stored.timers.some((t) => t.kind === kind);
    if (!had && at === null) return;
    stored.timers = stored.timers.filter((t) => t.kind !== kind);
    if (at !== null) stored.timers.push({ kind, at });
    await this.#save(stored);
  }

  /** Our side ends a live call (inactivity, a provider failure, the goodbye at max_duration): hang up at the carrier and record why. */
  async #endByAgent(stored: Stored, reason: "inactivity" | "provider_error" | "max_duration" | "voicemail" | "hangup_by_agent", message: string): Promise<void> {
    if (isTerminal(stored.state.status)) return;
    const line = JSON.stringify({ level: reason === "provider_error" ? "error" : "info", message: `ending the call: ${reason}`, detail: message, call_id: stored.spec.id });
    if (reason === "provider_error") console.error(line);
    else console.log(line);
    stored.state = { ...stored.state, pendingEndReason: reason };
    await this.#hangupAtCarrier(stored);
    await this.#commit(stored, endCall(stored.state, reason, currentClock().now()));
  }

  /**
   * The voice loop's built-in call actions (the LLM's transfer_call, send_dtmf and opt_out; its
   * end_call is #endByAgent). Refusals are answered, not thrown: the model hears them.
   */
  async #callAction(action: HostCallAction): Promise<HostActionResult> {
    const stored = await this.#load();
    if (!stored || isTerminal(stored.state.status)) return { ok: false, error: "The call has already ended" };
    const { spec } = stored;
    const providerCallId = stored.state.providerCallId;
    if (action.kind === "opt_out") {
      // The callee's number: whom we called, or who called us.
      const phoneNumber = spec.direction === "outbound" ? spec.to : spec.direction === "inbound" ? spec.from : null;
      if (!phoneNumber) return { ok: false, error: "A browser call has no phone number to put on the do-not-call list" };
      const { created } = await addDncNumber(this.#tenant(stored), {
        phoneNumber,
        reason: `${OPT_OUT_REASON} during call ${spec.id}`,
        source: "opt_out",
        nowMs: currentClock().now(),
      });
      console.log(JSON.stringify({ level: "info", message: "the callee opted out", call_id: spec.id, already_listed: !created }));
      return { ok: true, detail: created ? "The number is now on the do-not-call list." : "The number was already on the do-not-call list." };
    }
    if (spec.direction === "webrtc") return { ok: false, error: `A browser call cannot ${action.kind === "transfer" ? "be transferred" : "send DTMF"}` };
    if (!providerCallId) return { ok: false, error: "The call is not connected at the carrier" };
    // Our own number on the call: the caller id a transfer shows.
    const ourNumber = spec.direction === "outbound" ? spec.from : spec.to;
    try {
      const carrier = await this.#carrier(stored);
      if (action.kind === "transfer") {
        await carrier.transfer(providerCallId, { to: action.destination, callerId: ourNumber });
        console.log(JSON.stringify({ level: "info", message: "call transferred", call_id: spec.id, provider: spec.provider }));
        // Our part of the call is over; the carrier's own end of the call (later) is ignored.
        const current = (await this.#load()) ?? stored;
        await this.#commit(current, endCall(current.state, "transferred", currentClock().now()));
        return { ok: true, detail: `Transferred to ${action.destination}.` };
      }
      // Twilio plays the keys from new TwiML: the stream's `stop` is then the carrier switching
      // streams, not the caller leaving (flagged before asking, as the stop can come first).
      const switching = spec.provider === "twilio" || spec.provider === "custom_sip";
      if (switching) await this.#expectStreamRestart(true);
      let sent: { restartsStream: boolean };
      try {
        sent = await carrier.sendDtmf(providerCallId, { digits: action.digits, callId: spec.id, publicBaseUrl: this.env.PUBLIC_BASE_URL });
      } catch (error) {
        if (switching) await this.#expectStreamRestart(false);
        throw error;
      }
      if (switching && !sent.restartsStream) await this.#expectStreamRestart(false);
      return { ok: true, detail: `Sent ${action.digits}.`, streamRestarts: sent.restartsStream };
    } catch (error) {
      console.error(JSON.stringify({ level: "error", message: `call action ${action.kind} failed`, call_id: spec.id, error: String(error) }));
      return { ok: false, error: error instanceof Error ? error.message : String(error) };
    }
  }

  async #expectStreamRestart(expected: boolean): Promise<void> {
    const stored = await this.#load();
    if (!stored) return;
    if (expected) stored.media.restartExpected = true;
    else delete stored.media.restartExpected;
    await this.ctx.storage.put("call", stored);
  }

  /** The voice loop's tool calls on this call, oldest first (GET /calls/{id}/tool-calls). */
  toolCalls(): ToolCallRecord[] {
    return this.#voiceStore.toolCalls();
  }

  /**
   * The carrier's media stream (hibernation API). Its `start` frame starts the voice loop; inbound
   * frames go to the recording and the loop, echoed marks to the loop; `stop` or the socket
   * closing ends the loop. Stream id, connect and stop times and a frame count are kept for
   * diagnostics.
   */
  async fetch(request: Request): Promise<Response> {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") return new Response("Expected a WebSocket", { status: 426 });
    const stored = await this.#load();
    if (stored?.spec.direction === "webrtc") return this.#connectWeb(stored, request);
    if (!stored || isTerminal(stored.state.status)) return new Response("No such live call", { status: 404 });
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1], ["media"]);
    this.#live = liveCall(stored);
    this.#beforeStart = [];
    stored.media.connectedAt = currentClock().now();
    await this.ctx.storage.put("call", stored);
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  /**
   * A browser connecting to its web call (the worker's /web-calls route checked the token; it is
   * checked again here against this call). The first connection only: it answers the call
   * (`in_progress`, no ringing), says `ready` and starts the voice loop on the socket. Refusals
   * are 401 (token), 403 (token already used, or the call is over) with the reason as text.
   */
  async #connectWeb(stored: Stored, request: Request): Promise<Response> {
    const now = currentClock().now();
    const token = new URL(request.url).searchParams.get("token") ?? undefined;
    const check = await verifyWebCallToken(this.env, token, stored.spec.id, stored.spec.orgId, now);
    if (!check.ok) return new Response(check.reason, { status: 401 });
    // Re-read: the check awaited, and a first connection may have come in meanwhile.
    const current = (await this.#load()) ?? stored;
    if (current.media.connectedAt !== null || this.#webClaimed) return new Response("already_used", { status: 403 });
    if (isTerminal(current.state.status)) return new Response("ended", { status: 403 });
    // Single use: claimed in memory in the same synchronous step as the check (two handshakes
    // cannot both pass it), and in storage for after an eviction.
    this.#webClaimed = true;
    current.media.connectedAt = now;
    await this.ctx.storage.put("call", current);

    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1], ["web"]);
    this.#beforeStart = [];
    await this.#commit(current, webCallConnected(current.state, now));
    const live = this.#live ?? liveCall(current);
    if (live.ended) {
      // Ended while the answer was being written (an API hang-up): #commit has said so and closed.
      return new Response(null, { status: 101, webSocket: pair[0] });
    }
    pair[1].send(JSON.stringify({ type: "ready", call_id: current.spec.id, sample_rate: WEB_SAMPLE_RATE }));
    this.#startVoice(pair[1], live, null);
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  /** Browser → server (src/voice/web-protocol.ts): PCM16 16 kHz audio, echoed marks, hangup. */
  async #webMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    if (typeof message !== "string") {
      const problem = webAudioProblem(message.byteLength);
      if (problem) return this.#sendWeb(ws, { type: "error", ...problem });
      if (message.byteLength === 0) return;
      this.#framesIn++;
      // 16 kHz PCM16 → 8 kHz μ-law, the one format the recording and the voice loop take.
      let downsampler = this.#webDownsamplers.get(ws);
      if (!downsampler) this.#webDownsamplers.set(ws, (downsampler = new Resampler(WEB_SAMPLE_RATE, 8000)));
      const mulaw = encodeMulaw(downsampler.push(pcm16FromBytesLE(new Uint8Array(message))));
      if (this.#live) return this.#hear(this.#live, mulaw);
      // Woken from hibernation: frames wait in order behind the one load of the call.
      this.#webBacklog.push(mulaw);
      if (this.#webBacklog.length > 1) return;
      const live = await this.#liveCall();
      for (const bytes of this.#webBacklog.splice(0)) if (live) this.#hear(live, bytes);
      return;
    }
    const parsed = parseWebClientMessage(message);
    if (!parsed.ok) return this.#sendWeb(ws, { type: "error", ...parsed.error });
    if (parsed.message.type === "mark") {
      await this.#voice?.onMark(parsed.message.name);
      return;
    }
    if (parsed.message.type === "dtmf") {
      this.#voice?.keypress(parsed.message.digit);
      return;
    }
    await this.#endWebCall("hangup_by_contact");
  }

  /** The browser hung up (a `hangup` message, or its socket closed or failed). */
  async #endWebCall(reason: "hangup_by_contact"): Promise<void> {
    const stored = await this.#load();
    if (!stored || isTerminal(stored.state.status)) return;
    await this.#commit(stored, endCall(stored.state, reason, currentClock().now()));
  }

  #sendWeb(ws: WebSocket, message: Record<string, unknown>): void {
    try {
      ws.send(JSON.stringify(message));
    } catch {
      // The browser is gone; its close handler ends the call.
    }
  }

  /** The call ended: every browser socket hears why, then closes. */
  #closeWebSockets(endReason: EndReason | null): void {
    for (const ws of this.ctx.getWebSockets("web")) {
      this.#sendWeb(ws, { type: "ended", end_reason: endReason });
      try {
        ws.close(1000, "call ended");
      } catch {
        // Already closed.
      }
    }
  }

  /**
   * Twilio is about to connect a new stream after the last one closed with the call still up.
   * Allowed a few times per call; past that the call ends with provider_error.
   */
  async streamReconnecting(): Promise<boolean> {
    const stored = await this.#load();
    if (!stored || isTerminal(stored.state.status)) return false;
    const reconnects = (stored.media.reconnects ?? 0) + 1;
    stored.media.reconnects = reconnects;
    await this.ctx.storage.put("call", stored);
    if (reconnects <= MAX_STREAM_RECONNECTS) {
      console.log(JSON.stringify({ level: "warn", message: "media stream reconnecting", call_id: stored.spec.id, reconnects }));
      return true;
    }
    await this.#endByAgent(stored, "provider_error", `the media stream dropped ${reconnects} times`);
    return false;
  }

  async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    if (this.ctx.getTags(ws).includes("web")) return this.#webMessage(ws, message);
    if (typeof message !== "string") return;
    let json: unknown;
    try {
      json = JSON.parse(message);
    } catch {
      return;
    }
    const frame = MediaFrame.safeParse(json);
    if (!frame.success || this.#refused.has(ws)) return;
    const live = this.#live ?? (await this.#liveCall());
    if (!live) return;
    const { event } = frame.data;
    if (event === "media") {
      this.#framesIn++;
      const media = frame.data.media;
      if (!media || !(media.track ?? "inbound").startsWith("inbound") || !BASE64.test(media.payload)) return;
      const chunk = media.chunk === undefined ? undefined : Number(media.chunk);
      for (const bytes of this.#reorderer(ws).push(chunk, fromBase64(media.payload))) this.#hear(live, bytes);
      return;
    }
    if (event === "mark") {
      if (frame.data.mark) await this.#voice?.onMark(frame.data.mark.name);
      return;
    }
    if (event === "dtmf") {
      // A key the caller pressed, on the stream the conversation runs on.
      const sequence = Number(frame.data.sequenceNumber ?? frame.data.sequence_number);
      if (frame.data.dtmf && this.#voiceSocket === ws) this.#voice?.keypress(frame.data.dtmf.digit, Number.isFinite(sequence) ? sequence : undefined);
      return;
    }
    const streamSid = frame.data.start?.streamSid ?? frame.data.streamSid ?? frame.data.stream_id ?? null;
    if (event === "error") {
      // Telnyx reports what it could not take from us (malformed frame, invalid media, rate limit); the stream goes on.
      const detail = JSON.stringify(frame.data.error ?? frame.data.payload ?? null)?.slice(0, 500);
      console.error(JSON.stringify({ level: "error", message: "the carrier reported a media stream error", call_id: live.spec.id, provider: live.spec.provider, stream_id: streamSid, error: detail }));
      return;
    }
    if (event !== "start" && event !== "stop") return;
    if (event === "start") {
      const start = frame.data.start;
      const problem = streamStartProblem(
        live.spec.provider === "telnyx" ? "telnyx" : "twilio",
        { format: start?.media_format ?? start?.mediaFormat, callControlId: start?.call_control_id },
        live.providerCallId,
      );
      if (problem) return this.#refuseStream(ws, live, streamSid, problem);
      // Before any await, so the media frames right behind `start` reach the new loop.
      this.#startVoice(ws, live, streamSid);
    } else {
      // Frames sent before the stop but run after it (see #reorderer) land first.
      await new Promise((resolve) => setTimeout(resolve, 0));
      const reorderer = this.#reorderer(ws);
      for (const bytes of reorderer.flush()) this.#hear(live, bytes);
      if (reorderer.dropped > 0) {
        console.warn(JSON.stringify({ level: "warn", message: "late media frames dropped (silence had stood in for them)", call_id: live.spec.id, stream_id: streamSid, frames: reorderer.dropped }));
      }
      // Only the stream the loop talks on stops it (a stale socket's late `stop` does not).
      if (this.#voiceSocket === ws) this.#stopVoice();
      this.#persistMedia();
    }
    const stored = await this.#load();
    if (!stored) return;
    if (event === "start") stored.media.streamSid = streamSid;
    else stored.media.stoppedAt = currentClock().now();
    // The carrier switching streams (Twilio DTMF): the call and its recording go on on the next one.
    // (A new stream's start also ends the switch, should the old one have gone without a stop.)
    const switching = event === "stop" && stored.media.restartExpected === true;
    if (switching || event === "start") delete stored.media.restartExpected;
    await this.ctx.storage.put("call", stored);
    if (event === "start" || switching) return;
    await this.#writeRecording(stored);
    // An inbound Twilio call has no status callback: its stream stopping is the caller hanging up.
    if (stored.spec.direction === "inbound" && stored.spec.provider === "twilio") {
      await this.carrierEvent({ kind: "completed", at: currentClock().now(), hangupBy: "contact" });
    }
  }

  /**
   * A stream whose `start` the loop cannot serve: logged and closed before a word is said, and
   * whatever else comes on it ignored. A stream in a format the loop cannot hear or speak is the
   * carrier's stream of this very call and will never carry a conversation, so the call ends too
   * (provider_error) rather than leave the caller in silence; a stream naming another call is
   * not this call's to end, and only that socket is closed.
   */
  async #refuseStream(ws: WebSocket, live: LiveCall, streamSid: string | null, problem: StreamStartProblem): Promise<void> {
    this.#refused.add(ws);
    const { id, provider } = live.spec;
    console.error(JSON.stringify({ level: "error", message: `media stream refused: ${problem.message}`, call_id: id, provider, stream_id: streamSid }));
    try {
      ws.close(problem.reason === "format" ? 1003 : 1008, problem.reason === "format" ? "unsupported media format" : "not this call's stream");
    } catch {
      // Already closed.
    }
    if (problem.reason !== "format") return;
    const stored = await this.#load();
    if (stored) await this.#endByAgent(stored, "provider_error", `the ${provider} media stream cannot be used: ${problem.message}`);
  }

  #reorderer(ws: WebSocket): FrameReorderer {
    let reorderer = this.#reorderers.get(ws);
    if (!reorderer) this.#reorderers.set(ws, (reorderer = new FrameReorderer()));
    return reorderer;
  }

  /** One inbound frame, in order: to the recording and the voice loop. */
  #hear(live: LiveCall, bytes: Uint8Array): void {
    if (live.spec.recordingEnabled && !live.ended) this.#recordAudio("caller", bytes);
    if (this.#voice) this.#voice.pushCallerAudio(bytes);
    else if (!live.ended && this.#beforeStart.length < 50) this.#beforeStart.push(bytes);
  }

  /** Fills the in-memory view of the call (after the object woke from hibernation). */
  async #liveCall(): Promise<LiveCall | null> {
    const stored = await this.#load();
    if (!stored) return null;
    this.#live = liveCall(stored);
    return this.#live;
  }

  async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    if (this.#voice && this.#voiceSocket === ws) this.#stopVoice();
    this.#persistMedia();
    // 1005/1006 are reserved and may not be sent back.
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, "closing");
    } catch {
      // Already closed.
    }
    // A browser closing its socket has hung up.
    if (this.ctx.getTags(ws).includes("web")) await this.#endWebCall("hangup_by_contact");
  }

  async webSocketError(ws: WebSocket): Promise<void> {
    if (!this.ctx.getTags(ws).includes("web")) return;
    if (this.#voice && this.#voiceSocket === ws) this.#stopVoice();
    await this.#endWebCall("hangup_by_contact");
  }

  /**
   * Starts the voice loop on this stream. Synchronous up to the session's creation, so the media
   * frames right behind `start` already reach it (it buffers them while the agent is loaded).
   * A stream that reconnects to a conversation in progress resumes it without a new greeting.
   */
  #startVoice(ws: WebSocket, live: LiveCall, streamSid: string | null): void {
    if (live.ended) return;
    this.#stopVoice(); // a second `start` replaces the loop
    const { spec } = live;
    const now = currentClock().now();
    const session = new VoiceSession({
      callId: spec.id,
      link: spec.direction === "webrtc" ? webLink(ws) : spec.provider === "telnyx" ? telnyxLink(ws) : twilioLink(ws, streamSid),
      env: this.env,
      store: this.#voiceStore,
      host: {
        setInactivityTimer: (ms) => this.#setTimer("inactivity", ms === null ? null : currentClock().now() + ms),
        endCall: async (reason, message) => {
          const current = await this.#load();
          if (current) await this.#endByAgent(current, reason, message);
        },
        callAction: (action) => this.#callAction(action),
        machineHeard: (cues) => this.#machineHeard(cues),
        recordAgentAudio: (bytes) => {
          if (!spec.recordingEnabled) return;
          try {
            this.#recordAudio("agent", bytes);
          } catch (error) {
            // The recording is worth less than the conversation: never let it stop the agent.
            console.error(JSON.stringify({ level: "error", message: "agent audio not recorded", call_id: spec.id, error: String(error) }));
          }
        },
      },
      config: this.#voiceConfig(spec),
      answerOffsetMs: Math.max(0, now - (live.answeredAt ?? now)),
      machine: live.machine,
    });
    this.#voice = session;
    this.#voiceSocket = ws;
    for (const bytes of this.#beforeStart.splice(0)) session.pushCallerAudio(bytes);
    session.start().catch((error) => console.error(JSON.stringify({ level: "error", message: "voice loop failed to start", call_id: spec.id, error: String(error) })));
  }

  /**
   * Ends the voice loop. When the call itself ended, our side closes the stream too: Twilio then
   * runs the rest of its TwiML (none: it hangs up).
   */
  #stopVoice(options: { closeStream?: boolean } = {}): void {
    const session = this.#voice;
    const socket = this.#voiceSocket;
    this.#voice = null;
    this.#voiceSocket = null;
    if (!session) return;
    session.close();
    if (options.closeStream && socket) {
      try {
        socket.close(1000, "call ended");
      } catch {
        // Already closed.
      }
    }
  }

  /** The agent, its voice and the call's variables, resolved into what the loop needs. */
  async #voiceConfig(spec: CallSpec): Promise<VoiceSessionConfig> {
    const tenant = new TenantDb(openDatabase(this.env.DB), spec.orgId);
    const [call, agent] = await Promise.all([tenant.find(calls, spec.id), tenant.find(agents, spec.agentId)]);
    if (!call) throw new Error(`call ${spec.id} has no row`);
    if (!agent) throw new Error(`agent ${spec.agentId} no longer exists`);
    const voice = await tenant.find(voices, agent.voiceId, { shared: true });
    if (!voice) throw new Error(`voice ${agent.voiceId} of agent ${agent.id} no longer exists`);
    return voiceSessionConfig(agent, voice, call, this.env, await this.#agentTools(tenant, agent.toolIds), await openLlmApiKey(this.env, agent.llm));
  }

  /** The agent's tools in its order, with their keys opened (a tool deleted since is left out). */
  async #agentTools(tenant: TenantDb, toolIds: string[]): Promise<CallTool[]> {
    if (toolIds.length === 0) return [];
    const rows = await tenant.findWhere(tools, inArray(tools.id, toolIds));
    const byId = new Map(rows.map((row) => [row.id, row]));
    const found = toolIds.flatMap((id) => {
      const row = byId.get(id);
      return row ? [row] : [];
    });
    return Promise.all(found.map(async (row) => ({ id: row.id, definition: row.definition, authTokens: await openAuthTokens(this.env, row.authTokensEncrypted) })));
  }

  /**
   * Appends audio to one leg of the recording. The agent leg only has audio while the agent
   * speaks, so it is first padded with silence up to where the caller's leg stands: the two stay
   * aligned in the stereo WAV.
   */
  #recordAudio(leg: "caller" | "agent", bytes: Uint8Array): void {
    const sql = this.ctx.storage.sql;
    if (!this.#legBytes) {
      const sums = sql.exec<{ leg: string; n: number }>("SELECT leg, SUM(length(bytes)) AS n FROM audio GROUP BY leg").toArray();
      this.#legBytes = { caller: sums.find((r) => r.leg === "caller")?.n ?? 0, agent: sums.find((r) => r.leg === "agent")?.n ?? 0 };
    }
    const legs = this.#legBytes;
    if (leg === "agent" && legs.agent < legs.caller) this.#queueAudio("agent", new Uint8Array(legs.caller - legs.agent).fill(MULAW_SILENCE));
    this.#queueAudio(leg, bytes);
  }

  #queueAudio(leg: "caller" | "agent", bytes: Uint8Array): void {
    this.#pendingAudio.push({ leg, bytes });
    this.#pendingAudioBytes += bytes.length;
    this.#legBytes![leg] += bytes.length;
    if (this.#pendingAudioBytes >= AUDIO_FLUSH_BYTES) this.#flushAudio();
  }

  /** Writes the pending audio: each run of one leg as one row of at most 20 s (rows stay well under SQLite's 2 MB). */
  #flushAudio(): void {
    const pending = this.#pendingAudio;
    if (pending.length === 0) return;
    this.#pendingAudio = [];
    this.#pendingAudioBytes = 0;
    const rows: { leg: "caller" | "agent"; parts: Uint8Array[]; bytes: number }[] = [];
    for (const { leg, bytes } of pending) {
      for (let start = 0; start < bytes.length; start += MAX_AUDIO_ROW_BYTES) {
        const piece = bytes.subarray(start, start + MAX_AUDIO_ROW_BYTES);
        const last = rows.at(-1);
        if (last && last.leg === leg && last.bytes + piece.length <= MAX_AUDIO_ROW_BYTES) {
          last.parts.push(piece);
          last.bytes += piece.length;
        } else rows.push({ leg, parts: [piece], bytes: piece.length });
      }
    }
    const sql = this.ctx.storage.sql;
    this.ctx.storage.transactionSync(() => {
      for (const row of rows) sql.exec("INSERT INTO audio (leg, bytes) VALUES (?, ?)", row.leg, concatBytes(row.parts));
    });
  }

  /** Stores what the media path keeps in memory: pending recorded audio and the frame count. */
  #persistMedia(): void {
    this.#flushAudio();
    if (this.#framesIn === 0) return;
    this.ctx.storage.sql.exec("INSERT INTO media_frames (id, frames_in) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET frames_in = frames_in + excluded.frames_in", this.#framesIn);
    this.#framesIn = 0;
  }

  /**
   * The conversation's turns, in the shape of GET /calls/{id}/transcript. The voice loop appends
   * them under "transcript"; a call that never connected has none.
   */
  async transcript() {
    return (
      (await this.ctx.storage.get<{ speaker: "agent" | "contact"; text: string; start_ms: number; end_ms: number; timestamp: number; interrupted: boolean }[]>(
        "transcript",
      )) ?? []
    );
  }

  /** The recorded media session, for diagnostics and tests. */
  async mediaSession() {
    const media = (await this.#load())?.media;
    if (!media) return null;
    const counted = this.ctx.storage.sql.exec<{ frames_in: number }>("SELECT frames_in FROM media_frames WHERE id = 1").toArray()[0];
    return { ...media, framesIn: (counted?.frames_in ?? 0) + this.#framesIn, voice: this.#voice?.state ?? null };
  }
}
