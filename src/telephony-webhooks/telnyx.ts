import { Hono } from "hono";
import { z } from "zod";
import { carrierFor, openCredentials } from "../carriers";
import { importTelnyxPublicKey, verifyTelnyxSignature } from "../carriers/telnyx-signature";
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
import { findCall, findNumber, type NumberRow } from "./records";
import { UNAVAILABLE_MESSAGE } from "./twiml";

/**
 * Telnyx Call Control webhooks (every call of the deployment's Call Control Application, inbound
 * and outbound) and the media stream handshake. Webhooks are verified with Ed25519 before being
 * read. Duplicates and out-of-order deliveries are passed on as they come: the call's object
 * drops what no longer applies.
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
    const raw = await c.req.text();
    const now = currentClock().now();
    const publicKey = await importTelnyxPublicKey(c.env.TELNYX_PUBLIC_KEY);
    const verdict = await verifyTelnyxSignature(
      publicKey,
      { signature: c.req.header("telnyx-signature-ed25519"), timestamp: c.req.header("telnyx-timestamp"), rawBody: raw },
      now,
    );
    if (!verdict.ok) throw new ApiError("forbidden", REJECTED[verdict.reason]);

    const event = parseWebhook(raw);
    const db = c.get("db");
    const state = decodeClientState(event.payload.client_state);
    if (event.event_type === "call.initiated" && event.payload.direction === "incoming") {
      await takeInboundCall(c.env, db, event, now);
    } else if (state && "unassigned" in state) {
      await declineStep(c.env, db, event);
    } else if (state) {
      const carrierEvent = telnyxCallEvent(event, state.direction, now);
      if (carrierEvent) await reportCarrierEvent(c.env, state.call_id, carrierEvent);
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
