import { asc, eq, sql } from "drizzle-orm";
import { assertNotUsedByAgents, usesVoice } from "../../db/agent-references";
import { voices } from "../../db/schema";
import { ok, okList } from "../../lib/envelope";
import { ApiError, invalidField } from "../../lib/errors";
import { newId } from "../../lib/ids";
import type { AppRouteHandler } from "../../lib/types";
import { base64DecodedLength } from "../../domain/documents";
import { verifyProviderVoice } from "./provider-voices";
import type * as routes from "./routes";

type VoiceRow = typeof voices.$inferSelect;

const voiceView = (v: VoiceRow) => ({
  id: v.id,
  name: v.name,
  provider: v.provider,
  provider_voice_id: v.providerVoiceId,
  type: v.type,
  language: v.language,
  gender: v.gender,
  description: v.description,
  status: v.status,
  created_at: v.createdAt,
  updated_at: v.updatedAt,
});

/** `en` matches `en`, `en-US` and `en-GB`; `en-us` matches `en-US`. The tag pattern admits no LIKE wildcards. */
function languageMatches(tag: string) {
  const lower = tag.toLowerCase();
  return sql`(lower(${voices.language}) = ${lower} or lower(${voices.language}) like ${`${lower}-%`})`;
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
  const { files } = c.req.valid("json");
  for (const [i, file] of files.entries()) {
    const decoded = base64DecodedLength(file.data);
    if (!decoded.ok) throw invalidField(`files.${i}.data`, decoded.reason);
    if (decoded.bytes === 0) throw invalidField(`files.${i}.data`, "The file is empty");
  }
  throw new ApiError(
    "not_implemented",
    "Voice cloning is not available yet: it arrives with the voice pipeline. Import an existing provider voice with POST /voices meanwhile.",
  );
};

export const deleteVoice: AppRouteHandler<typeof routes.deleteVoice> = async (c) => {
  const { id } = c.req.valid("param");
  const tenant = c.get("tenant");
  const voice = await tenant.get(voices, id, "Voice", { shared: true });
  if (voice.orgId === null) throw new ApiError("forbidden", `Voice ${id} belongs to the platform catalogue and cannot be deleted`, { details: { id } });
  await assertNotUsedByAgents(tenant, "Voice", id, usesVoice(id));
  await tenant.delete(voices, id);
  return ok(c, { id, deleted: true as const });
};
