export {};

declare module "vitest" {
  interface ProvidedContext {
    fakesBaseUrl: string;
    telnyxPublicKey: string;
  }
}
