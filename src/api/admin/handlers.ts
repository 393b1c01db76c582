import { eq } from "drizzle-orm";
import {
  apiKeyView,
  createOrganization as createOrg,
  findOrganization,
  issueApiKey,
  listApiKeys,
  revokeApiKey,
  type OrganizationRow,
} from "../../db/organizations";
import { organizations } from "../../db/schema";
import { ok } from "../../lib/envelope";
import { notFound } from "../../lib/errors";
import type { AppRouteHandler } from "../../lib/types";
import type * as routes from "./routes";

const organizationView = (org: OrganizationRow) => ({
  id: org.id,
  name: org.name,
  rate_limit_per_minute: org.rateLimitPerMinute,
  max_concurrent_calls: org.maxConcurrentCalls,
  created_at: org.createdAt,
  updated_at: org.updatedAt,
});

async function requireOrganization(c: Parameters<AppRouteHandler<typeof routes.getOrganization>>[0], id: string) {
  const org = await findOrganization(c.get("db"), id);
  if (!org) throw notFound("Organization", id);
  return org;
}

export const createOrganization: AppRouteHandler<typeof routes.createOrganization> = async (c) => {
  const { name } = c.req.valid("json");
  const { org, apiKey } = await createOrg(c.get("db"), c.get("clock"), name);
  return ok(c, { id: org.id, name: org.name, api_key: apiKey }, 201);
};

export const getOrganization: AppRouteHandler<typeof routes.getOrganization> = async (c) => {
  const org = await requireOrganization(c, c.req.valid("param").id);
  const slots = await c.env.ORG_LIMITER.get(c.env.ORG_LIMITER.idFromName(org.id)).callSlotStats();
  return ok(c, {
    ...organizationView(org),
    call_slots: { active: slots.granted, waiting: slots.waiting, max_active_observed: slots.maxGranted },
  });
};

export const updateOrganization: AppRouteHandler<typeof routes.updateOrganization> = async (c) => {
  const { id } = c.req.valid("param");
  await requireOrganization(c, id);
  const body = c.req.valid("json");
  const [org] = await c
    .get("db")
    .update(organizations)
    .set({
      name: body.name,
      rateLimitPerMinute: body.rate_limit_per_minute,
      maxConcurrentCalls: body.max_concurrent_calls,
      updatedAt: new Date(c.get("clock").now()).toISOString(),
    })
    .where(eq(organizations.id, id))
    .returning();
  return ok(c, organizationView(org));
};

export const createOrganizationApiKey: AppRouteHandler<typeof routes.createOrganizationApiKey> = async (c) => {
  const { id } = c.req.valid("param");
  await requireOrganization(c, id);
  // The body is optional: a POST without one issues a key with a default name.
  const name = c.req.valid("json")?.name;
  const { plaintext, row } = await issueApiKey(c.get("db"), c.get("clock"), id, name ?? "API key");
  return ok(c, { id: row.id, name: row.name, api_key: plaintext, created_at: row.createdAt }, 201);
};

export const listOrganizationApiKeys: AppRouteHandler<typeof routes.listOrganizationApiKeys> = async (c) => {
  const { id } = c.req.valid("param");
  await requireOrganization(c, id);
  return ok(c, (await listApiKeys(c.get("db"), id)).map(apiKeyView));
};

export const revokeOrganizationApiKey: AppRouteHandler<typeof routes.revokeOrganizationApiKey> = async (c) => {
  const { id, key_id } = c.req.valid("param");
  const row = await revokeApiKey(c.get("db"), c.get("clock"), id, key_id);
  if (!row) throw notFound("API key", key_id);
  return ok(c, apiKeyView(row));
};
