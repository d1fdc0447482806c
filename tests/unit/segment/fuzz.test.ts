import { describe, expect, it } from 'vitest';
import { crc32c } from '../../../src/core/checksum.js';
import type { CodecName } from '../../../src/core/codecs.js';
import { SegmentCorruptError } from '../../../src/core/errors.js';
import { blockChecksum } from '../../../src/core/segment/format.js';
import { decodeSegment, encodeSegment } from '../../../src/core/segment/memory.js';
import { checkSegment } from '../../../src/core/segment/segment-scan.js';
import { ALL_CODECS, prng, randomInt, sampleRecords } from './helpers.js';

describe('decoder robustness', () => {
  it('500 seeded random mutations of a valid segment throw only SegmentCorruptError', async () => {
    const rand = prng(0xc0ffee);
    const segments = new Map<CodecName, Buffer>();
    for (const codec of ALL_CODECS)
      segments.set(codec, await encodeSegment(sampleRecords(12, 5, 40n), { codec, blockBytes: 256 }));
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const codec = ALL_CODECS[i % ALL_CODECS.length] ?? 'none';
      const good = segments.get(codec) ?? Buffer.alloc(0);
      const { bytes, kind } = mutate(good, rand);
      if (bytes.equals(good)) continue;
      try {
        await decodeSegment(bytes, `fuzz-${i}`);
        throw new Error(`iteration ${i} (${codec}, ${kind}): damage went unnoticed`);
      } catch (error) {
        if (!(error instanceof SegmentCorruptError)) throw error;
        expect(error.path).toBe(`fuzz-${i}`);
        if (error.firstBadOffset !== undefined) {
          expect(error.firstBadOffset).toBeGreaterThanOrEqual(40n);
          expect(error.lastBadOffset).toBe(51n);
        }
        seen.add(error.message.replace(/^fuzz-\d+: /, '').replace(/\d+/g, 'N'));
      }
    }
    // The mutations reached many different checks, not just the first one.
    expect(seen.size).toBeGreaterThanOrEqual(7);
  });

  it('300 payload mutations with recomputed checksums never escape as anything but SegmentCorruptError', async () => {
    const rand = prng(99);
    const good = await encodeSegment(sampleRecords(12, 6, 0n), { codec: 'none', blockBytes: 256 });
    let accepted = 0;
    const seen = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const bytes = Buffer.from(good);
      const bodyStart = 80 + 16;
      for (let n = 1 + randomInt(rand, 3); n > 0; n--) {
        bytes[bodyStart + randomInt(rand, bytes.length - 16 - bodyStart)] = randomInt(rand, 256);
      }
      reseal(bytes);
      try {
        await decodeSegment(bytes, 'sealed');
        accepted++; // e.g. a changed value byte: undetectable once checksums are recomputed
      } catch (error) {
        if (!(error instanceof SegmentCorruptError)) throw error;
        seen.add(error.message.replace(/\d+/g, 'N'));
      }
    }
    expect(accepted).toBeLessThan(300);
    // Past the checksums, the record decoder's own checks are what fire.
    expect(seen.size).toBeGreaterThanOrEqual(10);
  });

  it('the check-only scan (verify) reaches the same verdict and message as the decoding scan', async () => {
    const rand = prng(4242);
    for (const codec of ['none', 'zstd'] as const) {
      const good = await encodeSegment(sampleRecords(24, 6, 100n), { codec, blockBytes: 300 });
      for (let i = 0; i < 400; i++) {
        let bytes: Buffer;
        if (i % 2 === 0) {
          bytes = mutate(good, rand).bytes;
        } else {
          // Damage behind valid checksums (none only: compressed streams rarely survive), so that the record
          // checks themselves decide: framing, offset order and timestamps against the header.
          bytes = Buffer.from(good);
          if (codec === 'none') {
            for (let n = 1 + randomInt(rand, 2); n > 0; n--) {
              bytes[96 + randomInt(rand, bytes.length - 16 - 96)] = randomInt(rand, 256);
            }
            reseal(bytes);
          }
        }
        const decoded = await decodeSegment(bytes, 'x').then(
          (r) => `ok ${r.records.length}`,
          (error: unknown) =>
            error instanceof SegmentCorruptError ? error.message : `other ${String(error)}`,
        );
        const source = {
          size: bytes.length,
          read: (position: number, length: number) =>
            Promise.resolve(bytes.subarray(position, Math.min(bytes.length, position + length))),
        };
        const checked = await checkSegment(source, 'x').then(
          (h) => `ok ${h.recordCount}`,
          (error: unknown) =>
            error instanceof SegmentCorruptError ? error.message : `other ${String(error)}`,
        );
        expect(checked, `${codec} iteration ${i}`).toBe(decoded);
      }
    }
  });

  it.each(['gzip', 'snappy', 'lz4', 'zstd'] as const)(
    '%s: 100 compressed-stream mutations with recomputed checksums give only SegmentCorruptError',
    async (codec) => {
      const rand = prng(codec.length * 7919);
      const good = await encodeSegment(sampleRecords(30, 8, 0n), { codec, blockBytes: 1024 });
      const firstStored = 80 + 16;
      const storedLength = good.readUInt32BE(80 + 4);
      for (let i = 0; i < 100; i++) {
        const bytes = Buffer.from(good);
        // Damage the first block's compressed stream only, so the framing stays intact.
        bytes[firstStored + randomInt(rand, storedLength)] = randomInt(rand, 256);
        reseal(bytes);
        try {
          await decodeSegment(bytes, codec);
        } catch (error) {
          if (!(error instanceof SegmentCorruptError)) throw error;
          // Usually 0; a mutation can also decode to plausible records that only later checks refute.
          expect(error.firstBadOffset).toBeDefined();
          expect(error.lastBadOffset).toBe(29n);
        }
      }
    },
  );
});

type Mutation = { bytes: Buffer; kind: string };

function mutate(good: Buffer, rand: () => number): Mutation {
  const bytes = Buffer.from(good);
  const at = randomInt(rand, bytes.length);
  switch (randomInt(rand, 6)) {
    case 0:
      bytes[at] = (bytes[at] ?? 0) ^ (1 << randomInt(rand, 8));
      return { bytes, kind: 'bit flip' };
    case 1:
      for (let n = 2 + randomInt(rand, 6); n > 0; n--)
        bytes[randomInt(rand, bytes.length)] = randomInt(rand, 256);
      return { bytes, kind: 'random bytes' };
    case 2:
      return { bytes: bytes.subarray(0, at), kind: 'truncate' };
    case 3:
      return {
        bytes: Buffer.concat([bytes, Buffer.alloc(1 + randomInt(rand, 20), randomInt(rand, 256))]),
        kind: 'extend',
      };
    case 4:
      return {
        bytes: Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1 + randomInt(rand, 30))]),
        kind: 'delete',
      };
    default:
      return {
        bytes: Buffer.concat([
          bytes.subarray(0, at),
          Buffer.from([randomInt(rand, 256)]),
          bytes.subarray(at),
        ]),
        kind: 'insert',
      };
  }
}

/** Recomputes every block CRC, the body CRC and the header CRC after tampering with payload bytes. */
function reseal(buf: Buffer): void {
  let body = 0;
  for (let at = 80; at < buf.length - 16;) {
    const storedLength = buf.readUInt32BE(at + 4);
    const header = buf.subarray(at, at + 16);
    const stored = buf.subarray(at + 16, at + 16 + storedLength);
    header.writeUInt32BE(blockChecksum(header, stored), 12);
    body = crc32c(stored, crc32c(header, body));
    at += 16 + storedLength;
  }
  buf.writeUInt32BE(body, 64);
  buf.writeUInt32BE(crc32c(buf.subarray(0, 76)), 76);
}
