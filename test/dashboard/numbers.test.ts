import { describe, expect, it } from "vitest";
import { CATALOGUE_VOICE_ID } from "../helpers/api";
import { manualClockPerTest } from "../helpers/clock";
import { newDashboard, textOf } from "./helpers";

manualClockPerTest(Date.UTC(2030, 3, 3, 12, 0, 0));

describe("dashboard: phone numbers", () => {
  it("searches and buys a number, then lists it", async () => {
    const { org, browser } = await newDashboard();
    expect(textOf((await browser.get("/app/numbers")).text)).toContain("No numbers yet.");

    const form = await browser.get("/app/numbers/buy");
    expect(form.status).toBe(200);
    expect(form.text).toContain('<label for="area_code">Area code (US and CA)</label>');
    const results = await browser.get("/app/numbers/buy?search=1&country_code=US&area_code=720&phone_number_type=local&provider=");
    expect(results.status).toBe(200);
    expect(textOf(results.text)).toContain("+17205550100 local");
    expect(results.text).toContain('<input type="hidden" name="phone_number" value="+17205550100"/>');

    const bought = await browser.post("/app/numbers/purchase", { phone_number: "+17205550100" });
    expect(bought.status).toBe(303);
    const [number] = (await org.get("/telephony/numbers")).body.data;
    expect(number).toMatchObject({ phone_number: "+17205550100", provider: "simulator", ownership: "managed" });
    expect(bought.location).toBe(`/app/numbers/${number.id}`);
    expect(textOf((await browser.get(bought.location!)).text)).toContain("Bought +17205550100.");
    const list = textOf((await browser.get("/app/numbers")).text);
    expect(list).toContain("+17205550100");
    expect(list).toContain("simulator (managed) Nobody Nobody");

    // Buying it again: the API's conflict, said on the buy page.
    await browser.post("/app/numbers/purchase", { phone_number: "+17205550100" });
    expect(textOf((await browser.get("/app/numbers/buy")).text)).toContain("Could not buy +17205550100");
  });

  it("explains a bad search in plain words", async () => {
    const { browser } = await newDashboard();
    const res = await browser.get("/app/numbers/buy?search=1&country_code=USA&area_code=&phone_number_type=local");
    expect(res.status).toBe(422);
    expect(textOf(res.text)).toContain("Some of the values need fixing.");
    expect(textOf(res.text)).toContain("country_code");
    expect(res.text).toMatch(/<input id="country_code"[^>]*aria-invalid="true"/);
  });

  it("imports a number and shows a validation error with the form kept, secrets left out", async () => {
    const { org, browser } = await newDashboard();
    const bad = await browser.post("/app/numbers/import", { phone_number: "+15550004444", provider_type: "twilio", friendly_name: "Support", auth_token: "s3cret-token" });
    expect(bad.status).toBe(422);
    expect(textOf(bad.text)).toContain("account_sid");
    expect(bad.text).toContain('value="Support"');
    expect(bad.text).not.toContain("s3cret-token");

    const ok = await browser.post("/app/numbers/import", { phone_number: "+15550004444", provider_type: "simulator", friendly_name: "Support" });
    expect(ok.status).toBe(303);
    const [number] = (await org.get("/telephony/numbers")).body.data;
    expect(number).toMatchObject({ phone_number: "+15550004444", friendly_name: "Support", ownership: "byoc" });
  });

  it("assigns agents per direction from the number page, and removes them", async () => {
    const { org, browser } = await newDashboard();
    const agent = (await org.post("/agents", { name: "Receptionist", voice_id: CATALOGUE_VOICE_ID, system_prompt: "x" })).body.data;
    const number = (await org.post("/telephony/numbers/purchase", { phone_number: "+17215550100" })).body.data;
    const page = await browser.get(`/app/numbers/${number.id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain(`<option value="${agent.id}">Receptionist</option>`);

    expect((await browser.post(`/app/numbers/${number.id}/assign`, { assignment_type: "inbound", inbound_agent_id: agent.id })).status).toBe(303);
    expect((await org.get(`/telephony/numbers/${number.id}`)).body.data).toMatchObject({ inbound_agent_id: agent.id, outbound_agent_id: null });
    const after = await browser.get(`/app/numbers/${number.id}`);
    expect(textOf(after.text)).toContain("Agent assigned.");
    expect(after.text).toContain(`<option value="${agent.id}" selected`);
    expect(textOf((await browser.get("/app/numbers")).text)).toContain("+17215550100 — simulator (managed) Receptionist Nobody");

    await browser.post(`/app/numbers/${number.id}/assign`, { assignment_type: "inbound", inbound_agent_id: "" });
    expect((await org.get(`/telephony/numbers/${number.id}`)).body.data.inbound_agent_id).toBeNull();
    // An unknown agent: the API's words.
    const unknown = await browser.post(`/app/numbers/${number.id}/assign`, { assignment_type: "outbound", outbound_agent_id: "0193a5b2-7c1e-7d2a-9f10-2b3c4d5e6f71" });
    expect(unknown.status).toBe(303);
    expect(textOf((await browser.get(unknown.location!)).text)).toContain("Agent 0193a5b2-7c1e-7d2a-9f10-2b3c4d5e6f71 not found");
  });

  it("releases a number after confirmation", async () => {
    const { org, browser } = await newDashboard();
    const number = (await org.post("/telephony/numbers/purchase", { phone_number: "+17225550100" })).body.data;
    const confirm = await browser.get(`/app/numbers/${number.id}/release`);
    expect(textOf(confirm.text)).toContain("Release +17225550100?");
    expect((await org.get("/telephony/numbers")).body.data).toHaveLength(1);
    const res = await browser.post(`/app/numbers/${number.id}/release`);
    expect(res.status).toBe(303);
    expect((await org.get("/telephony/numbers")).body.data).toHaveLength(0);
  });

  it("answers 404 for another organization's number on every number page", async () => {
    const owner = await newDashboard("Owner");
    const { org: intruderOrg, browser: intruder } = await newDashboard("Intruder");
    const number = (await owner.org.post("/telephony/numbers/purchase", { phone_number: "+17235550100" })).body.data;
    const intruderAgent = (await intruderOrg.post("/agents", { name: "Thief", voice_id: CATALOGUE_VOICE_ID, system_prompt: "x" })).body.data;
    for (const path of [`/app/numbers/${number.id}`, `/app/numbers/${number.id}/release`]) {
      const res = await intruder.get(path);
      expect(res.status, path).toBe(404);
      expect(res.text).not.toContain("+17235550100");
    }
    expect((await intruder.post(`/app/numbers/${number.id}/assign`, { assignment_type: "inbound", inbound_agent_id: intruderAgent.id })).status).toBe(404);
    expect((await intruder.post(`/app/numbers/${number.id}/release`)).status).toBe(404);
    expect((await owner.org.get(`/telephony/numbers/${number.id}`)).body.data).toMatchObject({ inbound_agent_id: null });
  });
});
