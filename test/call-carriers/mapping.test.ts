import { describe, expect, it } from "vitest";
import { decodeClientState, encodeClientState } from "../../src/carriers/telnyx";
import { twilioCallUrls, telnyxMediaUrl } from "../../src/domain/telephony";
import { telnyxCallEvent, twilioAnsweredBy, twilioMachineDetectionEvent, twilioStatusEvent } from "../../src/telephony-webhooks/mapping";
import { connectStreamTwiml, escapeXml, hangupTwiml, unavailableTwiml } from "../../src/telephony-webhooks/twiml";

const NOW = Date.UTC(2030, 0, 1, 12, 0, 0);

describe("Twilio status callbacks as carrier events", () => {
  it.each([
    ["queued", "initiated"],
    ["initiated", "initiated"],
    ["ringing", "ringing"],
    ["in-progress", "answered"],
    ["completed", "completed"],
    ["busy", "busy"],
    ["no-answer", "no_answer"],
    ["failed", "failed"],
    ["canceled", "canceled"],
  ])("maps CallStatus %s to %s", (CallStatus, kind) => {
    expect(twilioStatusEvent({ CallSid: "CA1", CallStatus, SequenceNumber: 3, Timestamp: "Tue, 01 Jan 2030 12:00:05 +0000" }, NOW)).toEqual({
      kind,
      at: NOW + 5000,
      providerCallId: "CA1",
      sequence: 3,
    });
  });

  it("ignores a status it does not know rather than treating it as terminal", () => {
    expect(twilioStatusEvent({ CallSid: "CA1", CallStatus: "paused" }, NOW)).toBeNull();
  });

  it("carries the billed duration on completed only, AnsweredBy, the SIP code, and stamps undated callbacks on arrival", () => {
    expect(twilioStatusEvent({ CallSid: "CA1", CallStatus: "completed", CallDuration: 42 }, NOW)).toEqual({
      kind: "completed",
      at: NOW,
      providerCallId: "CA1",
      durationSeconds: 42,
    });
    expect(twilioStatusEvent({ CallSid: "CA1", CallStatus: "busy", CallDuration: 0, SipResponseCode: "486", Timestamp: "garbage" }, NOW)).toEqual({
      kind: "busy",
      at: NOW,
      providerCallId: "CA1",
      detail: "sip 486",
    });
    expect(twilioStatusEvent({ CallSid: "CA1", CallStatus: "in-progress", AnsweredBy: "machine_end_beep" }, NOW)?.answeredBy).toBe("machine");
  });

  it("reads every AnsweredBy value", () => {
    expect(["human", "machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax", "unknown", "", undefined].map(twilioAnsweredBy)).toEqual([
      "human",
      "machine",
      "machine",
      "machine",
      "machine",
      "machine",
      "unknown",
      undefined,
      undefined,
    ]);
    expect(twilioMachineDetectionEvent({ CallSid: "CA1", AnsweredBy: "machine_start" }, NOW)).toEqual({
      kind: "machine_detection",
      at: NOW,
      providerCallId: "CA1",
      answeredBy: "machine",
      machineGreeting: "playing",
    });
  });

  it("tells whether a machine's greeting still plays or has ended (DetectMessageEnd)", () => {
    const greeting = (AnsweredBy: string) => twilioMachineDetectionEvent({ CallSid: "CA1", AnsweredBy }, NOW).machineGreeting;
    expect(["machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "human", "fax", "unknown"].map(greeting)).toEqual([
      "playing",
      "ended",
      "ended",
      "ended",
      undefined,
      undefined,
      undefined,
    ]);
    expect(twilioStatusEvent({ CallSid: "CA1", CallStatus: "in-progress", AnsweredBy: "machine_end_silence" }, NOW)).toMatchObject({ answeredBy: "machine", machineGreeting: "ended" });
  });
});

describe("Telnyx webhooks as carrier events", () => {
  const event = (event_type: string, payload: Record<string, string> = {}) => ({
    event_type,
    occurred_at: "2030-01-01T12:00:07.250Z",
    payload: { call_control_id: "v3:abc", ...payload },
  });

  it("maps call.initiated, call.answered and the AMD verdict", () => {
    expect(telnyxCallEvent(event("call.initiated"), "outbound", NOW)).toEqual({ kind: "initiated", at: NOW + 7250, providerCallId: "v3:abc" });
    expect(telnyxCallEvent(event("call.answered"), "outbound", NOW)).toEqual({ kind: "answered", at: NOW + 7250, providerCallId: "v3:abc" });
    for (const [result, answeredBy] of [
      ["human", "human"],
      ["machine", "machine"],
      ["not_sure", "unknown"],
      ["something_new", "unknown"],
    ]) {
      expect(telnyxCallEvent(event("call.machine.detection.ended", { result }), "outbound", NOW)).toMatchObject({ kind: "machine_detection", answeredBy });
    }
    expect(telnyxCallEvent(event("call.machine.detection.ended", { result: "machine" }), "outbound", NOW)?.machineGreeting).toBe("playing");
    expect(telnyxCallEvent(event("call.machine.detection.ended", { result: "human" }), "outbound", NOW)).not.toHaveProperty("machineGreeting");
    for (const result of ["beep_detected", "ended", "not_sure"]) {
      expect(telnyxCallEvent(event("call.machine.greeting.ended", { result }), "outbound", NOW)).toEqual({
        kind: "machine_detection",
        at: NOW + 7250,
        providerCallId: "v3:abc",
        answeredBy: "machine",
        machineGreeting: "ended",
      });
    }
  });

  it.each([
    ["normal_clearing", "completed"],
    ["time_limit", "completed"],
    ["user_busy", "busy"],
    ["no_answer", "no_answer"],
    ["timeout", "no_answer"],
    ["call_rejected", "canceled"],
    ["originator_cancel", "canceled"],
    ["not_found", "failed"],
    ["unspecified", "failed"],
  ])("maps hangup_cause %s to %s", (hangup_cause, kind) => {
    expect(telnyxCallEvent(event("call.hangup", { hangup_cause }), "outbound", NOW)).toEqual({
      kind,
      at: NOW + 7250,
      providerCallId: "v3:abc",
      detail: hangup_cause,
    });
  });

  it("turns hangup_source into who hung up, by the call's direction", () => {
    const by = (source: string, direction: "outbound" | "inbound") =>
      telnyxCallEvent(event("call.hangup", { hangup_cause: "normal_clearing", hangup_source: source }), direction, NOW)?.hangupBy;
    expect([by("caller", "outbound"), by("callee", "outbound"), by("caller", "inbound"), by("callee", "inbound"), by("unknown", "outbound")]).toEqual([
      "agent",
      "contact",
      "contact",
      "agent",
      undefined,
    ]);
  });

  it("ignores events that say nothing about the call's state", () => {
    for (const type of ["streaming.started", "streaming.stopped", "call.dtmf.received", "call.speak.ended"]) {
      expect(telnyxCallEvent(event(type), "outbound", NOW)).toBeNull();
    }
  });

  it("round-trips client_state and refuses anyone else's", () => {
    const state = { call_id: "0190-abc", direction: "outbound" } as const;
    expect(decodeClientState(encodeClientState(state))).toEqual(state);
    expect(decodeClientState(encodeClientState({ unassigned: true }))).toEqual({ unassigned: true });
    expect(decodeClientState(btoa("hello"))).toBeNull();
    expect(decodeClientState(btoa(JSON.stringify({ call_id: "", direction: "outbound" })))).toBeNull();
    expect(decodeClientState("%%%")).toBeNull();
    expect(decodeClientState(null)).toBeNull();
  });
});

describe("carrier URLs and TwiML", () => {
  it("puts the call id in every path and turns https into wss for media", () => {
    expect(twilioCallUrls("https://api.truedy.test/", "c1")).toEqual({
      twiml: "https://api.truedy.test/telephony/twilio/twiml/c1",
      status: "https://api.truedy.test/telephony/twilio/status/c1",
      amd: "https://api.truedy.test/telephony/twilio/amd/c1",
      recording: "https://api.truedy.test/telephony/twilio/recording/c1",
      reconnect: "https://api.truedy.test/telephony/twilio/reconnect/c1",
      media: "wss://api.truedy.test/telephony/twilio/media/c1",
    });
    expect(twilioCallUrls("http://127.0.0.1:8787", "c1").media).toBe("ws://127.0.0.1:8787/telephony/twilio/media/c1");
    expect(telnyxMediaUrl("https://api.truedy.test", "c1")).toBe("wss://api.truedy.test/telephony/telnyx/media/c1");
  });

  it("connects a bidirectional stream with no query string and the call id as a Parameter, then redirects to reconnect, XML-escaped", () => {
    expect(connectStreamTwiml({ media: "wss://t.test/telephony/twilio/media/c1", reconnect: "https://t.test/telephony/twilio/reconnect/c1" }, "c1")).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="wss://t.test/telephony/twilio/media/c1">' +
        '<Parameter name="callId" value="c1"/></Stream></Connect>' +
        '<Redirect method="POST">https://t.test/telephony/twilio/reconnect/c1</Redirect></Response>',
    );
    const escaped = connectStreamTwiml({ media: "wss://t.test/a&b", reconnect: "https://t.test/r?a=1&b=2" }, `x"<'>`);
    expect(escaped).toContain('url="wss://t.test/a&amp;b"><Parameter name="callId" value="x&quot;&lt;&apos;&gt;"/>');
    expect(escaped).toContain("<Redirect method=\"POST\">https://t.test/r?a=1&amp;b=2</Redirect>");
    expect(escapeXml(`&<>"'`)).toBe("&amp;&lt;&gt;&quot;&apos;");
  });

  it("says something polite before hanging up on an unassigned number", () => {
    expect(unavailableTwiml()).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?><Response><Say>Sorry, [^<]+<\/Say><Hangup\/><\/Response>$/);
    expect(hangupTwiml()).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>');
  });
});
