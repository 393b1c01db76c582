import { createMiddleware } from "hono/factory";
import { ApiError } from "../lib/errors";
import type { AppEnv } from "../lib/types";

/** A clear 415 for a CSV upload sent as anything else, before the form validator runs, whose own message would not say what to send. */
export const requireMultipart = createMiddleware<AppEnv>(async (c, next) => {
  if (!/^multipart\/form-data/i.test(c.req.header("content-type") ?? "")) {
    throw new ApiError("unsupported_media_type", "Upload the CSV as multipart/form-data with the file in a field named `file`", {
      details: { field: "file", expected: "multipart/form-data" },
    });
  }
  await next();
});
