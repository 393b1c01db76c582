import { eq } from "drizzle-orm";
import { Hono } from "hono";
import { calls } from "../db/schema";
import { currentClock } from "../lib/clock";
import { ApiError } from "../lib/errors";
import { UUID_PATTERN } from "../lib/ids";
import type { AppEnv } from "../lib/types";
import { callObject } from "./engine";
import { verifyWebCallToken } from "./web-call-tokens";

const invalidToken = () => new ApiError("unauthorized", "Invalid token for this call; use the websocket_url POST /calls/web returned");

/** What the call's object says when it refuses a connection (CallDO#connectWeb), in our words. */
const REFUSALS: Record<string, string> = {
  already_used: "This token was already used: a web call takes one connection; start a new call",
  ended: "This call is over; start a new call",
};

/**
 * `GET /web-calls/{call_id}/stream?token=…` (WebSocket): the browser side of a web call
 * (POST /calls/web). Outside the API-key namespace, since a browser cannot set headers on a
 * WebSocket: the single-use token is the authorisation. Refused before the upgrade: 400 without
 * `Upgrade: websocket`, 401 for a missing, wrong (another call's, another org's) or expired token,
 * 403 for a token already used or a call that is over. Once accepted, the call's object owns the
 * socket (src/voice/web-protocol.ts).
 */
export const webCallRoute = new Hono<AppEnv>().get("/web-calls/:callId/stream", async (c) => {
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
    throw new ApiError("bad_request", "This is a WebSocket endpoint: connect with Upgrade: websocket");
  }
  const callId = c.req.param("callId");
  const token = c.req.query("token");
  if (!token) throw new ApiError("unauthorized", "Missing token; use the websocket_url POST /calls/web returned");
  if (!UUID_PATTERN.test(callId)) throw invalidToken();
  const [row] = await c.get("db").select({ orgId: calls.orgId, direction: calls.direction }).from(calls).where(eq(calls.id, callId)).limit(1);
  // An unknown call and a wrong token look the same: the route says nothing about which calls exist.
  if (!row || row.direction !== "webrtc") throw invalidToken();
  const check = await verifyWebCallToken(c.env, token, callId, row.orgId, currentClock().now());
  if (!check.ok) {
    if (check.reason === "expired") throw new ApiError("unauthorized", "This token has expired; start a new call");
    throw invalidToken();
  }
  const res = await callObject(c.env, callId).fetch(c.req.raw);
  // Re-wrapped: the stub's response has immutable headers, and the request middleware adds one.
  if (res.status === 101 && res.webSocket) return new Response(null, { status: 101, webSocket: res.webSocket });
  const reason = await res.text();
  if (res.status === 401) throw invalidToken();
  throw new ApiError("forbidden", REFUSALS[reason] ?? "This call takes no connection now");
});
