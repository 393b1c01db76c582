import { z } from "@hono/zod-openapi";

export const CreateApiKeyBody = z.object({
  name: z.string().trim().min(1).max(100).optional().openapi({ example: "CRM integration" }),
});

export const ApiKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string().openapi({ description: "The first characters of the key", example: "truedy_e4Jz" }),
    last4: z.string(),
    created_at: z.string(),
    last_used_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
  })
  .openapi("ApiKey");

export const CreatedApiKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    api_key: z.string().openapi({ description: "Shown once; only its SHA-256 is stored", example: "truedy_e4JzsKsEPZgCydwcsAZqOGrHo9yglOHk" }),
    created_at: z.string(),
  })
  .openapi("CreatedApiKey");
