// Types of bench/twilio-caller.mjs for the TypeScript that imports it (test/browser).
import type WebSocket from "ws";

export interface TwilioStreamEvent {
  event: string;
  streamSid?: string;
  media?: { payload?: string };
  mark?: { name?: string };
  [key: string]: unknown;
}

export class TwilioMediaStream {
  constructor(options: { url: string; authToken?: string; accountSid: string; callSid?: string; customParameters?: Record<string, string> });
  readonly accountSid: string;
  readonly streamSid: string;
  readonly callSid: string;
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  errors: string[];
  closedBy: { code: number; reason: string } | null;
  stopping: boolean;
  onEvent(message: TwilioStreamEvent, at: number): void;
  onClose(): void;
  send(message: unknown): void;
  sendStart(): void;
  sendMedia(payload: string): void;
  sendMark(name: string | undefined): void;
  stop(options?: { sendStop?: boolean }): Promise<void>;
}
