import path from "node:path";

/** Settings the browser run's global setup and its scenarios share. */

/** Debian's Chromium (installed by .ci/run); playwright-core never downloads a browser. */
export const CHROMIUM_PATH = "/usr/bin/chromium";
/**
 * No sandbox (CI runs as root in a container); a fake microphone that Chromium grants without a
 * prompt, for the agent page's test call.
 */
export const CHROMIUM_ARGS = ["--no-sandbox", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"];

/** `<scenario>-<page>-{desktop,phone}.png` for every page a scenario visits (git-ignored). */
export const SCREENSHOT_DIR = path.resolve(import.meta.dirname, "screenshots");

/** The account the fake Twilio (bench/voice-fakes.mjs) answers for. */
export const TWILIO_ACCOUNT_SID = `AC${"0".repeat(32)}`;

export const DESKTOP = { width: 1280, height: 800 } as const;
export const PHONE = { width: 390, height: 844 } as const;
