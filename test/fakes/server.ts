import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";

/**
 * One loopback HTTP server standing in for every external service (Twilio, Telnyx, OpenAI,
 * Deepgram, ElevenLabs, Cartesia). Each fake lives in its own module and speaks that service's
 * real wire protocol; they are mounted here by path prefix, which is how the real base URLs
 * differ too (`/2010-04-01/…` Twilio, `/v2/…` Telnyx, `/v1/…` OpenAI-compatible, …).
 *
 * Tests inspect what a fake received through `GET /__fakes/requests?service=…` (optionally
 * `&contains=…` on path or body, `&tag=…` on the `tag` query parameter); a fake's own controls
 * live under `/__fakes/{service}/…`. Test files run concurrently, so tests filter recorded
 * requests by something unique to them (a phone number, an id, a tag), never by position.
 *
 * Streamed answers (SSE, audio) are written piece by piece; their record gets `stream` counters,
 * updated as the body goes out (`aborted` when the client hung up first, `cut` when the fake cut
 * the connection on purpose). WebSocket upgrades (`Upgrade: websocket`) go to the fakes' `upgrade`
 * hook; their record gets `status` (101 or the refusal) and `websocket` counters, updated live.
 */

export interface StreamStats {
  chunks: number;
  bytes: number;
  /** The body was written to its end. */
  done: boolean;
  /** The client closed the connection before the end (e.g. an aborted fetch). */
  aborted: boolean;
  /** The fake cut the connection mid-body on purpose. */
  cut: boolean;
}

export interface SocketStats {
  text_in: number;
  binary_in: number;
  bytes_in: number;
  text_out: number;
  binary_out: number;
  closed_at?: number;
  /** The close code as the server saw it (1006 when the connection just went away). */
  close_code?: number;
  close_reason?: string;
}

export interface RecordedRequest {
  service: string;
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: string;
  at: number;
  /** WebSocket upgrades only: 101, or the status the upgrade was refused with. */
  status?: number;
  stream?: StreamStats;
  websocket?: SocketStats;
}

export interface FakeRequest {
  method: string;
  url: URL;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The body's bytes (multipart uploads, binary payloads). */
  rawBody: Buffer;
}

export interface FakeResponse {
  status: number;
  headers?: Record<string, string>;
  /** A string is sent as text/plain, bytes as application/octet-stream, anything else as JSON. */
  body?: unknown;
  /**
   * A streamed body instead of `body`: headers go out at once, each piece as it is produced.
   * Throwing `CutStream` (./streaming) cuts the connection mid-body.
   */
  stream?: AsyncIterable<string | Uint8Array>;
}

/** What a fake does with a WebSocket upgrade: refuse it with an HTTP answer, or take the socket. */
export type FakeUpgrade = { response: FakeResponse } | { accept(ws: WebSocket, stats: SocketStats): void };

export interface Fake {
  service: string;
  /** Returns a response when the request is this fake's, otherwise undefined. */
  handle(request: FakeRequest): FakeResponse | undefined | Promise<FakeResponse | undefined>;
  /**
   * The fake's test controls under `/__fakes/{service}/…` (scripted callbacks, signing): not the
   * service's API, so not recorded as requests it received.
   */
  control?(request: FakeRequest): FakeResponse | undefined | Promise<FakeResponse | undefined>;
  /** A WebSocket upgrade: returns what to do when it is this fake's, otherwise undefined. */
  upgrade?(request: FakeRequest): FakeUpgrade | undefined | Promise<FakeUpgrade | undefined>;
}

async function loadFakes(): Promise<Fake[]> {
  // Imported lazily: the fake modules import this file's types.
  const [{ twilioFake }, { telnyxFake }, { elevenlabsFake }, { receiverFake }, { deepgramFake }, { openaiFake }, { cartesiaFake }, { mediaSinkFake }] =
    await Promise.all([
      import("./twilio"),
      import("./telnyx"),
      import("./elevenlabs"),
      import("./receiver"),
      import("./deepgram"),
      import("./openai"),
      import("./cartesia"),
      import("./media-sink"),
    ]);
  const { websiteFake } = await import("./website");
  const { toolApiFake } = await import("./tool-api");
  return [twilioFake, telnyxFake, elevenlabsFake, receiverFake, deepgramFake, openaiFake, cartesiaFake, mediaSinkFake, websiteFake, toolApiFake];
}

const recorded: RecordedRequest[] = [];

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function encodeBody(response: FakeResponse): { type: string; data: string | Uint8Array } {
  const body = response.body;
  if (body === undefined) return { type: "text/plain", data: "" };
  if (typeof body === "string") return { type: "text/plain", data: body };
  if (body instanceof Uint8Array) return { type: "application/octet-stream", data: body };
  return { type: "application/json", data: JSON.stringify(body) };
}

function recordOf(service: string, req: http.IncomingMessage, url: URL, body: string): RecordedRequest {
  return {
    service,
    method: req.method ?? "GET",
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
    body,
    at: Date.now(),
  };
}

async function send(res: http.ServerResponse, response: FakeResponse, record?: RecordedRequest) {
  if (!response.stream) {
    const { type, data } = encodeBody(response);
    res.writeHead(response.status, { "content-type": type, ...response.headers });
    res.end(data);
    return;
  }
  const stats: StreamStats = { chunks: 0, bytes: 0, done: false, aborted: false, cut: false };
  if (record) record.stream = stats;
  res.writeHead(response.status, { "content-type": "application/octet-stream", ...response.headers });
  res.flushHeaders();
  const iterator = response.stream[Symbol.asyncIterator]();
  let gone = false;
  res.on("close", () => {
    if (!res.writableFinished) {
      gone = true;
      if (!stats.cut) stats.aborted = true;
    }
  });
  try {
    for (;;) {
      const next = await iterator.next();
      if (gone) break;
      if (next.done) break;
      const piece = next.value;
      stats.chunks++;
      stats.bytes += typeof piece === "string" ? Buffer.byteLength(piece) : piece.length;
      if (!res.write(piece)) await new Promise<void>((resolve) => res.once("drain", resolve).once("close", resolve));
    }
    if (gone) {
      await iterator.return?.();
      return;
    }
    stats.done = true;
    res.end();
  } catch (error) {
    if ((error as { cut?: boolean }).cut) {
      stats.cut = true;
      res.destroy();
      return;
    }
    // Headers are out: a failure can only cut the body.
    stats.cut = true;
    res.destroy(error as Error);
  }
}

/** Answers a refused upgrade on the raw socket, the way an HTTP server refuses a handshake. */
function refuseUpgrade(socket: Duplex, response: FakeResponse) {
  const { type, data } = encodeBody(response);
  const bytes = typeof data === "string" ? Buffer.from(data) : Buffer.from(data);
  const headers = { "content-type": type, ...response.headers, "content-length": String(bytes.length), connection: "close" };
  const head = [`HTTP/1.1 ${response.status} ${http.STATUS_CODES[response.status] ?? "Error"}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  socket.end(Buffer.concat([Buffer.from(`${head.join("\r\n")}\r\n\r\n`), bytes]));
}

export async function startFakes(): Promise<{ baseUrl: string; close(): Promise<void> }> {
  const fakes = await loadFakes();
  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const rawBody = await readBody(req);
      const body = rawBody.toString("utf8");
      if (url.pathname === "/__fakes/requests") {
        const service = url.searchParams.get("service");
        const contains = url.searchParams.get("contains");
        const tag = url.searchParams.get("tag");
        return send(res, {
          status: 200,
          body: recorded.filter(
            (r) =>
              (!service || r.service === service) &&
              (!contains || r.path.includes(contains) || r.body.includes(contains)) &&
              (!tag || r.query.tag === tag),
          ),
        });
      }
      const request: FakeRequest = { method: req.method ?? "GET", url, headers: req.headers, body, rawBody };
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
        const record = recordOf(fake.service, req, url, body);
        recorded.push(record);
        return await send(res, response, record);
      }
      send(res, { status: 404, body: { error: `no fake handles ${req.method} ${url.pathname}` } });
    } catch (error) {
      if (!res.headersSent) send(res, { status: 500, body: { error: String(error) } });
      else res.destroy();
    }
  });

  const sockets = new WebSocketServer({ noServer: true });
  server.on("upgrade", async (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => {});
    try {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const request: FakeRequest = { method: req.method ?? "GET", url, headers: req.headers, body: "", rawBody: Buffer.alloc(0) };
      for (const fake of fakes) {
        const upgrade = await fake.upgrade?.(request);
        if (!upgrade) continue;
        const record = recordOf(fake.service, req, url, "");
        recorded.push(record);
        if ("response" in upgrade) {
          record.status = upgrade.response.status;
          return refuseUpgrade(socket, upgrade.response);
        }
        const stats: SocketStats = { text_in: 0, binary_in: 0, bytes_in: 0, text_out: 0, binary_out: 0 };
        record.status = 101;
        record.websocket = stats;
        sockets.handleUpgrade(req, socket, head, (ws) => {
          ws.on("message", (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
            const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data instanceof ArrayBuffer ? data.byteLength : data.length;
            if (isBinary) stats.binary_in++;
            else stats.text_in++;
            stats.bytes_in += size;
          });
          ws.on("close", (code: number, reason: Buffer) => {
            stats.closed_at = Date.now();
            stats.close_code = code;
            stats.close_reason = reason.toString("utf8");
          });
          ws.on("error", () => {});
          const rawSend = ws.send.bind(ws) as (data: unknown, ...rest: unknown[]) => void;
          (ws as { send: unknown }).send = (data: unknown, ...rest: unknown[]) => {
            if (typeof data === "string") stats.text_out++;
            else stats.binary_out++;
            rawSend(data, ...rest);
          };
          upgrade.accept(ws, stats);
        });
        return;
      }
      refuseUpgrade(socket, { status: 404, body: { error: `no fake takes a WebSocket at ${url.pathname}` } });
    } catch (error) {
      refuseUpgrade(socket, { status: 500, body: { error: String(error) } });
    }
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        for (const ws of sockets.clients) ws.terminate();
        sockets.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
