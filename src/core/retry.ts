/**
 * Retries an operation with exponential backoff and full jitter until it succeeds, fails with a
 * non-retriable error, or the deadline passes (then the last error is thrown). Pure apart from the injected
 * sleep and clock, so that unit tests can drive it.
 */
export interface RetryPolicy {
  /** Total time budget in ms from the first attempt. */
  deadlineMs: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
  isRetriable: (error: unknown) => boolean;
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  random?: () => number;
  /** Checked before each retry; throwing stops the loop (used for graceful shutdown). */
  checkAbort?: () => void;
}

export const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function backoffDelay(
  attempt: number,
  initialMs: number,
  maxMs: number,
  random: () => number,
): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 20));
  return Math.max(1, Math.round(ceiling * (0.5 + random() / 2)));
}

export async function withRetry<T>(
  operation: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
): Promise<T> {
  const sleep = policy.sleep ?? defaultSleep;
  const now = policy.now ?? Date.now;
  const random = policy.random ?? Math.random;
  const start = now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (!policy.isRetriable(error)) throw error;
      const delay = backoffDelay(attempt, policy.initialDelayMs ?? 100, policy.maxDelayMs ?? 5_000, random);
      if (now() - start + delay > policy.deadlineMs) throw error;
      policy.checkAbort?.();
      policy.onRetry?.(error, attempt + 1, delay);
      await sleep(delay);
      policy.checkAbort?.();
    }
  }
}
