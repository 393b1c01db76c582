import { createRoute } from "@hono/zod-openapi";
import { MAX_IMPORT_ROWS } from "../../domain/contacts";
import {
  conflictResponse,
  dataEnvelope,
  DeletedSchema,
  ErrorSchema,
  errorResponses,
  IdParams,
  jsonBody,
  jsonResponse,
  listEnvelope,
} from "../../lib/openapi";
import { idempotent } from "../../middleware/idempotency";
import { requireMultipart } from "../../middleware/multipart";
import {
  ContactPaginationSchema,
  ContactSchema,
  CreateContactBody,
  CreateFolderBody,
  DeletedFolderSchema,
  FolderSchema,
  ImportContactsForm,
  ImportResultSchema,
  ListContactsQuery,
  ListFoldersQuery,
  UpdateContactBody,
  UpdateFolderBody,
} from "./schemas";

const tags = ["Contacts"];

const contactExample = {
  id: "0193a5b3-1a2b-7c3d-8e4f-5a6b7c8d9e0f",
  folder_id: "0193a5b2-7c1e-7d2a-9f10-2b3c4d5e6f70",
  phone_number: "+14155550123",
  first_name: "Ada",
  last_name: "Lovelace",
  name: "Ada Lovelace",
  email: "ada@example.com",
  company_name: null,
  industry: null,
  location: null,
  pin_code: null,
  keywords: null,
  timezone: "America/Los_Angeles",
  custom_fields: { crm_id: "A-1042" },
  call_count: 0,
  last_called_at: null,
  last_call_outcome: null,
  opted_out: false,
  opted_out_at: null,
  created_at: "2026-11-25T12:00:00.000Z",
  updated_at: "2026-11-25T12:00:00.000Z",
};

const folderExample = {
  id: "0193a5b2-7c1e-7d2a-9f10-2b3c4d5e6f70",
  name: "Spring reactivation",
  description: "Patients not seen in 12 months",
  contact_count: 1250,
  is_default: false,
  created_at: "2026-11-25T12:00:00.000Z",
  updated_at: "2026-11-25T12:00:00.000Z",
};

const meta = { request_id: "req_01JD6R6A4C1X9V7W2K3M5N8P0Q", ts: "2026-11-25T12:00:00.000Z" };

const folderResponse = (description: string) =>
  jsonResponse(dataEnvelope(FolderSchema).openapi({ example: { data: folderExample, meta } }), description);
const contactResponse = (description: string) =>
  jsonResponse(dataEnvelope(ContactSchema).openapi({ example: { data: contactExample, meta } }), description);

// ---------------------------------------------------------------------------------------------
// Folders (registered before /contacts/{id}, which would otherwise take "folders" for an id)

export const listFolders = createRoute({
  method: "get",
  path: "/contacts/folders",
  tags,
  summary: "List contact folders",
  description: "Each folder carries its `contact_count`. Sort by `name`, `created_at` (default) or `contact_count`, newest/largest first unless `order=asc`.",
  request: { query: ListFoldersQuery },
  responses: {
    200: jsonResponse(
      listEnvelope(FolderSchema).openapi({
        example: { data: [folderExample], meta, pagination: { total: 1, limit: 50, offset: 0, has_more: false } },
      }),
      "A page of folders",
    ),
    ...errorResponses,
  },
});

export const createFolder = createRoute({
  method: "post",
  path: "/contacts/folders",
  tags,
  summary: "Create a contact folder",
  description: "Accepts `Idempotency-Key` / `X-Idempotency-Key`.",
  middleware: [idempotent] as const,
  request: { body: jsonBody(CreateFolderBody) },
  responses: { 201: folderResponse("The new folder"), ...errorResponses },
});

export const getFolder = createRoute({
  method: "get",
  path: "/contacts/folders/{id}",
  tags,
  summary: "Get a contact folder",
  description: "The folder with its current `contact_count`.",
  request: { params: IdParams },
  responses: { 200: folderResponse("The folder"), ...errorResponses },
});

export const updateFolder = createRoute({
  method: "patch",
  path: "/contacts/folders/{id}",
  tags,
  summary: "Rename or describe a contact folder",
  description: "Only the fields sent change; `description: null` clears it.",
  request: { params: IdParams, body: jsonBody(UpdateFolderBody) },
  responses: { 200: folderResponse("The updated folder"), ...errorResponses },
});

export const deleteFolder = createRoute({
  method: "delete",
  path: "/contacts/folders/{id}",
  tags,
  summary: "Delete a contact folder and its contacts",
  description: "Irreversible: the folder and every contact in it are deleted together, in one transaction.",
  request: { params: IdParams },
  responses: {
    200: jsonResponse(
      dataEnvelope(DeletedFolderSchema).openapi({ example: { data: { id: folderExample.id, deleted: true, contacts_deleted: 1250 }, meta } }),
      "Deleted",
    ),
    ...errorResponses,
  },
});

// ---------------------------------------------------------------------------------------------
// CSV import

export const importContacts = createRoute({
  method: "post",
  path: "/contacts/import",
  tags,
  summary: "Import contacts from a CSV file",
  description: [
    "`multipart/form-data` with the CSV in `file`. The header row needs a `phone` or `phone_number` column; `first_name`, `last_name`, `name` (split into first and last when those are empty), `email`, `company_name` (or `company`), `industry`, `location`, `pin_code`, `keywords` and `timezone` fill the contact's fields and every other column becomes a custom field. Headers are matched case-insensitively, with spaces and dashes read as underscores.",
    "Phones are normalised to E.164; national numbers need `default_country`. A bad row is reported in `error_details` (its spreadsheet row number: header = row 1) and never stops the good ones. A phone repeated in the file, or already in the folder without `overwrite_existing`, is skipped. New contacts whose number is on the do-not-call list start `opted_out`. The contacts are written in one transaction: if the write fails, nothing is imported.",
    `At most ${MAX_IMPORT_ROWS} rows and 20 MB per file (413 beyond). Re-sending the same file is safe: its phones are then already in the folder and skipped.`,
  ].join("\n\n"),
  middleware: [requireMultipart] as const,
  request: { body: { required: true, content: { "multipart/form-data": { schema: ImportContactsForm } } } },
  responses: {
    200: jsonResponse(
      dataEnvelope(ImportResultSchema).openapi({
        example: {
          data: {
            imported: 1480,
            updated: 0,
            skipped: 12,
            errors: 1,
            folder_id: folderExample.id,
            error_details: [{ row: 7, phone: "555-0199", reason: "Invalid phone number format" }],
          },
          meta,
        },
      }),
      "What the import did",
    ),
    ...errorResponses,
    415: jsonResponse(ErrorSchema, "The body is not multipart/form-data"),
  },
});

// ---------------------------------------------------------------------------------------------
// Contacts

export const listContacts = createRoute({
  method: "get",
  path: "/contacts",
  tags,
  summary: "List contacts",
  description:
    "Newest first. Filter by `folder_id`, `last_call_outcome`, `opted_out`, or `search` (name, phone or email). Page with `limit` plus either `offset` or the 1-based `page`; `pagination` reports both.",
  request: { query: ListContactsQuery },
  responses: {
    200: jsonResponse(
      listEnvelope(ContactSchema, ContactPaginationSchema).openapi({
        example: {
          data: [contactExample],
          meta,
          pagination: { total: 1, limit: 50, offset: 0, has_more: false, page: 1, pages: 1 },
        },
      }),
      "A page of contacts",
    ),
    ...errorResponses,
  },
});

export const createContact = createRoute({
  method: "post",
  path: "/contacts",
  tags,
  summary: "Add a contact",
  description:
    "Without `folder_id` the contact goes to the organization's default folder. A phone already in the folder is a 409 `conflict`, unless `overwrite_existing: true`, which updates that contact with the fields sent and answers 200. A new contact whose number is on the do-not-call list starts `opted_out`. Accepts `Idempotency-Key` / `X-Idempotency-Key`.",
  middleware: [idempotent] as const,
  request: { body: jsonBody(CreateContactBody) },
  responses: {
    201: contactResponse("The new contact"),
    200: contactResponse("The existing contact, updated (`overwrite_existing`)"),
    ...conflictResponse,
    ...errorResponses,
  },
});

export const getContact = createRoute({
  method: "get",
  path: "/contacts/{id}",
  tags,
  summary: "Get a contact",
  description: "The contact with its call history counters.",
  request: { params: IdParams },
  responses: { 200: contactResponse("The contact"), ...errorResponses },
});

export const updateContact = createRoute({
  method: "patch",
  path: "/contacts/{id}",
  tags,
  summary: "Update a contact",
  description:
    "Only the fields sent change; `null` clears a field and `custom_fields` replaces the whole object. Changing `phone_number` or `folder_id` is a 409 `conflict` when the target folder already holds that phone.\n\n`opted_out: true` marks the contact opted out and, in the same transaction, adds its number to the do-not-call list with source `opt_out` (which marks the organization's other contacts with that number too). `opted_out: false` clears the flag only: the number stays listed and calls to it are still refused until it is removed with `DELETE /dnc/{id}`. A new `phone_number` that is already listed marks the contact opted out unless `opted_out` is sent.",
  request: { params: IdParams, body: jsonBody(UpdateContactBody) },
  responses: { 200: contactResponse("The updated contact"), ...conflictResponse, ...errorResponses },
});

export const deleteContact = createRoute({
  method: "delete",
  path: "/contacts/{id}",
  tags,
  summary: "Delete a contact",
  description: "Irreversible.",
  request: { params: IdParams },
  responses: {
    200: jsonResponse(dataEnvelope(DeletedSchema).openapi({ example: { data: { id: contactExample.id, deleted: true }, meta } }), "Deleted"),
    ...errorResponses,
  },
});
