import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { zstdCompressFrame } from '../../../src/core/zstd-stream.js';

const json = (seed: number, records: number): Buffer =>
  Buffer.from(
    Array.from({ length: records }, (_, i) =>
      JSON.stringify({ id: seed * 100_000 + i, user: `user-${(i * 7919) % 1013}`, amount: (i * 31) % 977 }),
    ).join('\n'),
  );

describe('zstdCompressFrame', () => {
  it('makes each block a complete zstd frame that decodes on its own, with reused compressors', async () => {
    const blocks = Array.from({ length: 12 }, (_, i) => json(i, 2000 + i));
    // Twice as many calls as compressors are kept, in parallel and then in sequence.
    const parallel = await Promise.all(blocks.map((block) => zstdCompressFrame(block, 3)));
    const sequential: Buffer[] = [];
    for (const block of blocks) sequential.push(await zstdCompressFrame(block, 3));
    for (const frames of [parallel, sequential]) {
      frames.forEach((frame, i) => {
        expect(frame.readUInt32LE(0)).toBe(0xfd2fb528); // zstd frame magic
        expect(zlib.zstdDecompressSync(frame).equals(blocks[i] as Buffer)).toBe(true);
      });
    }
  });

  it('compresses with the level asked for', async () => {
    const block = json(7, 20_000);
    const fast = await zstdCompressFrame(block, 1);
    const strong = await zstdCompressFrame(block, 19);
    expect(strong.length).toBeLessThan(fast.length);
    expect(zlib.zstdDecompressSync(strong).equals(block)).toBe(true);
  });

  it('compresses an empty block and one of several MiB (output in many pieces)', async () => {
    const big = Buffer.alloc(5 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24; // poorly compressible
    for (const block of [Buffer.alloc(0), big]) {
      const frame = await zstdCompressFrame(block, 3);
      expect(zlib.zstdDecompressSync(frame).equals(block)).toBe(true);
    }
  });
});
