import { Hono } from "hono";

/**
 * The benchmark floor: a bare Hono route doing one D1 read by primary key, with none of our
 * middleware. bench/api.mjs runs it against the same local D1 file in the same run, so the ratio
 * shows what auth, rate limiting, tenancy and serialization cost on top of the platform itself.
 */
const app = new Hono<{ Bindings: { DB: D1Database } }>();

app.get("/baseline/:id", async (c) => {
  const row = await c.env.DB.prepare("SELECT id, name FROM agents WHERE id = ?").bind(c.req.param("id")).first();
  return row ? c.json({ data: row }) : c.json({ error: "not found" }, 404);
});

export default app;
