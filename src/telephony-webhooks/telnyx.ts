import { Hono } from "hono";
import { z } from "zod";
import { carrierFor, openCredentials } from "../carriers";
import { decodeTelnyxPublicKey, importTelnyxPublicKey, telnyxVerifyKey, verifyTelnyxSignature, type TelnyxSignedRequest } from "../carriers/telnyx-signature";
import { decodeClientState, type TelnyxCarrier } from "../carriers/telnyx";
import { createInboundCall, reportCarrierEvent } from "../calls/engine";
import type { Database } from "../db/tenant";
import { isTerminal } from "../domain/calls";
import { currentClock } from "../lib/clock";
import { ApiError, notFound } from "../lib/errors";
import { validationError } from "../lib/router";
import type { AppEnv } from "../lib/types";
import { telnyxCallEvent } from "./mapping";
import { forwardMediaStream } from "./media";
import { findCall, findNumber, numberOfCall, type NumberRow } from "./records";
import { UNAVAILABLE_MESSAGE } from "./twiml";

/**
 * Telnyx Call Control webhooks (every call of our Call Control Applications, inbound and
 * outbound: the platform account's and each BYOC customer account's) and the media stream
 * handshake. Webhooks are verified with Ed25519, with the platform account's key or a BYOC
 * number's own, before anything in them is acted on. Duplicates and out-of-order deliveries are
 * passed on as they come: the call's object drops what no longer applies.
 */

const Webhook = z.object({
  data: z.object({
    event_type: z.string().min(1),
    occurred_at: z.string().default(""),
    payload: z
      .object({
        call_control_id: z.string().optional(),
        client_state: z.string().nullish(),
        direction: z.string().optional(),
        from: z.string().optional(),
        to: z.string().optional(),
        hangup_cause: z.string().optional(),
        hangup_source: z.string().optional(),
        result: z.string().optional(),
      })
      .default({}),
  }),
});
type WebhookEvent = z.infer<typeof Webhook>["data"];

const REJECTED: Record<"missing" | "stale" | "invalid", string> = {
  missing: "The request lacks the telnyx-signature-ed25519 and telnyx-timestamp headers",
  stale: "The telnyx-timestamp is more than 5 minutes away from now",
  invalid: "The request does not carry a valid Telnyx signature",
};

function parseWebhook(raw: string): WebhookEvent {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new ApiError("bad_request", "Malformed JSON in request body");
  }
  const parsed = Webhook.safeParse(json);
  if (!parsed.success) throw validationError(parsed.error, "body");
  return parsed.data.data;
}

/**
 * What a webhook is about. The one answer decides both what is done with the event and, when the
 * platform key does not verify it, whose key may have signed it; so a customer's key can only
 * vouch for events about that customer's own number or call, never steer one about another's.
 */
type Subject =
  | { kind: "inbound" }
  | { kind: "decline" }
  | { kind: "call"; callId: string; direction: "outbound" | "inbound" }
  | { kind: "foreign" };

function subjectOf(event: WebhookEvent): Subject {
  if (event.event_type === "call.initiated" && event.payload.direction === "incoming") return { kind: "inbound" };
  const state = decodeClientState(event.payload.client_state);
  if (!state) return { kind: "foreign" };
  if ("unassigned" in state) return { kind: "decline" };
  return { kind: "call", callId: state.call_id, direction: state.direction };
}

/** The Telnyx number of ours a subject concerns: the dialled `to` of an arriving call, else our call's number. */
async function subjectNumber(db: Database, event: WebhookEvent, subject: Subject): Promise<NumberRow | undefined> {
  if (subject.kind === "inbound" || subject.kind === "decline") return telnyxNumber(db, event.payload.to);
  if (subject.kind === "foreign") return undefined;
  const call = await findCall(db, subject.callId);
  const number = call?.provider === "telnyx" ? await numberOfCall(db, call) : undefined;
  return number?.provider === "telnyx" ? number : undefined;
}

/** A BYOC number's own account key, stored at import; numbers without one have no second key to try. */
async function customerKey(env: Env, number: NumberRow | undefined): Promise<CryptoKey | undefined> {
  const credentials = number ? await openCredentials(env, number.credentialsEncrypted) : null;
  const raw = credentials?.kind === "telnyx" && credentials.public_key ? decodeTelnyxPublicKey(credentials.public_key) : null;
  return raw ? telnyxVerifyKey(raw) : undefined;
}

/**
 * The event, once its signature holds. The platform account's key is tried first; Telnyx signs a
 * BYOC number's webhooks with the customer account's key instead, so when the platform key fails
 * the body, still untrusted, is read only to find the number the event is about, and that
 * number's stored key is tried. Nothing in the body is acted on unless one of the keys verifies it.
 */
async function verifiedWebhook(env: Env, db: Database, signed: TelnyxSignedRequest, nowMs: number): Promise<WebhookEvent> {
  const platform = await verifyTelnyxSignature(await importTelnyxPublicKey(env.TELNYX_PUBLIC_KEY), signed, nowMs);
  if (platform.ok) return parseWebhook(signed.rawBody);
  // Missing headers and stale timestamps fail under every key.
  if (platform.reason !== "invalid") throw new ApiError("forbidden", REJECTED[platform.reason]);
  let claimed: WebhookEvent;
  try {
    claimed = parseWebhook(signed.rawBody);
  } catch {
    // An unverified body gets no opinion on its shape, only the refusal.
    throw new ApiError("forbidden", REJECTED.invalid);
  }
  const key = await customerKey(env, await subjectNumber(db, claimed, subjectOf(claimed)));
  if (!key || !(await verifyTelnyxSignature(key, signed, nowMs)).ok) throw new ApiError("forbidden", REJECTED.invalid);
  return claimed;
}

/** The Telnyx account of one of our numbers: the customer's own key for BYOC, else the platform's. */
async function telnyxFor(env: Env, number: NumberRow | undefined): Promise<TelnyxCarrier> {
  const credentials = number?.provider === "telnyx" ? await openCredentials(env, number.credentialsEncrypted) : null;
  return carrierFor(env, "telnyx", credentials?.kind === "telnyx" ? credentials : null);
}

async function telnyxNumber(db: Database, phoneNumber: string | undefined): Promise<NumberRow | undefined> {
  const found = phoneNumber ? await findNumber(db, phoneNumber) : undefined;
  return found?.provider === "telnyx" ? found : undefined;
}

/**
 * A call arriving on one of our numbers: the number's inbound agent gets a call and Telnyx is
 * told to answer with the media stream; otherwise it is answered only to say it is unavailable.
 */
async function takeInboundCall(env: Env, db: Database, event: WebhookEvent, nowMs: number): Promise<void> {
  const { call_control_id: callControlId, from, to } = event.payload;
  if (!callControlId) return;
  const number = await telnyxNumber(db, to);
  const carrier = await telnyxFor(env, number);
  if (number?.inboundAgentId) {
    let callId: string | undefined;
    try {
      ({ callId } = await createInboundCall(
        env,
        { orgId: number.orgId, agentId: number.inboundAgentId, phoneNumberId: number.id, provider: "telnyx", providerCallId: callControlId, from: from ?? "", to: number.phoneNumber },
        nowMs,
      ));
    } catch (error) {
      // The caller is on the line: they hear the unavailable message rather than ringing on.
      console.error(JSON.stringify({ level: "error", message: "inbound call could not be created", provider: "telnyx", call_control_id: callControlId, error: String(error) }));
    }
    if (callId) return carrier.answer(callControlId, callId, env.PUBLIC_BASE_URL);
  }
  await carrier.answerUnassigned(callControlId);
}

/** The unavailable message of an unassigned number: speak once answered, hang up once spoken. */
async function declineStep(env: Env, db: Database, event: WebhookEvent): Promise<void> {
  const callControlId = event.payload.call_control_id;
  if (!callControlId) return;
  if (event.event_type !== "call.answered" && event.event_type !== "call.speak.ended") return;
  const carrier = await telnyxFor(env, await telnyxNumber(db, event.payload.to));
  if (event.event_type === "call.answered") await carrier.speak(callControlId, UNAVAILABLE_MESSAGE);
  else await carrier.hangup(callControlId);
}

export const telnyxWebhooks = new Hono<AppEnv>()
  .post("/telephony/voice/telnyx", async (c) => {
    const now = currentClock().now();
    const db = c.get("db");
    const signed = { signature: c.req.header("telnyx-signature-ed25519"), timestamp: c.req.header("telnyx-timestamp"), rawBody: await c.req.text() };
    const event = await verifiedWebhook(c.env, db, signed, now);
    const subject = subjectOf(event);
    if (subject.kind === "inbound") {
      await takeInboundCall(c.env, db, event, now);
    } else if (subject.kind === "decline") {
      await declineStep(c.env, db, event);
    } else if (subject.kind === "call") {
      const carrierEvent = telnyxCallEvent(event, subject.direction, now);
      if (carrierEvent) await reportCarrierEvent(c.env, subject.callId, carrierEvent);
    }
    return c.body(null, 200);
  })

  /**
   * Telnyx signs nothing on the media stream, so only a live Telnyx call of ours is accepted
   * (its object checks again that the call is not over).
   */
  .get("/telephony/telnyx/media/:callId", async (c) => {
    const callId = c.req.param("callId");
    const call = await findCall(c.get("db"), callId);
    if (!call || call.provider !== "telnyx" || isTerminal(call.status)) throw notFound("Call", callId);
    return forwardMediaStream(c.env, call.id, c.req.raw);
  });
