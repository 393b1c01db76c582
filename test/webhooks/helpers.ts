import { env } from "cloudflare:workers";
import { fakeRequests, type ApiClient } from "../helpers/api";

/** A receiver URL on the fakes server with a tag unique to the calling test. */
export function receiverUrl(behaviour: string, query = "") {
  const tag = crypto.randomUUID();
  return { tag, url: `${env.FAKES_CONTROL_URL}/receiver/${behaviour}/${tag}${query}` };
}

/** Waits for queue-driven work (the real miniflare queue runs the consumer in the background). */
export async function eventually<T>(probe: () => Promise<T | undefined | false>, what: string, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function receivedBy(tag: string, count = 1) {
  return eventually(async () => {
    const got = await fakeRequests("receiver", tag);
    return got.length >= count && got;
  }, `${count} request(s) at receiver ${tag}`);
}

export async function createEndpoint(org: ApiClient, url: string, events: string[] = ["*"]) {
  const res = await org.post("/webhooks", { url, events });
  if (res.status !== 201) throw new Error(`create endpoint: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data as { id: string; secret: string };
}
