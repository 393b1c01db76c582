import { createApp } from "./app";
import { openDatabase } from "./db/tenant";
import { purgeExpiredIdempotencyKeys } from "./db/idempotency";

export { OrgLimiter } from "../durable-objects/org-limiter";

const app = createApp();

export default {
  fetch: app.fetch,
  /** Periodic housekeeping (wrangler.toml `crons`). */
  async scheduled(controller, env, ctx) {
    const db = openDatabase(env.DB);
    ctx.waitUntil(purgeExpiredIdempotencyKeys(db, controller.scheduledTime).then(() => undefined));
  },
} satisfies ExportedHandler<Env>;
