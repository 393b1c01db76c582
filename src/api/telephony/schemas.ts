import { z } from "@hono/zod-openapi";
import {
  CARRIER_PROVIDERS,
  isE164,
  isNanpCountry,
  missingImportFields,
  normalizeNumberType,
  NUMBER_PROVIDERS,
  NUMBER_TYPE_INPUTS,
  NUMBER_TYPES,
} from "../../domain/telephony";
import { decodeTelnyxPublicKey } from "../../carriers/telnyx-signature";
import { UUID_PATTERN } from "../../lib/ids";
import { LimitOffsetQuery, MetaSchema } from "../../lib/openapi";

const EXAMPLE_NUMBER_ID = "0193a5b2-7c1e-7d2a-9f10-2b3c4d5e6f70";
const EXAMPLE_AGENT_ID = "0193a5b2-7c1e-7d2a-9f10-2b3c4d5e6f71";

const PhoneNumber = z
  .string()
  .refine(isE164, "Must be in E.164 format")
  .openapi({ description: "E.164, e.g. +14155550123", example: "+14155550123" });

const ObjectId = (example: string) =>
  z.string().regex(UUID_PATTERN, "Must be a UUID").openapi({ example });

/** Header-safe secret: printable ASCII, since credentials travel in Authorization headers. */
const Secret = (label: string) =>
  z
    .string()
    .min(1)
    .max(500)
    .regex(/^[\x21-\x7e]+$/, `${label} must be printable ASCII without spaces`);

const AssignmentType = z.enum(["inbound", "outbound"]).openapi({ example: "inbound" });

export const NumberIdParams = z.object({
  id: z.string().min(1).max(100).openapi({ param: { name: "id", in: "path" }, example: EXAMPLE_NUMBER_ID }),
});

export const AgentIdParams = z.object({
  agent_id: z.string().min(1).max(100).openapi({ param: { name: "agent_id", in: "path" }, example: EXAMPLE_AGENT_ID }),
});

export const ListNumbersQuery = LimitOffsetQuery.extend({
  provider: z.enum(NUMBER_PROVIDERS).optional().openapi({ description: "Only numbers of this provider" }),
  agent_id: z.string().min(1).max(100).optional().openapi({ description: "Only numbers assigned to this agent" }),
  direction: AssignmentType.optional().openapi({
    description: "Only numbers with an agent in this direction (with `agent_id`: assigned to that agent in this direction)",
  }),
});

export const SearchNumbersBody = z
  .object({
    country_code: z
      .string()
      .regex(/^[A-Za-z]{2}$/, "Must be an ISO 3166-1 alpha-2 country code")
      .transform((value) => value.toUpperCase())
      .default("US")
      .openapi({ example: "US" }),
    area_code: z.string().regex(/^\d{3}$/, "Must be a 3-digit area code").optional().openapi({ example: "415" }),
    locality: z.string().trim().min(1).max(100).optional().openapi({ description: "City", example: "San Francisco" }),
    administrative_area: z.string().trim().min(1).max(100).optional().openapi({ description: "State or province", example: "CA" }),
    phone_number_type: z
      .enum(NUMBER_TYPE_INPUTS)
      .default("local")
      .transform(normalizeNumberType)
      .openapi({ description: "`toll-free` is accepted as a spelling of `toll_free`", example: "local" }),
    provider: z.enum(CARRIER_PROVIDERS).optional().openapi({
      description: "Defaults to `simulator` when the simulator is enabled, else the configured platform carrier (Twilio, then Telnyx)",
    }),
    api_key: Secret("api_key").optional().openapi({ description: "Search with your own Telnyx API key (implies provider telnyx)" }),
    page: z.number().int().min(1).default(1).openapi({ example: 1 }),
    page_size: z.number().int().min(1).max(100).default(20).openapi({ example: 20 }),
  })
  .refine((body) => body.area_code === undefined || isNanpCountry(body.country_code), {
    path: ["area_code"],
    message: "area_code applies to US and CA numbers only",
  })
  .openapi("SearchNumbersRequest", { example: { country_code: "US", area_code: "415", phone_number_type: "local", page_size: 20 } });

export const AvailableNumberSchema = z
  .object({
    phone_number: z.string().openapi({ example: "+14155550100" }),
    phone_number_type: z.enum(NUMBER_TYPES),
    region_information: z.array(z.object({ region_type: z.string(), region_name: z.string() })).openapi({
      example: [
        { region_type: "location", region_name: "San Francisco" },
        { region_type: "state", region_name: "CA" },
        { region_type: "country_code", region_name: "US" },
      ],
    }),
    features: z.array(z.object({ name: z.string() })).openapi({ example: [{ name: "voice" }, { name: "sms" }] }),
    cost_information: z
      .object({ upfront_cost: z.string(), monthly_cost: z.string(), currency: z.string() })
      .nullable()
      .openapi({ description: "Null when the carrier does not price numbers in search results (Twilio)" }),
  })
  .openapi("AvailablePhoneNumber");

export const SearchPaginationSchema = z
  .object({
    page: z.number().int(),
    page_size: z.number().int(),
    total_results: z.number().int().openapi({ description: "The carrier's count when it reports one, else a lower bound" }),
    total_pages: z.number().int(),
    has_more: z.boolean(),
  })
  .openapi("SearchPagination");

export const SearchNumbersResponse = z.object({
  data: z.array(AvailableNumberSchema),
  meta: MetaSchema,
  pagination: SearchPaginationSchema,
});

export const PurchaseNumberBody = z
  .object({
    phone_number: PhoneNumber,
    provider: z.enum(CARRIER_PROVIDERS).optional().openapi({ description: "Defaults as for search" }),
    api_key: Secret("api_key").optional().openapi({ description: "Buy on your own Telnyx account (implies provider telnyx); stored encrypted" }),
    friendly_name: z.string().trim().min(1).max(255).optional().openapi({ example: "Main line" }),
  })
  .openapi("PurchaseNumberRequest", { example: { phone_number: "+14155550100" } });

export const ImportNumberBody = z
  .object({
    phone_number: PhoneNumber,
    provider_type: z.enum(NUMBER_PROVIDERS).openapi({ description: "`simulator` only where the simulator is enabled" }),
    friendly_name: z.string().trim().min(1).max(255).optional().openapi({ example: "Support line" }),
    account_sid: z
      .string()
      .regex(/^AC[0-9a-fA-F]{32}$/, "Must be a Twilio Account SID (AC followed by 32 hex characters)")
      .optional()
      .openapi({ description: "Twilio: required", example: "AC0123456789abcdef0123456789abcdef" }),
    auth_token: Secret("auth_token").optional().openapi({ description: "Twilio: required; stored encrypted, never returned" }),
    api_key: Secret("api_key").optional().openapi({ description: "Telnyx: required; stored encrypted, never returned" }),
    public_key: z
      .string()
      .refine((key) => decodeTelnyxPublicKey(key) !== null, "Must be the base64 of a raw 32-byte Ed25519 public key")
      .optional()
      .openapi({
        description:
          "Telnyx: your account's webhook signing key (Mission Control → Keys & Credentials → Public Key). Telnyx signs this number's call webhooks with your account's key, so without it they can only be accepted when signed by the platform account",
        example: "s3D7JKw9yhebtaPV9rbS3ulL5jxwuRHEpLvKmYMPpNw=",
      }),
    sip_username: z.string().min(1).max(255).optional().openapi({ description: "custom_sip: required" }),
    sip_password: z.string().min(1).max(255).optional().openapi({ description: "custom_sip: required; stored encrypted, never returned" }),
    sip_server: z
      .string()
      .regex(/^(sips?:)?[A-Za-z0-9.-]+(:\d{1,5})?$/, "Must be a host name, optionally with a port")
      .optional()
      .openapi({ description: "custom_sip: required", example: "sip.example.com:5060" }),
  })
  .superRefine((body, ctx) => {
    for (const field of missingImportFields(body.provider_type, body)) {
      ctx.addIssue({ code: "custom", path: [field], message: `Required when provider_type is ${body.provider_type}` });
    }
    if (body.public_key !== undefined && body.provider_type !== "telnyx") {
      ctx.addIssue({ code: "custom", path: ["public_key"], message: "Only for provider_type telnyx" });
    }
  })
  .openapi("ImportNumberRequest", {
    example: {
      phone_number: "+14155550123",
      provider_type: "twilio",
      account_sid: "AC0123456789abcdef0123456789abcdef",
      auth_token: "your_auth_token",
      friendly_name: "Support line",
    },
  });

export const AssignNumberBody = z
  .object({
    number_id: ObjectId(EXAMPLE_NUMBER_ID),
    agent_id: ObjectId(EXAMPLE_AGENT_ID),
    assignment_type: AssignmentType,
  })
  .openapi("AssignNumberRequest");

export const UnassignNumberBody = z
  .object({ number_id: ObjectId(EXAMPLE_NUMBER_ID), assignment_type: AssignmentType })
  .openapi("UnassignNumberRequest");

const AgentRef = z.object({ id: z.string(), name: z.string() }).nullable();

export const PhoneNumberSchema = z
  .object({
    id: z.string(),
    phone_number: z.string(),
    provider: z.enum(NUMBER_PROVIDERS),
    provider_type: z.enum(NUMBER_PROVIDERS).openapi({ description: "Same as `provider` (the spec's name)" }),
    ownership: z.enum(["managed", "byoc"]).openapi({ description: "`managed`: bought through Truedy; `byoc`: imported" }),
    friendly_name: z.string().nullable(),
    capabilities: z.array(z.string()).openapi({ example: ["voice", "sms"] }),
    credentials: z
      .object({
        account_sid_last4: z.string().optional(),
        api_key_last4: z.string().optional(),
        public_key: z.string().optional().openapi({ description: "Telnyx: the stored webhook signing key (it is public)" }),
        sip_server: z.string().optional(),
      })
      .nullable()
      .openapi({ description: "A hint of stored BYOC credentials; secrets are never returned" }),
    inbound_agent_id: z.string().nullable(),
    outbound_agent_id: z.string().nullable(),
    inbound_agent: AgentRef,
    outbound_agent: AgentRef,
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("PhoneNumber", {
    example: {
      id: EXAMPLE_NUMBER_ID,
      phone_number: "+14155550100",
      provider: "twilio",
      provider_type: "twilio",
      ownership: "managed",
      friendly_name: "Main line",
      capabilities: ["voice", "sms", "mms"],
      credentials: null,
      inbound_agent_id: EXAMPLE_AGENT_ID,
      outbound_agent_id: null,
      inbound_agent: { id: EXAMPLE_AGENT_ID, name: "Receptionist" },
      outbound_agent: null,
      created_at: "2026-11-25T12:00:00.000Z",
      updated_at: "2026-11-25T12:00:00.000Z",
    },
  });

export const AssignmentSchema = z
  .object({
    number: PhoneNumberSchema,
    agent_id: z.string(),
    assignment_type: AssignmentType,
    assigned_at: z.string(),
  })
  .openapi("NumberAssignment");

export const UnassignmentSchema = z
  .object({
    number: PhoneNumberSchema,
    agent_id: z.null(),
    assignment_type: AssignmentType,
    unassigned_at: z.string(),
  })
  .openapi("NumberUnassignment");

export const ReleasedNumberSchema = z
  .object({
    id: z.string(),
    phone_number: z.string(),
    deleted: z.literal(true),
    released_at_provider: z.boolean().openapi({ description: "True for managed numbers given back to the carrier; BYOC numbers stay with you" }),
  })
  .openapi("ReleasedPhoneNumber");

const NumberRef = z.object({ id: z.string(), phone_number: z.string() });

export const AgentNumbersSchema = z
  .object({ agent_id: z.string(), inbound: z.array(NumberRef), outbound: z.array(NumberRef) })
  .openapi("AgentNumbers", {
    example: { agent_id: EXAMPLE_AGENT_ID, inbound: [{ id: EXAMPLE_NUMBER_ID, phone_number: "+14155550100" }], outbound: [] },
  });

export const AgentWebhookUrlSchema = z
  .object({ agent_id: z.string(), webhook_url: z.string() })
  .openapi("AgentWebhookUrl", {
    example: { agent_id: EXAMPLE_AGENT_ID, webhook_url: `https://api.truedy.ai/telephony/inbound/${EXAMPLE_AGENT_ID}` },
  });
