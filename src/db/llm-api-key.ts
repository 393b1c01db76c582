import { decryptSecret, encryptSecret } from "../lib/crypto";

/**
 * An agent's own LLM key (`llm.api_key`), sealed with AES-GCM under ENCRYPTION_KEY inside the
 * agent's `llm` JSON as `api_key_encrypted`, as tools' keys and carrier credentials are. Opened
 * only when a call or its analysis uses the LLM; the API shows `has_api_key` instead.
 */

export function sealLlmApiKey(env: { ENCRYPTION_KEY: string }, apiKey: string): Promise<string> {
  return encryptSecret(apiKey, env.ENCRYPTION_KEY);
}

export async function openLlmApiKey(env: { ENCRYPTION_KEY: string }, llm: { api_key_encrypted?: string | null }): Promise<string | undefined> {
  return llm.api_key_encrypted ? decryptSecret(llm.api_key_encrypted, env.ENCRYPTION_KEY) : undefined;
}
