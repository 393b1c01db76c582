import { desc, sql } from "drizzle-orm";
import { addDncNumber, DncImportRows, findDncEntry, writeDncImport, type DncRow } from "../../db/dnc";
import { dncNumbers } from "../../db/schema";
import { cleanText } from "../../domain/contacts";
import { planDncImport } from "../../domain/dnc";
import { normalizePhone, phoneSearchDigits } from "../../domain/phone";
import { ok, okList } from "../../lib/envelope";
import { ApiError, invalidField, notFound } from "../../lib/errors";
import type { AppRouteHandler } from "../../lib/types";
import type * as routes from "./routes";

const ENTRY = "Do-not-call entry";

function entryView(row: DncRow) {
  return { id: row.id, phone_number: row.phoneNumber, reason: row.reason, source: row.source, created_at: row.createdAt };
}

function requirePhone(raw: string, defaultCountry: string | undefined): string {
  const phone = normalizePhone(raw, defaultCountry);
  if (!phone.ok) throw invalidField("phone_number", phone.reason);
  return phone.e164;
}

export const listDnc: AppRouteHandler<typeof routes.listDnc> = async (c) => {
  const { limit, offset, search } = c.req.valid("query");
  // Stored numbers are `+` and digits, so a phone-like term is matched by its digits alone.
  const term = search === undefined ? undefined : (phoneSearchDigits(search) ?? search);
  const { rows, total } = await c.get("tenant").list(dncNumbers, {
    where: [term === undefined ? undefined : sql`instr(${dncNumbers.phoneNumber}, ${term}) > 0`],
    // rowid breaks ties among entries of one import, which share a created_at.
    orderBy: [desc(dncNumbers.createdAt), sql`rowid desc`],
    limit,
    offset,
  });
  return okList(c, rows.map(entryView), { total, limit, offset });
};

export const addDnc: AppRouteHandler<typeof routes.addDnc> = async (c) => {
  const body = c.req.valid("json");
  const { entry, created } = await addDncNumber(c.get("tenant"), {
    phoneNumber: requirePhone(body.phone_number, body.default_country),
    reason: cleanText(body.reason),
    source: "api",
    nowMs: c.get("clock").now(),
  });
  return ok(c, entryView(entry), created ? 201 : 200);
};

export const getDnc: AppRouteHandler<typeof routes.getDnc> = async (c) => {
  const { id } = c.req.valid("param");
  return ok(c, entryView(await c.get("tenant").get(dncNumbers, id, ENTRY)));
};

export const deleteDnc: AppRouteHandler<typeof routes.deleteDnc> = async (c) => {
  const { id } = c.req.valid("param");
  const [row] = await c.get("tenant").delete(dncNumbers, id).returning({ id: dncNumbers.id });
  if (!row) throw notFound(ENTRY, id);
  return ok(c, { id, deleted: true as const });
};

export const checkDnc: AppRouteHandler<typeof routes.checkDnc> = async (c) => {
  const query = c.req.valid("query");
  const phone = requirePhone(query.phone_number, query.default_country);
  const entry = await findDncEntry(c.get("tenant"), phone);
  return ok(c, { phone_number: phone, listed: entry !== undefined, entry: entry ? entryView(entry) : null });
};

export const importDnc: AppRouteHandler<typeof routes.importDnc> = async (c) => {
  const form = c.req.valid("form");
  const nowMs = c.get("clock").now();
  const rows = new DncImportRows(nowMs);
  const planned = planDncImport(typeof form.file === "string" ? form.file : await form.file.text(), {
    defaultCountry: form.default_country,
    onEntry: (entry) => rows.add(entry),
  });
  if (!planned.ok) {
    if (planned.problem === "too_many_rows") {
      throw new ApiError("payload_too_large", planned.reason, { details: { field: "file", max_rows: planned.maxRows } });
    }
    throw invalidField("file", planned.reason);
  }
  const { plan } = planned;
  const written = await writeDncImport(c.get("tenant"), rows.done(), nowMs);
  return ok(c, {
    imported: written.imported,
    skipped: plan.duplicates + written.skipped,
    errors: plan.errors,
    error_details: plan.errorDetails,
  });
};
