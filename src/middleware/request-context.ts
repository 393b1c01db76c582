import { createMiddleware } from "hono/factory";
import { currentClock } from "../lib/clock";
import type { AppEnv } from "../lib/types";
import { openDatabase } from "../db/tenant";

const REQUEST_ID_PATTERN = /^[A-Za-z0-9_.:-]{8,128}$/;

/** Request id (echoed from `X-Request-Id` when sane), the clock and the database handle. */
export const requestContext = createMiddleware<AppEnv>(async (c, next) => {
  const incoming = c.req.header("x-request-id");
  const requestId = incoming && REQUEST_ID_PATTERN.test(incoming) ? incoming : `req_${crypto.randomUUID().replaceAll("-", "")}`;
  c.set("requestId", requestId);
  c.set("clock", currentClock());
  c.set("db", openDatabase(c.env.DB));
  await next();
  c.res.headers.set("X-Request-Id", requestId);
});
