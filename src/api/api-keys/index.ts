import { createRouter, register } from "../../lib/router";
import * as handlers from "./handlers";
import * as routes from "./routes";

export const apiKeysRouter = createRouter();
register(apiKeysRouter, routes.listApiKeys, handlers.listApiKeys);
register(apiKeysRouter, routes.createApiKey, handlers.createApiKey);
register(apiKeysRouter, routes.revokeApiKey, handlers.revokeApiKey);
