import { Hono } from "hono";
import { sameOrigin } from "../csrf";
import { Layout, render } from "../layout";
import { countFailedSignIn, loadSession, signIn, type DashboardContext, type DashboardEnv } from "../session";

/** `GET/POST /app/sign-in`: the only dashboard pages open without a session. */

function SignInPage({ c, error }: { c: DashboardContext; error?: string }) {
  return (
    <Layout c={c} title="Sign in">
      <form method="post" action="/app/sign-in" class="card narrow">
        {error ? (
          <div class="error-box" role="alert" id="sign-in-error">
            <p>{error}</p>
          </div>
        ) : null}
        <div class="field">
          <label for="api_key">API key</label>
          <input
            id="api_key"
            name="api_key"
            type="password"
            autocomplete="current-password"
            required
            placeholder="truedy_…"
            aria-describedby={error ? "sign-in-error api-key-help" : "api-key-help"}
          />
          <p class="help" id="api-key-help">
            An API key of your organization. The dashboard keeps it on the server for 12 hours, then asks again.
          </p>
        </div>
        <button type="submit" class="btn">
          Sign in
        </button>
      </form>
    </Layout>
  );
}

export const signInPages = new Hono<DashboardEnv>()
  .get("/sign-in", async (c) => {
    // Someone already signed in has nothing to do here.
    if (await loadSession(c)) return c.redirect("/app", 303);
    return render(c, <SignInPage c={c} />);
  })
  .post("/sign-in", async (c) => {
    // No session yet, so no CSRF token: a cross-site post is refused by its Origin instead.
    if (!sameOrigin(c)) return render(c, <SignInPage c={c} error="This form was sent from another site, so it was refused." />, 403);
    const form = await c.req.parseBody();
    const key = typeof form.api_key === "string" ? form.api_key : "";
    if (await signIn(c, key)) return c.redirect("/app", 303);
    const { allowed, retryAfterSeconds } = await countFailedSignIn(c);
    if (!allowed) {
      c.header("Retry-After", String(retryAfterSeconds));
      return render(c, <SignInPage c={c} error={`Too many failed sign-ins. Try again in ${retryAfterSeconds} seconds.`} />, 429);
    }
    return render(c, <SignInPage c={c} error="That API key is not valid." />, 401);
  });
