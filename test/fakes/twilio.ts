import type { Fake } from "./server";

/** Fake of the twilio API (filled in with the real wire protocol). */
export const twilioFake: Fake = {
  service: "twilio",
  handle: () => undefined,
};
