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
  description:
    "Not available yet: cloning arrives with the voice pipeline. The request is validated (so a malformed one is still 422), then answered with 501 `not_implemented`. Accepts an `Idempotency-Key`.",
  middleware: [idempotent] as const,
  request: { body: jsonBody(CloneVoiceBody) },
  responses: {
    201: jsonResponse(
      dataEnvelope(VoiceSchema),
      "Once cloning is available: the new voice with `type: custom` and `status: training`, completed by a `voice.training.*` webhook",
    ),
    ...errorResponses,
    501: { description: "Voice cloning is not available on this deployment yet", content: { "application/json": { schema: ErrorSchema } } },
  },
});

export const deleteVoice = createRoute({
  method: "delete",
  path: "/voices/{id}",
  tags,
  summary: "Delete an imported or cloned voice",
  description:
    "Catalogue voices cannot be deleted (403 `forbidden`). A voice that an agent uses is 409 `resource_in_use`, with the agents in `details.agent_ids`.",
  request: { params: IdParams },
  responses: {
    200: jsonResponse(dataEnvelope(DeletedSchema), "The voice was deleted"),
    ...errorResponses,
    ...conflictResponse,
    403: { description: "Catalogue voices cannot be deleted", content: { "application/json": { schema: ErrorSchema } } },
  },
});
