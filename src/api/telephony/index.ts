import { createRouter } from "../../lib/router";

export const telephonyRouter = createRouter();
