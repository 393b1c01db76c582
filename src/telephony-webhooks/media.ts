import { callObject } from "../calls/engine";

/**
 * Hands a media stream handshake to the call's object and passes its answer on (101 with the
 * socket, or its refusal). The stub's Response has immutable headers, which the request
 * middleware must still add X-Request-Id to, so it is re-wrapped.
 */
export async function forwardMediaStream(env: Env, callId: string, request: Request): Promise<Response> {
  const res = await callObject(env, callId).fetch(request);
  if (res.webSocket) return new Response(null, { status: res.status, headers: res.headers, webSocket: res.webSocket });
  return new Response(res.body, res);
}
