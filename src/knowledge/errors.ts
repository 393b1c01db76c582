/**
 * Failures of an ingestion. A `IngestError` is about the source itself (an unreadable file, a
 * site that answers 404, a refused URL): retrying cannot help, so the source fails at once with
 * its message. Anything else (D1, a provider's 5xx, a network error) is retried by the queue
 * before the source fails.
 */
export class IngestError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "IngestError";
  }
}

/** A failure worth retrying, with the reason the source shows if the retries run out. */
export class TransientIngestError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TransientIngestError";
  }
}

/** The message of any thrown value, cut to what a source's `error` field can show. */
export function describeError(error: unknown, max = 500): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > max ? `${message.slice(0, max - 1)}…` : message;
}
