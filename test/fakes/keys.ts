/**
 * The API keys the fakes accept, Node-free so tests in workerd can import them. Any other key
 * gets the provider's real 401. The worker's test configuration (vitest.config.ts) should bind
 * these as OPENAI_API_KEY, DEEPGRAM_API_KEY and CARTESIA_API_KEY; ElevenLabs' key is
 * FAKE_ELEVENLABS_API_KEY in ./elevenlabs.
 */
export const FAKE_OPENAI_API_KEY = "test-openai-key";
export const FAKE_DEEPGRAM_API_KEY = "test-deepgram-key";
export const FAKE_CARTESIA_API_KEY = "test-cartesia-key";
