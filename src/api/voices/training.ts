import { and, asc, eq, lt } from "drizzle-orm";
import { events, voices } from "../../db/schema";
import { TenantDb, type Database } from "../../db/tenant";
import type { WebhookEventType } from "../../domain/webhooks";
import type { Clock } from "../../lib/clock";
import { newId } from "../../lib/ids";
import { publishEvents, recordEvent } from "../../webhooks/emit";
import type { WebhookMessage } from "../../webhooks/messages";
import { addElevenLabsVoice, deleteElevenLabsVoice, type CloneRequest } from "./elevenlabs-clone";
import { elevenLabsConfig, type ElevenLabsConfig } from "./provider-voices";
import type { DecodedSample } from "./samples";
import { voiceView, type VoiceRow } from "./view";

/**
 * Voice cloning as durable background work. `POST /voices/clone` stores the samples in R2 and the
 * voice row (`status: training`, first attempt due now), then puts a `voice_clone` message on the
 * webhooks queue. The consumer claims the attempt on the row (so a redelivered or re-sent message
 * never uploads twice), uploads the samples to ElevenLabs and settles the row together with its
 * `voice.training.completed` / `voice.training.failed` event in one D1 batch.
 *
 * Nothing is lost when a worker dies: the row says when its next attempt is due (or until when the
 * running one holds its lease), and the cron sweep re-sends any attempt overdue by a minute.
 */

/** Seconds to wait after transient failure n (index n-1) before attempt n+1. */
export const CLONE_RETRY_SECONDS = [5, 30, 120, 600, 1800] as const;
export const MAX_CLONE_ATTEMPTS = CLONE_RETRY_SECONDS.length + 1;
/** How long a claimed attempt may run before the sweep presumes it lost; longer than the upload timeout. */
export const CLONE_ATTEMPT_LEASE_MS = 5 * 60_000;
/** An attempt this long overdue lost its queue message. */
const SWEEP_GRACE_MS = 60_000;
const SWEEP_LIMIT = 100;
const MAX_QUEUE_DELAY_SECONDS = 43_200;

const iso = (ms: number) => new Date(ms).toISOString();

function log(level: "info" | "warn" | "error", message: string, fields: Record<string, unknown>) {
  console[level === "info" ? "log" : level](JSON.stringify({ level, message, ...fields }));
}

/** Every stored sample of a clone lives under this prefix, so it can be removed in one sweep. */
export const samplePrefix = (orgId: string, voiceId: string) => `voice-samples/${orgId}/${voiceId}/`;
const MANIFEST = "manifest.json";

/** What the upload needs besides the row: the samples in order, and the ElevenLabs options. */
interface SampleManifest {
  files: { key: string; filename: string; content_type: string }[];
  remove_background_noise: boolean;
  labels: Record<string, string>;
}

export interface CloneInput {
  name: string;
  description: string | null;
  language: string | null;
  removeBackgroundNoise: boolean;
  samples: DecodedSample[];
}

export async function deleteSamples(bucket: R2Bucket, prefix: string): Promise<void> {
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix, cursor });
    if (page.objects.length) await bucket.delete(page.objects.map((o) => o.key));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
}

/**
 * Stores the samples, then the voice row that points at them (`training`, first attempt due now).
 * Samples first: a row never exists without its samples, and a failed insert removes them again.
 */
export async function stageClone(env: { FILES: R2Bucket }, tenant: TenantDb, nowMs: number, input: CloneInput): Promise<VoiceRow> {
  const id = newId(nowMs);
  const prefix = samplePrefix(tenant.orgId, id);
  const manifest: SampleManifest = {
    files: input.samples.map((s, i) => ({ key: `${prefix}sample-${i}`, filename: s.filename, content_type: s.contentType })),
    remove_background_noise: input.removeBackgroundNoise,
    labels: input.language ? { language: input.language } : {},
  };
  const now = iso(nowMs);
  try {
    await Promise.all(input.samples.map((s, i) => env.FILES.put(manifest.files[i].key, s.bytes, { httpMetadata: { contentType: s.contentType } })));
    await env.FILES.put(`${prefix}${MANIFEST}`, JSON.stringify(manifest), { httpMetadata: { contentType: "application/json" } });
    const [row] = await tenant
      .insert(voices, {
        id,
        name: input.name,
        provider: "elevenlabs",
        providerVoiceId: "",
        type: "custom",
        language: input.language,
        gender: null,
        description: input.description,
        status: "training",
        trainingAttempts: 0,
        trainingNextAttemptAt: now,
        trainingError: null,
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    return row;
  } catch (error) {
    await deleteSamples(env.FILES, prefix).catch(() => undefined);
    throw error;
  }
}

/** Queues attempt `attempt` of a clone. A lost send loses nothing: the sweep re-sends it. */
export async function enqueueClone(queue: Queue, voiceId: string, attempt: number, delaySeconds?: number): Promise<void> {
  try {
    await queue.send({ kind: "voice_clone", voice_id: voiceId, attempt } satisfies WebhookMessage, delaySeconds ? { delaySeconds } : undefined);
  } catch (error) {
    log("warn", "voice clone enqueue failed; the sweep will retry", { voice_id: voiceId, attempt, error: String(error) });
  }
}

/** Re-sends the attempts of clones whose queue message was lost or whose worker died mid-attempt. */
export async function sweepVoiceTraining(db: Database, queue: Queue, nowMs: number): Promise<number> {
  const stuck = await db
    .select({ id: voices.id, attempts: voices.trainingAttempts })
    .from(voices)
    .where(and(eq(voices.status, "training"), lt(voices.trainingNextAttemptAt, iso(nowMs - SWEEP_GRACE_MS))))
    .orderBy(asc(voices.trainingNextAttemptAt))
    .limit(SWEEP_LIMIT);
  if (stuck.length > 0) {
    await queue.sendBatch(stuck.map((v) => ({ body: { kind: "voice_clone", voice_id: v.id, attempt: v.attempts + 1 } satisfies WebhookMessage })));
  }
  return stuck.length;
}

async function loadSamples(bucket: R2Bucket, prefix: string): Promise<{ manifest: SampleManifest; files: CloneRequest["files"] } | undefined> {
  const stored = await bucket.get(`${prefix}${MANIFEST}`);
  if (!stored) return undefined;
  const manifest = (await stored.json()) as SampleManifest;
  const files: CloneRequest["files"] = [];
  for (const file of manifest.files) {
    const object = await bucket.get(file.key);
    if (!object) return undefined;
    files.push({ filename: file.filename, contentType: file.content_type, body: await object.arrayBuffer() });
  }
  return { manifest, files };
}

async function forgetProviderVoice(config: ElevenLabsConfig, providerVoiceId: string, options: CloneOptions) {
  try {
    await deleteElevenLabsVoice(config, providerVoiceId, { fetcher: options.fetcher });
  } catch (error) {
    log("warn", "could not delete an unused cloned voice at ElevenLabs", { provider_voice_id: providerVoiceId, error: String(error) });
  }
}

export interface CloneOptions {
  fetcher?: typeof fetch;
  timeoutMs?: number;
}

/**
 * Makes attempt `attempt` of a clone: claims it, uploads, and settles the row or schedules the next
 * attempt. The queue consumer calls it; tests call it directly with a manual clock.
 */
export async function runVoiceClone(db: Database, env: Env, clock: Clock, voiceId: string, attempt: number, options: CloneOptions = {}): Promise<void> {
  const row = await db.query.voices.findFirst({ where: eq(voices.id, voiceId) });
  if (!row || row.status !== "training" || row.orgId === null) return;
  const tenant = new TenantDb(db, row.orgId);
  const claimed = await tenant
    .updateWhere(
      voices,
      { trainingAttempts: attempt, trainingNextAttemptAt: iso(clock.now() + CLONE_ATTEMPT_LEASE_MS) },
      eq(voices.id, voiceId),
      eq(voices.status, "training"),
      eq(voices.trainingAttempts, attempt - 1),
    )
    .returning({ id: voices.id });
  if (claimed.length === 0) return;
  const prefix = samplePrefix(row.orgId, voiceId);

  /** Settles the row and records its event in one batch, unless the voice changed hands meanwhile. */
  const settle = async (outcome: { providerVoiceId: string } | { error: string }): Promise<void> => {
    const now = clock.now();
    const completed = "providerVoiceId" in outcome;
    const changes = completed
      ? { status: "active" as const, providerVoiceId: outcome.providerVoiceId, trainingError: null }
      : { status: "failed" as const, trainingError: outcome.error };
    const settled: VoiceRow = { ...row, ...changes, trainingAttempts: attempt, trainingNextAttemptAt: null, updatedAt: iso(now) };
    const type: WebhookEventType = completed ? "voice.training.completed" : "voice.training.failed";
    const event = recordEvent(tenant, now, type, {
      voice_id: voiceId,
      ...(completed ? {} : { error: outcome.error }),
      voice: voiceView(settled),
    });
    const [updated] = await tenant.batch([
      tenant
        .updateWhere(
          voices,
          { ...changes, trainingNextAttemptAt: null, updatedAt: settled.updatedAt },
          eq(voices.id, voiceId),
          eq(voices.status, "training"),
          eq(voices.trainingAttempts, attempt),
        )
        .returning({ id: voices.id }),
      event.statement,
    ]);
    if (updated.length === 0) {
      // Deleted (or taken over by a later attempt) while this one ran: take the event back, and
      // do not leave a voice nobody points at in the ElevenLabs account.
      await tenant.deleteWhere(events, eq(events.id, event.id));
      const config = elevenLabsConfig(env);
      if (completed && config) await forgetProviderVoice(config, outcome.providerVoiceId, options);
      return;
    }
    await publishEvents(env.WEBHOOK_QUEUE, [event.id]);
    await deleteSamples(env.FILES, prefix).catch((error) => log("warn", "could not delete voice samples", { voice_id: voiceId, error: String(error) }));
    log("info", completed ? "voice clone completed" : "voice clone failed", { voice_id: voiceId, attempt, ...(completed ? {} : { error: outcome.error }) });
  };

  if (attempt > MAX_CLONE_ATTEMPTS) {
    return settle({ error: `Gave up after ${MAX_CLONE_ATTEMPTS} attempts${row.trainingError ? `; the last: ${row.trainingError}` : ""}` });
  }
  const config = elevenLabsConfig(env);
  if (!config) return settle({ error: "Voice cloning needs ElevenLabs, and ELEVENLABS_API_KEY is not set on this deployment" });
  const stored = await loadSamples(env.FILES, prefix);
  if (!stored) return settle({ error: "The audio samples of this clone are no longer stored" });

  const outcome = await addElevenLabsVoice(
    config,
    {
      name: row.name,
      description: row.description,
      labels: stored.manifest.labels,
      removeBackgroundNoise: stored.manifest.remove_background_noise,
      files: stored.files,
    },
    options,
  );
  switch (outcome.kind) {
    case "created":
      if (outcome.requiresVerification) {
        await forgetProviderVoice(config, outcome.voiceId, options);
        return settle({ error: "ElevenLabs requires this voice to be verified before it can be used, which its API cannot do; verify the samples' speaker or use other samples" });
      }
      return settle({ providerVoiceId: outcome.voiceId });
    case "rejected":
      return settle({ error: outcome.message });
    case "transient": {
      if (attempt >= MAX_CLONE_ATTEMPTS) return settle({ error: `Gave up after ${attempt} attempts; the last: ${outcome.message}` });
      const delaySeconds = Math.min(MAX_QUEUE_DELAY_SECONDS, Math.max(CLONE_RETRY_SECONDS[attempt - 1], outcome.retryAfterSeconds ?? 0));
      await tenant.updateWhere(
        voices,
        { trainingNextAttemptAt: iso(clock.now() + delaySeconds * 1000), trainingError: outcome.message },
        eq(voices.id, voiceId),
        eq(voices.status, "training"),
        eq(voices.trainingAttempts, attempt),
      );
      log("warn", "voice clone attempt failed; retrying", { voice_id: voiceId, attempt, delay_seconds: delaySeconds, error: outcome.message });
      await enqueueClone(env.WEBHOOK_QUEUE, voiceId, attempt + 1, delaySeconds);
      return;
    }
  }
}
