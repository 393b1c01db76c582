import type { RouteConfig, RouteHandler } from "@hono/zod-openapi";
import type { Clock } from "./clock";
import type { Database, TenantDb } from "../db/tenant";

export interface AuthContext {
  orgId: string;
  apiKeyId: string;
  /** The org's own per-minute limit, when it overrides RATE_LIMIT_PER_MINUTE. */
  rateLimitPerMinute: number | null;
}

export interface AppVariables {
  requestId: string;
  clock: Clock;
  db: Database;
  /** Set by the auth middleware on every /api/public/v1 route. */
  auth: AuthContext;
  tenant: TenantDb;
}

export interface AppEnv {
  Bindings: Env;
  Variables: AppVariables;
}

/**
 * Handlers get typed, validated input from their route; they return a plain `Response` built
 * by the envelope helpers, whose shapes are pinned by tests against the OpenAPI document.
 */
export type AppRouteHandler<R extends RouteConfig> = (
  ...args: Parameters<RouteHandler<R, AppEnv>>
) => Promise<Response>;
