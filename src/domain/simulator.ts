import type { CarrierEventKind } from "./calls";

/**
 * The simulator carrier's script: what happens to a call, decided by the destination's last
 * four digits (DESIGN.md), as carrier events at offsets from the dial. The CallDO replays it
 * with its alarm, through the same path as real carrier callbacks.
 *   …0001 answers (also any number not listed), …0002 rings out, …0003 is busy,
 *   …0004 is answered by a machine (voicemail), …0005 fails.
 */
export interface ScriptedEvent {
  afterMs: number;
  kind: CarrierEventKind;
  answeredBy?: "human" | "machine";
}

const RING_MS = 500;
const ANSWER_MS = 2000;

export function simulatorScript(to: string, opts: { joinTimeoutSeconds: number; talkSeconds: number }): ScriptedEvent[] {
  const talkMs = opts.talkSeconds * 1000;
  switch (to.slice(-4)) {
    case "0002":
      return [
        { afterMs: RING_MS, kind: "ringing" },
        { afterMs: opts.joinTimeoutSeconds * 1000, kind: "no_answer" },
      ];
    case "0003":
      return [{ afterMs: 1000, kind: "busy" }];
    case "0004":
      return [
        { afterMs: RING_MS, kind: "ringing" },
        { afterMs: ANSWER_MS, kind: "answered", answeredBy: "machine" },
        { afterMs: ANSWER_MS + talkMs, kind: "completed" },
      ];
    case "0005":
      return [{ afterMs: RING_MS, kind: "failed" }];
    default:
      return [
        { afterMs: RING_MS, kind: "ringing" },
        { afterMs: ANSWER_MS, kind: "answered", answeredBy: "human" },
        { afterMs: ANSWER_MS + talkMs, kind: "completed" },
      ];
  }
}
