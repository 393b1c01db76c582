import { inject } from "vitest";
import { TwilioMediaStream, type TwilioStreamEvent } from "../../bench/twilio-caller.mjs";
import { FRAME_MS, silenceFrame, speechFrames } from "../../bench/voice-audio.mjs";
import type { AnsweredCall } from "../../bench/voice-fakes.mjs";
import { TWILIO_ACCOUNT_SID } from "./config";
import { eventually } from "./helpers";

/**
 * One real phone conversation, played the way bench/voice.mjs plays it: the call is placed through
 * the API, the fake Twilio answers and fetches the TwiML (global-setup.ts's control server tells
 * us its stream URL), and this caller opens the signed media stream, hears the agent's greeting,
 * says one sentence (the fake Deepgram transcribes any speech as bench/voice-fakes.mjs's
 * TRANSCRIPT) and hears the reply (REPLY), then hangs up.
 */

const SILENCE = silenceFrame().toString("base64");
/** 600 ms of "speech": loud enough for the fake STT's energy test. */
const UTTERANCE = speechFrames(600 / FRAME_MS).map((frame) => frame.toString("base64"));

class ScriptedCaller extends TwilioMediaStream {
  /** Marks the agent sent (one per clause it spoke), each echoed at once as if played. */
  marks = 0;
  framesHeard = 0;
  private queue: string[] = [];
  private timer: NodeJS.Timeout | undefined;

  onEvent(message: TwilioStreamEvent) {
    if (message.event === "media") this.framesHeard++;
    else if (message.event === "mark") {
      this.marks++;
      this.sendMark(message.mark?.name);
    } else if (message.event === "clear") this.errors.push("a clear: the agent was interrupted, but nobody spoke over it");
  }

  onClose() {
    clearInterval(this.timer);
  }

  /** `connected` and `start`, then a frame every 20 ms: what was queued, else silence. */
  begin() {
    this.sendStart();
    this.timer = setInterval(() => this.sendMedia(this.queue.shift() ?? SILENCE), FRAME_MS);
  }

  say(frames: string[]) {
    this.queue.push(...frames);
  }

  async hangUp() {
    clearInterval(this.timer);
    await this.stop();
  }
}

async function control(method: string, path: string): Promise<any> {
  const res = await fetch(`${inject("controlUrl")}${path}`, { method });
  const body = await res.json();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/**
 * Talks through call `callId` (already placed): greeting, one caller sentence, the agent's
 * two-clause reply, then the caller hangs up and Twilio reports the call completed.
 */
export async function holdConversation(callId: string): Promise<void> {
  const answered: AnsweredCall = await control("GET", `/answered/${callId}`);
  const caller = new ScriptedCaller({
    url: answered.streamUrl,
    authToken: inject("twilioAuthToken"),
    accountSid: TWILIO_ACCOUNT_SID,
    callSid: answered.callSid,
    customParameters: answered.parameters,
  });
  await caller.opened;
  const started = Date.now();
  try {
    caller.begin();
    await eventually("the agent's greeting", async () => (caller.marks >= 1 ? true : undefined), 20_000);
    caller.say(UTTERANCE);
    // The reply is two clauses, a mark each.
    await eventually("the agent's reply", async () => (caller.marks >= 3 ? true : undefined), 20_000);
    if (caller.closedBy) throw new Error(`the platform closed the media stream: ${JSON.stringify(caller.closedBy)}`);
    if (caller.errors.length) throw new Error(`the caller saw: ${caller.errors.join("; ")}`);
    const { failure } = await control("GET", "/failure");
    if (failure) throw new Error(`a fake failed: ${failure}`);
  } finally {
    await caller.hangUp();
    await control("POST", `/complete/${callId}?seconds=${Math.max(1, Math.round((Date.now() - started) / 1000))}`);
  }
}
