import { Hono } from "hono";
import { eq } from "drizzle-orm";
import { calls } from "../db/schema";
import { currentClock } from "../lib/clock";
import type { AppEnv } from "../lib/types";
import { verifyRecordingLink } from "./recording-links";

/**
 * `GET /recordings/{call_id}?expires=…&signature=…`: the target of the short-lived links that
 * GET /calls/{id}/recording hands out. No API key: the signature is the authorisation.
 */
export const recordingRoute = new Hono<AppEnv>().get("/recordings/:callId", async (c) => {
  const callId = c.req.param("callId");
  const valid = await verifyRecordingLink(c.env, callId, c.req.query("expires"), c.req.query("signature"), currentClock().now());
  if (!valid) return c.text("This recording link is invalid or has expired", 403);
  const [row] = await c.get("db").select({ key: calls.recordingKey }).from(calls).where(eq(calls.id, callId)).limit(1);
  const object = row?.key ? await c.env.FILES.get(row.key) : null;
  if (!object) return c.text("Recording not found", 404);
  return new Response(object.body, {
    headers: { "Content-Type": object.httpMetadata?.contentType ?? "audio/wav", "Cache-Control": "private, max-age=0, no-store" },
  });
});
