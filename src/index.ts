import { createApp } from "./app";
import { openDatabase } from "./db/tenant";
import { purgeExpiredIdempotencyKeys } from "./db/idempotency";
import { configureClock, currentClock } from "./lib/clock";
import { sweepStuckIngestions } from "./knowledge/sweep";
import { handleKnowledgeBatch, handleKnowledgeDeadLetters, KNOWLEDGE_DLQ_NAME, KNOWLEDGE_QUEUE_NAME } from "./knowledge/ingest";
import { handleWebhookBatch, handleWebhookDeadLetters } from "./webhooks/deliver";
import { sweepWebhooks } from "./webhooks/sweep";

export { CallDO } from "../durable-objects/call";
export { CampaignDO } from "../durable-objects/campaign";
export { OrgLimiter } from "../durable-objects/org-limiter";

const app = createApp();

export default {
  fetch(request, env, ctx) {
    configureClock(env);
    return app.fetch(request, env, ctx);
  },

  async queue(batch, env) {
    configureClock(env);
    if (batch.queue === KNOWLEDGE_QUEUE_NAME) await handleKnowledgeBatch(batch, env, currentClock());
    else if (batch.queue === KNOWLEDGE_DLQ_NAME) await handleKnowledgeDeadLetters(batch, env, currentClock());
    else if (batch.queue.endsWith("-dlq")) await handleWebhookDeadLetters(batch, env, currentClock());
    else await handleWebhookBatch(batch, env, currentClock());
  },

  /** Every minute (wrangler.toml `crons`): the webhook sweep, idempotency-key retention and stuck ingestions. */
  async scheduled(controller, env, ctx) {
    configureClock(env);
    const db = openDatabase(env.DB);
    ctx.waitUntil(
      Promise.all([
        sweepWebhooks(db, env.WEBHOOK_QUEUE, controller.scheduledTime),
        purgeExpiredIdempotencyKeys(db, controller.scheduledTime),
        sweepStuckIngestions(db, env.DB, controller.scheduledTime),
      ]).then(() => undefined),
    );
  },
} satisfies ExportedHandler<Env>;
