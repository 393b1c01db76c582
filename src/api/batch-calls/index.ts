import { createRouter, register } from "../../lib/router";
import * as handlers from "./handlers";
import * as routes from "./routes";

export const batchCallsRouter = createRouter();
register(batchCallsRouter, routes.createBatchCall, handlers.createBatchCall);
register(batchCallsRouter, routes.bulkDeleteBatchCalls, handlers.bulkDeleteBatchCalls);
register(batchCallsRouter, routes.listBatchCalls, handlers.listBatchCalls);
register(batchCallsRouter, routes.getBatchCall, handlers.getBatchCall);
register(batchCallsRouter, routes.updateBatchCall, handlers.updateBatchCall);
register(batchCallsRouter, routes.deleteBatchCall, handlers.deleteBatchCall);
register(batchCallsRouter, routes.scheduleBatchCall, handlers.scheduleBatchCall);
register(batchCallsRouter, routes.pauseBatchCall, handlers.pauseBatchCall);
register(batchCallsRouter, routes.resumeBatchCall, handlers.resumeBatchCall);
register(batchCallsRouter, routes.cancelBatchCall, handlers.cancelBatchCall);
register(batchCallsRouter, routes.listCampaignContacts, handlers.listCampaignContacts);
register(batchCallsRouter, routes.addCampaignContacts, handlers.addCampaignContacts);
register(batchCallsRouter, routes.importCampaignContacts, handlers.importCampaignContacts);
register(batchCallsRouter, routes.campaignAuditLog, handlers.campaignAuditLog);
