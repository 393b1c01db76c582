import { createRouter, register } from "../../lib/router";
import * as handlers from "./handlers";
import * as routes from "./routes";

export const webhooksRouter = createRouter();
register(webhooksRouter, routes.listWebhooks, handlers.listWebhooks);
register(webhooksRouter, routes.createWebhook, handlers.createWebhook);
register(webhooksRouter, routes.getWebhook, handlers.getWebhook);
register(webhooksRouter, routes.updateWebhook, handlers.updateWebhook);
register(webhooksRouter, routes.deleteWebhook, handlers.deleteWebhook);
register(webhooksRouter, routes.rotateSecret, handlers.rotateSecret);
register(webhooksRouter, routes.testWebhook, handlers.testWebhook);
register(webhooksRouter, routes.listDeliveries, handlers.listDeliveries);
register(webhooksRouter, routes.getDelivery, handlers.getDelivery);
register(webhooksRouter, routes.replayDelivery, handlers.replayDelivery);
register(webhooksRouter, routes.replayRange, handlers.replayRange);
