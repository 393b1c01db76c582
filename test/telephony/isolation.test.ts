import { describe, expect, it } from "vitest";
import { newOrg } from "../helpers/api";
import { insertAgent } from "./helpers";

let nextLine = 100;

/** Org A's number and agent, and org B with its own of each, to try every cross-org path. */
async function twoOrgs() {
  const a = await newOrg("A");
  const b = await newOrg("B");
  const buy = async (org: typeof a) =>
    (await org.post("/telephony/numbers/purchase", { phone_number: `+1773555${String(++nextLine).padStart(4, "0")}` })).body.data.id as string;
  const numberA = await buy(a);
  const numberB = await buy(b);
  const agentA = await insertAgent(a.orgId, "A's agent");
  const agentB = await insertAgent(b.orgId, "B's agent");
  await a.post("/telephony/numbers/assign", { number_id: numberA, agent_id: agentA, assignment_type: "inbound" });
  return { a, b, numberA, numberB, agentA, agentB };
}

describe("another organization's numbers and agents are 404", () => {
  it("on every /{id} route", async () => {
    const { a, b, numberA, agentA } = await twoOrgs();
    for (const res of [
      await b.get(`/telephony/numbers/${numberA}`),
      await b.delete(`/telephony/numbers/${numberA}`),
      await b.get(`/telephony/agents/${agentA}/numbers`),
      await b.get(`/telephony/agents/${agentA}/webhook-url`),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe("not_found");
    }
    const still = await a.get(`/telephony/numbers/${numberA}`);
    expect(still.status).toBe(200);
    expect(still.body.data.inbound_agent_id).toBe(agentA);
  });

  it("for number_id and agent_id inside bodies, changing nothing", async () => {
    const { a, b, numberA, numberB, agentA, agentB } = await twoOrgs();
    const attempts = [
      await b.post("/telephony/numbers/assign", { number_id: numberA, agent_id: agentB, assignment_type: "outbound" }),
      await b.post("/telephony/numbers/assign", { number_id: numberB, agent_id: agentA, assignment_type: "outbound" }),
      await b.post("/telephony/numbers/unassign", { number_id: numberA, assignment_type: "inbound" }),
    ];
    for (const res of attempts) {
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe("not_found");
    }
    const numberOfA = (await a.get(`/telephony/numbers/${numberA}`)).body.data;
    expect(numberOfA).toMatchObject({ inbound_agent_id: agentA, outbound_agent_id: null });
    expect((await b.get(`/telephony/numbers/${numberB}`)).body.data.outbound_agent_id).toBeNull();
  });

  it("and never appear in another organization's lists", async () => {
    const { b, numberB, agentA } = await twoOrgs();
    expect((await b.get("/telephony/numbers")).body.data.map((n: { id: string }) => n.id)).toEqual([numberB]);
    expect((await b.get(`/telephony/numbers?agent_id=${agentA}`)).body.data).toEqual([]);
  });
});
