export { control, FAKES, recorded, uniqueTag } from "../helpers/fakes";

/** Reads a whole body as its network reads (the chunks the reader returned). */
export async function readChunks(res: Response): Promise<Uint8Array[]> {
  const reader = res.body!.getReader();
  const chunks: Uint8Array[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return chunks;
    chunks.push(value);
  }
}

export interface SseEvent {
  /** The joined `data:` lines, or undefined for a comment-only event. */
  data?: string;
  comments: string[];
}

/**
 * A streaming SSE parser as a client must write one: a buffer across reads, events split on a
 * blank line (\n\n or \r\n\r\n), `:` lines are comments, bytes decoded in streaming mode.
 */
export async function readSse(res: Response): Promise<{ events: SseEvent[]; reads: string[] }> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  const reads: string[] = [];
  let buffer = "";
  const flush = (block: string) => {
    const lines = block.split(/\r?\n/);
    const data = lines.filter((l) => l.startsWith("data:")).map((l) => l.slice(5).replace(/^ /, ""));
    events.push({ data: data.length ? data.join("\n") : undefined, comments: lines.filter((l) => l.startsWith(":")) });
  };
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const text = decoder.decode(value, { stream: true });
    reads.push(text);
    buffer += text;
    for (let m = /\r?\n\r?\n/.exec(buffer); m; m = /\r?\n\r?\n/.exec(buffer)) {
      flush(buffer.slice(0, m.index));
      buffer = buffer.slice(m.index + m[0].length);
    }
  }
  if (buffer.trim()) flush(buffer);
  return { events, reads };
}

/** Keeps everything a WebSocket receives and lets a test wait for it. */
export class SocketLog {
  readonly messages: any[] = [];
  readonly binary: ArrayBuffer[] = [];
  closed?: { code: number; reason: string; at: number };
  private listeners = new Set<() => void>();

  constructor(readonly ws: WebSocket) {
    ws.addEventListener("message", (event) => {
      if (typeof event.data === "string") this.messages.push(JSON.parse(event.data));
      else this.binary.push(event.data as ArrayBuffer);
      this.notify();
    });
    ws.addEventListener("close", (event) => {
      this.closed = { code: event.code, reason: event.reason, at: Date.now() };
      try {
        ws.close(event.code === 1005 || event.code === 1006 ? 1000 : event.code);
      } catch {
        // Already closed.
      }
      this.notify();
    });
    ws.addEventListener("error", () => this.notify());
  }

  private notify() {
    for (const l of [...this.listeners]) l();
  }

  until<T>(condition: () => T | undefined | false, what: string, timeoutMs = 5000): Promise<T> {
    const now = condition();
    if (now) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const check = () => {
        const value = condition();
        if (!value) return;
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve(value);
      };
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.messages.map((m) => m.type ?? m.event))}`));
      }, timeoutMs);
      this.listeners.add(check);
    });
  }

  waitFor(predicate: (m: any) => boolean, what = "a message", timeoutMs = 5000): Promise<any> {
    return this.until(() => this.messages.find(predicate), what, timeoutMs);
  }

  waitForClose(timeoutMs = 5000) {
    return this.until(() => this.closed, "close", timeoutMs);
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
