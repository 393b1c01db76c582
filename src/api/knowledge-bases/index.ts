import { createRouter, register } from "../../lib/router";
import * as handlers from "./handlers";
import * as routes from "./routes";

export const knowledgeBasesRouter = createRouter();
register(knowledgeBasesRouter, routes.listKnowledgeBases, handlers.listKnowledgeBases);
register(knowledgeBasesRouter, routes.createKnowledgeBase, handlers.createKnowledgeBase);
register(knowledgeBasesRouter, routes.getKnowledgeBase, handlers.getKnowledgeBase);
register(knowledgeBasesRouter, routes.updateKnowledgeBase, handlers.updateKnowledgeBase);
register(knowledgeBasesRouter, routes.deleteKnowledgeBase, handlers.deleteKnowledgeBase);
register(knowledgeBasesRouter, routes.addDocumentSource, handlers.addDocumentSource);
register(knowledgeBasesRouter, routes.addWebSource, handlers.addWebSource);
register(knowledgeBasesRouter, routes.listSources, handlers.listSources);
register(knowledgeBasesRouter, routes.getSource, handlers.getSource);
register(knowledgeBasesRouter, routes.deleteSource, handlers.deleteSource);
register(knowledgeBasesRouter, routes.reingestSource, handlers.reingestSource);
register(knowledgeBasesRouter, routes.queryKnowledgeBase, handlers.queryKnowledgeBase);
