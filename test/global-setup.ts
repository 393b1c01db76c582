import type { TestProject } from "vitest/node";
import { startFakes } from "./fakes/server";
import { TELNYX_PUBLIC_KEY } from "./fakes/telnyx";

/** Starts the fakes of external services on 127.0.0.1 for the whole run. */
export default async function setup(project: TestProject) {
  const fakes = await startFakes();
  project.provide("fakesBaseUrl", fakes.baseUrl);
  // The worker verifies Telnyx webhooks against the key the fake Telnyx account signs with.
  project.provide("telnyxPublicKey", TELNYX_PUBLIC_KEY);
  return async () => fakes.close();
}
