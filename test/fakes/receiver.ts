import type { Fake, FakeResponse } from "./server";

/**
 * Customer webhook receivers on 127.0.0.1, one behaviour per path, so a test picks how its
 * endpoint misbehaves by choosing its URL (and filters the request log by a unique suffix):
 *   /receiver/ok/<tag>          204
 *   /receiver/fail/<tag>        500 with a body
 *   /receiver/gone/<tag>        410
 *   /receiver/ratelimit/<tag>   429 with Retry-After: 120
 *   /receiver/slow/<tag>?ms=N   waits N ms, then 200
 *   /receiver/big/<tag>         200 with a 10 KB body
 *   /receiver/flaky/<tag>?fail=N   500 for the first N requests on that tag, then 200
 */
const flakyCounts = new Map<string, number>();

export const receiverFake: Fake = {
  service: "receiver",
  async handle(request): Promise<FakeResponse | undefined> {
    const match = request.url.pathname.match(/^\/receiver\/([a-z]+)\/(.+)$/);
    if (!match) return undefined;
    const [, behaviour, tag] = match;
    switch (behaviour) {
      case "ok":
        return { status: 204 };
      case "fail":
        return { status: 500, body: { error: "receiver exploded" } };
      case "gone":
        return { status: 410, body: "gone" };
      case "ratelimit":
        return { status: 429, headers: { "retry-after": "120" }, body: "slow down" };
      case "slow":
        await new Promise((resolve) => setTimeout(resolve, Number(request.url.searchParams.get("ms") ?? 1000)));
        return { status: 200, body: "late" };
      case "big":
        return { status: 200, body: "x".repeat(10_240) };
      case "flaky": {
        const seen = (flakyCounts.get(tag) ?? 0) + 1;
        flakyCounts.set(tag, seen);
        return seen <= Number(request.url.searchParams.get("fail") ?? 1) ? { status: 500, body: "not yet" } : { status: 200, body: "ok" };
      }
      default:
        return { status: 404, body: `unknown receiver behaviour ${behaviour}` };
    }
  },
};
