declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    /** Base URL of the fakes server (test/fakes), for inspecting what it received. */
    FAKES_CONTROL_URL: string;
  }
}
