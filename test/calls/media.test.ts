import { describe, expect, it } from "vitest";
import { manualClockPerTest } from "../helpers/clock";
import { env, exports } from "cloudflare:workers";
import { toBase64 } from "../../src/lib/crypto";
import { callRow, callStub, orgWithCaller, tick } from "./helpers";

const START = Date.UTC(2030, 0, 10, 15, 0, 0);
const clock = manualClockPerTest(START);

async function answeredCall(settings: Record<string, unknown>) {
  const { org, agentId } = await orgWithCaller();
  const id = (await org.post("/calls", { agent_id: agentId, phone_number: "+14155550001", call_settings: settings })).body.data.id;
  await tick(id);
  clock.advance(2000);
  await tick(id);
  return { org, id };
}

async function openStream(id: string) {
  const res = await callStub(id).fetch(new Request("https://truedy.test/media", { headers: { Upgrade: "websocket" } }));
  expect(res.status).toBe(101);
  const ws = res.webSocket!;
  ws.accept();
  return ws;
}

describe("media stream session", () => {
  it("accepts the carrier's stream, records the session and writes a stereo WAV of the caller's audio", async () => {
    const { org, id } = await answeredCall({ recording_enabled: true });
    const ws = await openStream(id);
    const frame = toBase64(new Uint8Array(160).fill(0x80));
    ws.send(JSON.stringify({ event: "connected", protocol: "Call", version: "1.0.0" }));
    ws.send(JSON.stringify({ event: "start", sequenceNumber: "1", streamSid: "MZ1", start: { streamSid: "MZ1", callSid: "CA1", customParameters: { callId: id } } }));
    for (let i = 0; i < 5; i++) ws.send(JSON.stringify({ event: "media", streamSid: "MZ1", media: { track: "inbound", chunk: String(i), timestamp: String(i * 20), payload: frame } }));
    ws.send("not json");
    ws.send(JSON.stringify({ event: "media", media: { payload: "%%%not-base64" } }));
    ws.send(JSON.stringify({ event: "stop", streamSid: "MZ1", stop: { callSid: "CA1" } }));

    // The WAV is written after the stop frame is recorded; wait for the call row to point at it.
    for (let i = 0; i < 500 && !(await callRow(org, id)).recording_url; i++) await new Promise((r) => setTimeout(r, 20));
    expect((await callRow(org, id)).recording_url, "the WAV was never written").not.toBeNull();
    expect(await callStub(id).mediaSession()).toMatchObject({ streamSid: "MZ1", framesIn: 6, stoppedAt: START + 2000 });
    const object = await env.FILES.get(`recordings/${org.orgId}/${id}.wav`);
    const wav = new Uint8Array(await object!.arrayBuffer());
    expect(new DataView(wav.buffer).getUint32(40, true)).toBe(5 * 160 * 4);
    const link = await org.get(`/calls/${id}/recording`);
    const audio = await exports.default.fetch(new Request(link.body.data.url));
    expect(audio.headers.get("content-type")).toBe("audio/wav");
    ws.close(1000);
  });

  it("records nothing when recording is off, and refuses a stream for an ended call", async () => {
    const { org, id } = await answeredCall({ recording_enabled: false });
    const ws = await openStream(id);
    ws.send(JSON.stringify({ event: "media", media: { track: "inbound", payload: toBase64(new Uint8Array(160)) } }));
    await org.post(`/calls/${id}/hangup`);
    await tick(id);
    expect((await callRow(org, id)).status).toBe("completed");
    expect(await env.FILES.get(`recordings/${org.orgId}/${id}.wav`)).toBeNull();
    const refused = await callStub(id).fetch(new Request("https://truedy.test/media", { headers: { Upgrade: "websocket" } }));
    expect(refused.status).toBe(404);
    ws.close(1000);
  });
});
