import { createRouter, register } from "../../lib/router";
import * as handlers from "./handlers";
import * as routes from "./routes";

/** `check` and `import` come first: `/dnc/{id}` would otherwise read them as ids. */
export const dncRouter = createRouter();
register(dncRouter, routes.checkDnc, handlers.checkDnc);
register(dncRouter, routes.importDnc, handlers.importDnc);
register(dncRouter, routes.listDnc, handlers.listDnc);
register(dncRouter, routes.addDnc, handlers.addDnc);
register(dncRouter, routes.getDnc, handlers.getDnc);
register(dncRouter, routes.deleteDnc, handlers.deleteDnc);
