/**
 * Incremental Server-Sent Events parser (the WHATWG event-stream rules, minus reconnection).
 *
 * Why hand-written: network chunks split anywhere (mid-line, mid-UTF-8 character, between the
 * `\r` and `\n` of a CRLF), and an OpenAI-compatible stream must only be parsed event by event
 * (realtime.md §3). Bytes go through a streaming TextDecoder, lines end at `\n`, `\r\n` or `\r`,
 * a blank line dispatches the event, lines starting with `:` are comments / keep-alives.
 */

export interface SseEvent {
  /** `event:` field; "message" when absent, as in the spec. */
  event: string;
  /** `data:` lines joined with "\n". */
  data: string;
  /** Last `id:` seen on the stream (it persists across events, as in the spec). */
  id?: string;
  /** `retry:` field (ms), when valid. */
  retry?: number;
}

export class SseParser {
  #decoder = new TextDecoder("utf-8");
  #line = "";
  /** The previous chunk ended with `\r`: a `\n` starting the next chunk belongs to that CRLF. */
  #skipLf = false;
  #data: string[] = [];
  #event = "";
  #id: string | undefined;
  #retry: number | undefined;

  /** Feeds bytes (or already-decoded text); returns the events completed by them. */
  push(chunk: Uint8Array | string): SseEvent[] {
    const text = typeof chunk === "string" ? chunk : this.#decoder.decode(chunk, { stream: true });
    return this.#feed(text);
  }

  /**
   * End of the body. Flushes the decoder and, leniently, dispatches a final event that had
   * data but no closing blank line (some hosts end with `data: [DONE]\n` only).
   */
  end(): SseEvent[] {
    const events = this.#feed(this.#decoder.decode());
    if (this.#line.length > 0) this.#field(this.#line);
    this.#line = "";
    const last = this.#dispatch();
    if (last) events.push(last);
    return events;
  }

  #feed(text: string): SseEvent[] {
    const events: SseEvent[] = [];
    let start = 0;
    let i = 0;
    if (this.#skipLf && text.length > 0) {
      this.#skipLf = false;
      if (text[0] === "\n") start = i = 1;
    }
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      const line = this.#line + text.slice(start, i);
      this.#line = "";
      if (c === 13) {
        if (i + 1 < text.length) {
          if (text.charCodeAt(i + 1) === 10) i++;
        } else {
          this.#skipLf = true;
        }
      }
      start = i + 1;
      if (line.length === 0) {
        const event = this.#dispatch();
        if (event) events.push(event);
      } else {
        this.#field(line);
      }
    }
    this.#line += text.slice(start);
    return events;
  }

  #field(line: string): void {
    if (line.startsWith(":")) return; // comment / keep-alive
    const colon = line.indexOf(":");
    const name = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (name) {
      case "data":
        this.#data.push(value);
        break;
      case "event":
        this.#event = value;
        break;
      case "id":
        if (!value.includes("\0")) this.#id = value;
        break;
      case "retry":
        if (/^\d+$/.test(value)) this.#retry = Number(value);
        break;
      default:
        break; // unknown fields are ignored by the spec
    }
  }

  /** A blank line ends an event; per the spec an event without data is not dispatched. */
  #dispatch(): SseEvent | undefined {
    const hasData = this.#data.length > 0;
    const event: SseEvent = { event: this.#event || "message", data: this.#data.join("\n") };
    if (this.#id !== undefined) event.id = this.#id;
    if (this.#retry !== undefined) event.retry = this.#retry;
    this.#data = [];
    this.#event = "";
    this.#retry = undefined;
    return hasData ? event : undefined;
  }
}
