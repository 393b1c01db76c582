import { createRouter, register } from "../../lib/router";
import * as handlers from "./handlers";
import * as routes from "./routes";

export const analyticsRouter = createRouter();
register(analyticsRouter, routes.callAnalytics, handlers.callAnalytics);
register(analyticsRouter, routes.campaignAnalytics, handlers.campaignAnalytics);
