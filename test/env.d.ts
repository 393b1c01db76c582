declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    /** Base URL of the fakes server (test/fakes), for inspecting what it received. */
    FAKES_CONTROL_URL: string;
    /** Contract fuzzing (test/fuzz): the seed and random requests per operation; "" = defaults. */
    FUZZ_SEED: string;
    FUZZ_RUNS: string;
  }
}
