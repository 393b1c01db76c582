import { createRouter } from "../../lib/router";

export const knowledgeBasesRouter = createRouter();
