/** The TwiML documents we answer Twilio with. */

const XML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };

export function escapeXml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => XML_ESCAPES[char] ?? char);
}

const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

/** What a caller hears when the number they dialled has no agent to take the call. */
export const UNAVAILABLE_MESSAGE = "Sorry, this number is not taking calls right now. Please try again later. Goodbye.";

/**
 * Connects the call to its bidirectional media stream. `<Connect>` blocks until our side closes
 * the socket, and with nothing after it the call then ends. The stream URL cannot carry a query
 * string, so the call id also travels as a `<Parameter>` (it arrives in `start.customParameters`).
 */
export function connectStreamTwiml(streamUrl: string, callId: string): string {
  return (
    `${DECLARATION}<Response><Connect><Stream url="${escapeXml(streamUrl)}">` +
    `<Parameter name="callId" value="${escapeXml(callId)}"/></Stream></Connect></Response>`
  );
}

export function unavailableTwiml(): string {
  return `${DECLARATION}<Response><Say>${escapeXml(UNAVAILABLE_MESSAGE)}</Say><Hangup/></Response>`;
}

/** For a call that is over on our side (or never was ours) by the time Twilio asks what to do. */
export function hangupTwiml(): string {
  return `${DECLARATION}<Response><Hangup/></Response>`;
}
