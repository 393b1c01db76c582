import type { voices } from "../../db/schema";

export type VoiceRow = typeof voices.$inferSelect;

/** The API's voice object (also the `voice` in `voice.training.*` webhooks). */
export const voiceView = (v: VoiceRow) => ({
  id: v.id,
  name: v.name,
  provider: v.provider,
  // A clone has no provider id until ElevenLabs made the voice.
  provider_voice_id: v.providerVoiceId === "" ? null : v.providerVoiceId,
  type: v.type,
  language: v.language,
  gender: v.gender,
  description: v.description,
  status: v.status,
  failure_reason: v.status === "failed" ? v.trainingError : null,
  created_at: v.createdAt,
  updated_at: v.updatedAt,
});
