import { desc, eq, isNotNull, or, type SQL } from "drizzle-orm";
import type { Context } from "hono";
import { carrierFor, carrierForNumber, CarrierError, openCredentials, platformCarrierConfig, sealCredentials } from "../../carriers";
import type { Carrier, CarrierCredentials, CarrierNumber } from "../../carriers/types";
import { agentSummaries, isUniqueViolation, numbersOfAgent, type PhoneNumberRow } from "../../db/phone-numbers";
import { agents, phoneNumbers } from "../../db/schema";
import {
  agentInboundWebhookUrl,
  carrierVoiceUrl,
  chooseSearchProvider,
  lastFour,
  paginateSearch,
  searchWindow,
  type CarrierProvider,
  type ProviderChoice,
} from "../../domain/telephony";
import { meta, ok, okList } from "../../lib/envelope";
import { ApiError, invalidField } from "../../lib/errors";
import { newId } from "../../lib/ids";
import type { AppEnv, AppRouteHandler } from "../../lib/types";
import type * as routes from "./routes";

type Ctx = Context<AppEnv>;

const nowIso = (c: Ctx) => new Date(c.get("clock").now()).toISOString();

const CARRIER_LABEL: Record<CarrierProvider, string> = { twilio: "Twilio", telnyx: "Telnyx", simulator: "simulator" };

async function credentialsHint(env: Env, row: PhoneNumberRow) {
  if (row.provider === "custom_sip") return row.sipServer ? { sip_server: row.sipServer } : null;
  const credentials = await openCredentials(env, row.credentialsEncrypted);
  if (credentials?.kind === "twilio") return { account_sid_last4: lastFour(credentials.account_sid) };
  if (credentials?.kind === "telnyx") {
    return { api_key_last4: lastFour(credentials.api_key), ...(credentials.public_key ? { public_key: credentials.public_key } : {}) };
  }
  return null;
}

/**
 * The public number objects, with agent names read in one query. An assignment whose agent no
 * longer exists reads as no assignment: there is no agent to route to.
 */
async function numberViews(c: Ctx, rows: PhoneNumberRow[]) {
  const agentIds = rows.flatMap((row) => [row.inboundAgentId, row.outboundAgentId]).filter((id): id is string => id !== null);
  const agentsById = await agentSummaries(c.get("tenant"), [...new Set(agentIds)]);
  return Promise.all(
    rows.map(async (row) => {
      const inbound = row.inboundAgentId ? (agentsById.get(row.inboundAgentId) ?? null) : null;
      const outbound = row.outboundAgentId ? (agentsById.get(row.outboundAgentId) ?? null) : null;
      return {
        id: row.id,
        phone_number: row.phoneNumber,
        provider: row.provider,
        provider_type: row.provider,
        ownership: row.ownership,
        friendly_name: row.friendlyName,
        capabilities: row.capabilities,
        credentials: await credentialsHint(c.env, row),
        inbound_agent_id: inbound?.id ?? null,
        outbound_agent_id: outbound?.id ?? null,
        inbound_agent: inbound,
        outbound_agent: outbound,
        created_at: row.createdAt,
        updated_at: row.updatedAt,
      };
    }),
  );
}

async function numberView(c: Ctx, row: PhoneNumberRow) {
  const [view] = await numberViews(c, [row]);
  return view;
}

function rejectChoice(choice: Extract<ProviderChoice, { ok: false }>): never {
  if (choice.code === "validation_error") throw invalidField(choice.field, choice.message);
  throw new ApiError(choice.code, choice.message, { details: { field: choice.field } });
}

function chooseCarrier(c: Ctx, body: { provider?: CarrierProvider; api_key?: string }) {
  const choice = chooseSearchProvider({ provider: body.provider, hasApiKey: body.api_key !== undefined }, platformCarrierConfig(c.env));
  if (!choice.ok) rejectChoice(choice);
  const credentials: CarrierCredentials | null = body.api_key ? { kind: "telnyx", api_key: body.api_key } : null;
  return { provider: choice.provider, credentials, carrier: carrierFor(c.env, choice.provider, credentials) };
}

type Reservation = Pick<PhoneNumberRow, "phoneNumber" | "provider" | "ownership" | "friendlyName" | "credentialsEncrypted" | "sipServer">;

/**
 * Inserts the number's row before anything happens at a carrier. The unique index on
 * `phone_number` spans every organization, so a number already on Truedy is refused here (409)
 * before it could be bought twice or have its calls rerouted away from its holder.
 */
async function reserveNumber(c: Ctx, values: Reservation): Promise<PhoneNumberRow> {
  const tenant = c.get("tenant");
  const now = c.get("clock").now();
  const at = new Date(now).toISOString();
  const row = {
    ...values,
    id: newId(now),
    providerNumberId: null,
    inboundAgentId: null,
    outboundAgentId: null,
    capabilities: [],
    createdAt: at,
    updatedAt: at,
  };
  try {
    await tenant.insert(phoneNumbers, row);
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    throw new ApiError("conflict", `${values.phoneNumber} is already registered on Truedy`, {
      details: { field: "phone_number", phone_number: values.phoneNumber },
    });
  }
  return { ...row, orgId: tenant.orgId };
}

/** Runs the carrier step of a reservation; if it fails, the reservation goes and nothing is left. */
async function withReservation<T>(c: Ctx, row: PhoneNumberRow, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    await c.get("tenant").delete(phoneNumbers, row.id);
    throw error;
  }
}

async function completeReservation(c: Ctx, row: PhoneNumberRow, held: Pick<CarrierNumber, "capabilities"> & { providerNumberId: string | null }) {
  const [saved] = await c
    .get("tenant")
    .update(phoneNumbers, row.id, { providerNumberId: held.providerNumberId, capabilities: held.capabilities, updatedAt: nowIso(c) })
    .returning();
  return saved;
}

/**
 * A purchase that failed in transit (timeout, 5xx) may still have gone through. Asking the
 * carrier before giving up keeps a number we now pay for from being dropped; the purchase request
 * carried the voice URL, so a number found here is routed to us already.
 */
async function purchaseOrRecover(carrier: Carrier, phoneNumber: string, voiceUrl: string): Promise<CarrierNumber> {
  try {
    return await carrier.purchaseNumber(phoneNumber, voiceUrl);
  } catch (error) {
    if (!(error instanceof CarrierError) || error.code !== "provider_error") throw error;
    // A failing lookup tells the client less than the purchase's own failure, which is rethrown.
    const held = await carrier.findNumber(phoneNumber).catch(() => null);
    if (!held) throw error;
    return held;
  }
}

export const listNumbers: AppRouteHandler<typeof routes.listNumbers> = async (c) => {
  const { limit, offset, provider, agent_id, direction } = c.req.valid("query");
  const where: (SQL | undefined)[] = [];
  if (provider) where.push(eq(phoneNumbers.provider, provider));
  if (agent_id) {
    const inbound = eq(phoneNumbers.inboundAgentId, agent_id);
    const outbound = eq(phoneNumbers.outboundAgentId, agent_id);
    where.push(direction === "inbound" ? inbound : direction === "outbound" ? outbound : or(inbound, outbound));
  } else if (direction) {
    where.push(isNotNull(direction === "inbound" ? phoneNumbers.inboundAgentId : phoneNumbers.outboundAgentId));
  }
  const { rows, total } = await c.get("tenant").list(phoneNumbers, {
    where,
    orderBy: [desc(phoneNumbers.createdAt), desc(phoneNumbers.id)],
    limit,
    offset,
  });
  return okList(c, await numberViews(c, rows), { total, limit, offset });
};

export const getNumber: AppRouteHandler<typeof routes.getNumber> = async (c) => {
  const row = await c.get("tenant").get(phoneNumbers, c.req.valid("param").id, "Phone number");
  return ok(c, await numberView(c, row));
};

export const searchNumbers: AppRouteHandler<typeof routes.searchNumbers> = async (c) => {
  const body = c.req.valid("json");
  const { carrier } = chooseCarrier(c, body);
  const found = await carrier.searchAvailableNumbers({
    countryCode: body.country_code,
    numberType: body.phone_number_type,
    areaCode: body.area_code,
    locality: body.locality,
    administrativeArea: body.administrative_area,
    limit: searchWindow(body.page, body.page_size),
  });
  const { items, pagination } = paginateSearch(found.numbers, found.totalResults, body.page, body.page_size);
  return c.json({ data: items, meta: meta(c), pagination }, 200);
};

export const purchaseNumber: AppRouteHandler<typeof routes.purchaseNumber> = async (c) => {
  const body = c.req.valid("json");
  const { provider, credentials, carrier } = chooseCarrier(c, body);
  const row = await reserveNumber(c, {
    phoneNumber: body.phone_number,
    provider,
    ownership: "managed",
    friendlyName: body.friendly_name ?? null,
    credentialsEncrypted: credentials ? await sealCredentials(c.env, credentials) : null,
    sipServer: null,
  });
  const voiceUrl = carrierVoiceUrl(c.env.PUBLIC_BASE_URL, provider);
  const bought = await withReservation(c, row, () => purchaseOrRecover(carrier, body.phone_number, voiceUrl));
  return ok(c, await numberView(c, await completeReservation(c, row, bought)), 201);
};

export const importNumber: AppRouteHandler<typeof routes.importNumber> = async (c) => {
  const body = c.req.valid("json");
  const provider = body.provider_type;
  if (provider === "simulator" && !platformCarrierConfig(c.env).simulatorEnabled) {
    throw invalidField("provider_type", "simulator is not enabled on this deployment");
  }
  // The schema guarantees each provider's required fields are present.
  const credentials: CarrierCredentials | null =
    provider === "twilio"
      ? { kind: "twilio", account_sid: body.account_sid!, auth_token: body.auth_token! }
      : provider === "telnyx"
        ? { kind: "telnyx", api_key: body.api_key!, ...(body.public_key ? { public_key: body.public_key.trim() } : {}) }
        : provider === "custom_sip"
          ? { kind: "custom_sip", sip_username: body.sip_username!, sip_password: body.sip_password! }
          : null;
  const row = await reserveNumber(c, {
    phoneNumber: body.phone_number,
    provider,
    ownership: "byoc",
    friendlyName: body.friendly_name ?? null,
    credentialsEncrypted: credentials ? await sealCredentials(c.env, credentials) : null,
    sipServer: provider === "custom_sip" ? body.sip_server! : null,
  });
  const held = await withReservation(c, row, async () => {
    // A SIP trunk has no API to ask: its number is taken on the customer's word.
    if (provider === "custom_sip") return { providerNumberId: null, capabilities: ["voice"] };
    const carrier = carrierFor(c.env, provider, credentials);
    const found = await carrier.findNumber(body.phone_number);
    if (!found) throw invalidField("phone_number", `${body.phone_number} is not a number of this ${CARRIER_LABEL[provider]} account`);
    await carrier.configureInbound(found, carrierVoiceUrl(c.env.PUBLIC_BASE_URL, provider));
    return found;
  });
  return ok(c, await numberView(c, await completeReservation(c, row, held)), 201);
};

export const assignNumber: AppRouteHandler<typeof routes.assignNumber> = async (c) => {
  const { number_id, agent_id, assignment_type } = c.req.valid("json");
  const tenant = c.get("tenant");
  const number = await tenant.get(phoneNumbers, number_id, "Phone number");
  await tenant.get(agents, agent_id, "Agent");
  const now = nowIso(c);
  const change = assignment_type === "inbound" ? { inboundAgentId: agent_id } : { outboundAgentId: agent_id };
  const [saved] = await tenant.update(phoneNumbers, number.id, { ...change, updatedAt: now }).returning();
  return ok(c, { number: await numberView(c, saved), agent_id, assignment_type, assigned_at: now });
};

export const unassignNumber: AppRouteHandler<typeof routes.unassignNumber> = async (c) => {
  const { number_id, assignment_type } = c.req.valid("json");
  const tenant = c.get("tenant");
  const number = await tenant.get(phoneNumbers, number_id, "Phone number");
  const now = nowIso(c);
  const change = assignment_type === "inbound" ? { inboundAgentId: null } : { outboundAgentId: null };
  const [saved] = await tenant.update(phoneNumbers, number.id, { ...change, updatedAt: now }).returning();
  return ok(c, { number: await numberView(c, saved), agent_id: null, assignment_type, unassigned_at: now });
};

export const releaseNumber: AppRouteHandler<typeof routes.releaseNumber> = async (c) => {
  const tenant = c.get("tenant");
  const row = await tenant.get(phoneNumbers, c.req.valid("param").id, "Phone number");
  const managed = row.ownership === "managed";
  if (managed) {
    // Released at the carrier first: if that fails the row stays, so the number is not lost
    // from view while the carrier still bills for it, and the client can retry.
    const carrier = await carrierForNumber(c.env, row);
    await carrier?.releaseNumber({ phoneNumber: row.phoneNumber, providerNumberId: row.providerNumberId });
  }
  await tenant.delete(phoneNumbers, row.id);
  return ok(c, { id: row.id, phone_number: row.phoneNumber, deleted: true as const, released_at_provider: managed });
};

export const agentNumbers: AppRouteHandler<typeof routes.agentNumbers> = async (c) => {
  const { agent_id } = c.req.valid("param");
  const tenant = c.get("tenant");
  const agent = await tenant.get(agents, agent_id, "Agent");
  return ok(c, { agent_id: agent.id, ...(await numbersOfAgent(tenant, agent.id)) });
};

export const agentWebhookUrl: AppRouteHandler<typeof routes.agentWebhookUrl> = async (c) => {
  const agent = await c.get("tenant").get(agents, c.req.valid("param").agent_id, "Agent");
  return ok(c, { agent_id: agent.id, webhook_url: agentInboundWebhookUrl(c.env.PUBLIC_BASE_URL, agent.id) });
};
