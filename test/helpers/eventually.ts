/**
 * Polls `read` until `ok` holds, or fails with what it last saw: the one way tests wait for
 * asynchronous work (a queue consumer, a socket, a Durable Object), with no fixed sleeps.
 */
export async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string, timeoutMs = 12_000, pollMs = 10): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last saw ${JSON.stringify(value)?.slice(0, 1500)}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
