import { createRoute } from "@hono/zod-openapi";
import { conflictResponse, dataEnvelope, DeletedSchema, errorResponses, ErrorSchema, IdParams, jsonBody, jsonResponse, listEnvelope } from "../../lib/openapi";
import { idempotent } from "../../middleware/idempotency";
import { CloneVoiceBody, ImportVoiceBody, ListVoicesQuery, VoiceSchema } from "./schemas";

const tags = ["Voices"];

export const listVoices = createRoute({
  method: "get",
  path: "/voices",
  tags,
  summary: "List voices",
  description:
    "The platform catalogue (`type: system`, shared by every organization) followed by the organization's own imported and cloned voices, oldest first.",
  request: { query: ListVoicesQuery },
  responses: { 200: jsonResponse(listEnvelope(VoiceSchema), "A page of voices"), ...errorResponses },
});

export const getVoice = createRoute({
  method: "get",
  path: "/voices/{id}",
  tags,
  summary: "Get a voice",
  description: "Catalogue voices are readable by every organization; imported and cloned voices only by their own.",
  request: { params: IdParams },
  responses: { 200: jsonResponse(dataEnvelope(VoiceSchema), "The voice"), ...errorResponses },
});

export const importVoice = createRoute({
  method: "post",
  path: "/voices",
  tags,
  summary: "Import a provider voice",
  description: [
    "Adds a voice that already exists at the provider (`type: reference`, `status: active`), so agents can use it.",
    "For `elevenlabs` the voice is looked up with the deployment's `ELEVENLABS_API_KEY`: an unknown id is 422 `validation_error` on `provider_voice_id`,",
    "a rejected key 422 `provider_not_configured`, and an unreachable or failing ElevenLabs 502 `provider_error`.",
    "When the deployment has no ElevenLabs key, and for the other providers, the voice is stored without a check.",
    "Importing the same provider voice twice is 409 `conflict`. Accepts an `Idempotency-Key`.",
  ].join(" "),
  middleware: [idempotent] as const,
  request: { body: jsonBody(ImportVoiceBody) },
  responses: {
    201: jsonResponse(dataEnvelope(VoiceSchema), "The imported voice"),
    ...errorResponses,
    ...conflictResponse,
    502: { description: "The provider failed or could not be reached", content: { "application/json": { schema: ErrorSchema } } },
  },
});

export const cloneVoice = createRoute({
  method: "post",
  path: "/voices/clone",
  tags,
  summary: "Clone a voice from audio samples",
  description: [
    "Creates an ElevenLabs instant voice clone from 1 to 25 base64 audio samples (MP3, WAV, M4A/MP4, AAC, OGG/Opus, WebM or FLAC;",
    "at most 10 MB each and 25 MB in all, decoded). Answers at once with the voice (`type: custom`, `status: training`,",
    "`provider_voice_id: null`); the samples are uploaded to ElevenLabs in the background. When ElevenLabs has made the voice it becomes",
    "`active` with its `provider_voice_id` and a `voice.training.completed` webhook is sent; when ElevenLabs refuses the samples, or",
    "stays unreachable through 6 attempts over about 40 minutes, it becomes `failed` with a `failure_reason` and a",
    "`voice.training.failed` webhook is sent. Agents can use the voice once it is `active`.",
    "A sample that is not valid base64, empty, or does not start like its `content_type` is 422 `validation_error` naming it",
    "(`files.1.data`); too large is 413 `payload_too_large`; a deployment without `ELEVENLABS_API_KEY` answers 422",
    "`provider_not_configured`. Accepts an `Idempotency-Key`.",
  ].join(" "),
  middleware: [idempotent] as const,
  request: { body: jsonBody(CloneVoiceBody) },
  responses: {
    201: jsonResponse(dataEnvelope(VoiceSchema), "The new voice, `type: custom` and `status: training`, completed by a `voice.training.*` webhook"),
    ...errorResponses,
    413: { description: "A sample, or all of them together, is too large", content: { "application/json": { schema: ErrorSchema } } },
  },
});

export const deleteVoice = createRoute({
  method: "delete",
  path: "/voices/{id}",
  tags,
  summary: "Delete an imported or cloned voice",
  description: [
    "Catalogue voices cannot be deleted (403 `forbidden`). A voice that an agent uses is 409 `resource_in_use`, with the agents in `details.agent_ids`.",
    "A cloned voice is also deleted from the deployment's ElevenLabs account (one it no longer has counts as deleted); when ElevenLabs",
    "cannot be reached the voice is kept and the answer is 502 `provider_error`, so the delete can be repeated.",
  ].join(" "),
  request: { params: IdParams },
  responses: {
    200: jsonResponse(dataEnvelope(DeletedSchema), "The voice was deleted"),
    ...errorResponses,
    ...conflictResponse,
    403: { description: "Catalogue voices cannot be deleted", content: { "application/json": { schema: ErrorSchema } } },
    502: { description: "ElevenLabs could not delete the cloned voice", content: { "application/json": { schema: ErrorSchema } } },
  },
});
