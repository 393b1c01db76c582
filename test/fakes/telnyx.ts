import type { Fake } from "./server";

/** Fake of the telnyx API (filled in with the real wire protocol). */
export const telnyxFake: Fake = {
  service: "telnyx",
  handle: () => undefined,
};
