// Types of bench/lib.mjs for the TypeScript that imports it (test/browser).
export const root: string;

export function freePort(): Promise<number>;

export interface Worker {
  baseUrl: string;
  adminToken: string;
  persistTo: string;
  stop(options?: { keepData?: boolean }): Promise<void>;
  output(): string;
}

export function startWorker(options?: {
  port?: number;
  config?: string;
  persistTo?: string;
  migrate?: boolean;
  vars?: Record<string, string>;
  readyTimeoutMs?: number;
}): Promise<Worker>;

export function createOrganization(worker: Pick<Worker, "baseUrl" | "adminToken">, name?: string): Promise<{ id: string; apiKey: string }>;
