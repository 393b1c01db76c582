import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  return {
    plugins: [
      cloudflareTest(async ({ inject }) => ({
        main: "./src/index.ts",
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            ADMIN_TOKEN: "test-admin-token",
            // base64 of 32 zero bytes: fine for tests, never for a deployment.
            ENCRYPTION_KEY: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            SIMULATOR_ENABLED: "true",
            SIMULATOR_CALL_SECONDS: "30",
            PUBLIC_BASE_URL: "https://truedy.test",
            // Every external service points at the fakes started in test/global-setup.ts.
            TWILIO_API_BASE_URL: inject("fakesBaseUrl"),
            TELNYX_API_BASE_URL: inject("fakesBaseUrl"),
            OPENAI_BASE_URL: `${inject("fakesBaseUrl")}/v1`,
            DEEPGRAM_API_BASE_URL: inject("fakesBaseUrl"),
            ELEVENLABS_API_BASE_URL: inject("fakesBaseUrl"),
            CARTESIA_API_BASE_URL: inject("fakesBaseUrl"),
            // Turns on the ElevenLabs voice lookup on import; test/fakes/elevenlabs.ts accepts this key.
            ELEVENLABS_API_KEY: "test-elevenlabs-key",
            // The keys the OpenAI, Deepgram and Cartesia fakes accept (test/fakes/keys.ts).
            OPENAI_API_KEY: "test-openai-key",
            DEEPGRAM_API_KEY: "test-deepgram-key",
            CARTESIA_API_KEY: "test-cartesia-key",
            TWILIO_ACCOUNT_SID: "AC00000000000000000000000000000000",
            TWILIO_AUTH_TOKEN: "platform-twilio-token",
            TELNYX_API_KEY: "KEYplatformtelnyx",
            TELNYX_PUBLIC_KEY: inject("telnyxPublicKey"),
            FAKES_CONTROL_URL: inject("fakesBaseUrl"),
            // test/fuzz reads its seed and run count here: process.env does not reach workerd.
            FUZZ_SEED: process.env.FUZZ_SEED ?? "",
            FUZZ_RUNS: process.env.FUZZ_RUNS ?? "",
          },
        },
      })),
    ],
    test: {
      include: ["test/**/*.test.ts"],
      globalSetup: ["./test/global-setup.ts"],
      setupFiles: ["./test/apply-migrations.ts"],
      // Generous: voice tests wait on several sockets and queues, and CI machines are shared.
      testTimeout: 30_000,
    },
  };
});
