import type { ApiClient } from "../helpers/api";

/** Sends `csv` as the multipart `file` field of POST /dnc/import, with any other form fields. */
export function importDncCsv(client: ApiClient, csv: string, fields: Record<string, string> = {}) {
  const form = new FormData();
  form.append("file", new File([csv], "dnc.csv", { type: "text/csv" }));
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  return client.send("POST", "/dnc/import", { body: form });
}

export async function addDnc(client: ApiClient, body: Record<string, unknown>): Promise<any> {
  const res = await client.post("/dnc", body);
  if (res.status !== 201) throw new Error(`could not list number: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data;
}

/** Every entry of the org's list (up to 100), newest first. */
export async function listedNumbers(client: ApiClient): Promise<string[]> {
  const res = await client.get("/dnc?limit=100");
  return res.body.data.map((e: { phone_number: string }) => e.phone_number);
}
