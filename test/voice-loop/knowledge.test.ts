import { describe, expect, it } from "vitest";
import { manualClockPerTest } from "../helpers/clock";
import { addDocument, createKb, ready, utf8 } from "../knowledge-bases/helpers";
import { answeredCall, connectMedia, control, recorded, transcriptOf } from "./helpers";

const START = Date.UTC(2030, 1, 10, 15, 0, 0);
const clock = manualClockPerTest(START);

const RETURNS = "Returns are accepted within 45 days of delivery when the item is unused and in its original box.";
const SHIPPING = "Standard shipping takes three to five business days; express shipping arrives the next day.";

const chats = async (marker: string) => (await recorded("openai", { contains: marker })).filter((r) => r.path === "/v1/chat/completions");

describe("voice loop: knowledge bases", () => {
  it("puts what the agent's knowledge base says about the caller's question into the reply's prompt", async () => {
    const { org, callId, agentId, marker } = await answeredCall(clock, { greeting: "Hello {{first_name}}." });
    const kb = await createKb(org);
    const returns = await addDocument(org, kb.id, "Returns policy", "returns.txt", "text/plain", utf8(RETURNS));
    const shipping = await addDocument(org, kb.id, "Shipping", "shipping.md", "text/markdown", utf8(SHIPPING));
    await ready(org, kb.id, returns.id);
    await ready(org, kb.id, shipping.id);
    expect((await org.patch(`/agents/${agentId}`, { knowledge_bases: [kb.id] })).status).toBe(200);

    await control("/__fakes/deepgram/script", { tag: callId, lines: ["what is your returns policy for unused items"] });
    await control("/__fakes/openai/script", { match: marker, replies: [{ content: "You have 45 days to return it." }] });
    const twilio = await connectMedia(callId);
    await transcriptOf(callId, 1);
    await twilio.speak(1200);
    await twilio.silence(700);
    const turns = await transcriptOf(callId, 3);
    expect(turns[2]).toMatchObject({ speaker: "agent", text: "You have 45 days to return it." });

    const [chat] = await chats(marker);
    const messages = JSON.parse(chat.body).messages as { role: string; content: string }[];
    expect(messages.map((m) => m.role)).toEqual(["system", "system", "assistant", "user"]);
    expect(messages[1].content).toContain("[Returns policy]");
    expect(messages[1].content).toContain(RETURNS);
    // Only what matches the question: the shipping note shares no word with it.
    expect(messages[1].content).not.toContain(SHIPPING);
    twilio.stop();
    twilio.close();
  });

  it("adds nothing to the prompt when the knowledge base has nothing on the question", async () => {
    const { org, callId, agentId, marker } = await answeredCall(clock, { greeting: "Hello {{first_name}}." });
    const kb = await createKb(org);
    const shipping = await addDocument(org, kb.id, "Shipping", "shipping.md", "text/markdown", utf8(SHIPPING));
    await ready(org, kb.id, shipping.id);
    await org.patch(`/agents/${agentId}`, { knowledge_bases: [kb.id] });

    await control("/__fakes/deepgram/script", { tag: callId, lines: ["can I pay with a gift card"] });
    const twilio = await connectMedia(callId);
    await transcriptOf(callId, 1);
    await twilio.speak(1200);
    await twilio.silence(700);
    await transcriptOf(callId, 3);
    const [chat] = await chats(marker);
    expect(JSON.parse(chat.body).messages.map((m: { role: string }) => m.role)).toEqual(["system", "assistant", "user"]);
    twilio.stop();
    twilio.close();
  });
});
