import { randomBytes } from "node:crypto";
import { SPEECH_RMS_THRESHOLD, TTS_MS_PER_CHAR, TTS_TONE_HZ, decodeMulaw, pcm16leTone, rms, wavHeader } from "./audio";
import { FAKE_OPENAI_API_KEY } from "./keys";
import type { Fake, FakeRequest, FakeResponse } from "./server";
import { CutStream, TtsBehaviours, chunked, header, parseJson, sleep } from "./streaming";

/**
 * Fake of an OpenAI-compatible API (the worker's OPENAI_BASE_URL is `${fakes}/v1`), checking
 * `Authorization: Bearer <key>` and answering OpenAI's `{error:{message, type, param, code}}`.
 *
 * `POST /v1/chat/completions` checks the request the way OpenAI does (model, messages, roles,
 * every `tool` message answering a preceding assistant `tool_calls` id and every such id answered,
 * tool definitions, `stream_options` only with `stream`). With `stream:true` it answers SSE per
 * spec §3: a role chunk, a `: keep-alive` comment, content in small pieces that split words,
 * `tool_calls` fragments (index, id, type and name first, then the arguments in pieces), the
 * `finish_reason` chunk, with `stream_options.include_usage` a usage chunk with `choices:[]` (and
 * `usage:null` on every other chunk, as OpenAI does), then `data: [DONE]`. The bytes are written
 * so that every network write ends in the middle of an event (clients must buffer). With
 * `stream:false` it answers one `chat.completion` object.
 *
 * Replies are scripted by a marker the test puts in the system prompt or the last user message:
 * `POST /__fakes/openai/script {match, replies: [{content?, tool_calls?: [{name, arguments, id?}],
 * finish_reason?, status?, cut_after_chunks?, delay_ms_per_chunk?, first_chunk_delay_ms?}],
 * delay_ms_per_chunk?, first_chunk_delay_ms?, fail?, crlf?}`. Each matching request takes the
 * next reply; once they are used up the default answer follows, `You said: <last user message>`
 * (`Hello! How can I help you today?` when there is none). `fail: 500` makes every matching
 * request fail with that status, a reply's `status` just that one; `cut_after_chunks` cuts the
 * connection after that many SSE events; `crlf` frames events with \r\n. `arguments` may be an
 * object (sent as its JSON) or a string (sent as is, e.g. to send invalid JSON).
 *
 * `POST /v1/audio/transcriptions` (multipart: file, model, prompt?, language?, response_format?)
 * → `{text}` (or text / verbose_json / srt / vtt), checked as OpenAI does: model given and one of
 * STT_MODELS ("invalid model ID" otherwise), file given with an audio extension, a `.wav` a real
 * RIFF/WAVE file (a consistent `fmt ` chunk of a format ffmpeg reads, then a `data` chunk) of at
 * least 0.1 s, `language` ISO-639-1, the gpt-4o models json/text only. The text is scripted by
 * `POST /__fakes/openai/transcription {match, text?, status?, delay_ms?, times?}`, `match` found
 * in the file name or the prompt (newest script first), default "hello"; `status` fails the
 * request with that status, `times` limits the script to that many requests, `delay_ms` holds
 * the body back (headers at once, so the record's `stream.aborted` shows a client that gave up).
 * `GET /__fakes/openai/transcriptions?match=…` lists the requests as parsed (file name, fields,
 * the WAV's format and duration, what was answered).
 *
 * `POST /v1/audio/speech {model, input, voice, response_format: "pcm" | "wav", speed?}` → raw
 * 24 kHz 16-bit little-endian mono PCM (a TTS_TONE_HZ.openai tone lasting TTS_MS_PER_CHAR per
 * character ÷ speed) streamed in chunks of odd byte counts, so samples straddle chunks. Other
 * formats (mp3, the default) are a 400 saying the fake cannot make them. Misbehaviour per voice or
 * text: `POST /__fakes/openai/tts {match, status?, cut_after_bytes?, first_byte_delay_ms?, chunk_delay_ms?, times?}`.
 *
 * `POST /v1/embeddings {model, input, dimensions?, encoding_format?}` → deterministic unit
 * vectors built by hashing the words of each input (texts sharing words are close in cosine).
 * `GET /v1/models` lists the models below.
 */

const CHAT_MODELS = ["gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-5-mini"];
const TTS_MODELS = ["tts-1", "tts-1-hd", "gpt-4o-mini-tts"];
const STT_MODELS = ["whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe"];
const EMBEDDING_DIMENSIONS: Record<string, number> = { "text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "text-embedding-ada-002": 1536 };
const ROLES = ["system", "developer", "user", "assistant", "tool", "function"];

function openaiError(status: number, message: string, type = "invalid_request_error", param: string | null = null, code: string | null = null): FakeResponse {
  return { status, body: { error: { message, type, param, code } } };
}

const serverError = (status: number) =>
  status === 429
    ? openaiError(429, "Rate limit reached for requests", "requests", null, "rate_limit_exceeded")
    : openaiError(status, "The server had an error while processing your request. Sorry about that!", "server_error");

function authenticate(request: FakeRequest): FakeResponse | undefined {
  const auth = header(request, "authorization");
  if (!auth) return openaiError(401, "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).");
  const key = /^Bearer\s+(\S+)$/.exec(auth)?.[1];
  if (key !== FAKE_OPENAI_API_KEY) {
    const shown = key ? `${key.slice(0, 3)}*****${key.slice(-4)}` : auth;
    return openaiError(401, `Incorrect API key provided: ${shown}. You can find your API key at https://platform.openai.com/account/api-keys.`, "invalid_request_error", null, "invalid_api_key");
  }
  return undefined;
}

function jsonBody(request: FakeRequest): Record<string, unknown> | FakeResponse {
  const body = parseJson(request.body);
  if (!(header(request, "content-type") ?? "").startsWith("application/json") || typeof body !== "object" || body === null || Array.isArray(body)) {
    return openaiError(400, "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)");
  }
  return body as Record<string, unknown>;
}

const isResponse = (value: unknown): value is FakeResponse => typeof value === "object" && value !== null && "status" in value && typeof (value as FakeResponse).status === "number";

const estimateTokens = (text: string) => Math.ceil(text.length / 4);

// ---- Chat completions ----

interface ScriptedToolCall {
  name: string;
  arguments: string | Record<string, unknown>;
  id?: string;
}

interface ScriptedReply {
  content?: string;
  tool_calls?: ScriptedToolCall[];
  finish_reason?: string;
  status?: number;
  cut_after_chunks?: number;
  delay_ms_per_chunk?: number;
  first_chunk_delay_ms?: number;
}

interface ChatScript {
  match: string;
  replies: ScriptedReply[];
  next: number;
  delay_ms_per_chunk?: number;
  first_chunk_delay_ms?: number;
  fail?: number;
  crlf?: boolean;
}

const chatScripts: ChatScript[] = [];

interface Message {
  role: string;
  content?: unknown;
  tool_calls?: { id?: string; type?: string; function?: { name?: string; arguments?: string } }[];
  tool_call_id?: string;
}

/** The text of a message's content: a string, or the text parts of an array. */
function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((p) => (p && typeof p === "object" && typeof (p as { text?: unknown }).text === "string" ? (p as { text: string }).text : "")).join("");
  return "";
}

function validateChat(body: Record<string, unknown>): FakeResponse | Message[] {
  if (typeof body.model !== "string" || body.model === "") return openaiError(400, "you must provide a model parameter", "invalid_request_error", "model");
  if (!Array.isArray(body.messages)) return openaiError(400, "Missing required parameter: 'messages'.", "invalid_request_error", "messages", "missing_required_parameter");
  if (body.messages.length === 0) return openaiError(400, "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.", "invalid_request_error", "messages", "empty_array");
  const messages = body.messages as Message[];
  const answered = new Set<string>();
  let pending: string[] = [];
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    if (!m || typeof m !== "object" || !ROLES.includes(m.role)) {
      return openaiError(400, `Invalid value: '${(m as Message | undefined)?.role}'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.`, "invalid_request_error", `messages[${i}].role`, "invalid_value");
    }
    if (pending.length && m.role !== "tool") {
      return openaiError(400, `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${pending.join(", ")}`, "invalid_request_error", "messages", null);
    }
    if (m.role === "tool") {
      if (typeof m.tool_call_id !== "string" || !pending.includes(m.tool_call_id)) {
        return openaiError(400, "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.", "invalid_request_error", `messages.[${i}].role`, null);
      }
      if (typeof m.content !== "string" && !Array.isArray(m.content)) return openaiError(400, `Invalid type for 'messages[${i}].content': expected one of a string or array of objects.`, "invalid_request_error", `messages[${i}].content`, "invalid_type");
      pending = pending.filter((id) => id !== m.tool_call_id);
      answered.add(m.tool_call_id);
      continue;
    }
    if (m.role === "assistant" && m.tool_calls !== undefined) {
      if (!Array.isArray(m.tool_calls) || m.tool_calls.length === 0) return openaiError(400, `Invalid 'messages[${i}].tool_calls': empty array.`, "invalid_request_error", `messages[${i}].tool_calls`, "empty_array");
      for (const call of m.tool_calls) {
        if (typeof call?.id !== "string" || call.type !== "function" || typeof call.function?.name !== "string" || typeof call.function.arguments !== "string") {
          return openaiError(400, `Invalid 'messages[${i}].tool_calls': each needs id, type "function" and function {name, arguments (a string)}.`, "invalid_request_error", `messages[${i}].tool_calls`, "invalid_value");
        }
      }
      pending = m.tool_calls.map((c) => c.id as string);
      continue;
    }
    if (m.content === undefined || (m.content === null && m.role !== "assistant")) {
      return openaiError(400, `Missing required parameter: 'messages[${i}].content'.`, "invalid_request_error", `messages[${i}].content`, "missing_required_parameter");
    }
  }
  if (pending.length) {
    return openaiError(400, `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${pending.join(", ")}`, "invalid_request_error", "messages", null);
  }
  if (body.tools !== undefined) {
    if (!Array.isArray(body.tools)) return openaiError(400, "Invalid type for 'tools': expected an array.", "invalid_request_error", "tools", "invalid_type");
    for (let i = 0; i < body.tools.length; i++) {
      const tool = body.tools[i] as { type?: unknown; function?: { name?: unknown; parameters?: unknown } };
      if (tool?.type !== "function" || typeof tool.function?.name !== "string") return openaiError(400, `Missing required parameter: 'tools[${i}].function'.`, "invalid_request_error", `tools[${i}].function`, "missing_required_parameter");
      if (!/^[a-zA-Z0-9_-]{1,64}$/.test(tool.function.name)) return openaiError(400, `Invalid 'tools[${i}].function.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.`, "invalid_request_error", `tools[${i}].function.name`, "invalid_value");
      const params = tool.function.parameters;
      if (params !== undefined && (typeof params !== "object" || params === null || Array.isArray(params))) return openaiError(400, `Invalid type for 'tools[${i}].function.parameters': expected an object.`, "invalid_request_error", `tools[${i}].function.parameters`, "invalid_type");
    }
  }
  if (body.stream_options !== undefined && body.stream !== true) {
    return openaiError(400, "The 'stream_options' parameter is only allowed when 'stream' is enabled.", "invalid_request_error", "stream_options", null);
  }
  return messages;
}

interface PlannedReply {
  content: string | null;
  toolCalls: { id: string; name: string; arguments: string }[];
  finishReason: string;
  status?: number;
  cutAfterChunks?: number;
  delayMs: number;
  firstDelayMs: number;
  crlf: boolean;
}

function plan(messages: Message[]): PlannedReply {
  const lastUser = [...messages].reverse().find((m) => m.role === "user");
  const haystacks = [...messages.filter((m) => m.role === "system" || m.role === "developer").map((m) => textOf(m.content)), lastUser ? textOf(lastUser.content) : ""];
  const script = chatScripts.find((s) => haystacks.some((h) => h.includes(s.match)));
  const reply: ScriptedReply | undefined = script && script.next < script.replies.length ? script.replies[script.next++] : undefined;
  const echo = lastUser ? `You said: ${textOf(lastUser.content)}` : "Hello! How can I help you today?";
  const toolCalls = (reply?.tool_calls ?? []).map((c) => ({
    id: c.id ?? `call_${randomBytes(12).toString("base64url")}`,
    name: c.name,
    arguments: typeof c.arguments === "string" ? c.arguments : JSON.stringify(c.arguments),
  }));
  const content = reply ? (reply.content ?? (toolCalls.length ? null : "")) : echo;
  return {
    content,
    toolCalls,
    finishReason: reply?.finish_reason ?? (toolCalls.length ? "tool_calls" : "stop"),
    status: reply?.status ?? script?.fail,
    cutAfterChunks: reply?.cut_after_chunks,
    delayMs: reply?.delay_ms_per_chunk ?? script?.delay_ms_per_chunk ?? 0,
    firstDelayMs: reply?.first_chunk_delay_ms ?? script?.first_chunk_delay_ms ?? 0,
    crlf: script?.crlf ?? false,
  };
}

/** Cuts text into pieces of varying length, so words are split across chunks. */
function pieces(text: string, sizes: number[]): string[] {
  const out: string[] = [];
  const chars = [...text];
  for (let at = 0, i = 0; at < chars.length; i++) {
    const size = sizes[i % sizes.length];
    out.push(chars.slice(at, at + size).join(""));
    at += size;
  }
  return out;
}

const CONTENT_SIZES = [4, 7, 3, 9, 5, 2, 6];
const ARGUMENT_SIZES = [5, 11, 3, 8];

function usageOf(messages: Message[], reply: PlannedReply) {
  const prompt = messages.reduce((n, m) => n + estimateTokens(textOf(m.content)) + 4, 0);
  const completion = estimateTokens(reply.content ?? "") + reply.toolCalls.reduce((n, c) => n + estimateTokens(c.name + c.arguments), 0);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

/** The SSE events of a streamed reply, as the strings OpenAI sends. */
function sseEvents(model: string, messages: Message[], reply: PlannedReply, includeUsage: boolean): string[] {
  const id = `chatcmpl-${randomBytes(15).toString("base64url")}`;
  const created = Math.floor(Date.now() / 1000);
  const nl = reply.crlf ? "\r\n" : "\n";
  const event = (data: string) => `data: ${data}${nl}${nl}`;
  const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) =>
    event(
      JSON.stringify({
        id,
        object: "chat.completion.chunk",
        created,
        model,
        service_tier: "default",
        system_fingerprint: "fp_fake0000",
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
        ...(includeUsage ? { usage: null } : {}),
      }),
    );
  const events = [chunk({ role: "assistant", content: "", refusal: null }), `: keep-alive${nl}${nl}`];
  const contentPieces = reply.content ? pieces(reply.content, CONTENT_SIZES) : [];
  contentPieces.forEach((piece, i) => {
    events.push(chunk({ content: piece }));
    if (i === Math.floor(contentPieces.length / 2) && contentPieces.length > 2) events.push(`: keep-alive${nl}${nl}`);
  });
  reply.toolCalls.forEach((call, index) => {
    events.push(chunk({ tool_calls: [{ index, id: call.id, type: "function", function: { name: call.name, arguments: "" } }] }));
    for (const piece of pieces(call.arguments, ARGUMENT_SIZES)) events.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
  });
  events.push(chunk({}, reply.finishReason));
  if (includeUsage) {
    events.push(event(JSON.stringify({ id, object: "chat.completion.chunk", created, model, service_tier: "default", system_fingerprint: "fp_fake0000", choices: [], usage: usageOf(messages, reply) })));
  }
  events.push(event("[DONE]"));
  return events;
}

/**
 * Writes the events so each network write ends halfway through an event (bytes, so a multi-byte
 * character may be split too): the client must keep a buffer across reads.
 */
async function* sseStream(events: string[], reply: PlannedReply): AsyncGenerator<Uint8Array> {
  const encoded = events.map((e) => new TextEncoder().encode(e));
  const all = new Uint8Array(encoded.reduce((n, e) => n + e.length, 0));
  const cuts: number[] = [];
  let at = 0;
  for (const e of encoded) {
    all.set(e, at);
    cuts.push(at + Math.floor(e.length / 2));
    at += e.length;
  }
  cuts.push(all.length);
  if (reply.firstDelayMs) await sleep(reply.firstDelayMs);
  let from = 0;
  for (let i = 0; i < cuts.length; i++) {
    if (reply.cutAfterChunks !== undefined && i > reply.cutAfterChunks) {
      await sleep(5);
      throw new CutStream();
    }
    if (i > 0) await sleep(reply.delayMs);
    yield all.subarray(from, cuts[i]);
    from = cuts[i];
  }
}

function chatCompletions(request: FakeRequest): FakeResponse {
  const body = jsonBody(request);
  if (isResponse(body)) return body;
  const messages = validateChat(body);
  if (isResponse(messages)) return messages;
  const model = body.model as string;
  const reply = plan(messages);
  if (reply.status) return serverError(reply.status);
  if (body.stream === true) {
    const includeUsage = (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
    return {
      status: 200,
      headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "x-request-id": `req_${randomBytes(12).toString("hex")}` },
      stream: sseStream(sseEvents(model, messages, reply, includeUsage), reply),
    };
  }
  return {
    status: 200,
    headers: { "x-request-id": `req_${randomBytes(12).toString("hex")}` },
    body: {
      id: `chatcmpl-${randomBytes(15).toString("base64url")}`,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            content: reply.content,
            refusal: null,
            annotations: [],
            ...(reply.toolCalls.length ? { tool_calls: reply.toolCalls.map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: c.arguments } })) } : {}),
          },
          logprobs: null,
          finish_reason: reply.finishReason,
        },
      ],
      usage: usageOf(messages, reply),
      service_tier: "default",
      system_fingerprint: "fp_fake0000",
    },
  };
}

// ---- Audio: transcriptions ----

interface Part {
  name: string;
  filename?: string;
  contentType?: string;
  data: Buffer;
}

function multipart(request: FakeRequest): Part[] | undefined {
  const type = header(request, "content-type") ?? "";
  const boundary = /^multipart\/form-data;.*boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (!boundary) return undefined;
  const raw = request.rawBody;
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Part[] = [];
  let at = raw.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    if (raw.subarray(start, start + 2).toString() === "--") break;
    const next = raw.indexOf(delimiter, start);
    if (next < 0) break;
    const section = raw.subarray(start + 2, next - 2); // skip the CRLF after the delimiter and before the next
    const split = section.indexOf("\r\n\r\n");
    if (split >= 0) {
      const headers = section.subarray(0, split).toString("utf8");
      const disposition = /content-disposition:([^\r\n]*)/i.exec(headers)?.[1] ?? "";
      const name = /\bname="([^"]*)"/i.exec(disposition)?.[1];
      if (name !== undefined) {
        parts.push({
          name,
          filename: /\bfilename="([^"]*)"/i.exec(disposition)?.[1],
          contentType: /content-type:\s*([^\r\n]*)/i.exec(headers)?.[1],
          data: section.subarray(split + 4),
        });
      }
    }
    at = next;
  }
  return parts;
}

/**
 * What `/v1/audio/transcriptions` does for requests whose file name or prompt contains `match`
 * (the newest matching script wins): answer `text`, or fail with `status` (OpenAI's error body),
 * after `delay_ms`; `times` makes it apply to that many requests, then it is forgotten.
 */
interface TranscriptionScript {
  match: string;
  text?: string;
  status?: number;
  delay_ms?: number;
  times?: number;
}

const transcriptionScripts: TranscriptionScript[] = [];

/** A WAV file's format as the fake read it. */
interface WavInfo {
  /** WAVE format tag: 1 PCM, 3 float, 6 A-law, 7 μ-law, 0xFFFE extensible. */
  format: number;
  channels: number;
  sample_rate: number;
  bits_per_sample: number;
  data_bytes: number;
  duration_ms: number;
  /**
   * Mono 16-bit PCM or μ-law only (else null): ms of the 20 ms blocks loud enough to be speech
   * for the fakes (SPEECH_RMS_THRESHOLD), so a test can see the caller's words are in the file.
   */
  voiced_ms: number | null;
}

/** A transcription request as the fake understood it: `GET /__fakes/openai/transcriptions?match=…`. */
interface TranscriptionRecord {
  at: number;
  filename: string | null;
  content_type: string | null;
  model: string | null;
  language: string | null;
  prompt: string | null;
  response_format: string | null;
  /** Names of every multipart field, in order. */
  fields: string[];
  wav: WavInfo | null;
  /** What the fake answered. */
  status: number;
  text: string | null;
}

const transcriptionLog: TranscriptionRecord[] = [];

const AUDIO_EXTENSIONS = ["flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "wav", "webm"];
/** WAVE format tags and the sample sizes ffmpeg (behind OpenAI's decoder) reads for them. */
const WAV_BITS: Record<number, number[]> = { 1: [8, 16, 24, 32], 3: [32, 64], 6: [8], 7: [8], 0xfffe: [8, 16, 24, 32] };
/** OpenAI's gpt-4o transcription models answer json or text only. */
const JSON_ONLY_MODELS = ["gpt-4o-transcribe", "gpt-4o-mini-transcribe"];

/** Reads a RIFF/WAVE file's `fmt ` and `data` chunks, or says why it is not a file a decoder would take. */
function parseWav(data: Buffer): WavInfo | string {
  if (data.length < 12 || data.toString("ascii", 0, 4) !== "RIFF" || data.toString("ascii", 8, 12) !== "WAVE") return "not a RIFF/WAVE file";
  let fmt: { format: number; channels: number; rate: number; byteRate: number; blockAlign: number; bits: number } | undefined;
  for (let at = 12; at + 8 <= data.length; ) {
    const id = data.toString("ascii", at, at + 4);
    const size = data.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === "fmt ") {
      if (size < 16 || body + 16 > data.length) return "truncated fmt chunk";
      fmt = {
        format: data.readUInt16LE(body),
        channels: data.readUInt16LE(body + 2),
        rate: data.readUInt32LE(body + 4),
        byteRate: data.readUInt32LE(body + 8),
        blockAlign: data.readUInt16LE(body + 12),
        bits: data.readUInt16LE(body + 14),
      };
      const bits = WAV_BITS[fmt.format];
      if (!bits) return `unsupported WAVE format tag ${fmt.format}`;
      if (!bits.includes(fmt.bits)) return `${fmt.bits} bits per sample with format tag ${fmt.format}`;
      if (fmt.channels < 1 || fmt.channels > 8) return `${fmt.channels} channels`;
      if (fmt.rate < 1000 || fmt.rate > 384_000) return `sample rate ${fmt.rate}`;
      if (fmt.blockAlign !== (fmt.channels * fmt.bits) / 8) return `block align ${fmt.blockAlign} for ${fmt.channels} × ${fmt.bits} bits`;
      if (fmt.byteRate !== fmt.rate * fmt.blockAlign) return `byte rate ${fmt.byteRate} for ${fmt.rate} Hz × ${fmt.blockAlign}`;
    } else if (id === "data") {
      if (!fmt) return "data chunk before the fmt chunk";
      // Streaming writers leave the size at 0xFFFFFFFF; decoders then read to the end of the file.
      const bytes = Math.min(size, data.length - body);
      const payload = data.subarray(body, body + bytes);
      let samples: Int16Array | null = null;
      if (fmt.channels === 1 && fmt.format === 1 && fmt.bits === 16) samples = Int16Array.from({ length: bytes >> 1 }, (_, i) => payload.readInt16LE(i * 2));
      if (fmt.channels === 1 && fmt.format === 7) samples = decodeMulaw(payload);
      let voiced: number | null = null;
      if (samples) {
        const block = Math.round(fmt.rate / 50);
        voiced = 0;
        for (let at = 0; at + block <= samples.length; at += block) if (rms(samples.subarray(at, at + block)) > SPEECH_RMS_THRESHOLD) voiced += 20;
      }
      return {
        format: fmt.format,
        channels: fmt.channels,
        sample_rate: fmt.rate,
        bits_per_sample: fmt.bits,
        data_bytes: bytes,
        duration_ms: Math.round((bytes / fmt.byteRate) * 1000),
        voiced_ms: voiced,
      };
    }
    at = body + size + (size % 2);
  }
  return fmt ? "no data chunk" : "no fmt chunk";
}

function transcriptions(request: FakeRequest): FakeResponse {
  const parts = multipart(request);
  if (!parts) return openaiError(400, "Invalid Content-Type header (expected multipart/form-data)");
  const field = (name: string) => parts.find((p) => p.name === name);
  const text = (name: string) => field(name)?.data.toString("utf8") ?? null;
  const file = field("file");
  const record: TranscriptionRecord = {
    at: Date.now(),
    filename: file?.filename ?? null,
    content_type: file?.contentType ?? null,
    model: text("model"),
    language: text("language"),
    prompt: text("prompt"),
    response_format: text("response_format"),
    fields: parts.map((p) => p.name),
    wav: null,
    status: 0,
    text: null,
  };
  transcriptionLog.push(record);
  const answer = (response: FakeResponse, transcript: string | null = null): FakeResponse => {
    record.status = response.status;
    record.text = transcript;
    return response;
  };

  const model = record.model;
  if (!model) return answer(openaiError(400, "you must provide a model parameter", "invalid_request_error", "model"));
  if (!STT_MODELS.includes(model)) return answer(openaiError(400, "invalid model ID", "invalid_request_error", null, null));
  if (!file || !file.filename) return answer(openaiError(400, "Missing required parameter: 'file'.", "invalid_request_error", "file", "missing_required_parameter"));
  const extension = file.filename.split(".").pop()?.toLowerCase() ?? "";
  if (!AUDIO_EXTENSIONS.includes(extension)) {
    return answer(openaiError(400, `Invalid file format. Supported formats: ${JSON.stringify(AUDIO_EXTENSIONS)}`, "invalid_request_error", null, "invalid_value"));
  }
  if (file.data.length === 0) return answer(openaiError(400, "Audio file is too short. Minimum audio length is 0.1 seconds.", "invalid_request_error", "file", "audio_too_short"));
  // The fake decodes WAV only; other formats are taken on trust (their length unknown).
  let durationMs: number | null = null;
  if (extension === "wav") {
    const wav = parseWav(file.data);
    if (typeof wav === "string") return answer(openaiError(400, `Audio file might be corrupted or unsupported (${wav})`, "invalid_request_error", "file", "invalid_value"));
    record.wav = wav;
    durationMs = wav.duration_ms;
    if (durationMs < 100) return answer(openaiError(400, "Audio file is too short. Minimum audio length is 0.1 seconds.", "invalid_request_error", "file", "audio_too_short"));
  }
  if (record.language !== null && !/^[a-z]{2}$/.test(record.language)) {
    return answer(openaiError(400, `Invalid language '${record.language}'. Language parameter must be specified in ISO-639-1 format.`, "invalid_request_error", "language", "invalid_value"));
  }
  const format = record.response_format ?? "json";
  if (!["json", "text", "srt", "verbose_json", "vtt"].includes(format)) {
    return answer(openaiError(400, `Invalid value: '${format}'. Supported values are: 'json', 'text', 'srt', 'verbose_json', and 'vtt'.`, "invalid_request_error", "response_format", "invalid_value"));
  }
  if (JSON_ONLY_MODELS.includes(model) && format !== "json" && format !== "text") {
    return answer(openaiError(400, `response_format '${format}' is not compatible with model '${model}'. Use 'json' or 'text'.`, "invalid_request_error", "response_format", "unsupported_value"));
  }

  const prompt = record.prompt ?? "";
  const script = transcriptionScripts.find((s) => file.filename!.includes(s.match) || prompt.includes(s.match));
  if (script?.times !== undefined && --script.times <= 0) transcriptionScripts.splice(transcriptionScripts.indexOf(script), 1);
  const delayed = (response: FakeResponse): FakeResponse => {
    if (!script?.delay_ms) return response;
    // Headers at once, the body after the delay: the record's `stream.aborted` then shows a client that gave up waiting.
    const delay = script.delay_ms;
    const plain = typeof response.body === "string";
    const data = plain ? (response.body as string) : JSON.stringify(response.body);
    return {
      status: response.status,
      headers: { "content-type": plain ? "text/plain; charset=utf-8" : "application/json", ...response.headers },
      stream: (async function* () {
        await sleep(delay);
        yield data;
      })(),
    };
  };
  if (script?.status) return answer(delayed(serverError(script.status)));
  const transcript = script?.text ?? "hello";
  const seconds = (durationMs ?? 0) / 1000;
  const language = record.language ?? "en";
  switch (format) {
    case "json":
      return answer(delayed({ status: 200, body: { text: transcript, usage: { type: "duration", seconds: Math.ceil(seconds) } } }), transcript);
    case "text":
      return answer(delayed({ status: 200, body: `${transcript}\n` }), transcript);
    case "verbose_json":
      return answer(
        delayed({
          status: 200,
          body: {
            task: "transcribe",
            language: language === "en" ? "english" : language,
            duration: Math.round(seconds * 100) / 100,
            text: transcript,
            segments: [{ id: 0, seek: 0, start: 0, end: seconds, text: ` ${transcript}`, tokens: [], temperature: 0, avg_logprob: -0.2, compression_ratio: 1, no_speech_prob: 0.01 }],
          },
        }),
        transcript,
      );
    default: {
      const end = Math.min(9, Math.ceil(seconds));
      const body = format === "vtt" ? `WEBVTT\n\n00:00:00.000 --> 00:00:0${end}.000\n${transcript}\n` : `1\n00:00:00,000 --> 00:00:0${end},000\n${transcript}\n`;
      return answer(delayed({ status: 200, body }), transcript);
    }
  }
}

// ---- Audio: speech ----

const ttsBehaviours = new TtsBehaviours();
const SPEECH_FORMATS = ["mp3", "opus", "aac", "flac", "wav", "pcm"];
const PCM_CHUNKS = [4801, 2399, 3333];

function speech(request: FakeRequest): FakeResponse {
  const body = jsonBody(request);
  if (isResponse(body)) return body;
  if (typeof body.model !== "string" || body.model === "") return openaiError(400, "you must provide a model parameter", "invalid_request_error", "model");
  if (typeof body.input !== "string" || body.input === "") return openaiError(400, "Missing required parameter: 'input'.", "invalid_request_error", "input", "missing_required_parameter");
  if (body.input.length > 4096) return openaiError(400, `Invalid 'input': string too long. Expected a string with maximum length 4096, but got a string with length ${body.input.length} instead.`, "invalid_request_error", "input", "string_above_max_length");
  const voice = typeof body.voice === "string" ? body.voice : typeof (body.voice as { id?: unknown } | undefined)?.id === "string" ? (body.voice as { id: string }).id : undefined;
  if (!voice) return openaiError(400, "Missing required parameter: 'voice'.", "invalid_request_error", "voice", "missing_required_parameter");
  const format = body.response_format ?? "mp3";
  if (typeof format !== "string" || !SPEECH_FORMATS.includes(format)) return openaiError(400, `Invalid value: '${String(format)}'. Supported values are: ${SPEECH_FORMATS.map((f) => `'${f}'`).join(", ")}.`, "invalid_request_error", "response_format", "invalid_value");
  if (format !== "pcm" && format !== "wav") return openaiError(400, `This fake produces response_format 'pcm' or 'wav' only, not '${format}' (mp3 is OpenAI's default).`, "invalid_request_error", "response_format", "invalid_value");
  const speed = body.speed ?? 1;
  if (typeof speed !== "number" || speed < 0.25 || speed > 4) return openaiError(400, "Invalid 'speed': must be between 0.25 and 4.0.", "invalid_request_error", "speed", "invalid_value");
  const behaviour = ttsBehaviours.take(voice, body.input);
  if (behaviour?.status) return serverError(behaviour.status);
  const pcm = pcm16leTone((body.input.length * TTS_MS_PER_CHAR) / speed, { rate: 24000, freqs: [TTS_TONE_HZ.openai], amplitude: 6000 });
  const bytes = format === "wav" ? Buffer.concat([wavHeader(pcm.length, { rate: 24000, format: "pcm16" }), pcm]) : pcm;
  return {
    status: 200,
    headers: { "content-type": format === "wav" ? "audio/wav" : "audio/pcm", "x-request-id": `req_${randomBytes(12).toString("hex")}` },
    stream: chunked(bytes, PCM_CHUNKS, behaviour),
  };
}

// ---- Embeddings ----

function fnv1a(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** A unit vector from the hashed words of the text (feature hashing): shared words, close vectors. */
export function fakeEmbedding(text: string, dimensions: number): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [text];
  for (const word of words) {
    const h = fnv1a(word);
    vector[h % dimensions] += (fnv1a(word, 0x9747b28c) & 1) === 0 ? 1 : -1;
    vector[fnv1a(word, 0x1b873593) % dimensions] += 0.5;
  }
  const norm = Math.sqrt(vector.reduce((s, v) => s + v * v, 0)) || 1;
  return vector.map((v) => v / norm);
}

function embeddings(request: FakeRequest): FakeResponse {
  const body = jsonBody(request);
  if (isResponse(body)) return body;
  if (typeof body.model !== "string" || body.model === "") return openaiError(400, "you must provide a model parameter", "invalid_request_error", "model");
  const inputs = typeof body.input === "string" ? [body.input] : Array.isArray(body.input) ? body.input : undefined;
  if (!inputs || inputs.length === 0 || inputs.length > 2048 || inputs.some((t) => typeof t !== "string" || t === "")) {
    return openaiError(400, "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.", "invalid_request_error", null, null);
  }
  const native = EMBEDDING_DIMENSIONS[body.model] ?? 1536;
  let dimensions = native;
  if (body.dimensions !== undefined) {
    if (body.model === "text-embedding-ada-002") return openaiError(400, "This model does not support specifying dimensions.", "invalid_request_error", "dimensions", null);
    if (typeof body.dimensions !== "number" || !Number.isInteger(body.dimensions) || body.dimensions < 1 || body.dimensions > native) {
      return openaiError(400, `Invalid 'dimensions': must be an integer between 1 and ${native}.`, "invalid_request_error", "dimensions", "invalid_value");
    }
    dimensions = body.dimensions;
  }
  const format = body.encoding_format ?? "float";
  if (format !== "float" && format !== "base64") return openaiError(400, "Invalid value for 'encoding_format': must be 'float' or 'base64'.", "invalid_request_error", "encoding_format", "invalid_value");
  const tokens = (inputs as string[]).reduce((n, t) => n + estimateTokens(t), 0);
  return {
    status: 200,
    body: {
      object: "list",
      data: (inputs as string[]).map((text, index) => {
        const vector = fakeEmbedding(text, dimensions);
        return { object: "embedding", index, embedding: format === "float" ? vector : Buffer.from(new Float32Array(vector).buffer).toString("base64") };
      }),
      model: body.model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    },
  };
}

export const openaiFake: Fake = {
  service: "openai",
  handle(request) {
    const path = request.url.pathname;
    const routes: Record<string, (r: FakeRequest) => FakeResponse> = {
      "POST /v1/chat/completions": chatCompletions,
      "POST /v1/audio/transcriptions": transcriptions,
      "POST /v1/audio/speech": speech,
      "POST /v1/embeddings": embeddings,
      "GET /v1/models": () => ({
        status: 200,
        body: { object: "list", data: [...CHAT_MODELS, ...TTS_MODELS, ...STT_MODELS, ...Object.keys(EMBEDDING_DIMENSIONS)].map((id) => ({ id, object: "model", created: 1700000000, owned_by: "system" })) },
      }),
    };
    const route = routes[`${request.method} ${path}`];
    if (!route) return undefined;
    return authenticate(request) ?? route(request);
  },
  control(request) {
    const path = request.url.pathname;
    const body = (parseJson(request.body) ?? {}) as Record<string, unknown>;
    if (path === "/__fakes/openai/script" && request.method === "POST") {
      if (typeof body.match !== "string" || body.match === "") return { status: 400, body: { error: "match (a marker in the system prompt or last user message) is required" } };
      const replies = Array.isArray(body.replies) ? (body.replies as ScriptedReply[]) : [];
      const bad = replies.find((r) => typeof r !== "object" || r === null || (r.tool_calls !== undefined && (!Array.isArray(r.tool_calls) || r.tool_calls.some((c) => typeof c?.name !== "string"))));
      if (bad !== undefined) return { status: 400, body: { error: "each reply is {content?, tool_calls?: [{name, arguments}], …}" } };
      const existing = chatScripts.findIndex((s) => s.match === body.match);
      if (existing >= 0) chatScripts.splice(existing, 1);
      const script: ChatScript = {
        match: body.match,
        replies,
        next: 0,
        delay_ms_per_chunk: typeof body.delay_ms_per_chunk === "number" ? body.delay_ms_per_chunk : undefined,
        first_chunk_delay_ms: typeof body.first_chunk_delay_ms === "number" ? body.first_chunk_delay_ms : undefined,
        fail: typeof body.fail === "number" ? body.fail : undefined,
        crlf: body.crlf === true,
      };
      chatScripts.unshift(script);
      return { status: 200, body: script };
    }
    if (path === "/__fakes/openai/script" && request.method === "GET") {
      const match = request.url.searchParams.get("match");
      const script = chatScripts.find((s) => s.match === match);
      return script ? { status: 200, body: { ...script, used: script.next } } : { status: 404, body: { error: "no such script" } };
    }
    if (path === "/__fakes/openai/transcription" && request.method === "POST") {
      const number = (value: unknown) => (typeof value === "number" ? value : undefined);
      if (typeof body.match !== "string" || body.match === "" || (typeof body.text !== "string" && typeof body.status !== "number")) {
        return { status: 400, body: { error: "{match, text} or {match, status} is required (with delay_ms?, times?)" } };
      }
      transcriptionScripts.unshift({ match: body.match, text: typeof body.text === "string" ? body.text : undefined, status: number(body.status), delay_ms: number(body.delay_ms), times: number(body.times) });
      return { status: 200, body };
    }
    if (path === "/__fakes/openai/transcriptions" && request.method === "GET") {
      const match = request.url.searchParams.get("match") ?? "";
      return { status: 200, body: transcriptionLog.filter((r) => (r.filename ?? "").includes(match) || (r.prompt ?? "").includes(match)) };
    }
    if (path === "/__fakes/openai/tts" && request.method === "POST") return ttsBehaviours.control(request);
    return undefined;
  },
};
