/**
 * The call state machine, free of I/O. The CallDO feeds it carrier events (from Twilio, Telnyx or
 * the simulator, already normalised) and API commands; it answers with the next state and the
 * webhook events the transition emits. Impossible transitions, duplicates and late arrivals
 * leave the state unchanged.
 */

export const CALL_STATUSES = ["queued", "ringing", "in_progress", "completed", "failed", "cancelled"] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];

export const END_REASONS = [
  "hangup_by_contact",
  "hangup_by_agent",
  "no_answer",
  "busy",
  "voicemail",
  "max_duration",
  "inactivity",
  "carrier_error",
  "provider_error",
  "cancelled",
  "transferred",
  "hangup_by_api",
] as const;
export type EndReason = (typeof END_REASONS)[number];

export const TERMINAL_STATUSES: readonly CallStatus[] = ["completed", "failed", "cancelled"];
export const isTerminal = (status: CallStatus) => TERMINAL_STATUSES.includes(status);

/** `in-progress` and `ended` are Truedy's guide spellings, accepted as list filters. */
export function statusesForFilter(filter: string): CallStatus[] | undefined {
  if (filter === "in-progress") return ["in_progress"];
  if (filter === "ended") return ["completed"];
  return (CALL_STATUSES as readonly string[]).includes(filter) ? [filter as CallStatus] : undefined;
}

/**
 * What a carrier reported, in our words. Twilio status callbacks, Telnyx webhooks and the
 * simulator's alarms are all translated into these before reaching the state machine.
 */
export type CarrierEventKind =
  | "initiated"
  | "ringing"
  | "answered"
  /** Answering-machine detection decided: `answeredBy` says who. */
  | "machine_detection"
  /** The call ended after being answered (either side hung up). */
  | "completed"
  | "busy"
  | "no_answer"
  | "failed"
  | "canceled";

export interface CarrierEvent {
  kind: CarrierEventKind;
  /** Epoch ms when the carrier says it happened. */
  at: number;
  providerCallId?: string;
  /** Twilio's SequenceNumber; events with a lower number than one already applied are stale. */
  sequence?: number;
  /** The carrier's billed duration, when it reports one. */
  durationSeconds?: number;
  answeredBy?: "human" | "machine" | "unknown";
  /**
   * With a machine verdict: whether its greeting is still playing or has ended (the beep, or the
   * silence after it: Twilio `machine_end_*`, Telnyx `call.machine.greeting.ended`).
   */
  machineGreeting?: "playing" | "ended";
  /** Who hung up, when the carrier says (Telnyx `hangup_source`). */
  hangupBy?: "contact" | "agent";
  detail?: string;
}

export interface CallState {
  status: CallStatus;
  endReason: EndReason | null;
  providerCallId: string | null;
  ringingAt: number | null;
  answeredAt: number | null;
  endedAt: number | null;
  answeredBy: "human" | "machine" | "unknown" | null;
  durationSeconds: number | null;
  lastSequence: number;
  /** Set when we asked the carrier to end the call, so its `completed` is attributed to us. */
  pendingEndReason: EndReason | null;
}

export type CallWebhookEvent = "call.started" | "call.ringing" | "call.answered" | "call.ended" | "call.failed";

export interface Transition {
  state: CallState;
  /** Webhook events to record with the new state, in order. Empty when nothing changed. */
  events: CallWebhookEvent[];
}

export function initialCallState(): CallState {
  return {
    status: "queued",
    endReason: null,
    providerCallId: null,
    ringingAt: null,
    answeredAt: null,
    endedAt: null,
    answeredBy: null,
    durationSeconds: null,
    lastSequence: -1,
    pendingEndReason: null,
  };
}

const unchanged = (state: CallState): Transition => ({ state, events: [] });

function end(state: CallState, status: "completed" | "failed" | "cancelled", reason: EndReason, at: number, billed?: number): Transition {
  const talked = state.answeredAt === null ? 0 : Math.max(0, Math.ceil((at - state.answeredAt) / 1000));
  return {
    state: {
      ...state,
      status,
      endReason: reason,
      endedAt: at,
      pendingEndReason: null,
      durationSeconds: billed ?? (state.answeredAt === null ? 0 : talked),
    },
    events: [status === "failed" ? "call.failed" : "call.ended"],
  };
}

/** Applies one carrier report. */
export function applyCarrierEvent(state: CallState, event: CarrierEvent): Transition {
  if (isTerminal(state.status)) return unchanged(state);
  if (event.sequence !== undefined) {
    if (event.sequence <= state.lastSequence) return unchanged(state);
    state = { ...state, lastSequence: event.sequence };
  }
  if (event.providerCallId && !state.providerCallId) state = { ...state, providerCallId: event.providerCallId };

  switch (event.kind) {
    case "initiated":
      return unchanged(state);
    case "ringing":
      if (state.status !== "queued") return unchanged(state);
      return { state: { ...state, status: "ringing", ringingAt: event.at }, events: ["call.ringing"] };
    case "answered": {
      if (state.status !== "queued" && state.status !== "ringing") return unchanged(state);
      const events: CallWebhookEvent[] = state.status === "queued" ? ["call.ringing", "call.answered"] : ["call.answered"];
      return {
        state: { ...state, status: "in_progress", ringingAt: state.ringingAt ?? event.at, answeredAt: event.at, answeredBy: event.answeredBy ?? state.answeredBy },
        events,
      };
    }
    case "machine_detection":
      return unchanged({ ...state, answeredBy: event.answeredBy ?? "unknown" });
    case "completed": {
      if (state.status !== "in_progress") {
        // Billed seconds prove it was answered: the "answered" report is late or lost.
        if (event.durationSeconds && event.durationSeconds > 0) {
          const answeredAt = event.at - event.durationSeconds * 1000;
          const answered: CallState = { ...state, status: "in_progress", ringingAt: state.ringingAt ?? answeredAt, answeredAt, answeredBy: event.answeredBy ?? state.answeredBy };
          const ended = applyCarrierEvent(answered, { ...event, sequence: undefined });
          return { state: ended.state, events: [...(state.status === "queued" ? (["call.ringing"] as const) : []), "call.answered", ...ended.events] };
        }
        // A "completed" with nothing billed is how some carriers report a ring-out.
        return end(state, "failed", "no_answer", event.at, 0);
      }
      const reason: EndReason =
        state.pendingEndReason ?? (state.answeredBy === "machine" ? "voicemail" : event.hangupBy === "agent" ? "hangup_by_agent" : "hangup_by_contact");
      return end(state, "completed", reason, event.at, event.durationSeconds);
    }
    case "busy":
      return end(state, "failed", "busy", event.at, 0);
    case "no_answer":
      return end(state, "failed", "no_answer", event.at, 0);
    case "canceled":
      // Cancelled at our request is `cancelled`; cancelled by anyone else never connected: `failed`.
      return state.pendingEndReason
        ? end(state, "cancelled", state.pendingEndReason, event.at, 0)
        : end(state, "failed", "cancelled", event.at, 0);
    case "failed":
      return end(state, "failed", "carrier_error", event.at, state.status === "in_progress" ? event.durationSeconds : 0);
  }
}

/**
 * Ends the call on our side (API hang-up, timeouts, provider failures) without waiting for the
 * carrier: we record the outcome now and the carrier's own late report is then ignored.
 */
export function endCall(state: CallState, reason: EndReason, at: number): Transition {
  if (isTerminal(state.status)) return unchanged(state);
  if (state.status === "in_progress") return end(state, "completed", reason, at);
  // Stopped by the customer before anyone answered: cancelled, not failed.
  if (reason === "cancelled" || reason === "hangup_by_api") return end(state, "cancelled", reason, at);
  return end(state, "failed", reason, at);
}

/**
 * The callee's first words read as a voicemail greeting (src/domain/voicemail.ts): a machine
 * answered, whatever the carrier's detection said (or without one). No event: `call.ended`
 * carries `answered_by`.
 */
export function machineHeard(state: CallState): Transition {
  if (state.status !== "in_progress" || state.answeredBy === "machine") return unchanged(state);
  return { state: { ...state, answeredBy: "machine" }, events: [] };
}

/** The transition `call.started` marks: the carrier accepted the call. */
export function markStarted(state: CallState, providerCallId: string): Transition {
  if (state.status !== "queued" || state.providerCallId) return unchanged({ ...state, providerCallId: state.providerCallId ?? providerCallId });
  return { state: { ...state, providerCallId }, events: ["call.started"] };
}

/**
 * A browser call (`direction: webrtc`) has no carrier: `call.started` marks it as set up (its
 * slot taken, its connect token issued), and it stays `queued` until the browser connects.
 */
export function markWebCallStarted(state: CallState): Transition {
  if (state.status !== "queued") return unchanged(state);
  return { state, events: ["call.started"] };
}

/** The browser connected: the call is answered at once, with no `ringing` (nothing rings). */
export function webCallConnected(state: CallState, at: number): Transition {
  if (state.status !== "queued") return unchanged(state);
  return { state: { ...state, status: "in_progress", answeredAt: at, answeredBy: "human" }, events: ["call.answered"] };
}

/** Credits for a call: a per-minute rate billed per started second. Unanswered calls cost nothing. */
export function callCost(durationSeconds: number, creditsPerMinute: number): number {
  if (durationSeconds <= 0) return 0;
  return Math.round(Math.ceil(durationSeconds) * (creditsPerMinute / 60) * 10_000) / 10_000;
}
