import { createRouter, register } from "../../lib/router";
import * as handlers from "./handlers";
import * as routes from "./routes";

/** Folders and the import come first: `/contacts/{id}` would otherwise read "folders" or "import" as an id. */
export const contactsRouter = createRouter();
register(contactsRouter, routes.listFolders, handlers.listFolders);
register(contactsRouter, routes.createFolder, handlers.createFolder);
register(contactsRouter, routes.getFolder, handlers.getFolder);
register(contactsRouter, routes.updateFolder, handlers.updateFolder);
register(contactsRouter, routes.deleteFolder, handlers.deleteFolder);
register(contactsRouter, routes.importContacts, handlers.importContacts);
register(contactsRouter, routes.listContacts, handlers.listContacts);
register(contactsRouter, routes.createContact, handlers.createContact);
register(contactsRouter, routes.getContact, handlers.getContact);
register(contactsRouter, routes.updateContact, handlers.updateContact);
register(contactsRouter, routes.deleteContact, handlers.deleteContact);
