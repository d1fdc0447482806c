import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CodecName } from '../../../src/core/codecs.js';
import type { BackupRecord } from '../../../src/core/record.js';
import { SegmentBuilder, type SegmentSink } from '../../../src/core/segment/builder.js';
import { INT64_MAX, INT64_MIN } from '../../../src/core/segment/format.js';
import { decodeSegment, encodeSegment } from '../../../src/core/segment/memory.js';
import { readSegmentBlocks, readSegmentHeader } from '../../../src/core/segment/segment-reader.js';
import { SegmentWriter } from '../../../src/core/segment/segment-writer.js';
import {
  ALL_CODECS,
  collect,
  expectSameRecords,
  listDir,
  prng,
  randomBytes,
  rec,
  sampleRecords,
  withTempDir,
} from './helpers.js';

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

const EDGE_CASES: [string, () => BackupRecord[]][] = [
  ['one record', () => [rec(0)]],
  ['a null key', () => [rec(1, { key: null })]],
  ['a null value', () => [rec(1, { value: null })]],
  ['a null key and value', () => [rec(1, { key: null, value: null })]],
  ['empty key and value', () => [rec(1, { key: Buffer.alloc(0), value: Buffer.alloc(0) })]],
  ['a 10 MiB value', () => [rec(3), rec(4, { value: randomBytes(prng(10), 10 * 1024 * 1024) }), rec(5)]],
  [
    'a 100 KiB header value',
    () => [rec(1, { headers: [[Buffer.from('big'), randomBytes(prng(5), 100 * 1024)]] })],
  ],
  ['a null header value', () => [rec(1, { headers: [[Buffer.from('h'), null]] })]],
  [
    'duplicate header keys in order',
    () => [
      rec(1, {
        headers: [
          [Buffer.from('trace'), Buffer.from('1')],
          [Buffer.from('span'), Buffer.from('x')],
          [Buffer.from('trace'), Buffer.from('2')],
          [Buffer.from('trace'), null],
          [Buffer.alloc(0), Buffer.alloc(0)],
        ],
      }),
    ],
  ],
  [
    'all 256 byte values everywhere',
    () => [
      rec(9, {
        key: ALL_BYTES,
        value: Buffer.concat([ALL_BYTES, ALL_BYTES]),
        headers: [[ALL_BYTES, ALL_BYTES]],
      }),
    ],
  ],
  [
    'millisecond timestamps incl. negative and int64 extremes',
    () => [
      rec(0, { timestamp: INT64_MIN }),
      rec(1, { timestamp: -1n }),
      rec(2, { timestamp: 0n }),
      rec(3, { timestamp: 1_700_000_000_123n }),
      rec(4, { timestamp: INT64_MAX }),
      rec(5, { timestamp: -62_135_596_800_000n }),
    ],
  ],
  [
    'LogAppendTime',
    () => [rec(0, { timestampType: 1 }), rec(1, { timestampType: 0 }), rec(2, { timestampType: 1 })],
  ],
  ['offset gaps', () => [rec(0), rec(5), rec(1000), rec(2n ** 40n), rec(INT64_MAX)]],
];

async function roundTripMemory(
  records: BackupRecord[],
  codec: CodecName,
  blockBytes?: number,
): Promise<void> {
  const buf = await encodeSegment(records, { codec, blockBytes });
  const { header, records: back } = await decodeSegment(buf, 'memory');
  expectSameRecords(back, records);
  expect(header.codec).toBe(codec);
  expect(header.recordCount).toBe(records.length);
  expect(header.firstOffset).toBe(records[0]?.offset);
  expect(header.lastOffset).toBe(records.at(-1)?.offset);
}

describe.each(ALL_CODECS)('codec %s', (codec) => {
  it.each(EDGE_CASES)('round-trips %s', async (_name, make) => {
    await roundTripMemory(make(), codec);
  });

  it('round-trips many records spanning several blocks', async () => {
    const records = sampleRecords(2000, 7, 500n);
    const buf = await encodeSegment(records, { codec, blockBytes: 8 * 1024 });
    const { header, records: back } = await decodeSegment(buf, 'memory');
    expectSameRecords(back, records);
    expect(header.blockCount).toBeGreaterThan(10);
  });

  it('writes a file that readSegmentBlocks streams back, with SegmentInfo matching the records', async () => {
    await withTempDir(async (dir) => {
      const records = [
        ...sampleRecords(300, 3, 10n),
        rec(5000, { key: null, value: null, timestampType: 1 }),
      ];
      const path = join(dir, 'topic-0-000010.kbseg');
      const writer = await SegmentWriter.open(path, { codec, blockBytes: 4096 });
      for (const record of records) {
        const wait = writer.append(record);
        if (wait) await wait;
      }
      expect(writer.recordCount).toBe(records.length);
      expect(writer.firstOffset).toBe(10n);
      expect(writer.lastOffset).toBe(5000n);
      const info = await writer.finish();
      expect(await listDir(dir)).toEqual(['topic-0-000010.kbseg']);

      const timestamps = records.map((r) => r.timestamp);
      const file = await readFile(path);
      const header = await readSegmentHeader(path);
      expect(info).toEqual({
        file: 'topic-0-000010.kbseg',
        firstOffset: 10n,
        lastOffset: 5000n,
        recordCount: records.length,
        minTimestamp: timestamps.reduce((a, b) => (a < b ? a : b)),
        maxTimestamp: timestamps.reduce((a, b) => (a > b ? a : b)),
        rawBytes: header.rawBytes,
        storedBytes: file.length - 96,
        fileBytes: file.length,
        bodyCrc32c: header.bodyCrc32c,
        codec,
      });
      expect(header.bodyBytes).toBe(info.storedBytes);
      expect(header.blockCount).toBeGreaterThan(3);

      const blocks: BackupRecord[][] = [];
      for await (const block of readSegmentBlocks(path)) blocks.push(block);
      expect(blocks.length).toBe(header.blockCount);
      expectSameRecords(blocks.flat(), records);

      // The file writer and the in-memory encoder share one code path and produce the same bytes.
      expect(file.equals(await encodeSegment(records, { codec, blockBytes: 4096 }))).toBe(true);
    });
  });
});

describe('block boundaries', () => {
  it('closes a block when it reaches the target and gives an oversized record its own block', async () => {
    const small = (o: number): BackupRecord => rec(o, { key: null, value: Buffer.alloc(71), headers: [] }); // 100 raw bytes
    const records = [small(0), small(1), small(2), small(3), rec(4, { value: Buffer.alloc(1000) }), small(5)];
    const buf = await encodeSegment(records, { codec: 'none', blockBytes: 250 });
    // 0+1 = 200 raw bytes; adding 2 would pass 250, so 2 starts a block; the 1000-byte record would
    // too, and being over the target alone it is closed at once.
    const counts: number[] = [];
    const raws: number[] = [];
    for (let at = 80; at < buf.length - 16;) {
      raws.push(buf.readUInt32BE(at));
      counts.push(buf.readUInt32BE(at + 8));
      at += 16 + buf.readUInt32BE(at + 4);
    }
    expect(counts).toEqual([2, 2, 1, 1]);
    expect(raws[0]).toBe(200);
    expect(raws[2]).toBeGreaterThan(1000);
    expectSameRecords((await decodeSegment(buf, 'm')).records, records);
  });

  it('fills blocks larger than the initial block buffer (4 MiB) without losing a byte', async () => {
    // Distinct bytes per record, so a copy gone wrong while the buffer grows cannot go unnoticed.
    const big = (o: number): BackupRecord =>
      rec(o, { key: null, value: Buffer.alloc(1024 * 1024, o + 1), headers: [] });
    const records = Array.from({ length: 12 }, (_, i) => big(i));
    const buf = await encodeSegment(records, { codec: 'none', blockBytes: 10 * 1024 * 1024 + 1000 });
    expect(buf.readUInt32BE(80 + 8)).toBe(10);
    expectSameRecords((await decodeSegment(buf, 'm')).records, records);
  });

  it.each(['none', 'zstd'] as const)(
    'reuses a block buffer only after its block is written (%s, slow sink)',
    async (codec) => {
      // The sink takes its copy only when the write resolves, as a file write reads the buffer while it
      // is pending: a buffer reused for the next block before then would show up as wrong bytes.
      const file = new Map<number, Buffer>();
      const sink: SegmentSink = {
        write: async (buffers, position) => {
          await new Promise((resolve) => setImmediate(resolve));
          let at = position;
          for (const buf of buffers) {
            file.set(at, Buffer.from(buf));
            at += buf.length;
          }
        },
      };
      const records = Array.from({ length: 60 }, (_, i) =>
        rec(i, { key: Buffer.from(`k${i}`), value: Buffer.alloc(300, i + 1), headers: [] }),
      );
      const builder = new SegmentBuilder(sink, { codec, blockBytes: 1000 });
      for (const record of records) {
        const wait = builder.append(record);
        if (wait) await wait;
      }
      const { fileBytes } = await builder.finish();
      expect((await builder.settle(), file.size)).toBeGreaterThan(20);
      const out = Buffer.alloc(fileBytes);
      for (const [at, buf] of file) out.set(buf, at);
      expectSameRecords((await decodeSegment(out, 'm')).records, records);
    },
  );

  it('closes exactly at the target', async () => {
    const small = (o: number): BackupRecord => rec(o, { key: null, value: Buffer.alloc(71), headers: [] });
    const buf = await encodeSegment([small(0), small(1), small(2)], { codec: 'none', blockBytes: 200 });
    expect(buf.readUInt32BE(80 + 8)).toBe(2);
    expect(buf.readUInt32BE(12)).toBe(2);
  });

  it('readSegmentBlocks fromOffset skips earlier records but still verifies them', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 's');
      await writeFile(path, sampleRecords(100, 1), 'lz4', 1024);
      const got = await collect(readSegmentBlocks(path, { fromOffset: 57n }));
      expect(got.map((r) => r.offset)).toEqual(Array.from({ length: 43 }, (_, i) => BigInt(57 + i)));
      expect(await collect(readSegmentBlocks(path, { fromOffset: 1000n }))).toEqual([]);
    });
  });

  it('hands a block of many records out in slices of at most 1000, in order and complete', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 's');
      const records = sampleRecords(2500, 3);
      await writeFile(path, records, 'zstd', 64 * 1024 * 1024); // one block
      expect((await readSegmentHeader(path)).blockCount).toBe(1);
      const slices: BackupRecord[][] = [];
      for await (const slice of readSegmentBlocks(path)) slices.push(slice);
      expect(slices.map((slice) => slice.length)).toEqual([1000, 1000, 500]);
      expectSameRecords(slices.flat(), records);
      const from = await collect(readSegmentBlocks(path, { fromOffset: 1234n }));
      expect(from.map((r) => r.offset)).toEqual(records.slice(1234).map((r) => r.offset));
    });
  });
});

async function writeFile(
  path: string,
  records: BackupRecord[],
  codec: CodecName,
  blockBytes: number,
): Promise<void> {
  const writer = await SegmentWriter.open(path, { codec, blockBytes });
  for (const record of records) {
    const wait = writer.append(record);
    if (wait) await wait;
  }
  await writer.finish();
}
