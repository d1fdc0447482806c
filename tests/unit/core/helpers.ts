import { expect } from 'vitest';
import { KbackupError, type ErrorCode } from '../../../src/core/errors.js';

/** mulberry32: a tiny seeded PRNG so that randomized tests see the same inputs on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomInt(rand: () => number, maxExclusive: number): number {
  return Math.floor(rand() * maxExclusive);
}

/** Runs fn, which must throw; returns what it threw. */
export function thrownBy(fn: () => unknown): unknown {
  let result: unknown;
  try {
    result = fn();
  } catch (error) {
    return error;
  }
  const shown =
    result === undefined
      ? 'undefined'
      : JSON.stringify(result, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)).slice(0, 200);
  throw new Error(`expected the call to throw, but it returned ${shown}`);
}

/** Asserts that fn throws a KbackupError with the given code (and a message matching `message`). */
export function expectKbackupError(
  fn: () => unknown,
  code: ErrorCode,
  message?: string | RegExp,
): KbackupError {
  const error = thrownBy(fn);
  expect(error).toBeInstanceOf(KbackupError);
  const kerror = error as KbackupError;
  expect(kerror.code).toBe(code);
  if (message !== undefined) expect(kerror.message).toMatch(message);
  return kerror;
}
