/**
 * The voice loop's durable state, in the call's Durable Object storage: the conversation history
 * the LLM sees (SQLite), the transcript turns (the "transcript" key GET /calls/{id}/transcript
 * reads) and each caller turn's latency (SQLite). Written as the call goes, so a stream that
 * reconnects (a deploy drops every socket) resumes the same conversation.
 */
import type { ChatMessage, ChatToolCall } from "./providers/llm";
import { insertTurn, type TranscriptTurn, type TurnLatency } from "./session-rules";

/** Messages sent to the LLM besides the system prompt: enough context, bounded prompt size. */
const HISTORY_LIMIT = 100;

export class VoiceStore {
  /** Transcript writes are read-modify-write of one key: chained so two turns settling together both land. */
  #transcriptWrites: Promise<void> = Promise.resolve();

  constructor(private readonly storage: DurableObjectStorage) {
    // `extra`: JSON of an assistant message's `tool_calls`, or of a tool message's `tool_call_id`.
    storage.sql.exec("CREATE TABLE IF NOT EXISTS voice_messages (seq INTEGER PRIMARY KEY AUTOINCREMENT, role TEXT NOT NULL, content TEXT NOT NULL, extra TEXT)");
    try {
      // A call that was live across the deploy that added tool calls has the table without it.
      storage.sql.exec("ALTER TABLE voice_messages ADD COLUMN extra TEXT");
    } catch {
      // Already there.
    }
    storage.sql.exec("CREATE TABLE IF NOT EXISTS voice_tool_calls (seq INTEGER PRIMARY KEY AUTOINCREMENT, record TEXT NOT NULL)");
    storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS voice_latency (turn INTEGER PRIMARY KEY, stt_final_ms INTEGER NOT NULL, llm_first_token_ms INTEGER NOT NULL, tts_first_byte_ms INTEGER NOT NULL, first_audio_ms INTEGER NOT NULL, total_ms INTEGER NOT NULL)",
    );
  }

  /** The conversation so far, oldest first. */
  history(): ChatMessage[] {
    const rows = this.storage.sql
      .exec<{ role: "user" | "assistant" | "tool"; content: string; extra: string | null }>(
        "SELECT role, content, extra FROM (SELECT seq, role, content, extra FROM voice_messages ORDER BY seq DESC LIMIT ?) ORDER BY seq",
        HISTORY_LIMIT,
      )
      .toArray();
    return wellFormedHistory(rows.map(messageOf));
  }

  appendMessage(role: "user" | "assistant", content: string): void {
    this.storage.sql.exec("INSERT INTO voice_messages (role, content) VALUES (?, ?)", role, content);
  }

  /** One tool round: the assistant message that called the tools and each tool's answer, together. */
  appendToolRound(assistant: { content: string | null; tool_calls: ChatToolCall[] }, results: { tool_call_id: string; content: string }[]): void {
    const sql = this.storage.sql;
    this.storage.transactionSync(() => {
      sql.exec("INSERT INTO voice_messages (role, content, extra) VALUES ('assistant', ?, ?)", assistant.content ?? "", JSON.stringify({ tool_calls: assistant.tool_calls }));
      for (const result of results) {
        sql.exec("INSERT INTO voice_messages (role, content, extra) VALUES ('tool', ?, ?)", result.content, JSON.stringify({ tool_call_id: result.tool_call_id }));
      }
    });
  }

  /** The call's tool-call log (GET /calls/{id}/tool-calls), oldest first. */
  recordToolCall(record: ToolCallRecord): void {
    this.storage.sql.exec("INSERT INTO voice_tool_calls (record) VALUES (?)", JSON.stringify(record));
  }

  toolCalls(): ToolCallRecord[] {
    return this.storage.sql
      .exec<{ record: string }>("SELECT record FROM voice_tool_calls ORDER BY seq")
      .toArray()
      .map((row) => JSON.parse(row.record) as ToolCallRecord);
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

/** One tool invocation on a call, as logged: no keys, the response cut to 2 KB. */
export interface ToolCallRecord {
  /** The model's id of the call. */
  tool_call_id: string;
  /** The function name the model called. */
  name: string;
  /** `http`: one of the agent's tools; `action`: a built-in call action. */
  kind: "http" | "action";
  /** The agent's tool (`kind: http`), null for actions and unknown names. */
  tool_id: string | null;
  /** The arguments as the model gave them (unparsed text when they were not JSON). */
  arguments: unknown;
  /** The request sent, without keys (null when none was sent). */
  request: { method: string; url: string } | null;
  /** HTTP status of the tool's answer (null without one). */
  status: number | null;
  duration_ms: number;
  /** The answer's body, at most 2 KB (actions: what they came to). */
  response: string | null;
  error: string | null;
  started_at: string;
}

function messageOf(row: { role: "user" | "assistant" | "tool"; content: string; extra: string | null }): ChatMessage {
  const extra = row.extra ? (JSON.parse(row.extra) as { tool_calls?: ChatToolCall[]; tool_call_id?: string }) : {};
  if (row.role === "tool") return { role: "tool", tool_call_id: extra.tool_call_id ?? "", content: row.content };
  if (row.role === "assistant" && extra.tool_calls?.length) return { role: "assistant", content: row.content === "" ? null : row.content, tool_calls: extra.tool_calls };
  return { role: row.role === "assistant" ? "assistant" : "user", content: row.content };
}

/**
 * History the model accepts: every assistant message with `tool_calls` directly followed by an
 * answer to each of its calls, and no tool answer without its call. The window of recent messages
 * can cut a round in two (its answers without their call), and a round cut off by the end of a
 * stream can lack answers: such pieces are dropped (the text of a cut-off call message is kept).
 */
export function wellFormedHistory(messages: ChatMessage[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i];
    if (message.role === "tool") continue; // not right after its call: an orphan
    if (message.role !== "assistant" || !message.tool_calls?.length) {
      out.push(message);
      continue;
    }
    const answers: ChatMessage[] = [];
    let j = i + 1;
    for (; j < messages.length && messages[j].role === "tool"; j++) answers.push(messages[j]);
    const ids = new Set(message.tool_calls.map((c) => c.id));
    const answered = new Set(answers.flatMap((a) => (a.role === "tool" && ids.has(a.tool_call_id) ? [a.tool_call_id] : [])));
    if (answered.size === ids.size) {
      out.push(message, ...answers.filter((a) => a.role === "tool" && ids.has(a.tool_call_id)));
    } else if (message.content) {
      out.push({ role: "assistant", content: message.content });
    }
    i = j - 1;
  }
  return out;
}
