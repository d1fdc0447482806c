import { describe, expect, it } from 'vitest';
import { backoffDelay, withRetry, type RetryPolicy } from '../../../src/core/retry.js';
import { seededRandom } from './helpers.js';

class Retriable extends Error {}
class Fatal extends Error {}

/** A fake clock: sleep advances time; operations may advance it too. */
function fakeClock(): {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  sleeps: number[];
  advance: (ms: number) => void;
} {
  let t = 1_000_000;
  const sleeps: number[] = [];
  return {
    now: () => t,
    sleep: (ms) => {
      sleeps.push(ms);
      t += ms;
      return Promise.resolve();
    },
    sleeps,
    advance: (ms) => {
      t += ms;
    },
  };
}

function policy(clock: ReturnType<typeof fakeClock>, over: Partial<RetryPolicy> = {}): RetryPolicy {
  return {
    deadlineMs: 60_000,
    initialDelayMs: 100,
    maxDelayMs: 1_000,
    isRetriable: (e) => e instanceof Retriable,
    sleep: clock.sleep,
    now: clock.now,
    random: () => 1, // top of the jitter range: delay = ceiling
    ...over,
  };
}

/** An operation that throws failures[attempt] (a fresh error each time) or returns 'ok'. */
function failing(failures: (() => Error)[]): {
  op: (attempt: number) => Promise<string>;
  attempts: number[];
  thrown: Error[];
} {
  const attempts: number[] = [];
  const thrown: Error[] = [];
  return {
    attempts,
    thrown,
    op: (attempt) => {
      attempts.push(attempt);
      const make = failures[attempt];
      if (!make) return Promise.resolve('ok');
      const error = make();
      thrown.push(error);
      return Promise.reject(error);
    },
  };
}

const retriable = (): Error => new Retriable('busy');

describe('withRetry', () => {
  it('returns the first success without sleeping', async () => {
    const clock = fakeClock();
    const f = failing([]);
    await expect(withRetry(f.op, policy(clock))).resolves.toBe('ok');
    expect(f.attempts).toEqual([0]);
    expect(clock.sleeps).toEqual([]);
  });

  it('retries retriable errors with exponentially growing delays capped at maxDelayMs', async () => {
    const clock = fakeClock();
    const f = failing(Array.from({ length: 7 }, () => retriable));
    const retries: [number, number][] = [];
    const result = await withRetry(
      f.op,
      policy(clock, { onRetry: (_e, attempt, delay) => retries.push([attempt, delay]) }),
    );
    expect(result).toBe('ok');
    expect(f.attempts).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(clock.sleeps).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
    expect(retries).toEqual([
      [1, 100],
      [2, 200],
      [3, 400],
      [4, 800],
      [5, 1000],
      [6, 1000],
      [7, 1000],
    ]);
  });

  it('applies jitter within [ceiling/2, ceiling]', async () => {
    const clock = fakeClock();
    const f = failing([retriable, retriable, retriable]);
    await withRetry(f.op, policy(clock, { random: () => 0 }));
    expect(clock.sleeps).toEqual([50, 100, 200]);
  });

  it('stops at the deadline and rethrows the last error', async () => {
    const clock = fakeClock();
    const f = failing(Array.from({ length: 20 }, () => retriable));
    // Delays 100, 200, 400 fit in 1000 ms (t = 700); the next, 800, would end past the deadline.
    const promise = withRetry(f.op, policy(clock, { deadlineMs: 1_000 }));
    await expect(promise).rejects.toBeInstanceOf(Retriable);
    const error = await promise.catch((e: unknown) => e);
    expect(error).toBe(f.thrown.at(-1));
    expect(f.attempts).toEqual([0, 1, 2, 3]);
    expect(clock.sleeps).toEqual([100, 200, 400]);
  });

  it('counts time spent in the operation against the deadline', async () => {
    const clock = fakeClock();
    const attempts: number[] = [];
    const op = (attempt: number): Promise<string> => {
      attempts.push(attempt);
      clock.advance(450);
      return Promise.reject(new Retriable(`attempt ${attempt}`));
    };
    // t after attempt 0: 450, +100 = 550 ok; after attempt 1: 1000, +200 > 1000 → give up.
    await expect(withRetry(op, policy(clock, { deadlineMs: 1_000 }))).rejects.toThrow('attempt 1');
    expect(attempts).toEqual([0, 1]);
    expect(clock.sleeps).toEqual([100]);
  });

  it('allows a retry whose delay ends exactly at the deadline', async () => {
    const clock = fakeClock();
    const f = failing([retriable, retriable]);
    // After 100 + 200 = 300 ms, exactly the deadline: both retries are allowed.
    await expect(withRetry(f.op, policy(clock, { deadlineMs: 300 }))).resolves.toBe('ok');
    expect(clock.sleeps).toEqual([100, 200]);
  });

  it('never retries a non-retriable error', async () => {
    const clock = fakeClock();
    const f = failing([() => new Fatal('no'), retriable]);
    let retried = false;
    const promise = withRetry(f.op, policy(clock, { onRetry: () => (retried = true) }));
    await expect(promise).rejects.toBeInstanceOf(Fatal);
    expect(f.attempts).toEqual([0]);
    expect(clock.sleeps).toEqual([]);
    expect(retried).toBe(false);
  });

  it('rethrows a non-retriable error met after some retries', async () => {
    const clock = fakeClock();
    const f = failing([retriable, retriable, () => new Fatal('bad request'), retriable]);
    await expect(withRetry(f.op, policy(clock))).rejects.toThrow('bad request');
    expect(f.attempts).toEqual([0, 1, 2]);
    expect(clock.sleeps).toEqual([100, 200]);
  });

  it('stops when checkAbort throws before the sleep', async () => {
    const clock = fakeClock();
    const f = failing(Array.from({ length: 5 }, () => retriable));
    const stop = new Error('shutting down');
    const promise = withRetry(
      f.op,
      policy(clock, {
        checkAbort: () => {
          throw stop;
        },
      }),
    );
    await expect(promise).rejects.toBe(stop);
    expect(f.attempts).toEqual([0]);
    expect(clock.sleeps).toEqual([]);
  });

  it('stops when checkAbort throws after a sleep, without another attempt', async () => {
    const clock = fakeClock();
    const f = failing(Array.from({ length: 5 }, () => retriable));
    let checks = 0;
    const stop = new Error('SIGTERM');
    const checkAbort = (): void => {
      checks++;
      if (checks === 4) throw stop; // before retry 1, after sleep 1, before retry 2, after sleep 2
    };
    await expect(withRetry(f.op, policy(clock, { checkAbort }))).rejects.toBe(stop);
    expect(f.attempts).toEqual([0, 1]);
    expect(clock.sleeps).toEqual([100, 200]);
  });
});

describe('backoffDelay', () => {
  it('stays within [max(1, round(ceiling/2)), ceiling] with ceiling = min(max, initial·2^attempt)', () => {
    const rand = seededRandom(99);
    for (let attempt = 0; attempt < 40; attempt++) {
      const ceiling = Math.min(5_000, 100 * 2 ** attempt);
      for (let i = 0; i < 50; i++) {
        const delay = backoffDelay(attempt, 100, 5_000, rand);
        expect(delay).toBeGreaterThanOrEqual(Math.round(ceiling / 2));
        expect(delay).toBeLessThanOrEqual(ceiling);
        expect(Number.isInteger(delay)).toBe(true);
      }
    }
  });

  it('hits both ends of the jitter range', () => {
    expect(backoffDelay(0, 100, 5_000, () => 0)).toBe(50);
    expect(backoffDelay(3, 100, 5_000, () => 0)).toBe(400);
    expect(backoffDelay(3, 100, 5_000, () => 0.999_999)).toBe(800);
    expect(backoffDelay(10, 100, 5_000, () => 0.999_999)).toBe(5_000);
  });

  it('stays finite for huge attempt numbers and is at least 1 ms', () => {
    expect(backoffDelay(10_000, 100, 5_000, () => 0.5)).toBe(3_750);
    expect(backoffDelay(0, 0, 5_000, () => 0)).toBe(1);
    expect(backoffDelay(0, 1, 5_000, () => 0)).toBe(1);
  });
});
