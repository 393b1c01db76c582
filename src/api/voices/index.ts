import { createRouter, register } from "../../lib/router";
import * as handlers from "./handlers";
import * as routes from "./routes";

export const voicesRouter = createRouter();
register(voicesRouter, routes.listVoices, handlers.listVoices);
register(voicesRouter, routes.cloneVoice, handlers.cloneVoice);
register(voicesRouter, routes.importVoice, handlers.importVoice);
register(voicesRouter, routes.getVoice, handlers.getVoice);
register(voicesRouter, routes.deleteVoice, handlers.deleteVoice);
