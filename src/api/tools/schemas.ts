import { z } from "@hono/zod-openapi";
import { LimitOffsetQuery } from "../../lib/openapi";
import { AUTH_TOKEN_MAX_LENGTH, FILLER_MESSAGE_MAX_LENGTH, HTTP_METHODS, MODEL_TOOL_NAME_PATTERN, PARAMETER_LOCATIONS, TOOL_TIMEOUT_SECONDS } from "../../domain/tools";

/**
 * Zod checks the shape of a definition; src/domain/tools.ts checks what shapes cannot express
 * (URL safety, JSON Schemas, duplicate parameters) on the whole definition after any PATCH merge.
 */

const HttpMethod = z.enum(HTTP_METHODS);
const ParameterLocation = z.enum(PARAMETER_LOCATIONS);
const ParameterName = z.string().trim().min(1).max(255);

const DynamicParameter = z
  .object({
    name: ParameterName.openapi({ example: "order_id" }),
    location: ParameterLocation,
    schema: z
      .record(z.string(), z.unknown())
      .openapi({ description: "JSON Schema of the value the model fills in", example: { type: "string", description: "The order number" } }),
    required: z.boolean().default(false),
  })
  .openapi("ToolDynamicParameter");

const StaticParameter = z
  .object({
    name: ParameterName.openapi({ example: "source" }),
    location: ParameterLocation,
    value: z
      .union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.unknown()), z.record(z.string(), z.unknown())])
      .openapi({ description: "Sent as given on every call; strings may contain `{{variables}}`", example: "truedy" }),
    required: z.boolean().default(false),
  })
  .openapi("ToolStaticParameter");

const ApiKeyPlacement = z.object({ name: z.string().trim().min(1).max(255).openapi({ example: "X-API-Key" }) });

const SecurityRequirement = z
  .object({
    queryApiKey: ApiKeyPlacement.optional().openapi({ description: "Send the key as this query parameter" }),
    headerApiKey: ApiKeyPlacement.optional().openapi({ description: "Send the key in this header" }),
    httpAuth: z
      .object({ scheme: z.string().trim().min(1).max(50).openapi({ example: "Bearer" }) })
      .optional()
      .openapi({ description: "Send the key in `Authorization: <scheme> <key>`" }),
  })
  .openapi("ToolSecurityRequirement", { description: "Exactly one of queryApiKey, headerApiKey or httpAuth" });

const Requirements = z
  .object({
    httpSecurityOptions: z
      .object({
        options: z
          .array(z.object({ requirements: z.record(z.string().min(1).max(100), SecurityRequirement) }))
          .max(10)
          .openapi({ description: "Alternatives; each is a set of named requirements that together authenticate a request" }),
      })
      .optional(),
  })
  .openapi("ToolRequirements", {
    description: "How the tool authenticates. The key values are not part of the definition: they are set with the tool's write-only `auth_tokens`, keyed by requirement name",
    example: { httpSecurityOptions: { options: [{ requirements: { apiKey: { headerApiKey: { name: "X-API-Key" } } } }] } },
  });

const HttpInput = z
  .object({
    url: z.string().trim().min(1).max(2048).optional().openapi({ example: "https://api.example.com/orders/status" }),
    method: HttpMethod.optional().openapi({ description: "Default GET" }),
    baseUrlPattern: z.string().trim().min(1).max(2048).optional().openapi({ description: "The guide's spelling of `url`" }),
    httpMethod: HttpMethod.optional().openapi({ description: "The guide's spelling of `method`" }),
  })
  .openapi("ToolHttpInput", {
    description: "https only. Secrets must not be embedded in the URL (no user:password@, no api_key/token/key/secret query parameters)",
  });

const definitionFields = {
  modelToolName: z
    .string()
    .regex(MODEL_TOOL_NAME_PATTERN, "Must be 1-64 letters, digits, _ or -")
    .openapi({ description: "The name the model calls; derived from `name` when omitted", example: "check_order_status" }),
  type: z.literal("http"),
  description: z
    .string()
    .max(8000)
    .openapi({ description: "What the tool does and when to use it; read by the model", example: "Looks up the status of an order" }),
  dynamicParameters: z.array(DynamicParameter).max(50),
  staticParameters: z.array(StaticParameter).max(50),
  requirements: Requirements,
  timeout_seconds: z
    .number()
    .int()
    .min(TOOL_TIMEOUT_SECONDS.min)
    .max(TOOL_TIMEOUT_SECONDS.max)
    .openapi({ description: `Seconds to wait for the endpoint; default ${TOOL_TIMEOUT_SECONDS.default}`, example: 10 }),
  filler_message: z
    .string()
    .trim()
    .min(1)
    .max(FILLER_MESSAGE_MAX_LENGTH)
    .openapi({ description: "Said on a call when the endpoint has not answered within a second; default \"One moment while I check that.\"", example: "One moment while I look up your order." }),
};

const ToolDefinitionBody = z
  .object({
    modelToolName: definitionFields.modelToolName.optional(),
    type: definitionFields.type.optional(),
    description: definitionFields.description.optional(),
    http: HttpInput.optional(),
    dynamicParameters: definitionFields.dynamicParameters.optional(),
    staticParameters: definitionFields.staticParameters.optional(),
    requirements: definitionFields.requirements.optional(),
    timeout_seconds: definitionFields.timeout_seconds.optional(),
    filler_message: definitionFields.filler_message.optional(),
  })
  .openapi("ToolDefinitionInput", {
    description: "Reference spelling `http.url`/`http.method` or the guide's `http.baseUrlPattern`/`http.httpMethod`; stored in the reference spelling",
  });

const definitionExample = {
  modelToolName: "check_order_status",
  description: "Looks up the status of a customer's order by its number",
  http: { url: "https://api.example.com/orders/status", method: "POST" as const },
  dynamicParameters: [
    { name: "order_id", location: "PARAMETER_LOCATION_BODY" as const, schema: { type: "string", description: "The order number" }, required: true },
  ],
  staticParameters: [{ name: "source", location: "PARAMETER_LOCATION_QUERY" as const, value: "truedy", required: false }],
  requirements: { httpSecurityOptions: { options: [{ requirements: { apiKey: { headerApiKey: { name: "X-API-Key" } } } }] } },
  timeout_seconds: 10,
};

const AuthTokens = z
  .record(z.string().min(1).max(100), z.string().min(1).max(AUTH_TOKEN_MAX_LENGTH))
  .openapi("ToolAuthTokens", {
    description:
      "The key of each API-key requirement of `definition.requirements`, by requirement name. Write-only: encrypted at rest, sent only to the tool's endpoint, never returned (the tool lists `auth_token_names`).",
    example: { apiKey: "sk_live_…" },
  });

export const CreateToolBody = z
  .object({
    name: z
      .string()
      .trim()
      .min(1)
      .max(255)
      .optional()
      .openapi({ description: "Display name; optional only when definition.modelToolName is given", example: "Check order status" }),
    definition: ToolDefinitionBody.optional(),
    auth_tokens: AuthTokens.optional(),
  })
  .openapi("CreateTool", { example: { name: "Check order status", definition: definitionExample, auth_tokens: { apiKey: "sk_live_…" } } });

export const UpdateToolBody = z
  .object({
    name: z.string().trim().min(1).max(255).optional(),
    definition: ToolDefinitionBody.optional(),
    auth_tokens: AuthTokens.nullable().optional().openapi({ description: "Replaces every stored key; null removes them" }),
  })
  .openapi("UpdateTool", { example: { definition: { http: { method: "GET" }, timeout_seconds: 20 } } });

export const ToolDefinitionSchema = z
  .object({
    modelToolName: z.string(),
    type: z.literal("http"),
    description: z.string().optional(),
    http: z.object({ url: z.string(), method: HttpMethod }).optional().openapi({ description: "Absent on a placeholder tool" }),
    dynamicParameters: z.array(DynamicParameter),
    staticParameters: z.array(StaticParameter),
    requirements: Requirements.optional(),
    timeout_seconds: z.number().int(),
    filler_message: z.string().optional(),
  })
  .openapi("ToolDefinition");

export const ToolSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    model_tool_name: z.string(),
    description: z.string().nullable(),
    type: z.literal("http"),
    url: z.string().nullable().openapi({ description: "`definition.http.url`; null on a placeholder tool" }),
    method: HttpMethod.nullable(),
    timeout_seconds: z.number().int(),
    definition: ToolDefinitionSchema,
    auth_token_names: z.array(z.string()).openapi({ description: "Requirement names that have a key set (the keys themselves are never returned)", example: ["apiKey"] }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Tool", {
    example: {
      id: "0193a5b2-7c1e-7d2a-9f10-2b3c4d5e6f70",
      name: "Check order status",
      model_tool_name: "check_order_status",
      description: "Looks up the status of a customer's order by its number",
      type: "http",
      url: "https://api.example.com/orders/status",
      method: "POST",
      timeout_seconds: 10,
      definition: { type: "http", ...definitionExample },
      auth_token_names: ["apiKey"],
      created_at: "2026-11-25T12:00:00.000Z",
      updated_at: "2026-11-25T12:00:00.000Z",
    },
  });

export const ListToolsQuery = LimitOffsetQuery.extend({
  name: z.string().trim().min(1).max(255).optional().openapi({ description: "Case-insensitive substring of the name", example: "order" }),
});
