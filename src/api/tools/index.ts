import { createRouter } from "../../lib/router";

export const toolsRouter = createRouter();
