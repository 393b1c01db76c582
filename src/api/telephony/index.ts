import { createRouter, register } from "../../lib/router";
import * as handlers from "./handlers";
import * as routes from "./routes";

export const telephonyRouter = createRouter();
register(telephonyRouter, routes.listNumbers, handlers.listNumbers);
register(telephonyRouter, routes.getNumber, handlers.getNumber);
register(telephonyRouter, routes.searchNumbers, handlers.searchNumbers);
register(telephonyRouter, routes.purchaseNumber, handlers.purchaseNumber);
register(telephonyRouter, routes.importNumber, handlers.importNumber);
register(telephonyRouter, routes.assignNumber, handlers.assignNumber);
register(telephonyRouter, routes.unassignNumber, handlers.unassignNumber);
register(telephonyRouter, routes.releaseNumber, handlers.releaseNumber);
register(telephonyRouter, routes.agentNumbers, handlers.agentNumbers);
register(telephonyRouter, routes.agentWebhookUrl, handlers.agentWebhookUrl);
