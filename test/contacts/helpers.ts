import type { ApiClient } from "../helpers/api";

/** Sends `csv` as the multipart `file` field of POST /contacts/import, with any other form fields. */
export function importCsv(client: ApiClient, csv: string, fields: Record<string, string> = {}) {
  const form = new FormData();
  form.append("file", new File([csv], "contacts.csv", { type: "text/csv" }));
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  return client.send("POST", "/contacts/import", { body: form });
}

export async function createFolder(client: ApiClient, name = "Leads"): Promise<string> {
  const res = await client.post("/contacts/folders", { name });
  if (res.status !== 201) throw new Error(`could not create folder: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data.id;
}

export async function createContact(client: ApiClient, body: Record<string, unknown>): Promise<any> {
  const res = await client.post("/contacts", body);
  if (res.status !== 201) throw new Error(`could not create contact: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data;
}

/** All contacts of a folder (up to 100), newest first. */
export async function folderContacts(client: ApiClient, folderId: string): Promise<any[]> {
  const res = await client.get(`/contacts?folder_id=${folderId}&limit=100`);
  return res.body.data;
}
