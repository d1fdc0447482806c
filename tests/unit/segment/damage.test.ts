import { appendFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CodecName } from '../../../src/core/codecs.js';
import { SegmentCorruptError } from '../../../src/core/errors.js';
import type { BackupRecord } from '../../../src/core/record.js';
import { encodeSegment } from '../../../src/core/segment/memory.js';
import { decodeRecords } from '../../../src/core/segment/record-codec.js';
import {
  readSegmentBlocks,
  readVerifiedBlocks,
  verifySegment,
} from '../../../src/core/segment/segment-reader.js';
import { ALL_CODECS, expectSameRecords, sampleRecords, withTempDir } from './helpers.js';

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
  // Restore's reader (blocks read in place) hands out the same verified prefix and fails the same way.
  const inPlace = await readDamagedInPlace(path);
  expect(inPlace.error.message).toBe(error.message);
  expect(inPlace.error.firstBadOffset).toBe(error.firstBadOffset);
  expect(inPlace.error.lastBadOffset).toBe(error.lastBadOffset);
  expectSameRecords(inPlace.yielded, yielded);
}

/** readDamaged for readVerifiedBlocks: each yielded block's records are decoded to compare them. */
async function readDamagedInPlace(
  path: string,
): Promise<{ yielded: BackupRecord[]; error: SegmentCorruptError }> {
  const yielded: BackupRecord[] = [];
  try {
    for await (const block of readVerifiedBlocks(path))
      yielded.push(...decodeRecords(block.raw, block.recordCount));
  } catch (error) {
    expect(error).toBeInstanceOf(SegmentCorruptError);
    return { yielded, error: error as SegmentCorruptError };
  }
  throw new Error(`damage in ${path} went unnoticed by readVerifiedBlocks`);
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
