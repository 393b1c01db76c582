import { apiKeyView, issueApiKey, listApiKeys as listKeys, revokeApiKey as revokeKey } from "../../db/organizations";
import { ok } from "../../lib/envelope";
import { notFound } from "../../lib/errors";
import type { AppRouteHandler } from "../../lib/types";
import type * as routes from "./routes";

export const listApiKeys: AppRouteHandler<typeof routes.listApiKeys> = async (c) => {
  const rows = await listKeys(c.get("db"), c.get("auth").orgId);
  return ok(c, rows.map(apiKeyView));
};

export const createApiKey: AppRouteHandler<typeof routes.createApiKey> = async (c) => {
  const { name } = c.req.valid("json");
  const { plaintext, row } = await issueApiKey(c.get("db"), c.get("clock"), c.get("auth").orgId, name ?? "API key");
  return ok(c, { id: row.id, name: row.name, api_key: plaintext, created_at: row.createdAt }, 201);
};

export const revokeApiKey: AppRouteHandler<typeof routes.revokeApiKey> = async (c) => {
  const { id } = c.req.valid("param");
  const row = await revokeKey(c.get("db"), c.get("clock"), c.get("auth").orgId, id);
  if (!row) throw notFound("API key", id);
  return ok(c, apiKeyView(row));
};
