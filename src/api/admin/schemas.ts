import { z } from "@hono/zod-openapi";

export const CreateOrganizationBody = z.object({ name: z.string().trim().min(1).max(255).openapi({ example: "Acme Dental" }) });

export const UpdateOrganizationBody = z.object({
  name: z.string().trim().min(1).max(255).optional(),
  rate_limit_per_minute: z.number().int().min(1).max(100_000).nullable().optional(),
  max_concurrent_calls: z.number().int().min(1).max(1000).optional(),
});

export const OrganizationSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    rate_limit_per_minute: z.number().int().nullable(),
    max_concurrent_calls: z.number().int(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Organization");

export const OrganizationWithSlotsSchema = OrganizationSchema.extend({
  call_slots: z.object({
    active: z.number().int(),
    waiting: z.number().int(),
    max_active_observed: z.number().int().openapi({ description: "The most calls this org ever had dialling or live at once" }),
  }),
}).openapi("OrganizationWithSlots");

export const CreatedOrganizationSchema = z
  .object({ id: z.string(), name: z.string(), api_key: z.string().openapi({ example: "truedy_e4JzsKsEPZgCydwcsAZqOGrHo9yglOHk" }) })
  .openapi("CreatedOrganization");

export const OrgIdParams = z.object({ id: z.string().min(1).max(100).openapi({ param: { name: "id", in: "path" } }) });
export const OrgKeyParams = OrgIdParams.extend({
  key_id: z.string().min(1).max(100).openapi({ param: { name: "key_id", in: "path" } }),
});
