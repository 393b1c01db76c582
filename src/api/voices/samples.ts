import { base64DecodedLength, decodeBase64, type FieldProblem } from "../../domain/documents";

/**
 * Rules for the audio samples of a voice clone (`POST /voices/clone`), free of I/O. Samples arrive
 * base64-encoded inside JSON, as Truedy's API takes them; they are checked here before anything is
 * stored, so a request ElevenLabs would certainly refuse fails at once with a 422 naming the file.
 */

/** The audio types ElevenLabs instant voice cloning takes, with the signature each must start with. */
export const SAMPLE_CONTENT_TYPES = [
  "audio/mpeg",
  "audio/mp3",
  "audio/wav",
  "audio/wave",
  "audio/x-wav",
  "audio/vnd.wave",
  "audio/mp4",
  "audio/m4a",
  "audio/x-m4a",
  "audio/aac",
  "audio/x-aac",
  "audio/ogg",
  "audio/opus",
  "audio/webm",
  "audio/flac",
  "audio/x-flac",
] as const;
export type SampleContentType = (typeof SAMPLE_CONTENT_TYPES)[number];

/** At most this many samples per clone (ElevenLabs takes up to 25). */
export const MAX_SAMPLE_FILES = 25;
/** Each sample at most 10 MB decoded: ElevenLabs' own per-file limit for instant cloning. */
export const MAX_SAMPLE_BYTES = 10 * 1024 * 1024;
/** All samples together at most 25 MB decoded (a few minutes of audio is plenty for a clone). */
export const MAX_TOTAL_SAMPLE_BYTES = 25 * 1024 * 1024;

const MB = 1024 * 1024;

type Family = "mp3" | "wav" | "mp4" | "aac" | "ogg" | "webm" | "flac";

const FAMILY: Record<SampleContentType, Family> = {
  "audio/mpeg": "mp3",
  "audio/mp3": "mp3",
  "audio/wav": "wav",
  "audio/wave": "wav",
  "audio/x-wav": "wav",
  "audio/vnd.wave": "wav",
  "audio/mp4": "mp4",
  "audio/m4a": "mp4",
  "audio/x-m4a": "mp4",
  "audio/aac": "aac",
  "audio/x-aac": "aac",
  "audio/ogg": "ogg",
  "audio/opus": "ogg",
  "audio/webm": "webm",
  "audio/flac": "flac",
  "audio/x-flac": "flac",
};

const ascii = (bytes: Uint8Array, from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to));
const hasId3 = (b: Uint8Array) => ascii(b, 0, 3) === "ID3";
/** An MPEG audio frame sync (11 set bits), as a raw MP3 without ID3 tag starts. */
const mpegSync = (b: Uint8Array) => b.length >= 2 && b[0] === 0xff && (b[1] & 0xe0) === 0xe0;
/** An ADTS header (12 set bits, layer 00), as raw AAC starts. */
const adtsSync = (b: Uint8Array) => b.length >= 2 && b[0] === 0xff && (b[1] & 0xf6) === 0xf0;

/**
 * Whether the bytes start like the declared audio type. It stops mislabelled uploads (a PDF sent
 * as audio/mpeg, a WAV labelled as MP3) before they reach the provider, not a forged file.
 */
export function checkAudioSignature(bytes: Uint8Array, contentType: SampleContentType): string | undefined {
  const family = FAMILY[contentType];
  const ok = (() => {
    switch (family) {
      case "mp3":
        return hasId3(bytes) || mpegSync(bytes);
      case "aac":
        return hasId3(bytes) || adtsSync(bytes);
      case "wav":
        return ascii(bytes, 0, 4) === "RIFF" && ascii(bytes, 8, 12) === "WAVE";
      case "mp4":
        return ascii(bytes, 4, 8) === "ftyp";
      case "ogg":
        return ascii(bytes, 0, 4) === "OggS";
      case "webm":
        return bytes[0] === 0x1a && bytes[1] === 0x45 && bytes[2] === 0xdf && bytes[3] === 0xa3;
      case "flac":
        return ascii(bytes, 0, 4) === "fLaC" || hasId3(bytes);
    }
  })();
  return ok ? undefined : `Does not look like ${contentType} audio: the file does not start with a ${family.toUpperCase()} header`;
}

export interface SampleInput {
  filename: string;
  content_type: SampleContentType;
  data: string;
}

export interface DecodedSample {
  filename: string;
  contentType: SampleContentType;
  bytes: Uint8Array;
}

export type SampleCheck = { ok: true; samples: DecodedSample[] } | { ok: false; tooLarge: boolean; problem: FieldProblem };

/**
 * Every check a set of samples must pass, cheapest first: base64 syntax and sizes (before any
 * decoding), then each file's signature. Fields are named as in the request body (`files.1.data`).
 */
export function checkSamples(files: SampleInput[]): SampleCheck {
  const bad = (field: string, reason: string, tooLarge = false): SampleCheck => ({ ok: false, tooLarge, problem: { field, reason } });
  if (files.length === 0) return bad("files", "At least one audio sample is required");
  if (files.length > MAX_SAMPLE_FILES) return bad("files", `At most ${MAX_SAMPLE_FILES} samples; got ${files.length}`);
  const lengths: { compact: string; bytes: number }[] = [];
  let total = 0;
  for (const [i, file] of files.entries()) {
    const length = base64DecodedLength(file.data);
    if (!length.ok) return bad(`files.${i}.data`, length.reason);
    if (length.bytes === 0) return bad(`files.${i}.data`, "The file is empty");
    if (length.bytes > MAX_SAMPLE_BYTES) {
      return bad(`files.${i}.data`, `The file is ${length.bytes} bytes; each sample may be at most ${MAX_SAMPLE_BYTES} bytes (${MAX_SAMPLE_BYTES / MB} MB)`, true);
    }
    total += length.bytes;
    lengths.push(length);
  }
  if (total > MAX_TOTAL_SAMPLE_BYTES) {
    return bad("files", `The samples add up to ${total} bytes; together they may be at most ${MAX_TOTAL_SAMPLE_BYTES} bytes (${MAX_TOTAL_SAMPLE_BYTES / MB} MB)`, true);
  }
  const samples: DecodedSample[] = [];
  for (const [i, file] of files.entries()) {
    const bytes = decodeBase64(lengths[i].compact, lengths[i].bytes);
    const problem = checkAudioSignature(bytes, file.content_type);
    if (problem) return bad(`files.${i}.data`, problem);
    samples.push({ filename: file.filename, contentType: file.content_type, bytes });
  }
  return { ok: true, samples };
}
