import { desc, sql } from "drizzle-orm";
import { assertNotUsedByAgents, usesTool } from "../../db/agent-references";
import { tools } from "../../db/schema";
import { openAuthTokens, sealAuthTokens, type AuthTokens } from "../../db/tool-auth-tokens";
import { checkAuthTokens, mergeToolDefinition, normaliseToolDefinition, requirementNames, resolveToolName, type Checked, type ToolDefinition } from "../../domain/tools";
import { urlPolicyFor } from "../../domain/url-safety";
import { ok, okList } from "../../lib/envelope";
import { invalidField } from "../../lib/errors";
import { newId } from "../../lib/ids";
import type { AppRouteHandler } from "../../lib/types";
import type * as routes from "./routes";

type ToolRow = typeof tools.$inferSelect;

/** The tool as the API shows it: its keys' names only, never their values. */
const toolView = async (env: Env, t: ToolRow) => ({
  ...toolFields(t),
  auth_token_names: Object.keys(await openAuthTokens(env, t.authTokensEncrypted)).sort(),
  created_at: t.createdAt,
  updated_at: t.updatedAt,
});

const toolFields = (t: ToolRow) => ({
  id: t.id,
  name: t.name,
  model_tool_name: t.modelToolName,
  description: t.description,
  type: t.definition.type,
  url: t.definition.http?.url ?? null,
  method: t.definition.http?.method ?? null,
  timeout_seconds: t.definition.timeout_seconds,
  definition: t.definition,
});

function valueOf<T>(checked: Checked<T>): T {
  if (!checked.ok) throw invalidField(checked.problem.field, checked.problem.reason);
  return checked.value;
}

/** Seals the keys once they are shown to belong to the definition's requirements (none: no column value). */
async function authTokensColumn(env: Env, tokens: AuthTokens, definition: ToolDefinition): Promise<string | null> {
  const problem = checkAuthTokens(tokens, definition);
  if (problem) throw invalidField(problem.field, problem.reason);
  return Object.keys(tokens).length ? sealAuthTokens(env, tokens) : null;
}

/** The columns that mirror the definition, so lists and the model's tool names need no JSON parsing. */
const definitionColumns = (definition: ToolDefinition) => ({
  modelToolName: definition.modelToolName,
  description: definition.description ?? null,
  definition,
});

export const listTools: AppRouteHandler<typeof routes.listTools> = async (c) => {
  const { limit, offset, name } = c.req.valid("query");
  const { rows, total } = await c.get("tenant").list(tools, {
    where: [name ? sql`instr(lower(${tools.name}), ${name.toLowerCase()}) > 0` : undefined],
    orderBy: [desc(tools.createdAt), desc(tools.id)],
    limit,
    offset,
  });
  return okList(c, await Promise.all(rows.map((row) => toolView(c.env, row))), { total, limit, offset });
};

export const getTool: AppRouteHandler<typeof routes.getTool> = async (c) => {
  return ok(c, await toolView(c.env, await c.get("tenant").get(tools, c.req.valid("param").id, "Tool")));
};

export const createTool: AppRouteHandler<typeof routes.createTool> = async (c) => {
  const body = c.req.valid("json");
  const name = valueOf(resolveToolName(body.name, body.definition));
  const definition = valueOf(normaliseToolDefinition(body.definition ?? {}, name, urlPolicyFor(c.env)));
  const authTokensEncrypted = await authTokensColumn(c.env, body.auth_tokens ?? {}, definition);
  const clock = c.get("clock");
  const now = new Date(clock.now()).toISOString();
  const [tool] = await c
    .get("tenant")
    .insert(tools, { id: newId(clock.now()), name, ...definitionColumns(definition), authTokensEncrypted, createdAt: now, updatedAt: now })
    .returning();
  return ok(c, await toolView(c.env, tool), 201);
};

export const updateTool: AppRouteHandler<typeof routes.updateTool> = async (c) => {
  const { id } = c.req.valid("param");
  const body = c.req.valid("json");
  const tenant = c.get("tenant");
  const tool = await tenant.get(tools, id, "Tool");
  const name = body.name ?? tool.name;
  const merged = body.definition ? mergeToolDefinition(tool.definition, body.definition) : tool.definition;
  const definition = valueOf(normaliseToolDefinition(merged, name, urlPolicyFor(c.env)));
  // Given keys replace the stored ones (null removes them); kept keys follow the definition, so a
  // requirement the patch removed loses its key.
  let authTokens: AuthTokens | undefined;
  if (body.auth_tokens !== undefined) authTokens = body.auth_tokens ?? {};
  else if (body.definition && tool.authTokensEncrypted) {
    const declared = requirementNames(definition);
    authTokens = Object.fromEntries(Object.entries(await openAuthTokens(c.env, tool.authTokensEncrypted)).filter(([n]) => declared.includes(n)));
  }
  const authTokensEncrypted = authTokens === undefined ? {} : { authTokensEncrypted: await authTokensColumn(c.env, authTokens, definition) };
  const [updated] = await tenant
    .update(tools, id, { name, ...definitionColumns(definition), ...authTokensEncrypted, updatedAt: new Date(c.get("clock").now()).toISOString() })
    .returning();
  return ok(c, await toolView(c.env, updated));
};

export const deleteTool: AppRouteHandler<typeof routes.deleteTool> = async (c) => {
  const { id } = c.req.valid("param");
  const tenant = c.get("tenant");
  await tenant.get(tools, id, "Tool");
  await assertNotUsedByAgents(tenant, "Tool", id, usesTool(id));
  await tenant.delete(tools, id);
  return ok(c, { id, deleted: true as const });
};
