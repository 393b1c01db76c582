// Types of bench/voice-fakes.mjs for the TypeScript that imports it (test/browser).
export const FAKE_KEYS: { deepgram: string; openai: string; elevenlabs: string };
export const TRANSCRIPT: string;
export const REPLY: string[];

export interface AnsweredCall {
  callId: string;
  callSid: string;
  streamUrl: string;
  parameters: Record<string, string>;
}

export interface FakesStats {
  loopP99Ms: number;
  ttsLateP99: number;
  ttsLateMax: number;
  counts: Record<"listen" | "finals" | "chat" | "tts" | "dials" | "answered" | "completed", number>;
}

export interface Fakes {
  port: number;
  baseUrl: string;
  workerVars(twilioAccountSid: string): Record<string, string>;
  answered(callId: string): Promise<AnsweredCall>;
  complete(callId: string, seconds: number): Promise<{ error: string | null }>;
  setClauseMs(clauseMs: number): Promise<unknown>;
  stats(): Promise<FakesStats>;
  failure(): string | null;
  stop(): Promise<void>;
}

export function startFakes(options: { twilioAuthToken: string; ttsClauseMs: number }): Promise<Fakes>;
