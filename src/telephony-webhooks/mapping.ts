import type { CarrierEvent, CarrierEventKind } from "../domain/calls";

/**
 * Carrier reports in our words (CarrierEvent), free of I/O: Twilio's status and AMD callbacks and
 * Telnyx's Call Control webhooks. Anything we do not act on maps to null.
 */

type AnsweredBy = NonNullable<CarrierEvent["answeredBy"]>;

const TWILIO_STATUS: Record<string, CarrierEventKind> = {
  // `queued` is the created call's own status; callbacks start at `initiated`. Both change nothing.
  queued: "initiated",
  initiated: "initiated",
  ringing: "ringing",
  "in-progress": "answered",
  completed: "completed",
  busy: "busy",
  "no-answer": "no_answer",
  failed: "failed",
  canceled: "canceled",
};

/** Twilio's AnsweredBy: `human`, `machine_start`, `machine_end_beep|silence|other`, `fax`, `unknown`. */
export function twilioAnsweredBy(value: string | undefined): AnsweredBy | undefined {
  if (value === undefined || value === "") return undefined;
  if (value === "human") return "human";
  if (value.startsWith("machine_") || value === "fax") return "machine";
  return "unknown";
}

/**
 * Where a machine's greeting stands in Twilio's AnsweredBy: `machine_start` is told while it still
 * plays; with `MachineDetection=DetectMessageEnd` the verdict waits for its end (`machine_end_beep`,
 * `machine_end_silence`, `machine_end_other`), when a message left is recorded.
 */
export function twilioMachineGreeting(value: string | undefined): CarrierEvent["machineGreeting"] {
  if (value === "machine_start") return "playing";
  if (value?.startsWith("machine_end_")) return "ended";
  return undefined;
}

/** Twilio's `Timestamp` is RFC 2822; a missing or unreadable one means "now". */
function twilioTime(timestamp: string | undefined, nowMs: number): number {
  const parsed = timestamp ? Date.parse(timestamp) : Number.NaN;
  return Number.isFinite(parsed) ? parsed : nowMs;
}

export interface TwilioStatusCallback {
  CallSid: string;
  CallStatus: string;
  SequenceNumber?: number;
  Timestamp?: string;
  CallDuration?: number;
  AnsweredBy?: string;
  SipResponseCode?: string;
}

/**
 * A status callback as a CarrierEvent. An unknown status is not treated as terminal: it maps to
 * null and is ignored.
 */
export function twilioStatusEvent(form: TwilioStatusCallback, nowMs: number): CarrierEvent | null {
  const kind = TWILIO_STATUS[form.CallStatus];
  if (!kind) return null;
  return {
    kind,
    at: twilioTime(form.Timestamp, nowMs),
    providerCallId: form.CallSid,
    ...(form.SequenceNumber === undefined ? {} : { sequence: form.SequenceNumber }),
    ...(form.CallDuration === undefined || kind !== "completed" ? {} : { durationSeconds: form.CallDuration }),
    ...(twilioAnsweredBy(form.AnsweredBy) ? { answeredBy: twilioAnsweredBy(form.AnsweredBy) } : {}),
    ...(twilioMachineGreeting(form.AnsweredBy) ? { machineGreeting: twilioMachineGreeting(form.AnsweredBy) } : {}),
    ...(form.SipResponseCode ? { detail: `sip ${form.SipResponseCode}` } : {}),
  };
}

/** The asynchronous AMD callback carries no timestamp of its own: it is stamped on arrival. */
export function twilioMachineDetectionEvent(form: { CallSid: string; AnsweredBy: string }, nowMs: number): CarrierEvent {
  const machineGreeting = twilioMachineGreeting(form.AnsweredBy);
  return {
    kind: "machine_detection",
    at: nowMs,
    providerCallId: form.CallSid,
    answeredBy: twilioAnsweredBy(form.AnsweredBy) ?? "unknown",
    ...(machineGreeting ? { machineGreeting } : {}),
  };
}

const TELNYX_HANGUP: Record<string, CarrierEventKind> = {
  normal_clearing: "completed",
  // The call was connected and ran into `time_limit_secs`: it ended, it did not fail.
  time_limit: "completed",
  user_busy: "busy",
  no_answer: "no_answer",
  timeout: "no_answer",
  call_rejected: "canceled",
  originator_cancel: "canceled",
};

const TELNYX_AMD: Record<string, AnsweredBy> = { human: "human", machine: "machine", not_sure: "unknown" };

export interface TelnyxCallEvent {
  event_type: string;
  occurred_at: string;
  payload: {
    call_control_id?: string;
    hangup_cause?: string;
    hangup_source?: string;
    result?: string;
  };
}

/**
 * A Telnyx webhook about one of our calls as a CarrierEvent. `direction` is the call's, from our
 * client_state: Telnyx names the parties caller and callee, and which of them is our agent
 * depends on who dialled.
 */
export function telnyxCallEvent(event: TelnyxCallEvent, direction: "outbound" | "inbound", nowMs: number): CarrierEvent | null {
  const parsed = Date.parse(event.occurred_at);
  const base = { at: Number.isFinite(parsed) ? parsed : nowMs, ...(event.payload.call_control_id ? { providerCallId: event.payload.call_control_id } : {}) };
  switch (event.event_type) {
    case "call.initiated":
      return { ...base, kind: "initiated" };
    case "call.answered":
      return { ...base, kind: "answered" };
    case "call.machine.detection.ended": {
      const answeredBy = TELNYX_AMD[event.payload.result ?? ""] ?? "unknown";
      return { ...base, kind: "machine_detection", answeredBy, ...(answeredBy === "machine" ? { machineGreeting: "playing" as const } : {}) };
    }
    // Sent after a `machine` verdict (`greeting_end`, `detect_beep`, `detect_words`) once the
    // greeting ends with a beep or silence (result `beep_detected`, `ended` or `not_sure`).
    case "call.machine.greeting.ended":
      return { ...base, kind: "machine_detection", answeredBy: "machine", machineGreeting: "ended" };
    case "call.hangup": {
      const cause = event.payload.hangup_cause ?? "unspecified";
      const agentSide = direction === "outbound" ? "caller" : "callee";
      const contactSide = direction === "outbound" ? "callee" : "caller";
      const source = event.payload.hangup_source;
      return {
        ...base,
        kind: TELNYX_HANGUP[cause] ?? "failed",
        ...(source === agentSide ? { hangupBy: "agent" as const } : source === contactSide ? { hangupBy: "contact" as const } : {}),
        detail: cause,
      };
    }
    default:
      return null;
  }
}
