import { and, asc, eq, ne, sql } from "drizzle-orm";
import { assertNotUsedByAgents, usesVoice } from "../../db/agent-references";
import { voices } from "../../db/schema";
import { ok, okList } from "../../lib/envelope";
import { ApiError, invalidField } from "../../lib/errors";
import { newId } from "../../lib/ids";
import type { AppRouteHandler } from "../../lib/types";
import { deleteElevenLabsVoice } from "./elevenlabs-clone";
import { elevenLabsConfig, verifyProviderVoice } from "./provider-voices";
import type * as routes from "./routes";
import { checkSamples, MAX_SAMPLE_BYTES, MAX_TOTAL_SAMPLE_BYTES } from "./samples";
import { deleteSamples, enqueueClone, samplePrefix, stageClone } from "./training";
import { voiceView } from "./view";

/**
 * `en` matches `en`, `en-US` and `en-GB`; `en-us` matches `en-US`. A prefix comparison, not LIKE:
 * D1 rejects LIKE patterns longer than 50 bytes, and a long (valid) tag must not be a 500.
 */
function languageMatches(tag: string) {
  const lower = tag.toLowerCase();
  return sql`(lower(${voices.language}) = ${lower} or substr(lower(${voices.language}), 1, ${lower.length + 1}) = ${`${lower}-`})`;
}

const duplicateImport = (providerVoiceId: string, existingId?: string) =>
  new ApiError("conflict", `Provider voice ${providerVoiceId} is already imported`, {
    details: { field: "provider_voice_id", ...(existingId && { voice_id: existingId }) },
  });

function isUniqueViolation(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (/UNIQUE constraint failed/i.test(e.message)) return true;
  }
  return false;
}

export const listVoices: AppRouteHandler<typeof routes.listVoices> = async (c) => {
  const { limit, offset, provider, type, language } = c.req.valid("query");
  const { rows, total } = await c.get("tenant").list(voices, {
    shared: true,
    where: [
      provider ? eq(voices.provider, provider) : undefined,
      type ? eq(voices.type, type) : undefined,
      language ? languageMatches(language) : undefined,
    ],
    // Ids are time-ordered and the catalogue's predate every import, so this lists it first.
    orderBy: asc(voices.id),
    limit,
    offset,
  });
  return okList(c, rows.map(voiceView), { total, limit, offset });
};

export const getVoice: AppRouteHandler<typeof routes.getVoice> = async (c) => {
  const voice = await c.get("tenant").get(voices, c.req.valid("param").id, "Voice", { shared: true });
  return ok(c, voiceView(voice));
};

export const importVoice: AppRouteHandler<typeof routes.importVoice> = async (c) => {
  const body = c.req.valid("json");
  const tenant = c.get("tenant");
  // Checked before the provider call so a repeat import answers at once; the unique index
  // below settles two imports racing each other.
  const [existing] = await tenant.findWhere(voices, eq(voices.provider, body.provider), eq(voices.providerVoiceId, body.provider_voice_id));
  if (existing) throw duplicateImport(body.provider_voice_id, existing.id);
  // Every organization's clones live in the deployment's one ElevenLabs account, so the lookup
  // below would find another organization's clone too: it is answered exactly like an unknown id.
  const [othersClone] = await tenant.db
    .select({ id: voices.id })
    .from(voices)
    .where(and(eq(voices.provider, body.provider), eq(voices.providerVoiceId, body.provider_voice_id), eq(voices.type, "custom"), ne(voices.orgId, tenant.orgId)))
    .limit(1);
  if (othersClone) throw invalidField("provider_voice_id", `ElevenLabs has no voice ${body.provider_voice_id} available to this deployment's API key`);

  const check = await verifyProviderVoice(c.env, body.provider, body.provider_voice_id);
  const facts = check.verified ? check.facts : {};
  const clock = c.get("clock");
  const now = new Date(clock.now()).toISOString();
  try {
    const [voice] = await tenant
      .insert(voices, {
        id: newId(clock.now()),
        name: body.name,
        provider: body.provider,
        providerVoiceId: body.provider_voice_id,
        type: "reference",
        language: body.language ?? facts.language ?? null,
        gender: facts.gender ?? null,
        description: body.description ?? facts.description ?? null,
        status: "active",
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    return ok(c, voiceView(voice), 201);
  } catch (error) {
    if (isUniqueViolation(error)) throw duplicateImport(body.provider_voice_id);
    throw error;
  }
};

export const cloneVoice: AppRouteHandler<typeof routes.cloneVoice> = async (c) => {
  const body = c.req.valid("json");
  const checked = checkSamples(body.files);
  if (!checked.ok) {
    const { field, reason } = checked.problem;
    if (checked.tooLarge) {
      throw new ApiError("payload_too_large", `Invalid ${field}: ${reason}`, {
        details: { field, reason, max_file_bytes: MAX_SAMPLE_BYTES, max_total_bytes: MAX_TOTAL_SAMPLE_BYTES },
      });
    }
    throw invalidField(field, reason);
  }
  // Checked after the body, so a malformed request is a 422 on any deployment.
  if (!elevenLabsConfig(c.env)) {
    throw new ApiError("provider_not_configured", "Voice cloning needs ElevenLabs: this deployment has no ELEVENLABS_API_KEY", {
      details: { provider: "elevenlabs" },
    });
  }
  const voice = await stageClone(c.env, c.get("tenant"), c.get("clock").now(), {
    name: body.name,
    description: body.description ?? null,
    language: body.language ?? null,
    removeBackgroundNoise: body.remove_background_noise,
    samples: checked.samples,
  });
  await enqueueClone(c.env.WEBHOOK_QUEUE, voice.id, 1);
  return ok(c, voiceView(voice), 201);
};

export const deleteVoice: AppRouteHandler<typeof routes.deleteVoice> = async (c) => {
  const { id } = c.req.valid("param");
  const tenant = c.get("tenant");
  const voice = await tenant.get(voices, id, "Voice", { shared: true });
  if (voice.orgId === null) throw new ApiError("forbidden", `Voice ${id} belongs to the platform catalogue and cannot be deleted`, { details: { id } });
  await assertNotUsedByAgents(tenant, "Voice", id, usesVoice(id));
  if (voice.type === "custom") {
    // A clone also goes from the ElevenLabs account, where it takes a voice slot. A clone still
    // training is settled by nobody once its row is gone: its job removes what it made.
    const config = elevenLabsConfig(c.env);
    if (config && voice.providerVoiceId) await deleteElevenLabsVoice(config, voice.providerVoiceId);
  }
  await tenant.delete(voices, id);
  if (voice.type === "custom") {
    await deleteSamples(c.env.FILES, samplePrefix(tenant.orgId, id)).catch((error) =>
      console.warn(JSON.stringify({ level: "warn", message: "could not delete voice samples", voice_id: id, error: String(error) })),
    );
  }
  return ok(c, { id, deleted: true as const });
};
