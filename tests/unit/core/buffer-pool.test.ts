import { describe, expect, it } from 'vitest';
import { BufferPool, grownBuffer } from '../../../src/core/buffer-pool.js';

describe('BufferPool', () => {
  it('hands out buffers of exactly the size asked for, backed by pooled memory', () => {
    const pool = new BufferPool(1024, 2);
    const a = pool.take(100);
    expect(a.length).toBe(100);
    expect(a.buffer.byteLength).toBe(1024);
    expect(pool.take(1024).length).toBe(1024);
  });

  it('hands released memory out again, and never memory still taken', () => {
    const pool = new BufferPool(1024, 2);
    const a = pool.take(10);
    const b = pool.take(10);
    expect(b.buffer).not.toBe(a.buffer);
    pool.release(a);
    expect(pool.spareCount).toBe(1);
    const c = pool.take(500);
    expect(c.buffer).toBe(a.buffer);
    expect(c.length).toBe(500);
    expect(pool.spareCount).toBe(0);
    expect(pool.take(10).buffer).not.toBe(b.buffer);
  });

  it('gives a larger request memory of its own, which a release does not keep', () => {
    const pool = new BufferPool(1024, 2);
    const big = pool.take(4096);
    expect(big.length).toBe(4096);
    pool.release(big);
    expect(pool.spareCount).toBe(0);
  });

  it('ignores buffers it did not hand out and a second release of the same memory', () => {
    const pool = new BufferPool(1024, 4);
    pool.release(Buffer.allocUnsafeSlow(1024));
    expect(pool.spareCount).toBe(0);
    const a = pool.take(8);
    pool.release(a);
    pool.release(a.subarray(2));
    expect(pool.spareCount).toBe(1);
    // Released twice, it would be handed out to two owners at once.
    expect(pool.take(8).buffer).not.toBe(pool.take(8).buffer);
  });

  it('keeps at most maxSpares unused buffers', () => {
    const pool = new BufferPool(64, 2);
    const taken = [pool.take(64), pool.take(64), pool.take(64)];
    for (const buffer of taken) pool.release(buffer);
    expect(pool.spareCount).toBe(2);
  });
});

describe('grownBuffer', () => {
  it('keeps a buffer that is large enough, and otherwise at least doubles it, copying the bytes in use', () => {
    const buffer = Buffer.from('abcdefgh');
    expect(grownBuffer(buffer, 8, 8)).toBe(buffer);
    const doubled = grownBuffer(buffer, 5, 9);
    expect(doubled.length).toBe(16);
    expect(doubled.subarray(0, 5).toString()).toBe('abcde');
    const larger = grownBuffer(buffer, 8, 100);
    expect(larger.length).toBe(128);
    expect(larger.subarray(0, 8).equals(buffer)).toBe(true);
  });
});
