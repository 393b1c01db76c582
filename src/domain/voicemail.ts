/**
 * Voicemail (answering machine) rules, free of I/O: the agent's `voicemail` setting and the
 * transcript classifier that recognises a voicemail greeting in what the callee says first.
 *
 * Two detectors feed the same handling (durable-objects/call.ts, src/voice/session.ts):
 * - the carrier's answering-machine detection (Twilio async AMD, Telnyx `call.machine.*`), which
 *   can also say when the machine's greeting ended (Twilio `machine_end_*` with
 *   `MachineDetection=DetectMessageEnd`, Telnyx `call.machine.greeting.ended`);
 * - `classifyVoicemailGreeting` on the first caller turns of an outbound call, for carriers or
 *   calls without AMD (and for AMD's misses).
 */

/** `hangup`: end the call at once; `leave_message`: wait for the beep, say `message`, then hang up. */
export const VOICEMAIL_ACTIONS = ["hangup", "leave_message"] as const;
export type VoicemailAction = (typeof VOICEMAIL_ACTIONS)[number];

/** The agent's `voicemail` setting as stored (null on the agent: no voicemail handling). */
export interface VoicemailSettings {
  action: VoicemailAction;
  /** Said after the beep with `leave_message`; `{{variables}}` are filled from the call's. */
  message: string | null;
}

/** How many of the callee's first turns the classifier looks at: a greeting comes first. */
export const VOICEMAIL_CLASSIFIED_TURNS = 2;

/**
 * Silence (ms of caller audio with no voiced frame) that ends a machine's greeting when the
 * carrier does not say so itself: the pause after the beep. Longer than a sentence break,
 * shorter than Twilio's default MachineDetectionSpeechEndThreshold plus the beep.
 */
export const VOICEMAIL_SILENCE_MS = 1500;

/**
 * The longest we wait for the end of a machine's greeting before leaving the message anyway
 * (Twilio's MachineDetectionTimeout default), so a greeting that never ends cannot hold the line.
 */
export const VOICEMAIL_GREETING_TIMEOUT_MS = 30_000;

export interface VoicemailVerdict {
  voicemail: boolean;
  /** The cues found, for logs: each names what it matched. */
  cues: string[];
}

/** Cues that on their own say a machine is talking. */
const STRONG_CUES: [string, RegExp][] = [
  // "please leave a message", "you can leave me a brief message", not "did you leave a message?"
  ["leave a message", /(?<!\bdid you |\bdidn t you |\byou left |\bi left )\bleave (?:me |us )?(?:a |your )?(?:\w+ )?(?:message|voicemail)\b/],
  ["after the tone", /\b(?:after|at|following) the (?:tone|beep|signal)\b/],
  ["voicemail box", /\b(?:voice ?mail|message) ?box\b|\bmailbox\b|\b(?:reached|this is) (?:the )?voice ?mail\b|\bvoice ?mail (?:of|for)\b|\bs voice ?mail\b/],
  ["answering machine", /\banswering (?:machine|service)\b/],
  ["voice messaging system", /\b(?:voice|automated) messag(?:e|ing) (?:system|service)\b/],
  ["record your message", /\brecord (?:your|a) message\b|\bwhen you (?:are|re) finished recording\b/],
  ["cannot take the call", /\b(?:can t|cannot|can not|unable to|not able to) (?:take|answer|get to|come to) (?:your|the|this) (?:call|phone)\b/],
  ["not available to take your call", /\b(?:not|isn t|is not|aren t) (?:available|here) (?:to take|to answer|right now to take)\b/],
  ["the person you are calling", /\bthe (?:person|party|number|subscriber) you (?:are|re|have) (?:calling|called|dialed|dialled|trying to reach)\b/],
];

/** Cues that take a second one (or a long monologue) before they count: people say these too. */
const WEAK_CUES: [string, RegExp][] = [
  ["you have reached", /\byou (?:have|ve) reached\b/],
  ["not available", /\b(?:not|isn t|is not|aren t|am not|m not) available\b|\bunavailable\b/],
  ["voicemail", /\bvoice ?mail\b/],
  ["your name and number", /\b(?:your )?name(?:,)? (?:and )?(?:phone )?number\b/],
  ["call you back", /\b(?:call|get back to) you (?:back )?(?:as soon as|shortly|when)\b|\breturn your call\b/],
  ["press a key", /\bpress (?:pound|star|hash|the pound key|one|1|zero|0)\b/],
];

/** A greeting read out in one go runs long; people answering a call say a few words. */
const LONG_MONOLOGUE_WORDS = 18;

/** Lower case, apostrophes and punctuation as spaces ("can't" → "can t"), spaces collapsed. */
export function normaliseUtterance(text: string): string {
  return text
    .toLowerCase()
    .replace(/[’‘`]/g, "'")
    .replace(/[^a-z0-9' ]+/g, " ")
    .replace(/'/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}

/**
 * Whether what the callee said reads as a voicemail greeting: one strong cue ("leave a message",
 * "after the tone", "voicemail box", "can't take your call"…), or two weak ones ("you've reached",
 * "not available", "voicemail"…), or a weak one in a long monologue (a recorded greeting is read
 * out in one breath). A person's "Hello?" or "I'm not available on Tuesday" is not one.
 */
export function classifyVoicemailGreeting(text: string): VoicemailVerdict {
  const said = normaliseUtterance(text);
  if (!said) return { voicemail: false, cues: [] };
  const strong = STRONG_CUES.filter(([, re]) => re.test(said)).map(([name]) => name);
  const weak = WEAK_CUES.filter(([, re]) => re.test(said)).map(([name]) => name);
  const words = said.split(" ").length;
  const cues = [...strong, ...weak];
  const voicemail = strong.length > 0 || weak.length >= 2 || (weak.length === 1 && words >= LONG_MONOLOGUE_WORDS);
  return { voicemail, cues: words >= LONG_MONOLOGUE_WORDS && weak.length > 0 ? [...cues, "long monologue"] : cues };
}
