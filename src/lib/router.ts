import { OpenAPIHono, type RouteConfig } from "@hono/zod-openapi";
import type { ZodError } from "zod";
import { ApiError } from "./errors";
import type { AppEnv, AppRouteHandler } from "./types";

/** Zod issues as `{field, reason}` pairs; `field` is the dotted path (`definition.http.url`). */
export function describeIssues(error: ZodError) {
  return error.issues.map((issue) => ({
    field: issue.path.length ? issue.path.map(String).join(".") : "(root)",
    reason: issue.message,
  }));
}

export function validationError(error: ZodError, where: string): ApiError {
  const issues = describeIssues(error);
  const first = issues[0];
  const message = first ? `Invalid ${where === "query" ? "query parameter " : ""}${first.field}: ${first.reason}` : "Invalid request";
  return new ApiError("validation_error", message, { details: { field: first?.field, reason: first?.reason, issues } });
}

/**
 * Every router shares this hook, so a failed zod check anywhere becomes the same 422 envelope
 * naming the field. A path parameter that fails its pattern cannot name an object we have: 404.
 */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (result.success) return;
      if (result.target === "param") throw new ApiError("not_found", "Resource not found");
      throw validationError(result.error, result.target);
    },
  });
}

export type Router = ReturnType<typeof createRouter>;

/**
 * Registers a route with its handler. Handlers return plain `Response`s from the envelope
 * helpers (see AppRouteHandler), so the one cast that reconciles that with zod-openapi's typed
 * responses lives here.
 */
export function register<R extends RouteConfig>(router: Router, route: R, handler: AppRouteHandler<R>): void {
  router.openapi(route, handler as never);
}
