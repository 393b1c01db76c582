import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPLY, TRANSCRIPT } from "../../bench/voice-fakes.mjs";
import { api, capture, connectBrowser, eventually, expectCleanConsole, giveOutboundNumber, newPage, signIn } from "./helpers";
import { holdConversation } from "./phone-call";

// Scenario e: open a call and read its transcript. Simulator calls say nothing, so this one is a
// real conversation over Twilio Media Streams with the instant fakes (see phone-call.ts).
describe("a call's transcript", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await connectBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("shows the agent's and the contact's turns of a finished call", async () => {
    const agent = await api<{ id: string; name: string }>("POST", "/agents", {
      name: "Transcript agent",
      voice_id: "01900000-0000-7000-8000-000000000001",
      system_prompt: "You are Maya, a receptionist. The caller is {{first_name}}.",
      greeting: "Hello {{first_name}}, this is Maya.",
      inactivity_timeout: 60,
      stt: { provider: "deepgram", model: "nova-3", endpointing_ms: 10 },
    });
    // A number on the platform's Twilio account (the fake sells it), the agent's caller ID.
    await giveOutboundNumber(agent.id, "+14155550150", "twilio");
    const placed = await api<{ id: string }>("POST", "/calls", { agent_id: agent.id, phone_number: "+16285551050", variables: { first_name: "Ana" } });
    await holdConversation(placed.id);
    const ended = await eventually("the call to end", async () => {
      const call = await api<{ status: string; end_reason: string }>("GET", `/calls/${placed.id}`);
      return call.status === "completed" ? call : undefined;
    });
    expect(ended.end_reason).toBe("hangup_by_contact");

    const page = await newPage(browser);
    await signIn(page);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Calls" }).click();
    await page.waitForURL("**/app/calls");
    await capture(page, "call-transcript", "list");
    const row = page.getByRole("row").filter({ hasText: "+16285551050" });
    expect(await row.innerText()).toContain("Transcript agent");
    await row.getByRole("link").first().click();
    await page.waitForURL(`**/app/calls/${placed.id}`);
    await capture(page, "call-transcript", "detail");

    const transcript = page.getByRole("region", { name: "Transcript" });
    // Each turn: who spoke, when, and what was said, in the order they were spoken.
    const turns = await transcript.getByRole("listitem").evaluateAll((items) =>
      items.map((li: any) => ({ speaker: li.querySelector(".speaker")?.textContent.trim(), text: li.querySelector("p")?.textContent.trim() })),
    );
    expect(turns).toEqual([
      { speaker: "Agent", text: "Hello Ana, this is Maya." },
      { speaker: "Contact", text: `${TRANSCRIPT}.` },
      { speaker: "Agent", text: REPLY.join("").trim() },
    ]);
    // The page shows the API's transcript, not its own version of it.
    const fromApi = await api<{ turns: { speaker: string; text: string }[] }>("GET", `/calls/${placed.id}/transcript`);
    expect(fromApi.turns.map((t) => t.speaker)).toEqual(["agent", "contact", "agent"]);
    expect(fromApi.turns.map((t) => t.text)).toEqual(turns.map((t) => t.text));
    expectCleanConsole(page);
    await page.context().close();
  });
});
