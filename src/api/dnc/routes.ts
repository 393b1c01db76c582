import { createRoute } from "@hono/zod-openapi";
import { MAX_IMPORT_ROWS } from "../../domain/contacts";
import { dataEnvelope, DeletedSchema, ErrorSchema, errorResponses, IdParams, jsonBody, jsonResponse, listEnvelope } from "../../lib/openapi";
import { idempotent } from "../../middleware/idempotency";
import { requireMultipart } from "../../middleware/multipart";
import { AddDncBody, CheckDncQuery, DncCheckSchema, DncEntrySchema, dncEntryExample, DncImportResultSchema, ImportDncForm, ListDncQuery } from "./schemas";

const tags = ["Do-not-call list"];

const meta = { request_id: "req_01JD6R6A4C1X9V7W2K3M5N8P0Q", ts: "2026-11-25T12:00:00.000Z" };

const entryResponse = (description: string) =>
  jsonResponse(dataEnvelope(DncEntrySchema).openapi({ example: { data: dncEntryExample, meta } }), description);

const CALLS_REFUSED = "Every outbound call to a listed number is refused with 422 `number_on_dnc_list`.";
const CONTACTS_FLAGGED = "every contact of the organization with that number is marked `opted_out` in the same transaction";

// /dnc/check and /dnc/import are registered before /dnc/{id}, which would otherwise take them for ids.

export const checkDnc = createRoute({
  method: "get",
  path: "/dnc/check",
  tags,
  summary: "Check whether a number is on the do-not-call list",
  description: "The number is normalised as on add (a national number needs `default_country`), then looked up on this organization's list only.",
  request: { query: CheckDncQuery },
  responses: {
    200: jsonResponse(
      dataEnvelope(DncCheckSchema).openapi({ example: { data: { phone_number: dncEntryExample.phone_number, listed: true, entry: dncEntryExample }, meta } }),
      "Whether the number is listed",
    ),
    ...errorResponses,
  },
});

export const importDnc = createRoute({
  method: "post",
  path: "/dnc/import",
  tags,
  summary: "Add numbers to the do-not-call list from a CSV file",
  description: [
    "`multipart/form-data` with the CSV in `file`. The header row needs a `phone` or `phone_number` column; an optional `reason` column is kept with each entry, and other columns are ignored. Headers are matched case-insensitively, with spaces and dashes read as underscores.",
    "Numbers are normalised to E.164; national numbers need `default_country`. A bad row is reported in `error_details` (its spreadsheet row number: header = row 1) and never stops the good ones. A number already listed, or repeated in the file, is skipped; listed entries keep their reason and source.",
    `${CALLS_REFUSED} For each number added, ${CONTACTS_FLAGGED}.`,
    `Everything is written in one transaction: if the write fails, nothing is listed. At most ${MAX_IMPORT_ROWS} rows and 20 MB per file (413 beyond). Re-sending the same file is safe: its numbers are then already listed and skipped.`,
  ].join("\n\n"),
  middleware: [requireMultipart] as const,
  request: { body: { required: true, content: { "multipart/form-data": { schema: ImportDncForm } } } },
  responses: {
    200: jsonResponse(
      dataEnvelope(DncImportResultSchema).openapi({
        example: {
          data: { imported: 980, skipped: 15, errors: 1, error_details: [{ row: 7, phone: "555-0199", reason: "Invalid phone number format" }] },
          meta,
        },
      }),
      "What the import did",
    ),
    ...errorResponses,
    415: jsonResponse(ErrorSchema, "The body is not multipart/form-data"),
  },
});

export const listDnc = createRoute({
  method: "get",
  path: "/dnc",
  tags,
  summary: "List the do-not-call list",
  description: "Newest first. `search` matches part of the number.",
  request: { query: ListDncQuery },
  responses: {
    200: jsonResponse(
      listEnvelope(DncEntrySchema).openapi({
        example: { data: [dncEntryExample], meta, pagination: { total: 1, limit: 50, offset: 0, has_more: false } },
      }),
      "A page of entries",
    ),
    ...errorResponses,
  },
});

export const addDnc = createRoute({
  method: "post",
  path: "/dnc",
  tags,
  summary: "Add a number to the do-not-call list",
  description: `${CALLS_REFUSED} When the number is added, ${CONTACTS_FLAGGED}. Adding a number that is already listed answers 200 with the existing entry, unchanged (its reason is not replaced), so adding is idempotent. Accepts \`Idempotency-Key\` / \`X-Idempotency-Key\`.`,
  middleware: [idempotent] as const,
  request: { body: jsonBody(AddDncBody) },
  responses: {
    201: entryResponse("The new entry"),
    200: entryResponse("The number was already listed: its existing entry"),
    ...errorResponses,
  },
});

export const getDnc = createRoute({
  method: "get",
  path: "/dnc/{id}",
  tags,
  summary: "Get a do-not-call entry",
  request: { params: IdParams },
  responses: { 200: entryResponse("The entry"), ...errorResponses },
});

export const deleteDnc = createRoute({
  method: "delete",
  path: "/dnc/{id}",
  tags,
  summary: "Remove a number from the do-not-call list",
  description:
    "The number can be called again. Contacts marked `opted_out` keep the flag (the person asked not to be called); clear it with `PATCH /contacts/{id}` `{\"opted_out\": false}`.",
  request: { params: IdParams },
  responses: {
    200: jsonResponse(dataEnvelope(DeletedSchema).openapi({ example: { data: { id: dncEntryExample.id, deleted: true }, meta } }), "Deleted"),
    ...errorResponses,
  },
});
