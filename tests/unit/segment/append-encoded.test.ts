import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ManifestSegment } from '../../../src/core/manifest/schema.js';
import type { BackupRecord } from '../../../src/core/record.js';
import { EncodedRecords } from '../../../src/core/segment/encoded-records.js';
import { encodeRecords } from '../../../src/core/segment/record-codec.js';
import { buildSegmentInMemory, decodeSegment, encodeSegment } from '../../../src/core/segment/memory.js';
import { SegmentWriter } from '../../../src/core/segment/segment-writer.js';
import {
  PartitionSegmentSink,
  segmentFileName,
  type SegmentRolling,
} from '../../../src/engine/segment-sink.js';
import { expectSameRecords, prng, randomBytes, randomInt, sampleRecords, withTempDir } from './helpers.js';

/**
 * Records with gaps between offsets, some larger than a small block, timestamps out of order and at the
 * int64 limits (where the runs' numbers stop being exact).
 */
function mixedRecords(seed: number, count: number): BackupRecord[] {
  const rand = prng(seed);
  let offset = BigInt(randomInt(rand, 1000));
  return sampleRecords(count, seed).map((record, i) => {
    offset += 1n + (randomInt(rand, 6) === 0 ? BigInt(randomInt(rand, 50)) : 0n);
    const extreme = i % 97 === 5 ? (i % 2 === 0 ? 2n ** 63n - 1n : -(2n ** 63n)) : undefined;
    return {
      ...record,
      offset,
      timestamp: extreme ?? record.timestamp,
      value: randomInt(rand, 30) === 0 ? randomBytes(rand, 3000) : record.value,
    };
  });
}

/** The records cut into runs, each handed over in pieces: [run, from, to] in order. */
function piecesOf(records: BackupRecord[], seed: number): [EncodedRecords, number, number][] {
  const rand = prng(seed + 1000);
  const pieces: [EncodedRecords, number, number][] = [];
  for (let at = 0; at < records.length;) {
    const size = 1 + randomInt(rand, 40);
    const run = EncodedRecords.fromRecords(records.slice(at, at + size));
    for (let from = 0; from < run.count;) {
      const to = Math.min(run.count, from + 1 + randomInt(rand, 15));
      pieces.push([run, from, to]);
      from = to;
    }
    at += run.count;
  }
  return pieces;
}

describe('appending records already in the segment encoding', () => {
  it('writes the same segment bytes as appending the records one by one', async () => {
    for (let seed = 1; seed <= 12; seed++) {
      const records = mixedRecords(seed, 400);
      for (const opts of [
        { codec: 'none' as const, blockBytes: 700 + seed * 97 },
        { codec: 'zstd' as const, blockBytes: 4096 },
        { codec: 'lz4' as const },
      ]) {
        const expected = await encodeSegment(records, opts);
        const actual = await buildSegmentInMemory(opts, async (builder) => {
          for (const [run, from, to] of piecesOf(records, seed)) {
            const wait = builder.appendEncoded(run, from, to);
            if (wait) await wait;
          }
        });
        expect(actual.equals(expected), `seed ${seed}, ${JSON.stringify(opts)}`).toBe(true);
      }
      expectSameRecords(
        (await decodeSegment(await encodeSegment(records, { codec: 'none' }), 's')).records,
        records,
      );
    }
  });

  it('rejects a run whose first offset does not follow the last one appended', async () => {
    const [a, b] = [
      EncodedRecords.fromRecords(mixedRecords(1, 5)),
      EncodedRecords.fromRecords(mixedRecords(1, 3)),
    ];
    await expect(
      buildSegmentInMemory({ codec: 'none' }, async (builder) => {
        await builder.appendEncoded(a, 0, a.count);
        await builder.appendEncoded(b, 0, b.count);
      }),
    ).rejects.toThrow(/segment offsets must strictly increase/);
  });

  it('rolls segments after the record that reaches a limit, into the same files as one by one', async () => {
    const records = mixedRecords(7, 600);
    for (const limits of [
      { segmentMaxBytes: 20_000, segmentMaxRecords: 1_000_000 },
      { segmentMaxBytes: 1 << 30, segmentMaxRecords: 77 },
      { segmentMaxBytes: 9_000, segmentMaxRecords: 40 },
      { segmentMaxBytes: 1, segmentMaxRecords: 1_000_000 },
      // Exactly the size of the first 10 records: the segment ends with the record that reaches it.
      { segmentMaxBytes: encodeRecords(records.slice(0, 10)).length, segmentMaxRecords: 1_000_000 },
    ]) {
      const rolling: SegmentRolling = { codec: 'zstd', level: undefined, ...limits };
      const write = (feed: (sink: PartitionSegmentSink) => Promise<void>) =>
        withTempDir(async (dir) => {
          const durable: ManifestSegment[] = [];
          const sink = new PartitionSegmentSink(dir, rolling, () => (segment) => {
            durable.push(segment);
            return Promise.resolve();
          });
          await feed(sink);
          await sink.close();
          const names = (await readdir(dir)).sort();
          const files = await Promise.all(names.map((name) => readFile(join(dir, name))));
          return { durable, names, files };
        });
      // The reference: one record at a time through SegmentWriter, finishing a segment after the record
      // with which it reaches either limit.
      const expected = await withTempDir(async (dir) => {
        const durable: ManifestSegment[] = [];
        let writer: SegmentWriter | undefined;
        const finish = async (open: SegmentWriter): Promise<void> => {
          const { codec: _codec, ...segment } = await open.finish();
          durable.push(segment);
        };
        for (const record of records) {
          writer ??= await SegmentWriter.open(join(dir, segmentFileName(record.offset)), { codec: 'zstd' });
          await writer.append(record);
          if (writer.rawBytes >= limits.segmentMaxBytes || writer.recordCount >= limits.segmentMaxRecords) {
            await finish(writer);
            writer = undefined;
          }
        }
        if (writer) await finish(writer);
        const names = (await readdir(dir)).sort();
        const files = await Promise.all(names.map((name) => readFile(join(dir, name))));
        return { durable, names, files };
      });
      const actual = await write(async (sink) => {
        for (const [run, from, to] of piecesOf(records, 3)) await sink.appendEncoded(run, from, to);
      });
      expect(expected.names.length).toBeGreaterThan(limits.segmentMaxBytes === 1 ? 500 : 4);
      expect(actual.names).toEqual(expected.names);
      expect(actual.durable).toEqual(expected.durable);
      actual.files.forEach((file, i) => {
        expect(file.equals(expected.files[i] as Buffer)).toBe(true);
      });
    }
  });
});
