import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { mapWithConcurrency } from '../../../src/core/concurrency.js';
import { randomInt, seededRandom } from './helpers.js';

describe('mapWithConcurrency', () => {
  it('returns results in input order whatever the completion order', async () => {
    const items = [30, 5, 20, 1, 10, 0, 15];
    const result = await mapWithConcurrency(items, 3, async (ms, index) => {
      await delay(ms);
      return `${index}:${ms}`;
    });
    expect(result).toEqual(items.map((ms, i) => `${i}:${ms}`));
  });

  it('never has more than `limit` items in flight, and reaches the limit', async () => {
    const rand = seededRandom(5);
    const items = Array.from({ length: 40 }, () => randomInt(rand, 8));
    for (const limit of [1, 2, 4, 7]) {
      let inFlight = 0;
      let maxInFlight = 0;
      const started: number[] = [];
      const result = await mapWithConcurrency(items, limit, async (ms, index) => {
        started.push(index);
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await delay(ms);
        inFlight--;
        return index * 2;
      });
      expect(maxInFlight).toBe(limit);
      expect(inFlight).toBe(0);
      expect(started).toEqual(items.map((_, i) => i)); // started in input order, each once
      expect(result).toEqual(items.map((_, i) => i * 2));
    }
  });

  it('runs everything at once when the limit exceeds the item count', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    await mapWithConcurrency([1, 2, 3], 100, async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await delay(5);
      inFlight--;
    });
    expect(maxInFlight).toBe(3);
  });

  it('returns [] for no items without calling the worker', async () => {
    let calls = 0;
    const result = await mapWithConcurrency([], 4, () => {
      calls++;
      return Promise.resolve(1);
    });
    expect(result).toEqual([]);
    expect(calls).toBe(0);
  });

  it('treats a limit below 1 as 1', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const result = await mapWithConcurrency([1, 2, 3], 0, async (x) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await delay(1);
      inFlight--;
      return x + 1;
    });
    expect(result).toEqual([2, 3, 4]);
    expect(maxInFlight).toBe(1);
  });

  it('stops starting items after a failure and rethrows it once running items settle', async () => {
    const started: number[] = [];
    const settled: number[] = [];
    const boom = new Error('item 1 failed');
    const items = Array.from({ length: 10 }, (_, i) => i);
    const promise = mapWithConcurrency(items, 3, async (i) => {
      started.push(i);
      if (i === 1) {
        await delay(5);
        throw boom;
      }
      await delay(i === 0 ? 40 : 25);
      settled.push(i);
      return i;
    });
    const error = await promise.catch((e: unknown) => e);
    expect(error).toBe(boom);
    // Items 0 and 2 were running when item 1 failed: they finished before the rejection; nothing else started.
    expect(started).toEqual([0, 1, 2]);
    expect(settled.sort()).toEqual([0, 2]);
  });

  it('rethrows the first failure when several items fail', async () => {
    const first = new Error('first');
    const promise = mapWithConcurrency([10, 1, 20], 3, async (ms) => {
      await delay(ms);
      throw ms === 1 ? first : new Error(`later ${ms}`);
    });
    await expect(promise).rejects.toBe(first);
  });

  it('rethrows a synchronous throw from the worker', async () => {
    const boom = new Error('sync');
    const promise = mapWithConcurrency([1, 2], 1, (x) => {
      if (x === 1) throw boom;
      return Promise.resolve(x);
    });
    await expect(promise).rejects.toBe(boom);
  });
});
