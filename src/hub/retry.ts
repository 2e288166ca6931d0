/**
 * Retrying what a busy Hub or a flaky network does to a request: 5xx, 429
 * and 408 answers, a connection refused or reset, a body cut short. Each
 * try waits twice as long as the one before (0.5 s, 1 s, 2 s, 4 s by
 * default), or longer when the Hub says so in Retry-After. A try that
 * moved a download forward resets the count: a long file over a poor line
 * may need many resumes, and each one that made progress was worth it.
 */
import { HubError } from "./hub-error.ts";

export interface RetryPolicy {
  /** Tries after the first one. */
  retries: number;
  /** The wait before the first retry; it doubles for each one after. */
  baseDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 4, baseDelayMs: 500 };

/** The longest Retry-After honoured: a pull that would wait longer fails and says why. */
const MAX_RETRY_AFTER_MS = 60_000;

/** A failure another try may not have: thrown by the request code, caught here. */
export class TransientError extends Error {
  readonly retryAfterMs: number | null;
  constructor(message: string, retryAfterMs: number | null = null) {
    super(message);
    this.name = "TransientError";
    this.retryAfterMs = retryAfterMs;
  }
}

/** The statuses that mean "later", not "never". */
export function isTransientStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

/** A non-2xx answer worth retrying, with the wait the Hub asked for. */
export function transientStatusError(response: Response): TransientError {
  return new TransientError(`HTTP ${response.status}`, retryAfterMs(response.headers.get("retry-after")));
}

/** Retry-After in seconds or as an HTTP date; null when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number = Date.now()): number | null {
  if (header === null || header.trim() === "") return null;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - now;
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS) : null;
}

/** fetch's own network failures: "fetch failed" (connect, reset) and "terminated" (the body cut short). */
function isNetworkError(error: unknown): boolean {
  return error instanceof TypeError && (error.message === "fetch failed" || error.message === "terminated");
}

export function isTransient(error: unknown): boolean {
  return error instanceof TransientError || isNetworkError(error);
}

/** The most telling words of a failure: fetch hides the socket error (ECONNRESET, ...) in its cause. */
export function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: unknown; message?: unknown; errors?: Array<{ code?: unknown }> } | undefined;
  const code = cause?.code ?? cause?.errors?.[0]?.code;
  if (typeof code === "string") return `${error.message} (${code})`;
  if (typeof cause?.message === "string" && cause.message !== "") return `${error.message} (${cause.message})`;
  return error.message;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `attempt` until it succeeds, it fails for good (any error but a
 * transient one propagates at once), or the retries are spent, which is a
 * HubError naming `what` and the last failure.
 */
export async function withRetries<T>(policy: RetryPolicy, what: string, attempt: () => Promise<T>, madeProgress: () => boolean = () => false): Promise<T> {
  let failures = 0;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (!isTransient(error)) throw error;
      failures = madeProgress() ? 1 : failures + 1;
      if (failures > policy.retries) {
        throw new HubError(`${what}: ${describeFailure(error)}; gave up after ${failures} tries`);
      }
      const backoff = policy.baseDelayMs * 2 ** (failures - 1);
      const asked = error instanceof TransientError ? (error.retryAfterMs ?? 0) : 0;
      await sleep(Math.max(backoff, asked));
    }
  }
}
