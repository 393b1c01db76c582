import { DurableObject } from "cloudflare:workers";

/**
 * The floor of bench/voice: a bare WebSocket echo Durable Object with the hibernation API, one per
 * `/echo/<id>`, sending every message straight back. bench/voice drives it with the same client
 * (Twilio-shaped `media` frames at 50 a second) as the platform's media streams, so the jitter of
 * the echoed frames is what workerd, the sockets and the client cost by themselves.
 */
export class EchoDO extends DurableObject {
  async fetch(request: Request): Promise<Response> {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") return new Response("Expected a WebSocket", { status: 426 });
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1]);
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
    ws.send(message);
  }

  webSocketClose(ws: WebSocket, code: number): void {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, "closing");
    } catch {
      // Already closed.
    }
  }
}

export default {
  async fetch(request: Request, env: { ECHO: DurableObjectNamespace<EchoDO> }): Promise<Response> {
    const match = /^\/echo\/([^/]+)$/.exec(new URL(request.url).pathname);
    if (!match) return new Response("Not found", { status: 404 });
    return env.ECHO.get(env.ECHO.idFromName(match[1])).fetch(request);
  },
};
