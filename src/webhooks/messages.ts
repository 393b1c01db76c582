import { z } from "zod";

/** What travels on the webhooks queue. Validated on receipt like any other wire input. */
export const WebhookMessage = z.discriminatedUnion("kind", [
  /** Fan an event out to its subscribed endpoints. */
  z.object({ kind: z.literal("dispatch"), event_id: z.string().min(1) }),
  /** Make attempt number `attempt` of one delivery. */
  z.object({ kind: z.literal("deliver"), delivery_id: z.string().min(1), attempt: z.number().int().min(1) }),
  /** Make attempt number `attempt` of a voice clone (src/api/voices/training.ts), which ends in a `voice.training.*` event. */
  z.object({ kind: z.literal("voice_clone"), voice_id: z.string().min(1), attempt: z.number().int().min(1) }),
  /** Make attempt number `attempt` of a call's post-call analysis (src/calls/analysis.ts), which ends in `call.analyzed`. */
  z.object({ kind: z.literal("call_analysis"), call_id: z.string().min(1), attempt: z.number().int().min(1) }),
]);
export type WebhookMessage = z.infer<typeof WebhookMessage>;
