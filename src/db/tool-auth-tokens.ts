import { decryptSecret, encryptSecret } from "../lib/crypto";

/**
 * The keys of a tool's API-key requirements (`auth_tokens`), sealed with AES-GCM under
 * ENCRYPTION_KEY in `tools.auth_tokens_encrypted`, as BYOC carrier credentials are. Opened only to
 * list their names and when the tool is called.
 */

export type AuthTokens = Record<string, string>;

export function sealAuthTokens(env: { ENCRYPTION_KEY: string }, tokens: AuthTokens): Promise<string> {
  return encryptSecret(JSON.stringify(tokens), env.ENCRYPTION_KEY);
}

export async function openAuthTokens(env: { ENCRYPTION_KEY: string }, sealed: string | null): Promise<AuthTokens> {
  if (!sealed) return {};
  const parsed: unknown = JSON.parse(await decryptSecret(sealed, env.ENCRYPTION_KEY));
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return {};
  return Object.fromEntries(Object.entries(parsed).filter((entry): entry is [string, string] => typeof entry[1] === "string"));
}
