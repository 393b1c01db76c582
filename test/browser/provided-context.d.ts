export {};

/** What test/browser/global-setup.ts hands the browser scenarios. */
declare module "vitest" {
  interface ProvidedContext {
    /** `wrangler dev` on 127.0.0.1, e.g. http://127.0.0.1:40123. */
    baseUrl: string;
    adminToken: string;
    /** An API key of the run's organization. */
    apiKey: string;
    /** The fakes' control server (global-setup.ts startControl). */
    controlUrl: string;
    /** Signs the Twilio media-stream handshake. */
    twilioAuthToken: string;
    /** The shared Chromium, for chromium.connect. */
    browserWsEndpoint: string;
  }
}
