import { createRouter, register } from "../../lib/router";
import * as handlers from "./handlers";
import * as routes from "./routes";

export const callsRouter = createRouter();
register(callsRouter, routes.createCall, handlers.createCall);
register(callsRouter, routes.createWebCall, handlers.createWebCall);
register(callsRouter, routes.bulkDeleteCalls, handlers.bulkDeleteCalls);
register(callsRouter, routes.listCalls, handlers.listCalls);
register(callsRouter, routes.getCall, handlers.getCall);
register(callsRouter, routes.hangupCall, handlers.hangupCall);
register(callsRouter, routes.cancelCall, handlers.cancelCall);
register(callsRouter, routes.getTranscript, handlers.getTranscript);
register(callsRouter, routes.getToolCalls, handlers.getToolCalls);
register(callsRouter, routes.getRecording, handlers.getRecording);
