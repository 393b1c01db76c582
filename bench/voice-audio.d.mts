// Types of bench/voice-audio.mjs for the TypeScript that imports it (test/browser).
export const FRAME_BYTES: number;
export const FRAME_MS: number;
export const MULAW_SILENCE: number;
export const SPEECH_RMS_THRESHOLD: number;
export function isVoiced(frame: Uint8Array): boolean;
export function toneFrames(frames: number, freqs: number[], amplitude: number): Buffer[];
export function speechFrames(frames: number): Buffer[];
export function silenceFrame(): Buffer;
export function wallNow(): number;
export function stampFrame(frame: Uint8Array, at?: number): Buffer;
export function readStamp(frame: Buffer): number;
export function twilioSignature(authToken: string, url: string, params?: URLSearchParams): string;
