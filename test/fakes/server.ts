import http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * One loopback HTTP server standing in for every external service (Twilio, Telnyx, OpenAI,
 * Deepgram, ElevenLabs, Cartesia). Each fake lives in its own module and speaks that service's
 * real wire protocol; they are mounted here by path prefix, which is how the real base URLs
 * differ too (`/2010-04-01/…` Twilio, `/v2/…` Telnyx, `/v1/…` OpenAI-compatible, …).
 *
 * Tests inspect what a fake received through `GET /__fakes/requests?service=…`; a fake's own
 * controls live under `/__fakes/{service}/…`. Test files run concurrently, so tests filter
 * recorded requests by something unique to them (a phone number, an id), never by position.
 */

export interface RecordedRequest {
  service: string;
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: string;
  at: number;
}

export interface FakeRequest {
  method: string;
  url: URL;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface FakeResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface Fake {
  service: string;
  /** Returns a response when the request is this fake's, otherwise undefined. */
  handle(request: FakeRequest): FakeResponse | undefined | Promise<FakeResponse | undefined>;
  /**
   * The fake's test controls under `/__fakes/{service}/…` (scripted callbacks, signing): not the
   * service's API, so not recorded as requests it received.
   */
  control?(request: FakeRequest): FakeResponse | undefined | Promise<FakeResponse | undefined>;
}

async function loadFakes(): Promise<Fake[]> {
  // Imported lazily: the fake modules import this file's types.
  const [{ twilioFake }, { telnyxFake }, { elevenlabsFake }, { receiverFake }] = await Promise.all([
    import("./twilio"),
    import("./telnyx"),
    import("./elevenlabs"),
    import("./receiver"),
  ]);
  return [twilioFake, telnyxFake, elevenlabsFake, receiverFake];
}

const recorded: RecordedRequest[] = [];

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function send(res: http.ServerResponse, response: FakeResponse) {
  const isText = typeof response.body === "string";
  res.writeHead(response.status, {
    "content-type": isText ? "text/plain" : "application/json",
    ...response.headers,
  });
  res.end(response.body === undefined ? "" : isText ? (response.body as string) : JSON.stringify(response.body));
}

export async function startFakes(): Promise<{ baseUrl: string; close(): Promise<void> }> {
  const fakes = await loadFakes();
  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const body = await readBody(req);
      if (url.pathname === "/__fakes/requests") {
        const service = url.searchParams.get("service");
        const contains = url.searchParams.get("contains");
        return send(res, {
          status: 200,
          body: recorded.filter(
            (r) => (!service || r.service === service) && (!contains || r.path.includes(contains) || r.body.includes(contains)),
          ),
        });
      }
      const request: FakeRequest = { method: req.method ?? "GET", url, headers: req.headers, body };
      if (url.pathname.startsWith("/__fakes/")) {
        for (const fake of fakes) {
          const response = url.pathname.startsWith(`/__fakes/${fake.service}/`) ? await fake.control?.(request) : undefined;
          if (response) return send(res, response);
        }
        return send(res, { status: 404, body: { error: `no fake control at ${req.method} ${url.pathname}` } });
      }
      for (const fake of fakes) {
        const response = await fake.handle(request);
        if (!response) continue;
        recorded.push({
          service: fake.service,
          method: request.method,
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
          body,
          at: Date.now(),
        });
        return send(res, response);
      }
      send(res, { status: 404, body: { error: `no fake handles ${req.method} ${url.pathname}` } });
    } catch (error) {
      send(res, { status: 500, body: { error: String(error) } });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
