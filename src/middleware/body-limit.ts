import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import { ApiError } from "../lib/errors";
import type { AppEnv } from "../lib/types";

const MB = 1024 * 1024;

/** Uploads get room for their payload; everything else is small JSON. */
export const BODY_LIMITS: { pattern: RegExp; maxBytes: number }[] = [
  // CSV imports are parsed in one request; 20 MB is about 200,000 typical contact rows, and the
  // do-not-call import shares the contact import's row cap.
  { pattern: /\/(contacts|dnc)\/import$/, maxBytes: 20 * MB },
  // The dashboard's CSV upload form: the same file, in a multipart body.
  { pattern: /^\/app\/contacts\/folders\/[^/]+\/import$/, maxBytes: 21 * MB },
  // 50 MB documents arrive base64-encoded inside JSON (4/3 larger) plus a little envelope.
  { pattern: /\/knowledge-bases\/[^/]+\/sources\/document$/, maxBytes: 70 * MB },
  // Voice samples: up to 25 MB of audio in all (src/api/voices/samples.ts), base64 inside JSON.
  { pattern: /\/voices\/clone$/, maxBytes: 36 * MB },
];
export const DEFAULT_BODY_LIMIT = 1 * MB;

const limiters = new Map<number, ReturnType<typeof bodyLimit>>();
function limiterFor(maxBytes: number) {
  let limiter = limiters.get(maxBytes);
  if (!limiter) {
    limiter = bodyLimit({
      maxSize: maxBytes,
      onError: () => {
        throw new ApiError("payload_too_large", `Request body exceeds ${Math.round(maxBytes / MB)} MB`, {
          details: { max_bytes: maxBytes },
        });
      },
    });
    limiters.set(maxBytes, limiter);
  }
  return limiter;
}

export const limitBody = createMiddleware<AppEnv>(async (c, next) => {
  const rule = BODY_LIMITS.find((r) => r.pattern.test(c.req.path));
  return limiterFor(rule?.maxBytes ?? DEFAULT_BODY_LIMIT)(c, next);
});
