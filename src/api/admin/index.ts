import { createRouter, register } from "../../lib/router";
import * as handlers from "./handlers";
import * as routes from "./routes";

/** Operator endpoints for bootstrapping tenants; guarded by ADMIN_TOKEN in app.ts. */
export const adminRouter = createRouter();
register(adminRouter, routes.createOrganization, handlers.createOrganization);
register(adminRouter, routes.getOrganization, handlers.getOrganization);
register(adminRouter, routes.updateOrganization, handlers.updateOrganization);
register(adminRouter, routes.createOrganizationApiKey, handlers.createOrganizationApiKey);
register(adminRouter, routes.listOrganizationApiKeys, handlers.listOrganizationApiKeys);
register(adminRouter, routes.revokeOrganizationApiKey, handlers.revokeOrganizationApiKey);
