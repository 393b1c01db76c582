import { describe, expect, it } from "vitest";
import { classifyVoicemailGreeting, normaliseUtterance } from "../../src/domain/voicemail";

describe("voicemail greeting classifier", () => {
  it.each([
    "Hi, you've reached Ana. I'm not available right now, please leave a message after the tone.",
    "Please leave your message at the beep.",
    "The person you are calling is not available. Please record your message after the tone.",
    "You have reached the voicemail of John Smith.",
    "Hey it's Mike, can't take your call right now, leave me a message and I'll call you back.",
    "Your call has been forwarded to an automatic voice message system. 4 1 5 5 5 5 0 0 0 4 is not available.",
    "The mailbox is full and cannot accept any messages at this time. Goodbye.",
    "Sorry I missed you! Leave a brief message.",
    "Hi, this is Dr. Lee's office. We are closed. You can leave us a voicemail and we will return your call.",
    "This is Sam's voicemail.",
    "Thank you for calling. Nobody is available to take your call. At the tone, please record your message.",
    "You’ve reached Bright Smile Dental. We’re currently unavailable; please leave your name and number.",
  ])("recognises %j", (greeting) => {
    const verdict = classifyVoicemailGreeting(greeting);
    expect(verdict.voicemail).toBe(true);
    expect(verdict.cues.length).toBeGreaterThan(0);
  });

  it.each([
    "Hello?",
    "Yes, speaking.",
    "Hi, this is Ana, who's calling?",
    "Hello, you've reached Bright Smile Dental, how can I help you?",
    "I'm not available on Tuesday, can we do Wednesday instead?",
    "Did you leave a message yesterday? I didn't get it.",
    "Oh hi, I got your voicemail.",
    "Sure, I can take your call now.",
    "",
    "   ",
  ])("does not take %j for a machine", (words) => {
    expect(classifyVoicemailGreeting(words).voicemail).toBe(false);
  });

  it("needs two weak cues, or one in a long monologue", () => {
    expect(classifyVoicemailGreeting("I'm not available").voicemail).toBe(false);
    expect(classifyVoicemailGreeting("You've reached Ana, I'm not available").voicemail).toBe(true);
    const monologue = "Hi there this is Ana from the bakery on Main Street and I am not available at the moment so try again later in the week thanks";
    const verdict = classifyVoicemailGreeting(monologue);
    expect(verdict).toEqual({ voicemail: true, cues: ["not available", "long monologue"] });
  });

  it("normalises case, punctuation and apostrophes", () => {
    expect(normaliseUtterance("  Can’t  TAKE your call—sorry!  ")).toBe("can t take your call sorry");
  });
});
