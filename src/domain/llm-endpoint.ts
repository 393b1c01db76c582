/**
 * Where an agent's chat completions (and OpenAI-compatible transcriptions) go, and which key goes
 * with them. The platform's OPENAI_API_KEY belongs to the deployment, so it is only ever sent to
 * the origin of the platform's own OPENAI_BASE_URL: an agent pointing `llm.base_url` anywhere else
 * sends its own `llm.api_key`, or no Authorization header at all (self-hosted servers that need
 * none). A custom base_url is a customer-chosen URL the worker fetches, so it passes the outbound
 * URL policy like webhook and tool URLs.
 */
import { checkOutboundUrl, type UrlPolicy } from "./url-safety";

export type LlmEndpoint = { ok: true; baseUrl: string; apiKey: string | undefined } | { ok: false; reason: string };

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

export function llmEndpoint(
  agent: { baseUrl?: string | null; apiKey?: string | null },
  platform: { baseUrl: string; apiKey?: string },
  policy: UrlPolicy,
): LlmEndpoint {
  const custom = agent.baseUrl?.trim() || null;
  if (custom) {
    const checked = checkOutboundUrl(custom, policy);
    if (!checked.ok) return { ok: false, reason: `llm.base_url is refused: ${checked.reason}` };
  }
  const baseUrl = (custom ?? platform.baseUrl).replace(/\/+$/, "");
  if (agent.apiKey) return { ok: true, baseUrl, apiKey: agent.apiKey };
  if (custom && !sameOrigin(custom, platform.baseUrl)) return { ok: true, baseUrl, apiKey: undefined };
  if (!platform.apiKey) return { ok: false, reason: "no API key configured (OPENAI_API_KEY)" };
  return { ok: true, baseUrl, apiKey: platform.apiKey };
}
