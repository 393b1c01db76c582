import { Hono, type Context } from "hono";
import { z } from "zod";
import { twilioRequestUrl, verifyTwilioSignature } from "../carriers/twilio-signature";
import { callObject, createInboundCall, reportCarrierEvent } from "../calls/engine";
import { calls } from "../db/schema";
import { TenantDb } from "../db/tenant";
import { isTerminal } from "../domain/calls";
import { twilioCallUrls } from "../domain/telephony";
import { currentClock } from "../lib/clock";
import { ApiError, notFound } from "../lib/errors";
import { validationError } from "../lib/router";
import type { AppEnv } from "../lib/types";
import { twilioMachineDetectionEvent, twilioStatusEvent } from "./mapping";
import { forwardMediaStream } from "./media";
import { findCall, findCallByProviderId, findNumber, numberOfCall, twilioAuthToken, type CallRow } from "./records";
import { connectStreamTwiml, hangupTwiml, unavailableTwiml } from "./twiml";

/**
 * Twilio's requests to us: the TwiML of an answered outbound call, its status, AMD and
 * recording callbacks, the media stream handshake, and the voice webhook (plus status callback)
 * of our numbers. Each is verified against `X-Twilio-Signature` with the auth token of the
 * account the call belongs to before anything is read from it; forgeries get 403.
 */

type Ctx = Context<AppEnv>;

const StatusForm = z.object({
  CallSid: z.string().min(1),
  CallStatus: z.string().min(1),
  SequenceNumber: z.coerce.number().int().min(0).optional(),
  Timestamp: z.string().optional(),
  CallDuration: z.coerce.number().int().min(0).optional(),
  AnsweredBy: z.string().optional(),
  SipResponseCode: z.string().optional(),
});

const AmdForm = z.object({ CallSid: z.string().min(1), AnsweredBy: z.string().min(1) });

const RecordingForm = z.object({
  CallSid: z.string().min(1),
  RecordingUrl: z.url(),
  /** Absent when only `completed` was subscribed to; `absent` means nothing was recorded. */
  RecordingStatus: z.string().optional(),
});

const InboundForm = z.object({ CallSid: z.string().min(1), From: z.string().min(1), To: z.string().min(1) });

interface FormRequest {
  raw: string;
  form: URLSearchParams;
}

async function readForm(c: Ctx): Promise<FormRequest> {
  const raw = await c.req.text();
  const isForm = (c.req.header("content-type") ?? "").toLowerCase().startsWith("application/x-www-form-urlencoded");
  return { raw, form: isForm ? new URLSearchParams(raw) : new URLSearchParams() };
}

async function verify(c: Ctx, authToken: string, request: FormRequest, options: { webSocket?: boolean } = {}): Promise<void> {
  const valid = await verifyTwilioSignature(authToken, {
    url: twilioRequestUrl(c.env.PUBLIC_BASE_URL, c.req.url, options),
    signature: c.req.header("x-twilio-signature"),
    form: request.form,
    rawBody: request.raw,
  });
  if (!valid) throw new ApiError("forbidden", "The request does not carry a valid X-Twilio-Signature");
}

function parseForm<T extends z.ZodType>(schema: T, form: URLSearchParams): z.infer<T> {
  const parsed = schema.safeParse(Object.fromEntries(form));
  if (!parsed.success) throw validationError(parsed.error, "body");
  return parsed.data;
}

const twiml = (c: Ctx, xml: string) => c.body(xml, 200, { "Content-Type": "text/xml; charset=utf-8" });

/**
 * The Twilio call a per-call URL names, once the request is shown to come from the account that
 * placed it. A call we do not have (or not on Twilio) is checked against the platform token, so
 * an unknown id answers the same as a known one to a forger.
 */
async function verifiedCall(c: Ctx, callId: string, options: { webSocket?: boolean } = {}): Promise<{ call: CallRow | undefined; form: URLSearchParams }> {
  const db = c.get("db");
  const found = await findCall(db, callId);
  const call = found?.provider === "twilio" ? found : undefined;
  const authToken = await twilioAuthToken(c.env, call && (await numberOfCall(db, call)));
  const request = options.webSocket ? { raw: "", form: new URLSearchParams() } : await readForm(c);
  await verify(c, authToken, request, options);
  return { call, form: request.form };
}

export const twilioWebhooks = new Hono<AppEnv>()
  /** Fetched by Twilio when the callee answers: connect the media stream, unless the call is over for us. */
  .post("/telephony/twilio/twiml/:callId", async (c) => {
    const { call } = await verifiedCall(c, c.req.param("callId"));
    if (!call || isTerminal(call.status)) return twiml(c, hangupTwiml());
    return twiml(c, connectStreamTwiml(twilioCallUrls(c.env.PUBLIC_BASE_URL, call.id), call.id));
  })

  /**
   * Twilio's next verb once a media stream closed without the call ending (a deploy, a dropped
   * connection): connect a new stream, which resumes the conversation. A call that is over, or
   * whose stream keeps dropping (the object says so and ends it), is hung up instead.
   */
  .post("/telephony/twilio/reconnect/:callId", async (c) => {
    const { call } = await verifiedCall(c, c.req.param("callId"));
    if (!call || isTerminal(call.status)) return twiml(c, hangupTwiml());
    const allowed = await callObject(c.env, call.id).streamReconnecting();
    if (!allowed) return twiml(c, hangupTwiml());
    return twiml(c, connectStreamTwiml(twilioCallUrls(c.env.PUBLIC_BASE_URL, call.id), call.id));
  })

  .post("/telephony/twilio/status/:callId", async (c) => {
    const { call, form } = await verifiedCall(c, c.req.param("callId"));
    const event = twilioStatusEvent(parseForm(StatusForm, form), currentClock().now());
    if (call && event) await reportCarrierEvent(c.env, call.id, event);
    return c.body(null, 204);
  })

  .post("/telephony/twilio/amd/:callId", async (c) => {
    const { call, form } = await verifiedCall(c, c.req.param("callId"));
    const event = twilioMachineDetectionEvent(parseForm(AmdForm, form), currentClock().now());
    if (call) await reportCarrierEvent(c.env, call.id, event);
    return c.body(null, 204);
  })

  /** Twilio-side recordings (requested with `record`): the call keeps the URL of the finished file. */
  .post("/telephony/twilio/recording/:callId", async (c) => {
    const { call, form } = await verifiedCall(c, c.req.param("callId"));
    const recording = parseForm(RecordingForm, form);
    const finished = recording.RecordingStatus === undefined || recording.RecordingStatus === "completed";
    if (call && finished) {
      const at = new Date(currentClock().now()).toISOString();
      await new TenantDb(c.get("db"), call.orgId).update(calls, call.id, { recordingUrl: recording.RecordingUrl, updatedAt: at });
    }
    return c.body(null, 204);
  })

  /** The `<Connect><Stream>` handshake, signed over the wss:// URL; the call's object takes the socket. */
  .get("/telephony/twilio/media/:callId", async (c) => {
    const callId = c.req.param("callId");
    const { call } = await verifiedCall(c, callId, { webSocket: true });
    if (!call) throw notFound("Call", callId);
    return forwardMediaStream(c.env, call.id, c.req.raw);
  })

  /**
   * A call to one of our Twilio numbers. The number's inbound agent takes it on the same media
   * stream as outbound calls; a number without one says so politely and hangs up.
   */
  .post("/telephony/voice/twilio", async (c) => {
    const db = c.get("db");
    const request = await readForm(c);
    const found = await findNumber(db, request.form.get("To") ?? "");
    const number = found?.provider === "twilio" ? found : undefined;
    await verify(c, await twilioAuthToken(c.env, number), request);
    const form = parseForm(InboundForm, request.form);
    if (!number?.inboundAgentId) return twiml(c, unavailableTwiml());
    try {
      const { callId } = await createInboundCall(
        c.env,
        { orgId: number.orgId, agentId: number.inboundAgentId, phoneNumberId: number.id, provider: "twilio", providerCallId: form.CallSid, from: form.From, to: form.To },
        currentClock().now(),
      );
      return twiml(c, connectStreamTwiml(twilioCallUrls(c.env.PUBLIC_BASE_URL, callId), callId));
    } catch (error) {
      // The caller is on the line: whatever went wrong, they hear a message rather than Twilio's error tone.
      console.error(JSON.stringify({ level: "error", message: "inbound call could not be created", provider: "twilio", call_sid: form.CallSid, error: String(error) }));
      return twiml(c, unavailableTwiml());
    }
  })

  /**
   * The status callback of our numbers (set with their voice URL): how an inbound call's end
   * reaches its object. The call is found by Twilio's CallSid, the signing account through it, or
   * through the dialled number when there is no call (an unassigned number's).
   */
  .post("/telephony/voice/twilio/status", async (c) => {
    const db = c.get("db");
    const request = await readForm(c);
    const call = await findCallByProviderId(db, "twilio", request.form.get("CallSid") ?? "");
    const number = call ? await numberOfCall(db, call) : await findNumber(db, request.form.get("To") ?? "");
    await verify(c, await twilioAuthToken(c.env, number), request);
    const event = twilioStatusEvent(parseForm(StatusForm, request.form), currentClock().now());
    if (call && event) await reportCarrierEvent(c.env, call.id, event);
    return c.body(null, 204);
  });
