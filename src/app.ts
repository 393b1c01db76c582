import { Scalar } from "@scalar/hono-api-reference";
import { createRouter } from "./lib/router";
import { adminRouter } from "./api/admin";
import { agentsRouter } from "./api/agents";
import { analyticsRouter } from "./api/analytics";
import { apiKeysRouter } from "./api/api-keys";
import { batchCallsRouter } from "./api/batch-calls";
import { callsRouter } from "./api/calls";
import { contactsRouter } from "./api/contacts";
import { dncRouter } from "./api/dnc";
import { knowledgeBasesRouter } from "./api/knowledge-bases";
import { telephonyRouter } from "./api/telephony";
import { toolsRouter } from "./api/tools";
import { voicesRouter } from "./api/voices";
import { webhooksRouter } from "./api/webhooks";
import { recordingRoute } from "./calls/recording-route";
import { webCallRoute } from "./calls/web-call-route";
import { dashboardRouter } from "./dashboard";
import { adminAuth, apiKeyAuth } from "./middleware/auth";
import { limitBody } from "./middleware/body-limit";
import { handleError, handleNotFound } from "./middleware/errors";
import { rateLimit } from "./middleware/rate-limit";
import { requestContext } from "./middleware/request-context";
import { telephonyWebhooksRouter } from "./telephony-webhooks";

export const PUBLIC_API_BASE = "/api/public/v1";
export const ADMIN_API_BASE = "/api/admin/v1";

const publicRouters = [agentsRouter, callsRouter, batchCallsRouter, voicesRouter, toolsRouter, knowledgeBasesRouter, contactsRouter, dncRouter, telephonyRouter, webhooksRouter, apiKeysRouter, analyticsRouter];

/** The Hono app: context, errors, auth and rate limit around the resource routers. */
export function createApp() {
  const app = createRouter();
  app.use(requestContext);
  app.onError(handleError);
  app.notFound(handleNotFound);

  app.get("/", (c) => c.redirect("/app"));
  app.get("/health", (c) => c.json({ status: "ok" }));

  // Registered before the auth middleware, so the document is public.
  app.doc31(`${PUBLIC_API_BASE}/openapi.json`, (c) => ({
    openapi: "3.1.0",
    info: {
      title: "Truedy public API",
      version: "1.0.0",
      description:
        "Voice-AI calling platform. Every request carries `Authorization: Bearer truedy_…`. Responses use the `{data, meta, pagination?}` envelope; errors `{error:{code,message,details?},meta}`.",
    },
    servers: [{ url: new URL(PUBLIC_API_BASE, c.env.PUBLIC_BASE_URL ?? c.req.url).toString() }],
    security: [{ bearerAuth: [] }],
  }));
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    description: "An API key: `truedy_` followed by 32 alphanumeric characters.",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "adminToken", {
    type: "http",
    scheme: "bearer",
    description: "The deployment's ADMIN_TOKEN secret (admin bootstrap endpoints only).",
  });
  app.get("/docs", Scalar({ url: `${PUBLIC_API_BASE}/openapi.json`, pageTitle: "Truedy API reference" }));

  app.route("/", recordingRoute);
  // Browser call sockets: the connect token is the authorisation (browsers cannot send headers there).
  app.route("/", webCallRoute);
  app.route("/", telephonyWebhooksRouter);
  // The dashboard signs in with an API key of its own (session cookie), then calls the API in-process.
  app.use("/app/*", limitBody);
  app.route("/app", dashboardRouter);

  app.use(`${ADMIN_API_BASE}/*`, limitBody, adminAuth);
  app.route(ADMIN_API_BASE, adminRouter);

  app.use(`${PUBLIC_API_BASE}/*`, limitBody, apiKeyAuth, rateLimit);
  for (const router of publicRouters) app.route(PUBLIC_API_BASE, router);
  return app;
}
