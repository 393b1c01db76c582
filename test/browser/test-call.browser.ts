import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, capture, connectBrowser, eventually, expectCleanConsole, newPage, signIn } from "./helpers";

// Scenario g: the agent page's test call, with Chromium's fake microphone (a beep the fake
// Deepgram hears as speech): it connects, shows the live state, takes keypad keys, and Hang up
// ends the call.
describe("test call from the agent page", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await connectBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("connects through the microphone, goes live, takes keypad keys, and hangs up", async () => {
    const agent = await api<{ id: string; name: string }>("POST", "/agents", {
      name: "Test call agent",
      voice_id: "01900000-0000-7000-8000-000000000001",
      system_prompt: "You are Maya, a receptionist.",
      greeting: "Hello, this is Maya.",
      inactivity_timeout: 60,
      stt: { provider: "deepgram", model: "nova-3", endpointing_ms: 10 },
    });
    const page = await newPage(browser);
    await signIn(page);
    await page.goto(`/app/agents/${agent.id}`);
    const section = page.getByRole("region", { name: "Test call" });
    const status = section.getByRole("status");
    expect(await status.innerText()).toBe("Not connected.");
    await capture(page, "test-call", "agent");

    await section.getByRole("button", { name: "Start test call" }).click();
    await page.waitForFunction(() => (globalThis as any).document.getElementById("test-call-status")?.textContent === "Live: talk to the agent.", null, { timeout: 20_000 });
    const hangUp = section.getByRole("button", { name: "Hang up" });
    expect(await hangUp.isVisible()).toBe(true);
    expect(await section.getByRole("button", { name: "Start test call" }).isVisible()).toBe(false);
    // Live on the server too: the browser's socket answered the web call.
    const calls = await api<{ id: string; status: string; direction: string }[]>("GET", `/calls?agent_id=${agent.id}`);
    expect(calls.map((c) => [c.direction, c.status])).toEqual([["webrtc", "in_progress"]]);
    // The agent's greeting reaches the browser and is played: its mark comes back to the server,
    // which then records the greeting as said.
    await eventually("the greeting to be played", async () => {
      const { turns } = await api<{ turns: { speaker: string; text: string }[] }>("GET", `/calls/${calls[0].id}/transcript`);
      return turns.some((t) => t.speaker === "agent" && t.text === "Hello, this is Maya.") ? true : undefined;
    }, 60_000);
    await capture(page, "test-call", "live");

    // The keypad, shown while live: its keys reach the agent as the caller's entry.
    const keypad = section.getByRole("group", { name: "Keypad" });
    expect(await keypad.isVisible()).toBe(true);
    await keypad.getByRole("button", { name: "Key 5" }).click();
    await keypad.getByRole("button", { name: "Key pound" }).click();
    await eventually("the keypad entry in the transcript", async () => {
      const { turns } = await api<{ turns: { speaker: string; text: string }[] }>("GET", `/calls/${calls[0].id}/transcript`);
      return turns.some((t) => t.speaker === "contact" && t.text === "[keypad: 5#]") ? true : undefined;
    });

    await hangUp.click();
    await page.waitForFunction(() => /^Ended: /.test((globalThis as any).document.getElementById("test-call-status")?.textContent ?? ""), null, { timeout: 10_000 });
    const ended = await eventually("the call to end", async () => {
      const call = await api<{ status: string; end_reason: string }>("GET", `/calls/${calls[0].id}`);
      return call.status === "completed" ? call : undefined;
    });
    expect(ended.end_reason).toBe("hangup_by_contact");
    expect(await status.innerText()).toBe("Ended: hangup by contact.");
    expect(await section.getByRole("button", { name: "Start test call" }).isVisible()).toBe(true);
    expect(await keypad.isVisible()).toBe(false);
    await capture(page, "test-call", "ended");
    expectCleanConsole(page);
    await page.context().close();
  });
});
