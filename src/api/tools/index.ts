import { createRouter, register } from "../../lib/router";
import * as handlers from "./handlers";
import * as routes from "./routes";

export const toolsRouter = createRouter();
register(toolsRouter, routes.listTools, handlers.listTools);
register(toolsRouter, routes.createTool, handlers.createTool);
register(toolsRouter, routes.getTool, handlers.getTool);
register(toolsRouter, routes.updateTool, handlers.updateTool);
register(toolsRouter, routes.deleteTool, handlers.deleteTool);
