import { createRouter, register } from "../../lib/router";
import * as handlers from "./handlers";
import * as routes from "./routes";

export const agentsRouter = createRouter();
register(agentsRouter, routes.listAgents, handlers.listAgents);
register(agentsRouter, routes.createAgent, handlers.createAgent);
register(agentsRouter, routes.getAgent, handlers.getAgent);
register(agentsRouter, routes.updateAgent, handlers.updateAgent);
register(agentsRouter, routes.replaceAgent, handlers.updateAgent);
register(agentsRouter, routes.deleteAgent, handlers.deleteAgent);
