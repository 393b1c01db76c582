import { desc, eq, or, sql, type SQL } from "drizzle-orm";
import {
  constraintFailure,
  ensureDefaultFolder,
  findFolderWithCount,
  ImportRows,
  listFolders as queryFolders,
  writeImportedContacts,
  type ContactRow,
  type FolderWithCount,
} from "../../db/contacts";
import { findDncEntry, listingStatements } from "../../db/dnc";
import { contactFolders, contacts } from "../../db/schema";
import type { TenantDb } from "../../db/tenant";
import { canonicalTimeZone, cleanText, contactName, planContactImport } from "../../domain/contacts";
import { OPT_OUT_REASON } from "../../domain/dnc";
import { normalizePhone, phoneSearchDigits } from "../../domain/phone";
import { ok, okList } from "../../lib/envelope";
import { ApiError, invalidField, notFound } from "../../lib/errors";
import { newId } from "../../lib/ids";
import type { AppRouteHandler } from "../../lib/types";
import type * as routes from "./routes";
import type { CreateContactInput, UpdateContactInput } from "./schemas";

const FOLDER = "Contact folder";
const CONTACT = "Contact";

function folderView(row: FolderWithCount) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    contact_count: row.contactCount,
    is_default: row.isDefault,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}

function contactView(row: ContactRow) {
  return {
    id: row.id,
    folder_id: row.folderId,
    phone_number: row.phoneNumber,
    first_name: row.firstName,
    last_name: row.lastName,
    name: contactName(row.firstName, row.lastName),
    email: row.email,
    company_name: row.companyName,
    industry: row.industry,
    location: row.location,
    pin_code: row.pinCode,
    keywords: row.keywords,
    timezone: row.timezone,
    custom_fields: row.customFields,
    call_count: row.callCount,
    last_called_at: row.lastCalledAt,
    last_call_outcome: row.lastCallOutcome,
    opted_out: row.optedOut,
    opted_out_at: row.optedOutAt,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}

const iso = (ms: number) => new Date(ms).toISOString();

// ---------------------------------------------------------------------------------------------
// Folders

export const listFolders: AppRouteHandler<typeof routes.listFolders> = async (c) => {
  const { limit, offset, sort_by, order } = c.req.valid("query");
  const { rows, total } = await queryFolders(c.get("tenant"), { sortBy: sort_by, order, limit, offset });
  return okList(c, rows.map(folderView), { total, limit, offset });
};

export const createFolder: AppRouteHandler<typeof routes.createFolder> = async (c) => {
  const body = c.req.valid("json");
  const now = iso(c.get("clock").now());
  const [row] = await c
    .get("tenant")
    .insert(contactFolders, {
      id: newId(c.get("clock").now()),
      name: body.name,
      description: cleanText(body.description),
      isDefault: false,
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  return ok(c, folderView({ ...row, contactCount: 0 }), 201);
};

export const getFolder: AppRouteHandler<typeof routes.getFolder> = async (c) => {
  const { id } = c.req.valid("param");
  const folder = await findFolderWithCount(c.get("tenant"), id);
  if (!folder) throw notFound(FOLDER, id);
  return ok(c, folderView(folder));
};

export const updateFolder: AppRouteHandler<typeof routes.updateFolder> = async (c) => {
  const { id } = c.req.valid("param");
  const body = c.req.valid("json");
  const tenant = c.get("tenant");
  const [updated] = await tenant
    .update(contactFolders, id, {
      name: body.name,
      description: body.description === undefined ? undefined : cleanText(body.description),
      updatedAt: iso(c.get("clock").now()),
    })
    .returning({ id: contactFolders.id });
  const folder = updated && (await findFolderWithCount(tenant, id));
  if (!folder) throw notFound(FOLDER, id);
  return ok(c, folderView(folder));
};

export const deleteFolder: AppRouteHandler<typeof routes.deleteFolder> = async (c) => {
  const { id } = c.req.valid("param");
  const tenant = c.get("tenant");
  // One batch, so the folder never disappears while its contacts stay (or the reverse).
  const [contactsDeleted, folderDeleted] = (await tenant.batch([
    tenant.deleteWhere(contacts, eq(contacts.folderId, id)),
    tenant.delete(contactFolders, id),
  ])) as D1Result[];
  if (!folderDeleted.meta.changes) throw notFound(FOLDER, id);
  return ok(c, { id, deleted: true as const, contacts_deleted: contactsDeleted.meta.changes });
};

// ---------------------------------------------------------------------------------------------
// Contacts

function requirePhone(raw: string, defaultCountry: string | undefined): string {
  const phone = normalizePhone(raw, defaultCountry);
  if (!phone.ok) throw invalidField("phone_number", phone.reason);
  return phone.e164;
}

type ContactValues = Partial<Omit<typeof contacts.$inferInsert, "orgId">>;
/** Values for an update, where a column may also be computed from the row. */
type ContactChanges = { [K in keyof ContactValues]: ContactValues[K] | SQL };

/** The row values for the fields a create or update carries; absent fields stay absent. */
function contactFieldValues(body: CreateContactInput | UpdateContactInput): ContactValues {
  const text = (value: string | null | undefined) => (value === undefined ? undefined : cleanText(value));
  const values: ContactValues = {
    firstName: text(body.first_name),
    lastName: text(body.last_name),
    email: text(body.email),
    companyName: text(body.company_name),
    industry: text(body.industry),
    location: text(body.location),
    pinCode: text(body.pin_code),
    keywords: text(body.keywords),
    // The schema has already checked the zone, so only its spelling can change here.
    timezone: body.timezone === undefined ? undefined : body.timezone === null ? null : (canonicalTimeZone(body.timezone) ?? null),
    customFields: body.custom_fields === undefined && body.metadata === undefined ? undefined : { ...body.metadata, ...body.custom_fields },
  };
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
}

async function requireFolder(tenant: TenantDb, id: string) {
  return tenant.get(contactFolders, id, FOLDER);
}

async function duplicatePhone(tenant: TenantDb, folderId: string, phone: string): Promise<ApiError> {
  const [existing] = await tenant.findWhere(contacts, eq(contacts.folderId, folderId), eq(contacts.phoneNumber, phone));
  return new ApiError("conflict", `Folder ${folderId} already has a contact with phone number ${phone}`, {
    details: { field: "phone_number", folder_id: folderId, phone_number: phone, contact_id: existing?.id },
  });
}

/** Turns the database's constraint failures into the API's answers: a duplicate is 409, a folder deleted meanwhile 404. */
async function explainWriteFailure(error: unknown, tenant: TenantDb, folderId: string, phone: string): Promise<never> {
  const failure = constraintFailure(error);
  if (failure === "unique") throw await duplicatePhone(tenant, folderId, phone);
  if (failure === "foreign_key") throw notFound(FOLDER, folderId);
  throw error;
}

/** Case-insensitive match on "first last", email, and the number (by its digits when the term looks like one). */
function searchCondition(term: string): SQL | undefined {
  const contains = (value: SQL) => sql`instr(lower(${value}), lower(${term})) > 0`;
  const digits = phoneSearchDigits(term);
  return or(
    contains(sql`coalesce(${contacts.firstName}, '') || ' ' || coalesce(${contacts.lastName}, '')`),
    contains(sql`${contacts.email}`),
    sql`instr(${contacts.phoneNumber}, ${digits ?? term}) > 0`,
  );
}

export const listContacts: AppRouteHandler<typeof routes.listContacts> = async (c) => {
  const query = c.req.valid("query");
  const { limit } = query;
  if (query.page !== undefined && query.offset !== undefined && query.offset !== (query.page - 1) * limit) {
    throw invalidField("page", "Send either page or offset, not both");
  }
  const offset = query.page !== undefined ? (query.page - 1) * limit : (query.offset ?? 0);
  const { rows, total } = await c.get("tenant").list(contacts, {
    where: [
      query.folder_id === undefined ? undefined : eq(contacts.folderId, query.folder_id),
      query.last_call_outcome === undefined ? undefined : eq(contacts.lastCallOutcome, query.last_call_outcome),
      query.opted_out === undefined ? undefined : eq(contacts.optedOut, query.opted_out),
      query.search === undefined ? undefined : searchCondition(query.search),
    ],
    // rowid breaks ties among contacts created in the same millisecond (an import). It is the
    // implicit last column of the (org_id, created_at) and (org_id, folder_id, created_at)
    // indexes, so SQLite pages straight from an index without sorting.
    orderBy: [desc(contacts.createdAt), sql`rowid desc`],
    limit,
    offset,
  });
  return okList(c, rows.map(contactView), { total, limit, offset }, { page: Math.floor(offset / limit) + 1, pages: Math.ceil(total / limit) });
};

export const createContact: AppRouteHandler<typeof routes.createContact> = async (c) => {
  const body = c.req.valid("json");
  const tenant = c.get("tenant");
  const nowMs = c.get("clock").now();
  const phone = requirePhone(body.phone_number, body.default_country);
  const folder = body.folder_id === undefined ? await ensureDefaultFolder(tenant, nowMs) : await requireFolder(tenant, body.folder_id);
  const values = contactFieldValues(body);
  // Listing a number flags its contacts; a contact added after the listing starts flagged the same way.
  const listed = (await findDncEntry(tenant, phone)) !== undefined;

  const [created] = await tenant
    .insert(contacts, {
      id: newId(nowMs),
      folderId: folder.id,
      phoneNumber: phone,
      customFields: {},
      ...values,
      optedOut: listed,
      optedOutAt: listed ? iso(nowMs) : null,
      createdAt: iso(nowMs),
      updatedAt: iso(nowMs),
    })
    .onConflictDoNothing()
    .returning()
    .catch((error) => explainWriteFailure(error, tenant, folder.id, phone));
  if (created) return ok(c, contactView(created), 201);
  if (!body.overwrite_existing) throw await duplicatePhone(tenant, folder.id, phone);

  const [updated] = await tenant
    .updateWhere(contacts, { ...values, updatedAt: iso(nowMs) }, eq(contacts.folderId, folder.id), eq(contacts.phoneNumber, phone))
    .returning();
  if (!updated) throw new ApiError("conflict", "The existing contact was deleted while being overwritten; retry the request");
  return ok(c, contactView(updated), 200);
};

export const getContact: AppRouteHandler<typeof routes.getContact> = async (c) => {
  const { id } = c.req.valid("param");
  return ok(c, contactView(await c.get("tenant").get(contacts, id, CONTACT)));
};

export const updateContact: AppRouteHandler<typeof routes.updateContact> = async (c) => {
  const { id } = c.req.valid("param");
  const body = c.req.valid("json");
  const tenant = c.get("tenant");
  const nowMs = c.get("clock").now();
  const now = iso(nowMs);
  const existing = await tenant.get(contacts, id, CONTACT);
  const values = contactFieldValues(body);
  if (body.phone_number !== undefined) values.phoneNumber = requirePhone(body.phone_number, body.default_country);
  if (body.folder_id !== undefined && body.folder_id !== existing.folderId) {
    values.folderId = (await requireFolder(tenant, body.folder_id)).id;
  }
  const folderId = values.folderId ?? existing.folderId;
  const phone = values.phoneNumber ?? existing.phoneNumber;
  // Without an explicit choice, moving the contact to a listed number flags it, as listing would.
  const optOut = body.opted_out ?? (phone !== existing.phoneNumber && (await findDncEntry(tenant, phone)) ? true : undefined);
  const changes: ContactChanges = { ...values, updatedAt: now };
  if (optOut !== undefined) {
    changes.optedOut = optOut;
    // A contact already opted out keeps the time it first was.
    changes.optedOutAt = optOut ? sql`coalesce(${contacts.optedOutAt}, ${now})` : null;
  }
  const update = tenant.update(contacts, id, changes).returning();
  // Opting out lists the number in the same transaction, so the flag never exists without the
  // listing that makes calls to the number fail; clearing the flag leaves the listing alone.
  const written =
    body.opted_out === true
      ? tenant
          .batch([update, ...listingStatements(tenant, { phoneNumber: phone, reason: OPT_OUT_REASON, source: "opt_out", nowMs })])
          .then(([rows]) => rows)
      : update;
  const [row] = await written.catch((error) => explainWriteFailure(error, tenant, folderId, phone));
  if (!row) throw notFound(CONTACT, id);
  return ok(c, contactView(row));
};

export const deleteContact: AppRouteHandler<typeof routes.deleteContact> = async (c) => {
  const { id } = c.req.valid("param");
  const [row] = await c.get("tenant").delete(contacts, id).returning({ id: contacts.id });
  if (!row) throw notFound(CONTACT, id);
  return ok(c, { id, deleted: true as const });
};

// ---------------------------------------------------------------------------------------------
// CSV import

export const importContacts: AppRouteHandler<typeof routes.importContacts> = async (c) => {
  const form = c.req.valid("form");
  const tenant = c.get("tenant");
  const nowMs = c.get("clock").now();
  const folderId = cleanText(form.folder_id);
  // An unknown folder is reported before the file is parsed; the default folder is only created
  // once the file has proved importable.
  const chosenFolder = folderId === null ? undefined : await requireFolder(tenant, folderId);

  const rows = new ImportRows(nowMs);
  const planned = planContactImport(typeof form.file === "string" ? form.file : await form.file.text(), {
    defaultCountry: form.default_country,
    onContact: (contact) => rows.add(contact),
  });
  if (!planned.ok) {
    if (planned.problem === "too_many_rows") {
      throw new ApiError("payload_too_large", planned.reason, { details: { field: "file", max_rows: planned.maxRows } });
    }
    throw invalidField("file", planned.reason);
  }
  const { plan } = planned;
  const folder = chosenFolder ?? (await ensureDefaultFolder(tenant, nowMs));
  const written = await writeImportedContacts(tenant, {
    folderId: folder.id,
    rows: rows.done(),
    overwrite: form.overwrite_existing === "true",
    nowMs,
  }).catch((error) => {
    if (constraintFailure(error) === "foreign_key") throw notFound(FOLDER, folder.id);
    throw error;
  });
  return ok(c, {
    imported: written.imported,
    updated: written.updated,
    skipped: plan.duplicates + written.skipped,
    errors: plan.errors,
    folder_id: folder.id,
    error_details: plan.errorDetails,
  });
};
