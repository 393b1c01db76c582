import { createRoute, z } from "@hono/zod-openapi";
import { MAX_IMPORT_ROWS } from "../../domain/contacts";
import { conflictResponse, dataEnvelope, errorResponses, IdParams, jsonBody, jsonResponse, listEnvelope } from "../../lib/openapi";
import { idempotent } from "../../middleware/idempotency";
import { requireMultipart } from "../../middleware/multipart";
import {
  AddContactsBody,
  AddContactsResult,
  AuditEntrySchema,
  AuditQuery,
  BatchCallSchema,
  BulkDeleteBody,
  BulkDeleteResult,
  CampaignContactSchema,
  CreateBatchCallBody,
  ImportCampaignContactsForm,
  ImportCampaignContactsResult,
  ListBatchCallsQuery,
  ListCampaignContactsQuery,
  ScheduleBatchCallBody,
  UpdateBatchCallBody,
} from "./schemas";

const tags = ["Batch calls"];
const batchResponse = (description: string) => jsonResponse(dataEnvelope(BatchCallSchema), description);

export const createBatchCall = createRoute({
  method: "post",
  path: "/batch-calls",
  tags,
  summary: "Create a campaign (draft)",
  description:
    "Creates the campaign in `draft` with its contacts: a folder (copied when the campaign is scheduled), `contact_ids`, inline `contacts`, or any mix; more can be added later or imported from CSV. The agent must be active and at least one caller ID must exist (the agent's outbound numbers, or `phone_number_ids`). The window (`start_time`–`end_time` in `timezone`, on `working_days`) always runs inside the platform's 08:00–21:00 quiet hours in the recipient's local time. Accepts `Idempotency-Key`.",
  middleware: [idempotent] as const,
  request: { body: jsonBody(CreateBatchCallBody) },
  responses: { 201: batchResponse("The draft campaign"), ...errorResponses },
});

export const listBatchCalls = createRoute({
  method: "get",
  path: "/batch-calls",
  tags,
  summary: "List campaigns",
  description: "Newest first; filter by agent and status.",
  request: { query: ListBatchCallsQuery },
  responses: { 200: jsonResponse(listEnvelope(BatchCallSchema), "A page of campaigns"), ...errorResponses },
});

export const getBatchCall = createRoute({
  method: "get",
  path: "/batch-calls/{id}",
  tags,
  summary: "Get a campaign with its stats",
  request: { params: IdParams },
  responses: { 200: batchResponse("The campaign"), ...errorResponses },
});

export const updateBatchCall = createRoute({
  method: "patch",
  path: "/batch-calls/{id}",
  tags,
  summary: "Update a campaign",
  description:
    "Allowed in `draft`, `scheduled` and `paused` (409 otherwise). Changing the schedule (`scheduled_at`, `timezone`, `start_time`, `end_time`, `working_days`, `max_calls_per_day`, `respect_recipient_timezone`) gives every contact not yet dialled a new slot; contacts awaiting a redial keep their delay and move into the new window; finished contacts are untouched.",
  request: { params: IdParams, body: jsonBody(UpdateBatchCallBody) },
  responses: { 200: batchResponse("The campaign"), ...conflictResponse, ...errorResponses },
});

export const deleteBatchCall = createRoute({
  method: "delete",
  path: "/batch-calls/{id}",
  tags,
  summary: "Delete a campaign",
  description: "Only `draft`, `failed` and `cancelled` campaigns (409 otherwise: cancel first). Calls already made stay in the call log.",
  request: { params: IdParams },
  responses: { 200: jsonResponse(dataEnvelope(z.object({ id: z.string(), deleted: z.literal(true) })), "Deleted"), ...conflictResponse, ...errorResponses },
});

export const bulkDeleteBatchCalls = createRoute({
  method: "post",
  path: "/batch-calls/bulk-delete",
  tags,
  summary: "Delete several campaigns",
  description: "Each id is deleted if it is the organization's and deletable; the others are listed in `failed_ids` with the reason.",
  request: { body: jsonBody(BulkDeleteBody) },
  responses: { 200: jsonResponse(dataEnvelope(BulkDeleteResult), "What was deleted"), ...errorResponses },
});

export const scheduleBatchCall = createRoute({
  method: "post",
  path: "/batch-calls/{id}/schedule",
  tags,
  summary: "Schedule a draft campaign",
  description:
    "Copies the folder's contacts in, checks the agent is active, a caller ID exists and someone is left to call, and gives every contact its own `scheduled_at`: days filled in order up to `max_calls_per_day`, each day's contacts spread evenly over its window (DST-exact). If a check fails the campaign becomes `failed` with `status_reason` and the answer is 422. The campaign turns `active` at its start.",
  request: { params: IdParams, body: { ...jsonBody(ScheduleBatchCallBody), required: false } },
  responses: { 200: batchResponse("The scheduled campaign"), ...conflictResponse, ...errorResponses },
});

const lifecycle = (action: "pause" | "resume" | "cancel", summary: string, description: string) =>
  createRoute({
    method: "post",
    path: `/batch-calls/{id}/${action}`,
    tags,
    summary,
    description,
    request: { params: IdParams },
    responses: { 200: batchResponse("The campaign"), ...conflictResponse, ...errorResponses },
  });

export const pauseBatchCall = lifecycle(
  "pause",
  "Pause a campaign",
  "From `scheduled` or `active`. No new dial starts; calls already placed end normally.",
);
export const resumeBatchCall = lifecycle(
  "resume",
  "Resume a paused campaign",
  "Back to `scheduled` if its start is still ahead, else `active`; contacts keep their slots and overdue ones are dialled as pacing, the window and the caps allow.",
);
export const cancelBatchCall = lifecycle(
  "cancel",
  "Cancel a campaign",
  "Terminal. Contacts still waiting become `skipped` (`skip_reason: cancelled`); calls already placed end normally and are not redialled.",
);

export const listCampaignContacts = createRoute({
  method: "get",
  path: "/batch-calls/{id}/contacts",
  tags,
  summary: "List a campaign's contacts",
  description: "In the order they were added, with each contact's attempts. Filter by campaign-contact `status`.",
  request: { params: IdParams, query: ListCampaignContactsQuery },
  responses: { 200: jsonResponse(listEnvelope(CampaignContactSchema), "A page of campaign contacts"), ...errorResponses },
});

export const addCampaignContacts = createRoute({
  method: "post",
  path: "/batch-calls/{id}/contacts",
  tags,
  summary: "Add contacts to a campaign",
  description:
    "In `draft` they wait for scheduling; in `scheduled`, `active` or `paused` they get slots at once, spread over the window from now (or the start) on, with the slots already given out counting against `max_calls_per_day`. A number already in the campaign is kept as `skipped` (`duplicate`). 409 for finished campaigns.",
  request: { params: IdParams, body: jsonBody(AddContactsBody) },
  responses: { 200: jsonResponse(dataEnvelope(AddContactsResult), "What was added"), ...conflictResponse, ...errorResponses },
});

export const importCampaignContacts = createRoute({
  method: "post",
  path: "/batch-calls/{id}/contacts/import",
  tags,
  summary: "Add contacts to a campaign from a CSV file",
  description: `\`multipart/form-data\` with the CSV in \`file\`, in the columns of \`POST /contacts/import\`. Rows are added to this campaign only (not to your contacts). Bad rows are reported with their spreadsheet row number and never stop the good ones. At most ${MAX_IMPORT_ROWS} rows.`,
  middleware: [requireMultipart] as const,
  request: { params: IdParams, body: { required: true, content: { "multipart/form-data": { schema: ImportCampaignContactsForm } } } },
  responses: { 200: jsonResponse(dataEnvelope(ImportCampaignContactsResult), "What was imported"), ...conflictResponse, ...errorResponses },
});

export const campaignAuditLog = createRoute({
  method: "get",
  path: "/batch-calls/{id}/audit-log",
  tags,
  summary: "The campaign's dial decisions",
  description:
    "Every decision the dialler made, oldest first: `dialled` (with the caller ID), `deferred` (outside the window or quiet hours, daily cap, attempt limit; with the next try), `skipped` (do-not-call, unreachable window, cancelled) and `failed` (the call could not be created).",
  request: { params: IdParams, query: AuditQuery },
  responses: { 200: jsonResponse(listEnvelope(AuditEntrySchema), "A page of decisions"), ...errorResponses },
});
