import type { Fake } from "./server";

/** Fake of the elevenlabs API (filled in with the real wire protocol). */
export const elevenlabsFake: Fake = {
  service: "elevenlabs",
  handle: () => undefined,
};
