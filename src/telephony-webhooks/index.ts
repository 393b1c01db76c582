import { Hono } from "hono";
import { limitBody } from "../middleware/body-limit";
import type { AppEnv } from "../lib/types";
import { telnyxWebhooks } from "./telnyx";
import { twilioWebhooks } from "./twilio";

/**
 * The carrier-facing routes under /telephony: no API key (carriers authenticate by signature),
 * kept out of the public OpenAPI document, with the default body cap because bodies are read
 * before their signature can be checked.
 */
export const telephonyWebhooksRouter = new Hono<AppEnv>().use("/telephony/*", limitBody).route("/", twilioWebhooks).route("/", telnyxWebhooks);
