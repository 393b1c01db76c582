import { describe, expect, it } from "vitest";
import { newOrg } from "../helpers/api";
import { insertAgent, renameAgent } from "./helpers";

async function orgWithNumber(phoneNumber: string) {
  const org = await newOrg();
  const bought = await org.post("/telephony/numbers/purchase", { phone_number: phoneNumber });
  expect(bought.status).toBe(201);
  return { org, numberId: bought.body.data.id as string };
}

describe("assigning numbers to agents", () => {
  it("assigns one agent per direction and replaces it on reassignment", async () => {
    const { org, numberId } = await orgWithNumber("+16305550101");
    const reception = await insertAgent(org.orgId, "Reception");
    const sales = await insertAgent(org.orgId, "Sales");

    const inbound = await org.post("/telephony/numbers/assign", { number_id: numberId, agent_id: reception, assignment_type: "inbound" });
    expect(inbound.status).toBe(200);
    expect(inbound.body.data).toMatchObject({ agent_id: reception, assignment_type: "inbound", assigned_at: expect.any(String) });
    expect(inbound.body.data.number).toMatchObject({
      id: numberId,
      inbound_agent_id: reception,
      inbound_agent: { id: reception, name: "Reception" },
      outbound_agent_id: null,
      outbound_agent: null,
    });

    await org.post("/telephony/numbers/assign", { number_id: numberId, agent_id: sales, assignment_type: "outbound" });
    const replaced = await org.post("/telephony/numbers/assign", { number_id: numberId, agent_id: sales, assignment_type: "inbound" });
    expect(replaced.body.data.number).toMatchObject({
      inbound_agent: { id: sales, name: "Sales" },
      outbound_agent: { id: sales, name: "Sales" },
    });
    const fetched = await org.get(`/telephony/numbers/${numberId}`);
    expect(fetched.body.data).toEqual(replaced.body.data.number);
    expect((await org.get(`/telephony/agents/${reception}/numbers`)).body.data).toEqual({ agent_id: reception, inbound: [], outbound: [] });
  });

  it("unassigns one direction and leaves the other", async () => {
    const { org, numberId } = await orgWithNumber("+16305550102");
    const agent = await insertAgent(org.orgId);
    for (const assignment_type of ["inbound", "outbound"]) {
      await org.post("/telephony/numbers/assign", { number_id: numberId, agent_id: agent, assignment_type });
    }
    const res = await org.post("/telephony/numbers/unassign", { number_id: numberId, assignment_type: "inbound" });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ agent_id: null, assignment_type: "inbound", unassigned_at: expect.any(String) });
    expect(res.body.data.number).toMatchObject({ inbound_agent_id: null, inbound_agent: null, outbound_agent_id: agent });
    const again = await org.post("/telephony/numbers/unassign", { number_id: numberId, assignment_type: "inbound" });
    expect(again.status).toBe(200);
    expect(again.body.data.number.outbound_agent_id).toBe(agent);
  });

  it("lists an agent's numbers by direction, and filters the number list by agent and direction", async () => {
    const org = await newOrg();
    const agent = await insertAgent(org.orgId);
    const ids: string[] = [];
    for (const phone_number of ["+16305550103", "+16305550104", "+16305550105"]) {
      ids.push((await org.post("/telephony/numbers/purchase", { phone_number })).body.data.id);
    }
    await org.post("/telephony/numbers/assign", { number_id: ids[0], agent_id: agent, assignment_type: "inbound" });
    await org.post("/telephony/numbers/assign", { number_id: ids[1], agent_id: agent, assignment_type: "outbound" });
    await org.post("/telephony/numbers/assign", { number_id: ids[0], agent_id: agent, assignment_type: "outbound" });

    const numbers = await org.get(`/telephony/agents/${agent}/numbers`);
    expect(numbers.status).toBe(200);
    expect(numbers.body.data).toEqual({
      agent_id: agent,
      inbound: [{ id: ids[0], phone_number: "+16305550103" }],
      outbound: [
        { id: ids[0], phone_number: "+16305550103" },
        { id: ids[1], phone_number: "+16305550104" },
      ],
    });

    const phones = async (query: string) =>
      (await org.get(`/telephony/numbers?${query}`)).body.data.map((n: { phone_number: string }) => n.phone_number).sort();
    expect(await phones(`agent_id=${agent}`)).toEqual(["+16305550103", "+16305550104"]);
    expect(await phones(`agent_id=${agent}&direction=inbound`)).toEqual(["+16305550103"]);
    expect(await phones("direction=outbound")).toEqual(["+16305550103", "+16305550104"]);
    expect(await phones("direction=inbound")).toEqual(["+16305550103"]);
  });

  it("answers bad assignment input with a 422 naming the field, and unknown ids with 404", async () => {
    const { org, numberId } = await orgWithNumber("+16305550106");
    const agent = await insertAgent(org.orgId);
    const cases: [Record<string, unknown>, string][] = [
      [{ number_id: numberId, agent_id: agent, assignment_type: "both" }, "assignment_type"],
      [{ number_id: numberId, agent_id: agent }, "assignment_type"],
      [{ number_id: "not-a-uuid", agent_id: agent, assignment_type: "inbound" }, "number_id"],
      [{ number_id: numberId, agent_id: 42, assignment_type: "inbound" }, "agent_id"],
    ];
    for (const [body, field] of cases) {
      const res = await org.post("/telephony/numbers/assign", body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.error.details.field, JSON.stringify(body)).toBe(field);
    }
    const missing = crypto.randomUUID();
    const noAgent = await org.post("/telephony/numbers/assign", { number_id: numberId, agent_id: missing, assignment_type: "inbound" });
    expect(noAgent.status).toBe(404);
    expect(noAgent.body.error.message).toContain("Agent");
    const noNumber = await org.post("/telephony/numbers/assign", { number_id: missing, agent_id: agent, assignment_type: "inbound" });
    expect(noNumber.status).toBe(404);
    expect(noNumber.body.error.message).toContain("Phone number");
    expect((await org.post("/telephony/numbers/unassign", { number_id: missing, assignment_type: "inbound" })).status).toBe(404);
    expect((await org.get(`/telephony/agents/${missing}/numbers`)).status).toBe(404);
    expect((await org.get(`/telephony/numbers/${missing}`)).status).toBe(404);
    expect((await org.delete(`/telephony/numbers/${missing}`)).status).toBe(404);
  });

  it("releasing an assigned number removes it from the agent", async () => {
    const { org, numberId } = await orgWithNumber("+16305550107");
    const agent = await insertAgent(org.orgId);
    await org.post("/telephony/numbers/assign", { number_id: numberId, agent_id: agent, assignment_type: "outbound" });
    expect((await org.delete(`/telephony/numbers/${numberId}`)).status).toBe(200);
    expect((await org.get(`/telephony/agents/${agent}/numbers`)).body.data.outbound).toEqual([]);
  });
});

describe("agent inbound webhook URL", () => {
  it("is derived from PUBLIC_BASE_URL and the agent id, and survives agent updates", async () => {
    const org = await newOrg();
    const agent = await insertAgent(org.orgId, "Before");
    const before = await org.get(`/telephony/agents/${agent}/webhook-url`);
    expect(before.status).toBe(200);
    expect(before.body.data).toEqual({ agent_id: agent, webhook_url: `https://truedy.test/telephony/inbound/${agent}` });
    await renameAgent(agent, "After");
    const after = await org.get(`/telephony/agents/${agent}/webhook-url`);
    expect(after.body.data).toEqual(before.body.data);
    expect((await org.get(`/telephony/agents/${crypto.randomUUID()}/webhook-url`)).status).toBe(404);
  });
});
