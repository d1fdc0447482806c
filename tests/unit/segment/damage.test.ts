import { appendFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../../src/core/checksum.js';
import type { CodecName } from '../../../src/core/codecs.js';
import { SegmentCorruptError } from '../../../src/core/errors.js';
import type { BackupRecord } from '../../../src/core/record.js';
import { blockChecksum } from '../../../src/core/segment/format.js';
import { decodeSegment, encodeSegment } from '../../../src/core/segment/memory.js';
import { readSegmentBlocks, verifySegment } from '../../../src/core/segment/segment-reader.js';
import { ALL_CODECS, expectSameRecords, prng, randomInt, sampleRecords, withTempDir } from './helpers.js';

/** 100 records at offsets 100..199; with 2 KiB blocks they span several blocks (build() checks >= 4). */
const RECORDS = sampleRecords(100, 77, 100n);

interface Block {
  at: number;
  storedLength: number;
  firstOffset: bigint;
  lastOffset: bigint;
}

async function build(codec: CodecName): Promise<{ buf: Buffer; blocks: Block[] }> {
  const buf = await encodeSegment(RECORDS, { codec, blockBytes: 2048 });
  const blocks: Block[] = [];
  let index = 0;
  for (let at = 80; at < buf.length - 16; at += 16 + buf.readUInt32BE(at + 4)) {
    const count = buf.readUInt32BE(at + 8);
    const first = RECORDS[index]?.offset ?? -1n;
    index += count;
    blocks.push({
      at,
      storedLength: buf.readUInt32BE(at + 4),
      firstOffset: first,
      lastOffset: first + BigInt(count - 1),
    });
  }
  expect(blocks.length).toBeGreaterThanOrEqual(4);
  return { buf, blocks };
}

function flip(buf: Buffer, at: number): Buffer {
  const out = Buffer.from(buf);
  out[at] = (out[at] ?? 0) ^ 0x5a;
  return out;
}

/** Streams a damaged file; returns what was yielded before the error and the error. */
async function readDamaged(path: string): Promise<{ yielded: BackupRecord[]; error: SegmentCorruptError }> {
  const yielded: BackupRecord[] = [];
  try {
    for await (const block of readSegmentBlocks(path)) yielded.push(...block);
  } catch (error) {
    expect(error).toBeInstanceOf(SegmentCorruptError);
    return { yielded, error: error as SegmentCorruptError };
  }
  throw new Error(`damage in ${path} went unnoticed`);
}

async function expectDamage(
  dir: string,
  bytes: Buffer,
  expected: { message: RegExp; first: bigint | undefined; last: bigint | undefined },
): Promise<void> {
  const path = join(dir, 'damaged.kbseg');
  await writeFile(path, bytes);
  const { yielded, error } = await readDamaged(path);
  expect(error.path).toBe(path);
  expect(error.message).toMatch(expected.message);
  expect(error.message).toContain(path);
  expect(error.code).toBe('SEGMENT_CORRUPT');
  expect(error.firstBadOffset).toBe(expected.first);
  expect(error.lastBadOffset).toBe(expected.last);
  // Whatever came out before the damage is a verified, exact prefix, ending just before the bad range.
  expectSameRecords(yielded, RECORDS.slice(0, yielded.length));
  if (expected.first !== undefined) expect(yielded.at(-1)?.offset ?? 99n).toBe(expected.first - 1n);
  const verdict = await verifySegment(path);
  expect(verdict.ok).toBe(false);
  if (!verdict.ok) expect(verdict.error.message).toBe(error.message);
}

describe.each(ALL_CODECS)('damage detection, codec %s', (codec) => {
  it('rejects a flipped byte anywhere in the header, with no offset range', async () => {
    const { buf } = await build(codec);
    await withTempDir(async (dir) => {
      for (const at of [0, 3, 4, 6, 7, 8, 12, 16, 27, 32, 47, 48, 56, 64, 68, 72, 76, 79]) {
        await expectDamage(dir, flip(buf, at), {
          message: /bad magic|header checksum mismatch/,
          first: undefined,
          last: undefined,
        });
      }
    });
  });

  it('rejects a flipped byte in a block header, covering that block to the end', async () => {
    const { buf, blocks } = await build(codec);
    const b2 = blocks[2];
    const b1 = blocks[1];
    if (b2 === undefined || b1 === undefined) throw new Error('layout');
    await withTempDir(async (dir) => {
      for (const field of [0, 3, 7, 8, 11, 12, 15]) {
        await expectDamage(dir, flip(buf, b2.at + field), {
          message: /block 2 (checksum mismatch|length \d+ runs past the end of the body)|file truncated/,
          first: b1.lastOffset + 1n,
          last: 199n,
        });
      }
    });
  });

  it('rejects a flipped byte in a block payload as "block N checksum mismatch"', async () => {
    const { buf, blocks } = await build(codec);
    await withTempDir(async (dir) => {
      for (const [index, block] of blocks.entries()) {
        const first = index === 0 ? 100n : (blocks[index - 1]?.lastOffset ?? 0n) + 1n;
        for (const at of [16, 16 + (block.storedLength >> 1), 15 + block.storedLength]) {
          await expectDamage(dir, flip(buf, block.at + at), {
            message: new RegExp(`block ${index} checksum mismatch`),
            first,
            last: 199n,
          });
        }
      }
    });
  });

  it('rejects a damaged trailer after yielding every record (empty range: nothing lost)', async () => {
    const { buf } = await build(codec);
    await withTempDir(async (dir) => {
      for (const back of [16, 9, 8, 1]) {
        await expectDamage(dir, flip(buf, buf.length - back), {
          message: back > 8 ? /trailer missing or damaged/ : /trailer records \d+ bytes/,
          first: 200n,
          last: 199n,
        });
      }
    });
  });

  it('detects truncation at any point and data appended after the trailer', async () => {
    const { buf, blocks } = await build(codec);
    const b2 = blocks[2];
    const b1 = blocks[1];
    if (b2 === undefined || b1 === undefined) throw new Error('layout');
    await withTempDir(async (dir) => {
      const path = join(dir, 'damaged.kbseg');
      for (const cut of [0, 1, 40, 79]) {
        await expectDamage(dir, buf.subarray(0, cut), {
          message: new RegExp(`file truncated: header needs 80 bytes, found ${cut}`),
          first: undefined,
          last: undefined,
        });
      }
      for (const cut of [80, 90, b2.at, b2.at + 10, b2.at + 16 + 5]) {
        const first = cut <= 96 ? 100n : b1.lastOffset + 1n;
        await expectDamage(dir, buf.subarray(0, cut), {
          message: new RegExp(`file truncated: expected ${buf.length} bytes, found ${cut}`),
          first,
          last: 199n,
        });
      }
      for (const cut of [buf.length - 16, buf.length - 1]) {
        await expectDamage(dir, buf.subarray(0, cut), {
          message: new RegExp(`file truncated: expected ${buf.length} bytes, found ${cut}`),
          first: 200n,
          last: 199n,
        });
      }
      // The same through the filesystem's own truncate, and an appended byte.
      await writeFile(path, buf);
      await truncate(path, b2.at + 20);
      expect((await readDamaged(path)).error.message).toMatch(/file truncated/);
      await writeFile(path, buf);
      await appendFile(path, Buffer.from([0]));
      expect((await readDamaged(path)).error.message).toMatch(/data after the trailer/);
    });
  });
});

describe('verifySegment and missing files', () => {
  it('returns info for a good file and an error for a missing one', async () => {
    const { buf } = await build('zstd');
    await withTempDir(async (dir) => {
      const path = join(dir, 'ok.kbseg');
      await writeFile(path, buf);
      const verdict = await verifySegment(path);
      expect(verdict).toMatchObject({
        ok: true,
        info: { file: 'ok.kbseg', recordCount: 100, fileBytes: buf.length },
      });
      const missing = await verifySegment(join(dir, 'nope.kbseg'));
      expect(missing.ok).toBe(false);
      if (!missing.ok) expect(missing.error.message).toMatch(/segment file not found/);
    });
  });
});

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
