import { createRouter } from "../../lib/router";

export const voicesRouter = createRouter();
