import { setTimeout as delay } from 'node:timers/promises';

export interface PollOptions {
  /** Give up after this many milliseconds. */
  timeoutMs: number;
  /** Pause between attempts; short because every condition here is cheap to check. */
  intervalMs?: number;
  /** Names the condition in the timeout error. */
  description: string;
  /** Extra context for the timeout error (e.g. the tail of a broker log), computed only on failure. */
  onTimeout?: () => string | Promise<string>;
}

/** Thrown by a poll check to stop polling at once (e.g. the broker process died): no retry, no waiting. */
export class PollAbort extends Error {}

/**
 * Calls `check` until it returns a value other than undefined/false, and returns that value. Errors thrown by
 * `check` count as "not yet" (brokers refuse connections while starting) but the last one is reported if
 * the condition never holds, so a timeout explains itself.
 */
export async function pollUntil<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  options: PollOptions,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const result = await check();
      if (result !== undefined && result !== false) return result;
    } catch (error) {
      if (error instanceof PollAbort) throw error;
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const extra = options.onTimeout ? `\n${await options.onTimeout()}` : '';
      const cause = lastError === undefined ? '' : ` (last error: ${describeError(lastError)})`;
      throw new Error(
        `Timed out after ${options.timeoutMs} ms waiting for ${options.description}${cause}${extra}`,
      );
    }
    await delay(options.intervalMs ?? 200);
  }
}

/** Flattens an error and its causes (platformatic nests the useful part in `cause` / `errors`). */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const parts = [error.message];
  const nested = (error as Error & { errors?: unknown[] }).errors;
  if (Array.isArray(nested)) for (const e of nested.slice(0, 3)) parts.push(describeError(e));
  if (error.cause !== undefined) parts.push(describeError(error.cause));
  return parts.join(' <- ');
}
