import type { TestProject } from "vitest/node";
import { startFakes } from "./fakes/server";

/** Starts the fakes of external services on 127.0.0.1 for the whole run. */
export default async function setup(project: TestProject) {
  const fakes = await startFakes();
  project.provide("fakesBaseUrl", fakes.baseUrl);
  return async () => fakes.close();
}
