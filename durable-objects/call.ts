import { DurableObject } from "cloudflare:workers";
import { z } from "zod";
import { carrierFor, openCredentials } from "../src/carriers";
import { calls, phoneNumbers } from "../src/db/schema";
import { openDatabase, TenantDb } from "../src/db/tenant";
import {
  applyCarrierEvent,
  callCost,
  endCall,
  initialCallState,
  isTerminal,
  markStarted,
  type CallState,
  type CarrierEvent,
  type EndReason,
  type Transition,
} from "../src/domain/calls";
import { simulatorScript } from "../src/domain/simulator";
import { alarmTime, configureClock, currentClock } from "../src/lib/clock";
import { fromBase64 } from "../src/lib/crypto";
import { stereoWavFromMulaw } from "../src/voice/wav";
import { publishEvents, recordEvent } from "../src/webhooks/emit";

/** What the engine knows about a call when it creates its object. */
export interface CallSpec {
  id: string;
  orgId: string;
  agentId: string;
  direction: "outbound" | "inbound";
  to: string;
  from: string;
  phoneNumberId: string | null;
  provider: "twilio" | "telnyx" | "custom_sip" | "simulator";
  /** Known up front for inbound calls; outbound calls get it from the carrier at dial time. */
  providerCallId: string | null;
  joinTimeoutSeconds: number;
  maxDurationSeconds: number;
  recordingEnabled: boolean;
  machineDetection: boolean;
  /** The org's concurrent-call limit at creation. */
  concurrencyLimit: number;
  batchCallId: string | null;
  metadata: Record<string, string>;
}

type TimerKind = "dial" | "ring_timeout" | "max_duration" | "hangup_grace" | "simulator";
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
  media: { streamSid: string | null; connectedAt: number | null; stoppedAt: number | null };
  /** R2 key of the stereo WAV, once written. */
  recordingKey?: string;
}

/** Slack past the longest a call can last, before its slot lease is presumed lost. */
const LEASE_SLACK_MS = 5 * 60_000;
/** How long we wait for the carrier to confirm a hang-up we asked for before recording it ourselves. */
const HANGUP_GRACE_MS = 60_000;
/** Extra time past join_timeout before we stop waiting for the carrier's own no-answer report. */
const RING_SLACK_MS = 5_000;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Frames Twilio and Telnyx send on a media stream; only what this object records is checked closely. */
const MediaFrame = z.object({
  event: z.enum(["connected", "start", "media", "mark", "dtmf", "stop", "error"]),
  streamSid: z.string().optional(),
  stream_id: z.string().optional(),
  start: z.object({ streamSid: z.string().optional(), callSid: z.string().optional() }).passthrough().optional(),
  media: z.object({ track: z.string().optional(), payload: z.string().max(100_000) }).optional(),
});

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * One per call (`idFromName(callId)`): owns the call's state machine, its timers (dial, ring
 * timeout, max duration, hang-up grace, simulator script) on a single alarm, its concurrency slot,
 * the D1 mirror row and the webhook events of every transition. The decisions are the pure
 * functions of src/domain/calls.ts; this class only stores, schedules and talks to the outside.
 */
export class CallDO extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    configureClock(env);
    // Caller audio (μ-law) kept for the recording, in arrival order; the agent leg joins it with the voice loop.
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS audio (seq INTEGER PRIMARY KEY AUTOINCREMENT, leg TEXT NOT NULL, bytes BLOB NOT NULL)");
    // Counted apart from the call record, so the 50 frames a second never rewrite that record.
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS media_frames (id INTEGER PRIMARY KEY CHECK (id = 1), frames_in INTEGER NOT NULL)");
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
      stored.timers = stored.timers.filter((t) => t.kind !== "ring_timeout");
      stored.timers.push({ kind: "max_duration", at: (transition.state.answeredAt ?? now) + stored.spec.maxDurationSeconds * 1000 });
    }
    if (isTerminal(transition.state.status)) stored.timers = [];
    await this.#save(stored);

    const tenant = this.#tenant(stored);
    const view = this.#view(stored);
    const events = transition.events.map((type) => recordEvent(tenant, now, type, view));
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
        updatedAt: new Date(now).toISOString(),
      }),
      ...events.map((e) => e.statement),
    ]);
    await publishEvents(this.env.WEBHOOK_QUEUE, events.map((e) => e.id));
    if (isTerminal(transition.state.status)) {
      await this.#releaseSlot(stored);
      await this.#writeRecording(stored);
    }
    if (stored.spec.batchCallId) await this.#reportToCampaign(stored.spec.batchCallId, view);
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
    const legs = { caller: [] as Uint8Array[], agent: [] as Uint8Array[] };
    for (const row of this.ctx.storage.sql.exec<{ leg: string; bytes: ArrayBuffer }>("SELECT leg, bytes FROM audio ORDER BY seq")) {
      (row.leg === "agent" ? legs.agent : legs.caller).push(new Uint8Array(row.bytes));
    }
    if (legs.caller.length === 0 && legs.agent.length === 0) return;
    const join = (parts: Uint8Array[]) => {
      const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let offset = 0;
      for (const part of parts) {
        out.set(part, offset);
        offset += part.length;
      }
      return out;
    };
    const key = `recordings/${stored.spec.orgId}/${stored.spec.id}.wav`;
    await this.env.FILES.put(key, stereoWavFromMulaw(join(legs.caller), join(legs.agent)), { httpMetadata: { contentType: "audio/wav" } });
    stored.recordingKey = key;
    await this.ctx.storage.put("call", stored);
    await this.#tenant(stored).update(calls, stored.spec.id, { recordingKey: key });
    this.ctx.storage.sql.exec("DELETE FROM audio");
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

  /** OrgLimiter: a slot freed up for this waiting call. */
  async slotGranted(): Promise<void> {
    const stored = await this.#load();
    // "none": the grant overtook the answer to our own acquireCallSlot (see start).
    if (!stored || (stored.slot !== "waiting" && stored.slot !== "none") || isTerminal(stored.state.status)) return;
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
    const transition = applyCarrierEvent(stored.state, event);
    if (transition.state !== stored.state) await this.#commit(stored, transition);
    return this.#view(stored);
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
        record: stored.spec.recordingEnabled,
        publicBaseUrl: this.env.PUBLIC_BASE_URL,
      }));
    } catch (error) {
      console.error(JSON.stringify({ level: "error", message: "dial failed", call_id: stored.spec.id, error: String(error) }));
      const reason: EndReason = error instanceof Error && "code" in error && error.code === "provider_error" ? "provider_error" : "carrier_error";
      await this.#commit(stored, endCall(stored.state, reason, now));
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
          }
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
        case "hangup_grace":
          await this.#commit(stored, endCall(stored.state, stored.state.pendingEndReason ?? "hangup_by_api", now));
          break;
      }
    }
    await this.#save(stored);
  }

  /**
   * The carrier's media stream. Until the voice loop lands, the session is accepted and
   * recorded (stream id, connect and stop times, inbound frames) so a call's media path can be
   * checked end to end.
   */
  async fetch(request: Request): Promise<Response> {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") return new Response("Expected a WebSocket", { status: 426 });
    const stored = await this.#load();
    if (!stored || isTerminal(stored.state.status)) return new Response("No such live call", { status: 404 });
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1], ["media"]);
    stored.media.connectedAt = currentClock().now();
    await this.ctx.storage.put("call", stored);
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    if (typeof message !== "string") return;
    let json: unknown;
    try {
      json = JSON.parse(message);
    } catch {
      return;
    }
    const frame = MediaFrame.safeParse(json);
    if (!frame.success) return;
    const stored = await this.#load();
    if (!stored) return;
    if (frame.data.event === "media") {
      this.ctx.storage.sql.exec("INSERT INTO media_frames (id, frames_in) VALUES (1, 1) ON CONFLICT(id) DO UPDATE SET frames_in = frames_in + 1");
      const media = frame.data.media;
      if (stored.spec.recordingEnabled && media && (media.track ?? "inbound").startsWith("inbound") && BASE64.test(media.payload)) {
        this.ctx.storage.sql.exec("INSERT INTO audio (leg, bytes) VALUES ('caller', ?)", fromBase64(media.payload));
      }
      return;
    }
    if (frame.data.event === "start") stored.media.streamSid = frame.data.start?.streamSid ?? frame.data.streamSid ?? frame.data.stream_id ?? null;
    if (frame.data.event !== "start" && frame.data.event !== "stop") return;
    if (frame.data.event === "stop") stored.media.stoppedAt = currentClock().now();
    await this.ctx.storage.put("call", stored);
    if (frame.data.event === "stop") await this.#writeRecording(stored);
    // An inbound Twilio call has no status callback: its stream stopping is the caller hanging up.
    if (frame.data.event === "stop" && stored.spec.direction === "inbound" && stored.spec.provider === "twilio") {
      await this.carrierEvent({ kind: "completed", at: currentClock().now(), hangupBy: "contact" });
    }
  }

  async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    // 1005/1006 are reserved and may not be sent back.
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, "closing");
    } catch {
      // Already closed.
    }
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
    return { ...media, framesIn: counted?.frames_in ?? 0 };
  }
}
