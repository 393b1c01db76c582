/** The TwiML documents we answer Twilio with. */

const XML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };

export function escapeXml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => XML_ESCAPES[char] ?? char);
}

const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

/** What a caller hears when the number they dialled has no agent to take the call. */
export const UNAVAILABLE_MESSAGE = "Sorry, this number is not taking calls right now. Please try again later. Goodbye.";

/**
 * Connects the call to its bidirectional media stream. The stream URL cannot carry a query
 * string, so the call id also travels as a `<Parameter>` (it arrives in `start.customParameters`).
 * `<Connect>` blocks until the socket closes; Twilio then runs the next verb, a `<Redirect>` to
 * our reconnect route: a stream dropped by a deploy or a network fault is connected again and the
 * call's object resumes the conversation, while a call that is over gets `<Hangup/>` there.
 */
export function connectStreamTwiml(urls: { media: string; reconnect: string }, callId: string): string {
  return `${DECLARATION}<Response>${connectStreamVerbs(urls, callId)}</Response>`;
}

function connectStreamVerbs(urls: { media: string; reconnect: string }, callId: string): string {
  return (
    `<Connect><Stream url="${escapeXml(urls.media)}">` +
    `<Parameter name="callId" value="${escapeXml(callId)}"/></Stream></Connect>` +
    `<Redirect method="POST">${escapeXml(urls.reconnect)}</Redirect>`
  );
}

/**
 * Presses keys on the call (the agent's send_dtmf), then connects a new media stream that resumes
 * the conversation. Twilio's `digits` know `w` (half a second); our `W` (a second) is `ww`.
 */
export function playDigitsTwiml(digits: string, urls: { media: string; reconnect: string }, callId: string): string {
  const twilioDigits = digits.replace(/W/g, "ww");
  return `${DECLARATION}<Response><Play digits="${escapeXml(twilioDigits)}"/>${connectStreamVerbs(urls, callId)}</Response>`;
}

/** Connects the callee to a number or SIP address (the agent's transfer_call); the call ends when that leg does. */
export function transferTwiml(to: string, callerId: string): string {
  const target = /^sips?:/i.test(to) ? `<Sip>${escapeXml(to)}</Sip>` : `<Number>${escapeXml(to)}</Number>`;
  return `${DECLARATION}<Response><Dial callerId="${escapeXml(callerId)}">${target}</Dial></Response>`;
}

export function unavailableTwiml(): string {
  return `${DECLARATION}<Response><Say>${escapeXml(UNAVAILABLE_MESSAGE)}</Say><Hangup/></Response>`;
}

/** For a call that is over on our side (or never was ours) by the time Twilio asks what to do. */
export function hangupTwiml(): string {
  return `${DECLARATION}<Response><Hangup/></Response>`;
}
