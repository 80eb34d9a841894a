// When and how long to wait before sending a request again: exponential
// backoff with full jitter, never shorter than the server's Retry-After.

export interface RetryPolicy {
  /** Attempts in all, the first included (default 6). */
  attempts: number;
  /** The first backoff, in ms (default 200); it doubles each attempt. */
  initialDelayMs: number;
  /** The longest backoff, in ms (default 10,000). */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, initialDelayMs: 200, maxDelayMs: 10_000 };
export const NO_RETRY: RetryPolicy = { attempts: 1, initialDelayMs: 0, maxDelayMs: 0 };

/**
 * The wait before attempt `attempt + 1` (attempt counts from 1), or
 * undefined when the attempts are spent. `retryAfterMs` is the server's word.
 */
export function retryDelay(
  policy: RetryPolicy,
  attempt: number,
  retryAfterMs?: number,
): number | undefined {
  if (attempt >= policy.attempts) return undefined;
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (attempt - 1));
  const jittered = Math.random() * ceiling;
  return Math.max(jittered, retryAfterMs ?? 0);
}

/** `Retry-After` as ms: delta-seconds or an HTTP date; undefined if absent or unreadable. */
export function parseRetryAfter(value: string | null): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
