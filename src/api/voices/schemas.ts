import { z } from "@hono/zod-openapi";
import { LimitOffsetQuery } from "../../lib/openapi";
import { MAX_SAMPLE_BYTES, MAX_SAMPLE_FILES, MAX_TOTAL_SAMPLE_BYTES, SAMPLE_CONTENT_TYPES } from "./samples";

export const VOICE_PROVIDERS = ["elevenlabs", "deepgram", "cartesia", "openai"] as const;
export const VOICE_TYPES = ["system", "reference", "custom"] as const;
export const VOICE_STATUSES = ["active", "training", "failed"] as const;

const LanguageTag = z
  .string()
  .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, "Must be a BCP-47 tag such as en or en-US")
  .openapi({ example: "en-US" });

export const VoiceSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    provider: z.enum(VOICE_PROVIDERS),
    provider_voice_id: z
      .string()
      .nullable()
      .openapi({ description: "The provider's own id for the voice; null for a clone until ElevenLabs has made it" }),
    type: z.enum(VOICE_TYPES).openapi({ description: "`system`: platform catalogue; `reference`: imported; `custom`: cloned" }),
    language: z.string().nullable(),
    gender: z.string().nullable(),
    description: z.string().nullable(),
    status: z.enum(VOICE_STATUSES).openapi({
      description: "`training`: a clone ElevenLabs is still making; `failed`: the clone did not succeed (see `failure_reason`)",
    }),
    failure_reason: z.string().nullable().openapi({ description: "Why a clone failed; null unless `status` is `failed`" }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Voice", {
    example: {
      id: "01900000-0000-7000-8000-000000000001",
      name: "Rachel",
      provider: "elevenlabs",
      provider_voice_id: "21m00Tcm4TlvDq8ikWAM",
      type: "system",
      language: "en-US",
      gender: "female",
      description: "Calm, clear American narration",
      status: "active",
      failure_reason: null,
      created_at: "2026-11-25T00:00:00.000Z",
      updated_at: "2026-11-25T00:00:00.000Z",
    },
  });

export const ListVoicesQuery = LimitOffsetQuery.extend({
  provider: z.enum(VOICE_PROVIDERS).optional(),
  type: z.enum(VOICE_TYPES).optional(),
  language: LanguageTag.optional().openapi({
    description: "Case-insensitive; a bare language (`en`) also matches its regional tags (`en-US`, `en-GB`)",
    example: "en",
  }),
});

export const ImportVoiceBody = z
  .object({
    name: z.string().trim().min(1).max(100).openapi({ example: "Rachel (support line)" }),
    provider: z.enum(VOICE_PROVIDERS).default("elevenlabs"),
    provider_voice_id: z.string().trim().min(1).max(255).openapi({ example: "21m00Tcm4TlvDq8ikWAM" }),
    language: LanguageTag.optional(),
    description: z.string().trim().max(1000).optional().openapi({ example: "Warm voice for the support line" }),
  })
  .openapi("ImportVoice");

const MB = 1024 * 1024;

const AudioFile = z.object({
  filename: z.string().trim().min(1).max(255).openapi({ example: "sample-1.mp3" }),
  data: z.string().min(1).openapi({ description: `The audio, base64-encoded; at most ${MAX_SAMPLE_BYTES / MB} MB decoded` }),
  content_type: z.enum(SAMPLE_CONTENT_TYPES, { error: `Must be one of ${SAMPLE_CONTENT_TYPES.join(", ")}` }).openapi({
    description: "The audio type; the file must start like it (an MP3 frame or ID3 tag, RIFF/WAVE, ftyp, OggS, fLaC, WebM)",
    example: "audio/mpeg",
  }),
});

export const CloneVoiceBody = z
  .object({
    name: z.string().trim().min(1).max(100).openapi({ example: "My cloned voice" }),
    description: z.string().trim().max(1000).optional(),
    language: LanguageTag.optional().openapi({ description: "The samples' language, stored on the voice and given to ElevenLabs as a label" }),
    remove_background_noise: z
      .boolean()
      .default(false)
      .openapi({ description: "Ask ElevenLabs to clean the samples with its audio isolation model (can make clean samples worse)" }),
    files: z
      .array(AudioFile)
      .min(1)
      .max(MAX_SAMPLE_FILES)
      .openapi({ description: `1 to ${MAX_SAMPLE_FILES} samples of the voice, at most ${MAX_TOTAL_SAMPLE_BYTES / MB} MB decoded in all` }),
  })
  .openapi("CloneVoice");
