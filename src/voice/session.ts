/**
 * One call's voice loop, owned by its CallDO from the media stream's `start` frame to the stream's
 * end. It does the I/O; the decisions are the pure modules next to it:
 *
 *   caller μ-law ─┬─ EnergyVad ───────────────────────────────┬─ barge-in (session-rules)
 *                 ├─ Deepgram live (providers/deepgram-live) ─┴─ DeepgramTurnAssembler ──┬─ caller turn
 *                 └─ the VAD's utterances (UtteranceCollector) → POST /audio/transcriptions,
 *                    one at a time, in order (providers/openai-stt) ──────────────────────┘
 *   stt.provider "deepgram" takes the live socket, "openai" the utterances: then barge-in has no
 *   interim words and goes by the VAD's voiced ms alone.
 *   caller turn → LLM stream (providers/llm) → ClauseSplitter → TTS per clause (providers/tts)
 *               → MulawFramer → `media` frames + a `mark` per clause → MarkTracker
 *
 * Time: transcript and turn times use the caller's stream clock (bytes of caller audio received
 * ÷ 8, which is what Deepgram's word timings and the VAD's frames count too) plus the stream's
 * offset from the answer.
 * Latency uses the wall clock (Date.now), since it measures our own and the providers' delays.
 *
 * Turns: at most one agent turn is live. Each has an epoch and an AbortController; a barge-in
 * sends `clear`, bumps the epoch (late TTS chunks and marks of the old epoch are dropped) and
 * aborts the turn's LLM and TTS fetches. A turn settles once: fully played (its last mark echoed)
 * or interrupted (what was heard), and only then goes to history and the transcript.
 *
 * The CallDO stays the owner of the call: the session asks it (VoiceHost) to arm or cancel the
 * inactivity timer, to record agent audio and to end the call.
 */
import {
  callActionTools,
  CALL_TOOL_TIMEOUT_CAP_MS,
  DEFAULT_TOOL_FILLER,
  MAX_LOGGED_RESPONSE_BYTES,
  MAX_TOOL_ROUNDS,
  OPT_OUT_CONFIRMATION,
  TOOL_FILLER_AFTER_MS,
  buildToolRequest,
  checkDtmfDigits,
  checkTransferDestination,
  functionToolOf,
  isCallAction,
  toolResultForModel,
  truncateUtf8,
  type CallAction,
  type FunctionTool,
} from "../domain/tool-calls";
import { urlPolicyFor } from "../domain/url-safety";
import { runToolRequest } from "./http-tool";
import type { AssembledToolCall } from "./llm-stream";
import { retrieveContext, type RetrievalEnv } from "../knowledge/retrieve";
import type { MediaLink } from "./media-link";
import { FRAME_BYTES, MarkTracker, MulawFramer } from "./playout";
import { DeepgramLive } from "./providers/deepgram-live";
import { ProviderError } from "./providers/errors";
import { streamChat, type ChatMessage } from "./providers/llm";
import { transcribeUtterance } from "./providers/openai-stt";
import { synthesizeMulaw, type TtsEnv } from "./providers/tts";
import { llmApiKey, type CallTool, type VoiceSessionConfig } from "./session-config";
import {
  bargeInDecision,
  heardSoFar,
  joinSpoken,
  KEYPAD_GAP_MS,
  KEYPAD_SETTLE_MS,
  KeypadEntry,
  keypadText,
  transcriptTurn,
  turnLatency,
  type LatencyMarks,
  type SentClause,
} from "./session-rules";
import type { ToolCallRecord, VoiceStore } from "./session-store";
import { ClauseSplitter, splitClauses } from "./sentences";
import { DeepgramTurnAssembler, onlyBackchannel, type TurnEvent } from "./turns";
import { UtteranceCollector, type Utterance } from "./utterances";
import { classifyVoicemailGreeting, VOICEMAIL_CLASSIFIED_TURNS, VOICEMAIL_GREETING_TIMEOUT_MS, VOICEMAIL_SILENCE_MS } from "../domain/voicemail";
import { EnergyVad } from "./vad";

export interface VoiceEnv extends TtsEnv, RetrievalEnv {
  DEEPGRAM_API_BASE_URL: string;
  DEEPGRAM_API_KEY?: string;
  /** Tools may reach loopback only where the simulator runs (dev and tests), as when they are saved. */
  SIMULATOR_ENABLED?: string;
}

/** A built-in call action the model asked for, carried out by the call's object. */
export type HostCallAction = { kind: "transfer"; destination: string } | { kind: "dtmf"; digits: string } | { kind: "opt_out" };

/**
 * What the action came to. `streamRestarts`: the carrier replaces this media stream (Twilio plays
 * DTMF on a new TwiML document), so this session is about to close and a new one resumes.
 */
export type HostActionResult = { ok: true; detail: string; streamRestarts?: boolean } | { ok: false; error: string };

/** What the session needs from the call's object. */
export interface VoiceHost {
  /** Arms the inactivity timer `ms` from now, or cancels it (null). */
  setInactivityTimer(ms: number | null): Promise<void>;
  /** Ends the call from our side: hang up at the carrier with this end_reason. */
  endCall(reason: "inactivity" | "provider_error" | "max_duration" | "hangup_by_agent" | "voicemail", message: string): Promise<void>;
  /** The callee's first words read as a voicemail greeting (`cues`: what gave it away): a machine answered. */
  machineHeard(cues: string[]): Promise<void>;
  /** Transfers the call, sends DTMF or opts the callee out (the LLM's built-in call actions). */
  callAction(action: HostCallAction): Promise<HostActionResult>;
  /** Agent audio as it is sent, for the recording's agent leg. */
  recordAgentAudio(bytes: Uint8Array): void;
}

export interface VoiceSessionOptions {
  callId: string;
  /** Where the agent's audio, marks and clears go (the carrier's media socket). */
  link: MediaLink;
  env: VoiceEnv;
  store: VoiceStore;
  host: VoiceHost;
  /** Resolved from D1 while caller audio is already being buffered. */
  config: Promise<VoiceSessionConfig>;
  /** ms from the call's answer to this stream's start (transcript times count from the answer). */
  answerOffsetMs: number;
  /** A machine already answered (carrier detection before this stream started): wait for the beep instead of greeting. */
  machine?: { greetingEnded: boolean } | null;
}

type TurnKind = "greeting" | "reply" | "reprompt" | "goodbye" | "voicemail";

interface AgentTurn {
  id: string;
  kind: TurnKind;
  epoch: number;
  abort: AbortController;
  /** Still producing (LLM or TTS); a turn settles only after this and its last mark. */
  producing: boolean;
  settled: boolean;
  /** Text of the clauses fully sent. */
  spoken: string;
  clauses: SentClause[];
  sentBytes: number;
  /** Stream time at which the turn began (the caller's audio heard up to then). */
  openedStreamMs: number;
  /** Stream time at which its first frame went out (null before). */
  startStreamMs: number | null;
  firstFrameAt?: number;
  lastEchoAt?: number;
  /** Caller turn answered (replies only), with its milestones for the latency figures. */
  callerTurn?: number;
  latency?: LatencyMarks;
  /** A tool's filler line was said in this turn (once per turn at most). */
  saidFiller?: boolean;
  /**
   * A call action is ending the call after this turn (end_call, opt_out, transfer_call): once its
   * audio has played it counts as complete, and nothing more is said or awaited after it.
   */
  ending?: boolean;
}

/** What the clause queue carries: clauses to speak, or a marker resolved once the player reaches it. */
type QueueItem = string | { reached: () => void };

const BYTES_PER_MS = 8;
/** Knowledge put in a reply's prompt at most (tokens ≈ characters / 4), and how long finding it may take. */
const KNOWLEDGE_TOKEN_BUDGET = 800;
const KNOWLEDGE_TIMEOUT_MS = 1500;
/**
 * A turn whose first audio has not gone out this long after it began is stuck (a provider that
 * accepted the request and went silent): the call ends rather than hang in silence.
 */
const TURN_STALL_MS = 20_000;
/** Arrival times kept per 20 ms of caller audio, to date the end of the caller's speech: 60 s. */
const ARRIVAL_RING = 3000;
/**
 * A clause about to start on a silent line waits while the caller is speaking: until they have
 * been quiet this long (a pause between words is shorter) ...
 */
const CALLER_PAUSE_MS = 300;
/** ... or cut the agent off, and at most this long: a noisy line must not mute the agent. */
const CALLER_PAUSE_MAX_WAIT_MS = 1000;

/** Clauses handed from the LLM reader to the TTS player, in order. */
class ClauseQueue implements AsyncIterable<QueueItem> {
  #items: QueueItem[] = [];
  #closed = false;
  #wake: (() => void) | null = null;

  push(item: QueueItem): void {
    this.#items.push(item);
    this.#wake?.();
  }

  close(): void {
    this.#closed = true;
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<QueueItem> {
    for (;;) {
      const next = this.#items.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (this.#closed) return;
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = null;
    }
  }
}

export class VoiceSession {
  readonly callId: string;
  readonly #options: VoiceSessionOptions;
  #config: VoiceSessionConfig | null = null;
  #stt: DeepgramLive | null = null;
  /** Caller audio that arrived before the STT socket existed. */
  #early: Uint8Array[] = [];
  /**
   * OpenAI-compatible STT (`stt.provider: "openai"`): the caller's utterances as the VAD cuts
   * them (null once the agent turns out to use Deepgram), transcribed one at a time, in order.
   */
  #utterances: UtteranceCollector | null = new UtteranceCollector();
  #transcriptions: Promise<void> = Promise.resolve();
  readonly #transcriptionAbort = new AbortController();
  #utteranceSeq = 0;
  /** Texts of the pieces of an utterance cut at the collector's cap, joined into one turn at its end. */
  #pieces: { text: string; startMs: number } | null = null;
  readonly #assembler = new DeepgramTurnAssembler();
  readonly #vad = new EnergyVad();
  readonly #vadFramer = new MulawFramer();
  /** Stream time the caller's current speech began (VAD), or null in silence. */
  #voicedSince: number | null = null;
  /** Clauses waiting for the caller to stop speaking (#waitForCallerPause). */
  #pauseWaiters: (() => void)[] = [];
  /** Stream time the last voiced frame ended: speech lasts until then, not through the VAD's hangover. */
  #voicedUntil = 0;
  /** The caller's words so far in the current utterance (Deepgram interim results). */
  #interim = "";
  #callerBytes = 0;
  readonly #arrivals = new Float64Array(ARRIVAL_RING);
  readonly #tracker = new MarkTracker();
  #epoch = 0;
  #turnSeq = 0;
  #turn: AgentTurn | null = null;
  /** Stream time the agent's last audio ends (estimate), so turns never overlap in the transcript. */
  #agentEndMs = 0;
  #inactivityArmed = false;
  /** Re-prompts since the caller last spoke. */
  #reprompts = 0;
  /**
   * What the caller said over the agent without stopping it (too few words, or interruption
   * disabled for the agent), answered once the agent finishes.
   */
  #held: { text: string; startMs: number; endMs: number } | null = null;
  /** max_duration is near: the goodbye is (being) said, and nothing else will be. */
  #wrappingUp = false;
  /** Waiting for every mark sent so far to be echoed (a call action waits for its lead-in to be heard). */
  #playedWaiters: (() => void)[] = [];
  /**
   * A machine answered and the agent leaves a message: `awaiting` the end of its greeting (the
   * carrier's word, the VAD's silence since `sinceMs`, or `fallback`), then `leaving` it. Nothing
   * the machine says is answered meanwhile.
   */
  #voicemail: { phase: "awaiting" | "leaving" | "hanging_up"; sinceMs: number; fallback: ReturnType<typeof setTimeout> | null } | null = null;
  /** A carrier verdict that came before the agent's configuration. */
  #pendingMachine: { greetingEnded: boolean } | null = null;
  /** Caller turns the voicemail classifier has looked at (only the first ones are a greeting). */
  #classifiedTurns = 0;
  /** Keys the caller is pressing (DTMF), not yet a turn; since stream time `#keypadSinceMs`, ended by `#keypadTimer` unless another key comes. */
  readonly #keypad = new KeypadEntry();
  #keypadSinceMs = 0;
  #keypadTimer: ReturnType<typeof setTimeout> | null = null;
  #closed = false;

  constructor(options: VoiceSessionOptions) {
    this.callId = options.callId;
    this.#options = options;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Diagnostics for tests and logs. */
  get state() {
    return {
      sttConnections: this.#stt?.connections ?? 0,
      sttConnected: this.#stt?.connected ?? false,
      callerMs: this.#streamMs(),
      agentSpeaking: this.#busy(),
      inactivityArmed: this.#inactivityArmed,
      reprompts: this.#reprompts,
      held: this.#held?.text ?? null,
    };
  }

  /** Waits for the configuration, opens STT and greets (unless the conversation is resuming). */
  async start(): Promise<void> {
    try {
      this.#config = await this.#options.config;
    } catch (error) {
      return this.#fail(new ProviderError("llm", "config", `the agent could not be loaded: ${String(error)}`));
    }
    if (this.#closed) return;
    const config = this.#config;
    if (config.stt.provider === "openai") {
      // Batch transcription of the VAD's utterances (#onUtterance): no live socket, so nothing to buffer for one.
      this.#early = [];
    } else {
      this.#utterances = null;
      this.#openDeepgram(config);
    }

    const machine = this.#pendingMachine ?? this.#options.machine;
    if (machine && config.voicemail?.action === "leave_message") {
      // A machine answered before this stream started: no greeting, the message after the beep.
      this.#onMachine(machine.greetingEnded);
      return;
    }
    if (this.#options.store.hasConversation() || config.firstSpeaker === "user") {
      // A reconnected stream picks the conversation up; a callee-first agent waits to be spoken to.
      await this.#armInactivity();
      return;
    }
    if (config.greeting) this.#startTurn("greeting", { text: config.greeting });
    else this.#startTurn("greeting", { llm: true });
  }

  /** Deepgram live STT, fed every caller byte (the audio buffered so far first). */
  #openDeepgram(config: VoiceSessionConfig): void {
    const { env } = this.#options;
    const params: Record<string, string> = {
      model: config.stt.model,
      encoding: "mulaw",
      sample_rate: "8000",
      channels: "1",
      interim_results: "true",
      endpointing: String(config.stt.endpointingMs),
      utterance_end_ms: "1000",
      vad_events: "true",
      smart_format: "true",
      punctuate: "true",
      tag: this.callId,
    };
    if (config.stt.language) params.language = config.stt.language;
    this.#stt = new DeepgramLive({
      baseUrl: env.DEEPGRAM_API_BASE_URL,
      apiKey: env.DEEPGRAM_API_KEY,
      params,
      onMessage: (message) => this.#onTranscript(message),
      onFailure: (error) => void this.#fail(error),
    });
    this.#stt.start();
    for (const chunk of this.#early) this.#stt.send(chunk);
    this.#early = [];
  }

  /** Stops everything: the stream ended or the call is over. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#epoch++;
    const turn = this.#turn;
    if (turn && !turn.settled) {
      turn.abort.abort();
      // Cut off by the end of the stream: the transcript keeps what was heard, as for a barge-in.
      // A turn ending the call (a call action) whose audio has all played was not cut off.
      const complete = turn.ending === true && !this.#tracker.speaking;
      void this.#settle(turn, !complete, complete ? undefined : this.#heard(turn));
    }
    for (const resolve of [...this.#playedWaiters.splice(0), ...this.#pauseWaiters.splice(0)]) resolve();
    if (this.#voicemail?.fallback) clearTimeout(this.#voicemail.fallback);
    if (this.#keypadTimer) clearTimeout(this.#keypadTimer);
    this.#stt?.close();
    // A transcription in flight is cancelled; queued utterances see the session closed and stop.
    this.#transcriptionAbort.abort();
  }

  // ---- Caller audio ----

  /** One inbound media payload (μ-law 8 kHz). */
  pushCallerAudio(bytes: Uint8Array): void {
    if (this.#closed || bytes.length === 0) return;
    const before = this.#callerBytes;
    this.#callerBytes += bytes.length;
    const now = Date.now();
    for (let frame = Math.floor(before / FRAME_BYTES); frame < Math.floor(this.#callerBytes / FRAME_BYTES); frame++) this.#arrivals[frame % ARRIVAL_RING] = now;

    // Always forwarded, also while the agent speaks: that is how barge-in words are heard.
    if (this.#stt) this.#stt.send(bytes);
    else if (this.#config?.stt.provider !== "openai") this.#early.push(bytes);

    for (const frame of this.#vadFramer.push(bytes)) {
      const judged = this.#vad.pushFrame(frame);
      if (judged.voiced) this.#voicedUntil = judged.startMs + 20;
      if (judged.event?.type === "speech_start") {
        this.#voicedSince = judged.event.atMs;
        void this.#callerActive();
      } else if (judged.event?.type === "speech_end") {
        this.#voicedSince = null;
        // Noise, or words Deepgram made no turn of: the silence starts counting again.
        if (!this.#busy()) void this.#armInactivity();
      }
      // The OpenAI-compatible STT hears the caller through the VAD's utterances (and so does
      // barge-in: it has no interim words, only the voiced duration).
      const utterance = this.#utterances?.push(frame, judged.startMs, judged.event);
      if (utterance) this.#onUtterance(utterance);
    }
    if (this.#voicedSince !== null && this.#busy()) this.#considerBargeIn();
    if (this.#pauseWaiters.length > 0 && this.#streamMs() - this.#voicedUntil >= CALLER_PAUSE_MS) {
      for (const resume of this.#pauseWaiters.splice(0)) resume();
    }
    // Waiting for a machine's beep: a pause after its greeting (and the beep) is the cue.
    const voicemail = this.#voicemail;
    if (voicemail?.phase === "awaiting" && this.#streamMs() - Math.max(this.#voicedUntil, voicemail.sinceMs) >= VOICEMAIL_SILENCE_MS) this.#leaveVoicemail("silence after the greeting");
  }

  #streamMs(): number {
    return this.#callerBytes / BYTES_PER_MS;
  }

  /** Wall time at which caller audio up to stream time `ms` had arrived. */
  #arrivalOf(ms: number): number | undefined {
    const frame = Math.ceil(ms / 20) - 1;
    const newest = Math.floor(this.#callerBytes / FRAME_BYTES) - 1;
    if (frame < 0 || frame > newest || newest - frame >= ARRIVAL_RING) return undefined;
    return this.#arrivals[frame % ARRIVAL_RING];
  }

  #voicedMs(): number {
    return this.#voicedSince === null ? 0 : Math.max(0, this.#voicedUntil - this.#voicedSince);
  }

  #considerBargeIn(): void {
    const config = this.#config;
    if (!config || !this.#busy() || !config.bargeIn.enabled || this.#wrappingUp || this.#voicemail) return;
    if (bargeInDecision({ text: this.#interim, voicedMs: this.#voicedMs() }, config.bargeIn)) this.#bargeIn();
  }

  // ---- Transcription ----

  #onTranscript(message: unknown): void {
    if (this.#closed) return;
    for (const event of this.#assembler.push(message)) void this.#onTurnEvent(event);
  }

  async #onTurnEvent(event: TurnEvent): Promise<void> {
    switch (event.type) {
      case "speech_started":
        await this.#callerActive();
        return;
      case "interim":
        this.#interim = event.text;
        this.#considerBargeIn();
        await this.#callerActive();
        return;
      case "turn":
        await this.#onCallerTurn(event.text, event.startMs, event.endMs);
        return;
    }
  }

  /** A caller utterance (or a piece of a long one) for the OpenAI-compatible STT: queued behind the ones before it. */
  #onUtterance(utterance: Utterance): void {
    const file = `${this.callId}-${++this.#utteranceSeq}.wav`;
    this.#transcriptions = this.#transcriptions.then(() =>
      this.#transcribe(utterance, file).catch((error) => {
        // Aborted by close(): nothing to report. Anything else ends the call.
        if (!this.#closed) void this.#fail(error);
      }),
    );
  }

  async #transcribe(utterance: Utterance, file: string): Promise<void> {
    // Speech can end before the agent's configuration has loaded: its transcription waits for it.
    const config = this.#config ?? (await this.#options.config);
    // Collected before the agent turned out to use Deepgram, which hears that audio itself.
    if (this.#closed || config.stt.provider !== "openai") return;
    const text =
      utterance.audio.length === 0
        ? ""
        : await transcribeUtterance({
            baseUrl: config.llm.baseUrl,
            apiKey: llmApiKey(config, "stt"),
            model: config.stt.model,
            language: config.stt.language,
            audio: utterance.audio,
            fileName: file,
            signal: this.#transcriptionAbort.signal,
          });
    if (this.#closed) return;
    const joined = joinSpoken(this.#pieces?.text ?? "", text);
    const startMs = this.#pieces?.startMs ?? utterance.startMs;
    if (!utterance.final) {
      this.#pieces = { text: joined, startMs };
      return;
    }
    this.#pieces = null;
    if (joined) await this.#onCallerTurn(joined, startMs, utterance.endMs);
    // Noise, or nothing the model made words of: the silence starts counting again.
    else if (!this.#busy()) await this.#armInactivity();
  }

  // ---- Keypad ----

  /**
   * A key the caller pressed (the carrier's DTMF report, `sequence` its message number). Keys make
   * one entry, which becomes a caller turn shortly after `#` or KEYPAD_MAX_KEYS keys, or
   * KEYPAD_GAP_MS after the last key.
   */
  keypress(key: string, sequence?: number): void {
    if (this.#closed) return;
    const starting = this.#keypad.empty;
    if (!this.#keypad.add(key, sequence)) {
      this.#log("warn", "a key that came after its keypad entry was answered is dropped", { key, sequence });
      return;
    }
    void this.#callerActive();
    if (starting) this.#keypadSinceMs = this.#streamMs();
    if (this.#keypadTimer) clearTimeout(this.#keypadTimer);
    this.#keypadTimer = setTimeout(() => this.#keypadEntered(), this.#keypad.complete ? KEYPAD_SETTLE_MS : KEYPAD_GAP_MS);
  }

  #keypadEntered(): void {
    this.#keypadTimer = null;
    if (this.#closed || this.#keypad.empty) return;
    void this.#onCallerTurn(keypadText(this.#keypad.take()), this.#keypadSinceMs, this.#streamMs(), { keypad: true });
  }

  /** A caller turn: words (the STT's), or a keypad entry, which a machine never makes and which stops the agent like words enough to. */
  async #onCallerTurn(text: string, startMs: number, endMs: number, { keypad = false } = {}): Promise<void> {
    const config = this.#config;
    if (!config || this.#closed) return;
    const sttFinalAt = Date.now();
    if (!keypad) this.#interim = "";
    const offset = this.#options.answerOffsetMs;
    const turn = transcriptTurn("contact", text, offset + startMs, offset + endMs);
    if (this.#voicemail || (!keypad && this.#voicemailGreeting(text))) {
      // A machine: what it says goes in the transcript, never to the LLM.
      await this.#options.store.appendTranscript(turn);
      return;
    }
    if (this.#wrappingUp) {
      // The goodbye is under way: what the caller says still goes in the transcript, unanswered.
      await this.#options.store.appendTranscript(turn);
      return;
    }
    if (this.#busy()) {
      if (!keypad && onlyBackchannel(text)) {
        // A backchannel ("okay", "mm-hmm") over the agent: kept in the transcript, not answered.
        await this.#options.store.appendTranscript(turn);
        return;
      }
      if (!config.bargeIn.enabled || (!keypad && !bargeInDecision({ text, voicedMs: endMs - startMs }, config.bargeIn))) {
        // Too little to stop the agent (or it may not be stopped): answered once it finishes,
        // together with anything else said meanwhile.
        this.#held = this.#held ? { text: joinSpoken(this.#held.text, text), startMs: this.#held.startMs, endMs } : { text, startMs, endMs };
        return;
      }
      this.#bargeIn();
    }
    await this.#callerActive();
    const store = this.#options.store;
    store.appendMessage("user", text);
    const callerTurn = store.callerTurns();
    this.#startTurn("reply", { llm: true }, { callerTurn, latency: { speechEndAt: this.#arrivalOf(endMs) ?? sttFinalAt, sttFinalAt } });
    await store.appendTranscript(turn);
  }

  // ---- Inactivity ----

  /** Caller speech: the silence timer stops and the re-prompt count starts over. */
  async #callerActive(): Promise<void> {
    this.#reprompts = 0;
    if (!this.#inactivityArmed) return;
    this.#inactivityArmed = false;
    await this.#options.host.setInactivityTimer(null);
  }

  async #armInactivity(): Promise<void> {
    const config = this.#config;
    // A machine is not re-prompted: the voicemail timer bounds the wait for its beep.
    if (!config || this.#closed || this.#voicemail) return;
    this.#inactivityArmed = true;
    await this.#options.host.setInactivityTimer(config.inactivityTimeoutMs);
  }

  /**
   * The inactivity timer fired (the CallDO's alarm): the first time the agent re-prompts, the
   * second time the call should end.
   */
  inactivityTimeout(): "reprompt" | "hangup" | "ignored" {
    this.#inactivityArmed = false;
    const config = this.#config;
    if (!config || this.#closed || this.#busy() || this.#wrappingUp || this.#voicemail) return "ignored";
    if (this.#reprompts >= 1) return "hangup";
    this.#reprompts++;
    this.#startTurn("reprompt", { text: config.inactivityMessage });
    return "reprompt";
  }

  // ---- Agent turns ----

  #busy(): boolean {
    return this.#turn !== null && !this.#turn.settled;
  }

  #startTurn(kind: TurnKind, source: { text: string } | { llm: true }, reply?: { callerTurn: number; latency: LatencyMarks }): void {
    if (this.#closed) return;
    const turn: AgentTurn = {
      id: `t${++this.#turnSeq}`,
      kind,
      epoch: this.#epoch,
      abort: new AbortController(),
      producing: true,
      settled: false,
      spoken: "",
      clauses: [],
      sentBytes: 0,
      openedStreamMs: this.#streamMs(),
      startStreamMs: null,
      ...reply,
    };
    this.#turn = turn;
    // Only speech that starts after this turn began can interrupt it: not the tail of what it answers.
    this.#voicedSince = null;
    this.#interim = "";
    void this.#run(turn, source).catch((error) => this.#turnFailed(turn, error));
  }

  #stale(turn: AgentTurn): boolean {
    return this.#closed || turn.epoch !== this.#epoch;
  }

  /** Produces the turn's clauses (as given, or from the LLM) and speaks them as they come. */
  async #run(turn: AgentTurn, source: { text: string } | { llm: true }): Promise<void> {
    const queue = new ClauseQueue();
    let failure: { error: unknown } | undefined;
    // Either half failing stops the other at once (its fetch is aborted), and the first error is the one reported.
    const guard = (work: Promise<void>) =>
      work.catch((error) => {
        failure ??= { error };
        turn.abort.abort();
      });
    const producer = guard(
      (async () => {
        try {
          if ("text" in source) for (const clause of splitClauses(source.text)) queue.push(clause);
          else await this.#generate(turn, queue);
        } finally {
          queue.close();
        }
      })(),
    );
    const player = guard(
      (async () => {
        let index = 0;
        for await (const item of queue) {
          if (this.#stale(turn)) return;
          if (typeof item !== "string") item.reached();
          else await this.#speakClause(turn, item, index++);
        }
      })(),
    );
    const stall = setTimeout(() => {
      if (turn.firstFrameAt !== undefined || this.#stale(turn) || turn.settled) return;
      failure ??= { error: new ProviderError("tts", this.#config?.voice.provider ?? "tts", `no audio ${TURN_STALL_MS / 1000} s after the turn began (LLM or TTS stalled)`) };
      turn.abort.abort();
    }, TURN_STALL_MS);
    try {
      await Promise.all([producer, player]);
    } finally {
      clearTimeout(stall);
    }
    if (failure) throw failure.error;
    turn.producing = false;
    if (!this.#stale(turn)) await this.#maybeSettle(turn);
  }

  /**
   * The LLM's reply, spoken clause by clause as it streams. When the model calls tools (the
   * agent's HTTP tools or the built-in call actions) they run, their answers go back to it and it
   * continues, for at most MAX_TOOL_ROUNDS rounds; the round after that may only speak. Each round
   * (the call message and every answer) joins the history once it has run.
   */
  async #generate(turn: AgentTurn, queue: ClauseQueue): Promise<void> {
    const config = this.#config!;
    const store = this.#options.store;
    const knowledge = await this.#knowledgeFor(turn, config, store.history());
    if (this.#stale(turn)) return;
    const messages: ChatMessage[] = [{ role: "system", content: config.systemPrompt }, ...knowledge, ...store.history()];
    const tools = this.#offeredTools(config);
    for (let round = 0; ; round++) {
      const splitter = new ClauseSplitter();
      let text = "";
      let calls: AssembledToolCall[] = [];
      for await (const event of streamChat({
        baseUrl: config.llm.baseUrl,
        apiKey: llmApiKey(config, "llm"),
        model: config.llm.model,
        temperature: config.llm.temperature,
        messages,
        tools,
        toolChoice: round < MAX_TOOL_ROUNDS ? "auto" : "none",
        signal: turn.abort.signal,
      })) {
        if (this.#stale(turn)) return;
        if (event.type === "tool_calls") calls = event.calls;
        if (event.type !== "text") continue;
        if (turn.latency) turn.latency.llmFirstTokenAt ??= Date.now();
        text += event.text;
        for (const clause of splitter.push(event.text)) queue.push(clause);
      }
      for (const clause of splitter.flush()) queue.push(clause);
      // Past the last round the model was told not to call tools; calls it makes anyway are not run.
      if (calls.length === 0 || round >= MAX_TOOL_ROUNDS || this.#stale(turn)) return;
      const assistant = {
        content: text || null,
        tool_calls: calls.map((c) => ({ id: c.id, type: "function" as const, function: { name: c.function.name, arguments: c.function.arguments } })),
      };
      const ran = await this.#runToolCalls(turn, queue, calls, text, assistant);
      if (ran.ended || this.#stale(turn)) return;
      // History keeps the call message without its text: the turn's spoken text joins it when the turn settles.
      store.appendToolRound({ content: null, tool_calls: assistant.tool_calls }, ran.results);
      messages.push({ role: "assistant", ...assistant }, ...ran.results.map((r) => ({ role: "tool" as const, ...r })));
    }
  }

  /**
   * What the agent's knowledge bases hold on the caller's last turn, as a system message (none
   * when nothing matches). Bounded in time: a slow search costs the reply its context, never
   * the caller a long silence.
   */
  async #knowledgeFor(turn: AgentTurn, config: VoiceSessionConfig, history: ChatMessage[]): Promise<ChatMessage[]> {
    const { orgId, knowledgeBaseIds } = config.knowledge;
    const question = history.findLast((m) => m.role === "user")?.content;
    if (knowledgeBaseIds.length === 0 || typeof question !== "string" || !question.trim()) return [];
    const signal = AbortSignal.any([turn.abort.signal, AbortSignal.timeout(KNOWLEDGE_TIMEOUT_MS)]);
    try {
      const context = await retrieveContext(this.#options.env, orgId, knowledgeBaseIds, question, { tokenBudget: KNOWLEDGE_TOKEN_BUDGET, signal });
      if (!context.text) return [];
      return [{ role: "system", content: `Knowledge base excerpts that may help answer the caller (use them only if relevant; do not read them out word for word):\n\n${context.text}` }];
    } catch (error) {
      if (!turn.abort.signal.aborted) this.#log("warn", "knowledge retrieval failed; replying without it", { error: String(error) });
      return [];
    }
  }

  /** The functions the model is offered: the call actions, then the agent's tools that can be called (first of a name wins). */
  #offeredTools(config: VoiceSessionConfig): FunctionTool[] {
    const offered = [...callActionTools(config.transferDestinations)];
    const names = new Set(offered.map((t) => t.function.name));
    for (const tool of config.tools) {
      if (!tool.definition.http || names.has(tool.definition.modelToolName)) continue;
      names.add(tool.definition.modelToolName);
      offered.push(functionToolOf(tool.definition));
    }
    return offered;
  }

  /**
   * Runs one round's tool calls in order and answers each. A call action that ends the
   * conversation here (end_call, opt_out, a transfer the carrier took, DTMF that replaces the
   * stream) writes the round to history itself and leaves the calls after it unrun.
   */
  async #runToolCalls(
    turn: AgentTurn,
    queue: ClauseQueue,
    calls: AssembledToolCall[],
    roundText: string,
    assistant: { content: string | null; tool_calls: { id: string; type: "function"; function: { name: string; arguments: string } }[] },
  ): Promise<{ results: { tool_call_id: string; content: string }[]; ended: boolean }> {
    const results: { tool_call_id: string; content: string }[] = [];
    const answer = (call: AssembledToolCall, content: string) => results.push({ tool_call_id: call.id, content });
    /** Ends the round for good: later calls are answered as not run, and the round is written now. */
    const finish = (from: number) => {
      for (const later of calls.slice(from)) answer(later, JSON.stringify({ error: "Not run: the call ended" }));
      this.#options.store.appendToolRound({ content: null, tool_calls: assistant.tool_calls }, results);
      return { results, ended: true };
    };
    for (const [index, call] of calls.entries()) {
      const name = call.function.name;
      const startedAt = Date.now();
      const log = (entry: Partial<ToolCallRecord>) =>
        this.#options.store.recordToolCall({
          tool_call_id: call.id,
          name,
          kind: isCallAction(name) ? "action" : "http",
          tool_id: null,
          arguments: call.parsed.ok ? call.parsed.value : call.function.arguments,
          request: null,
          status: null,
          duration_ms: Date.now() - startedAt,
          response: null,
          error: null,
          started_at: new Date(startedAt).toISOString(),
          ...entry,
        });
      if (this.#stale(turn)) {
        answer(call, JSON.stringify({ error: "Not run: the caller interrupted" }));
        continue;
      }
      if (!call.parsed.ok) {
        log({ error: call.parsed.error });
        answer(call, JSON.stringify({ error: call.parsed.error }));
        continue;
      }
      if (isCallAction(name)) {
        const action = await this.#callAction(turn, queue, name, call.parsed.value, roundText, () => finish(index + 1), (outcome) => {
          log(outcome.ok ? { response: outcome.detail } : { error: outcome.error });
          answer(call, JSON.stringify(outcome.ok ? { ok: true, result: outcome.detail } : { error: outcome.error }));
        });
        if (action === "ended") return { results, ended: true };
        continue;
      }
      const tool = this.#config!.tools.find((t) => t.definition.modelToolName === name && t.definition.http);
      if (!tool) {
        const error = `No tool is named "${name}"`;
        log({ error });
        answer(call, JSON.stringify({ error }));
        continue;
      }
      answer(call, await this.#runHttpTool(turn, queue, tool, call.parsed.value, roundText, log));
    }
    return { results, ended: false };
  }

  /** One call of an HTTP tool: built from its definition, run under the URL rules, its filler said if it is slow. */
  async #runHttpTool(turn: AgentTurn, queue: ClauseQueue, tool: CallTool, args: unknown, roundText: string, log: (entry: Partial<ToolCallRecord>) => void): Promise<string> {
    const config = this.#config!;
    const policy = urlPolicyFor(this.#options.env);
    const built = buildToolRequest(tool.definition, args, { variables: config.variables, authTokens: tool.authTokens, policy });
    if (!built.ok) {
      log({ tool_id: tool.id, error: built.error });
      return JSON.stringify({ error: built.error });
    }
    const request = built.value;
    // Silence while a slow tool works: its filler line, unless the model already said something this round.
    const filler = setTimeout(() => {
      if (this.#stale(turn) || turn.saidFiller || roundText.trim()) return;
      turn.saidFiller = true;
      queue.push(tool.definition.filler_message ?? DEFAULT_TOOL_FILLER);
    }, TOOL_FILLER_AFTER_MS);
    const timeoutMs = Math.min(tool.definition.timeout_seconds * 1000, CALL_TOOL_TIMEOUT_CAP_MS);
    let run: Awaited<ReturnType<typeof runToolRequest>>;
    try {
      run = await runToolRequest(request, { timeoutMs, policy, signal: turn.abort.signal });
    } finally {
      clearTimeout(filler);
    }
    const outcome = run.outcome;
    log({
      tool_id: tool.id,
      request: run.hops > 0 ? { method: request.method, url: run.shownUrl } : null,
      status: "status" in outcome ? outcome.status : null,
      response: "body" in outcome ? truncateUtf8(outcome.body, MAX_LOGGED_RESPONSE_BYTES) : null,
      error: "error" in outcome ? outcome.error : outcome.status >= 400 ? `HTTP ${outcome.status}` : null,
    });
    return toolResultForModel(outcome);
  }

  /**
   * A built-in call action. Those that end the conversation first let what the turn has queued be
   * heard (the goodbye, "transferring you now"), and the turn counts as complete. Returns "ended"
   * when the conversation on this stream is over.
   */
  async #callAction(
    turn: AgentTurn,
    queue: ClauseQueue,
    action: CallAction,
    args: unknown,
    roundText: string,
    finish: () => unknown,
    report: (outcome: { ok: true; detail: string } | { ok: false; error: string }) => void,
  ): Promise<"ended" | "continue"> {
    const host = this.#options.host;
    const ask = async (request: Parameters<VoiceHost["callAction"]>[0]): Promise<Awaited<ReturnType<VoiceHost["callAction"]>>> => {
      try {
        return await host.callAction(request);
      } catch (error) {
        return { ok: false, error: `The call action failed: ${error instanceof Error ? error.message : String(error)}` };
      }
    };
    /** Says what is queued, then hands the call to `end`; the turn's audio has been heard by then. */
    const endAfterPlayout = async (detail: string, end: () => Promise<void>) => {
      report({ ok: true, detail });
      finish();
      await this.#played(turn, queue);
      if (this.#closed) return;
      try {
        await end();
      } catch (error) {
        this.#log("error", `could not end the call after ${action}`, { error: String(error) });
      }
    };
    switch (action) {
      case "end_call":
        this.#beginEnding(turn);
        await endAfterPlayout("The call ends once your goodbye has been heard.", () => host.endCall("hangup_by_agent", "the agent ended the call (end_call)"));
        return "ended";
      case "opt_out": {
        const result = await ask({ kind: "opt_out" });
        if (!result.ok) {
          report(result);
          return "continue";
        }
        this.#beginEnding(turn);
        if (!roundText.trim()) queue.push(OPT_OUT_CONFIRMATION);
        await endAfterPlayout(result.detail, () => host.endCall("hangup_by_agent", "the callee opted out (opt_out)"));
        return "ended";
      }
      case "transfer_call": {
        const destination = checkTransferDestination(args, this.#config!.transferDestinations);
        if (!destination.ok) {
          report(destination);
          return "continue";
        }
        this.#beginEnding(turn);
        await this.#played(turn, queue);
        if (this.#stale(turn)) return "ended";
        const result = await ask({ kind: "transfer", destination: destination.value });
        if (!result.ok) {
          // The call goes on: the model hears why and tells the caller.
          turn.ending = false;
          this.#wrappingUp = false;
          report(result);
          return "continue";
        }
        report(result);
        finish();
        return "ended";
      }
      case "send_dtmf": {
        const digits = checkDtmfDigits(args);
        if (!digits.ok) {
          report(digits);
          return "continue";
        }
        // Keys are pressed once what the agent said before has been heard.
        await this.#played(turn, queue);
        if (this.#stale(turn)) return "ended";
        // Twilio may end this stream for the digits before it even answers: what was said has been heard.
        turn.ending = true;
        const result = await ask({ kind: "dtmf", digits: digits.value });
        turn.ending = false;
        report(result);
        if (result.ok && result.streamRestarts) {
          finish();
          return "ended";
        }
        return "continue";
      }
    }
  }

  /** From here the turn ends the call: no barge-in, no re-prompt, nothing more answered. */
  #beginEnding(turn: AgentTurn): void {
    turn.ending = true;
    this.#wrappingUp = true;
    this.#held = null;
  }

  /** Resolves once the player has sent everything queued so far and the carrier has played it all (or the turn is over). */
  async #played(turn: AgentTurn, queue: ClauseQueue): Promise<void> {
    const over = new Promise<void>((resolve) => {
      if (turn.abort.signal.aborted) resolve();
      else turn.abort.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    await Promise.race([new Promise<void>((reached) => queue.push({ reached })), over]);
    if (this.#stale(turn) || !this.#tracker.speaking) return;
    await Promise.race([new Promise<void>((resolve) => this.#playedWaiters.push(resolve)), over]);
  }

  /** One clause through TTS to the carrier, frame by frame as the audio streams in, then its mark. */
  async #speakClause(turn: AgentTurn, text: string, index: number): Promise<void> {
    const config = this.#config!;
    const clause: SentClause = { text, audioMs: 0, complete: false, echoed: false };
    turn.clauses.push(clause);
    const framer = new MulawFramer();
    const send = (frames: Uint8Array[]) => {
      if (frames.length === 0) return;
      for (const frame of frames) this.#sendFrame(turn, frame);
      const bytes = frames.length * FRAME_BYTES;
      clause.audioMs += bytes / BYTES_PER_MS;
      const joined = new Uint8Array(bytes);
      frames.forEach((frame, i) => joined.set(frame, i * FRAME_BYTES));
      this.#options.host.recordAgentAudio(joined);
    };
    for await (const chunk of synthesizeMulaw(this.#options.env, config.voice, text, turn.abort.signal)) {
      if (this.#stale(turn)) return;
      if (turn.latency) turn.latency.ttsFirstByteAt ??= Date.now();
      if (clause.audioMs === 0) {
        await this.#waitForCallerPause(turn);
        if (this.#stale(turn)) return;
      }
      send(framer.push(chunk));
    }
    if (this.#stale(turn)) return;
    const tail = framer.flush(true);
    if (tail) send([tail]);
    clause.complete = true;
    turn.spoken = joinSpoken(turn.spoken, text);
    // Marks are tagged with the turn: echoes of a cleared turn are recognised and ignored.
    const name = `${turn.id}-c${index}`;
    this.#tracker.markSent({ name, turnId: turn.id, textUpTo: turn.spoken });
    this.#options.link.sendMark(name);
  }

  /**
   * Before a clause starts on a silent line (the LLM or TTS was slow between clauses): if the
   * caller is speaking, and began after this turn did, wait for them to pause or cut the agent
   * off rather than start talking over them. Their own question's tail does not count.
   */
  async #waitForCallerPause(turn: AgentTurn): Promise<void> {
    const config = this.#config;
    const callerSpeaking = this.#voicedUntil > turn.openedStreamMs && this.#streamMs() - this.#voicedUntil < CALLER_PAUSE_MS;
    if (!callerSpeaking || this.#tracker.speaking || !config?.bargeIn.enabled) return;
    if (turn.ending || this.#wrappingUp || this.#voicemail) return;
    await new Promise<void>((resolve) => {
      const resume = () => {
        clearTimeout(timer);
        turn.abort.signal.removeEventListener("abort", resume);
        resolve();
      };
      const timer = setTimeout(resume, CALLER_PAUSE_MAX_WAIT_MS);
      turn.abort.signal.addEventListener("abort", resume, { once: true });
      this.#pauseWaiters.push(resume);
    });
  }

  #sendFrame(turn: AgentTurn, frame: Uint8Array): void {
    if (turn.startStreamMs === null) {
      turn.firstFrameAt = Date.now();
      if (turn.latency) turn.latency.firstFrameAt = turn.firstFrameAt;
      turn.startStreamMs = Math.max(this.#streamMs(), this.#agentEndMs);
    }
    turn.sentBytes += frame.length;
    this.#options.link.sendAudio(frame);
  }

  /** A `mark` echoed by the carrier: that clause's audio has played. */
  async onMark(name: string): Promise<void> {
    if (this.#closed) return;
    const mark = this.#tracker.markEchoed(name);
    if (!this.#tracker.speaking) for (const resolve of this.#playedWaiters.splice(0)) resolve();
    const turn = this.#turn;
    if (!mark || !turn || mark.turnId !== turn.id) return;
    // Playback is in order: this echo confirms every clause up to this one.
    const upTo = Number(name.slice(name.lastIndexOf("-c") + 2));
    turn.clauses.forEach((c, i) => {
      if (i <= upTo) c.echoed = true;
    });
    turn.lastEchoAt = Date.now();
    await this.#maybeSettle(turn);
  }

  async #maybeSettle(turn: AgentTurn): Promise<void> {
    if (turn.settled || turn.producing || this.#tracker.speaking) return;
    await this.#settle(turn, false);
  }

  /** The caller spoke over the agent: stop it now and keep only what was heard. */
  #bargeIn(): void {
    this.#cutOff("barge-in");
  }

  /** Stops the agent's turn at once (clear, aborted fetches); the transcript keeps what was heard. */
  #cutOff(why: "barge-in" | "max_duration" | "voicemail"): void {
    const turn = this.#turn;
    if (!turn || turn.settled) return;
    // Only audio still queued at the carrier needs clearing: after a pause, nothing is.
    if (this.#tracker.speaking || turn.clauses.some((c) => !c.complete && c.audioMs > 0)) this.#options.link.clear();
    this.#tracker.clear();
    for (const resolve of this.#playedWaiters.splice(0)) resolve();
    this.#epoch++;
    turn.abort.abort();
    const heard = this.#heard(turn);
    this.#log("info", `${why}: turn ${turn.id} cut off`, { heard: heard.text });
    void this.#settle(turn, true, heard);
  }

  /** What the caller heard of a turn cut off now: playback of the next clause began at the last echo. */
  #heard(turn: AgentTurn): { text: string; playedMs: number } {
    const since = turn.lastEchoAt ?? turn.firstFrameAt;
    return heardSoFar(turn.clauses, since === undefined ? 0 : Date.now() - since);
  }

  /** Writes the turn to history, the transcript and the latency table, once. */
  async #settle(turn: AgentTurn, interrupted: boolean, heard?: { text: string; playedMs: number }): Promise<void> {
    if (turn.settled) return;
    turn.settled = true;
    turn.producing = false;
    if (this.#turn === turn) this.#turn = null;
    const store = this.#options.store;
    const text = interrupted ? (heard?.text ?? "") : turn.spoken;
    const playedMs = interrupted ? (heard?.playedMs ?? 0) : turn.sentBytes / BYTES_PER_MS;
    const startMs = turn.startStreamMs ?? this.#streamMs();
    this.#agentEndMs = Math.max(this.#agentEndMs, startMs + playedMs);
    // History holds what the caller actually heard, so the LLM knows where it was cut off.
    if (text) store.appendMessage("assistant", text);
    if (turn.callerTurn !== undefined && turn.latency) {
      const latency = turnLatency(turn.callerTurn, turn.latency);
      if (latency) store.recordLatency(latency);
    }
    const held = this.#held;
    this.#held = null;
    // Armed before the transcript is written, so a reader who sees the turn sees the timer too.
    if (!interrupted && !held && turn.kind !== "goodbye" && !turn.ending) await this.#armInactivity();
    if (text && turn.startStreamMs !== null) {
      const offset = this.#options.answerOffsetMs;
      await store.appendTranscript(transcriptTurn("agent", text, offset + startMs, offset + startMs + playedMs, interrupted));
    }
    if (turn.kind === "goodbye") await this.#goodbyeSaid(interrupted);
    else if (turn.kind === "voicemail") await this.#voicemailLeft(interrupted);
    else if (held && !this.#closed && !turn.ending) await this.#onCallerTurn(held.text, held.startMs, held.endMs);
  }

  /**
   * max_duration is near (the CallDO's wrap-up timer): whatever the agent is saying stops, it says
   * the agent's goodbye, and the call ends with max_duration once that has played. Returns false
   * when there is no conversation to wrap up (the caller then ends the call at once).
   */
  wrapUp(): boolean {
    const config = this.#config;
    if (!config || this.#closed || this.#wrappingUp || this.#voicemail) return false;
    this.#wrappingUp = true;
    this.#held = null;
    if (this.#busy()) this.#cutOff("max_duration");
    this.#startTurn("goodbye", { text: config.maxDurationMessage });
    return true;
  }

  // ---- Voicemail ----

  /**
   * The carrier's answering-machine detection: a machine answered (the CallDO tells the loop when
   * the agent leaves a message). `greetingEnded`: its beep has come (Twilio `machine_end_*`, Telnyx
   * `call.machine.greeting.ended`), so the message is left now.
   */
  machineDetected(greetingEnded: boolean): void {
    if (this.#closed) return;
    if (!this.#config) {
      this.#pendingMachine = { greetingEnded: greetingEnded || this.#pendingMachine?.greetingEnded === true };
      return;
    }
    this.#onMachine(greetingEnded);
  }

  /**
   * Whether the callee's words (one of their first turns) read as a voicemail greeting, for an
   * agent that handles voicemail. If so the agent stops talking and the call's object is told;
   * it hangs up, or the loop waits for the beep to leave the message.
   */
  #voicemailGreeting(text: string): boolean {
    const config = this.#config;
    if (!config?.voicemail || this.#classifiedTurns >= VOICEMAIL_CLASSIFIED_TURNS) return false;
    this.#classifiedTurns++;
    const verdict = classifyVoicemailGreeting(text);
    if (!verdict.voicemail) return false;
    this.#log("info", "the callee's words read as a voicemail greeting", { cues: verdict.cues });
    if (config.voicemail.action === "leave_message") this.#onMachine(false);
    else {
      // Hanging up: nothing more is said or answered until the call's object ends the call.
      this.#voicemail = { phase: "hanging_up", sinceMs: this.#streamMs(), fallback: null };
      if (this.#busy()) this.#cutOff("voicemail");
    }
    this.#options.host.machineHeard(verdict.cues).catch((error) => this.#log("error", "could not report the answering machine", { error: String(error) }));
    return true;
  }

  /** A machine answered and the agent leaves a message: it stops talking and waits for the beep. */
  #onMachine(greetingEnded: boolean): void {
    const config = this.#config;
    if (config?.voicemail?.action !== "leave_message" || this.#closed) return;
    if (!this.#voicemail) {
      const fallback = setTimeout(() => this.#leaveVoicemail("no end of the greeting was heard in time"), VOICEMAIL_GREETING_TIMEOUT_MS);
      this.#voicemail = { phase: "awaiting", sinceMs: this.#streamMs(), fallback };
      this.#held = null;
      if (this.#busy()) this.#cutOff("voicemail");
      if (this.#inactivityArmed) {
        this.#inactivityArmed = false;
        void this.#options.host.setInactivityTimer(null);
      }
      this.#log("info", "a machine answered: waiting for the end of its greeting", { greeting_ended: greetingEnded });
    }
    if (greetingEnded) this.#leaveVoicemail("the carrier heard the end of the greeting");
  }

  /** The machine's greeting is over: the agent says its message (the call ends once it has played). */
  #leaveVoicemail(why: string): void {
    const voicemail = this.#voicemail;
    if (!voicemail || voicemail.phase !== "awaiting" || this.#closed) return;
    voicemail.phase = "leaving";
    if (voicemail.fallback) clearTimeout(voicemail.fallback);
    voicemail.fallback = null;
    if (this.#busy()) this.#cutOff("voicemail");
    this.#log("info", "leaving the voicemail message", { why });
    const message = this.#config?.voicemail?.message;
    if (message) this.#startTurn("voicemail", { text: message });
    else void this.#voicemailLeft(false);
  }

  async #voicemailLeft(interrupted: boolean): Promise<void> {
    if (interrupted && this.#closed) return; // the call ended while the message was being said
    try {
      await this.#options.host.endCall("voicemail", "the agent left its voicemail message");
    } catch (error) {
      // The voicemail timer still ends the call; say why it did not end here.
      this.#log("error", "could not end the call after the voicemail message", { error: String(error) });
    }
  }

  async #goodbyeSaid(interrupted: boolean): Promise<void> {
    if (interrupted && this.#closed) return; // the call ended while it was being said
    try {
      await this.#options.host.endCall("max_duration", "the call reached its max_duration after the agent said goodbye");
    } catch (error) {
      // The max_duration timer still ends the call; say why it did not end here.
      this.#log("error", "could not end the call after the goodbye", { error: String(error) });
    }
  }

  #turnFailed(turn: AgentTurn, error: unknown): void {
    // A turn cut off by a barge-in or a hang-up (both move the epoch) fails by design.
    if (this.#stale(turn)) return;
    void this.#fail(error);
  }

  /** A provider failed for good: the call ends with provider_error, never hangs. */
  async #fail(error: unknown): Promise<void> {
    if (this.#closed) return;
    // The call's object logs the end with this message; a bug (not a provider) gets its stack.
    const message = error instanceof ProviderError ? error.message : `voice loop error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
    this.close();
    try {
      await this.#options.host.endCall("provider_error", message);
    } catch (endError) {
      // The carrier's own status (or the slot lease) still ends the call; say why it did not end here.
      this.#log("error", "could not end the call after a provider failure", { error: String(endError) });
    }
  }

  #log(level: "info" | "warn" | "error", message: string, extra: Record<string, unknown> = {}): void {
    const line = JSON.stringify({ level, message, call_id: this.callId, ...extra });
    if (level === "error") console.error(line);
    else if (level === "warn") console.warn(line);
    else console.log(line);
  }
}
