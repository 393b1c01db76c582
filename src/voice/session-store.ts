/**
 * The voice loop's durable state, in the call's Durable Object storage: the conversation history
 * the LLM sees (SQLite), the transcript turns (the "transcript" key GET /calls/{id}/transcript
 * reads) and each caller turn's latency (SQLite). Written as the call goes, so a stream that
 * reconnects (a deploy drops every socket) resumes the same conversation.
 */
import type { ChatMessage } from "./providers/llm";
import { insertTurn, type TranscriptTurn, type TurnLatency } from "./session-rules";

/** Messages sent to the LLM besides the system prompt: enough context, bounded prompt size. */
const HISTORY_LIMIT = 100;

export class VoiceStore {
  /** Transcript writes are read-modify-write of one key: chained so two turns settling together both land. */
  #transcriptWrites: Promise<void> = Promise.resolve();

  constructor(private readonly storage: DurableObjectStorage) {
    storage.sql.exec("CREATE TABLE IF NOT EXISTS voice_messages (seq INTEGER PRIMARY KEY AUTOINCREMENT, role TEXT NOT NULL, content TEXT NOT NULL)");
    storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS voice_latency (turn INTEGER PRIMARY KEY, stt_final_ms INTEGER NOT NULL, llm_first_token_ms INTEGER NOT NULL, tts_first_byte_ms INTEGER NOT NULL, first_audio_ms INTEGER NOT NULL, total_ms INTEGER NOT NULL)",
    );
  }

  /** The conversation so far, oldest first. */
  history(): ChatMessage[] {
    const rows = this.storage.sql
      .exec<{ role: "user" | "assistant"; content: string }>("SELECT role, content FROM (SELECT seq, role, content FROM voice_messages ORDER BY seq DESC LIMIT ?) ORDER BY seq", HISTORY_LIMIT)
      .toArray();
    return rows.map((r) => ({ role: r.role, content: r.content }));
  }

  appendMessage(role: "user" | "assistant", content: string): void {
    this.storage.sql.exec("INSERT INTO voice_messages (role, content) VALUES (?, ?)", role, content);
  }

  /** Whether the conversation has begun (a reconnecting stream must not greet again). */
  hasConversation(): boolean {
    return this.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM voice_messages").one().n > 0;
  }

  async transcript(): Promise<TranscriptTurn[]> {
    return (await this.storage.get<TranscriptTurn[]>("transcript")) ?? [];
  }

  appendTranscript(turn: TranscriptTurn): Promise<void> {
    const write = this.#transcriptWrites.then(async () => this.storage.put("transcript", insertTurn(await this.transcript(), turn)));
    this.#transcriptWrites = write.catch(() => {});
    return write;
  }

  recordLatency(latency: TurnLatency): void {
    this.storage.sql.exec(
      "INSERT OR REPLACE INTO voice_latency (turn, stt_final_ms, llm_first_token_ms, tts_first_byte_ms, first_audio_ms, total_ms) VALUES (?, ?, ?, ?, ?, ?)",
      latency.turn,
      latency.stt_final_ms,
      latency.llm_first_token_ms,
      latency.tts_first_byte_ms,
      latency.first_audio_ms,
      latency.total_ms,
    );
  }

  latencyTurns(): TurnLatency[] {
    return this.storage.sql.exec<TurnLatency & Record<string, number>>("SELECT * FROM voice_latency ORDER BY turn").toArray();
  }

  /** Caller turns in the conversation so far: the latest one's number (1-based, across stream reconnects). */
  callerTurns(): number {
    return this.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM voice_messages WHERE role = 'user'").one().n;
  }
}
