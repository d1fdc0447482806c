import { access, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ManifestSegment } from '../../../src/core/manifest/schema.js';
import { EncodedRecords } from '../../../src/core/segment/encoded-records.js';
import {
  PartitionSegmentSink,
  segmentFileName,
  type SegmentCheckpoint,
  type SegmentRolling,
} from '../../../src/engine/segment-sink.js';
import { sampleRecords, withTempDir } from '../segment/helpers.js';

const ROLLING: SegmentRolling = {
  codec: 'none',
  level: undefined,
  segmentMaxBytes: 1 << 30,
  segmentMaxRecords: 50,
};

/** Appends records [from, to) of `run` the way the backup engine does: never past the open segment's end. */
async function appendAll(
  sink: PartitionSegmentSink,
  run: EncodedRecords,
  from: number,
  to: number,
  onTaken: (count: number) => void = () => undefined,
): Promise<void> {
  while (from < to) {
    const until = sink.segmentTakes(run, from, to);
    onTaken(until - from);
    const appending = sink.appendEncoded(run, from, until);
    if (appending) await appending;
    from = until;
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  );

describe('PartitionSegmentSink', () => {
  it('checkpoints every segment in order, once durable, with the count taken when it was sealed', async () => {
    await withTempDir(async (dir) => {
      const run = EncodedRecords.fromRecords(sampleRecords(230, 3, 1000n));
      let appended = 0;
      const checkpoints: { sealedAt: number; segment: ManifestSegment; final: boolean }[] = [];
      const sink = new PartitionSegmentSink(dir, ROLLING, () => {
        const sealedAt = appended;
        return async (segment) => {
          checkpoints.push({ sealedAt, segment, final: await exists(join(dir, segment.file)) });
        };
      });
      // Pieces of 7 records: segment ends fall inside them, as they do inside fetched batches.
      for (let from = 0; from < run.count; from += 7) {
        await appendAll(sink, run, from, Math.min(run.count, from + 7), (n) => (appended += n));
      }
      await sink.close();

      expect(checkpoints.map((c) => c.sealedAt)).toEqual([50, 100, 150, 200, 230]);
      expect(checkpoints.map((c) => c.segment.firstOffset)).toEqual([1000n, 1050n, 1100n, 1150n, 1200n]);
      expect(checkpoints.map((c) => c.segment.recordCount)).toEqual([50, 50, 50, 50, 30]);
      expect(checkpoints.every((c) => c.final)).toBe(true);
      expect(checkpoints.map((c) => c.segment.file)).toEqual(
        [1000n, 1050n, 1100n, 1150n, 1200n].map(segmentFileName),
      );
      expect(sink.segments).toEqual(checkpoints.map((c) => c.segment));
      expect((await readdir(dir)).sort()).toEqual(sink.segments.map((s) => s.file));
    });
  });

  it('fills the next segment while the sealed one finishes, and seals no other before it is checkpointed', async () => {
    await withTempDir(async (dir) => {
      const run = EncodedRecords.fromRecords(sampleRecords(100, 4, 0n));
      const events: string[] = [];
      const firstCheckpoint = deferred();
      const firstCheckpointBegan = deferred();
      let sealed = 0;
      const sink = new PartitionSegmentSink(dir, ROLLING, () => {
        const n = sealed++;
        return async () => {
          events.push(`checkpoint ${n} begins`);
          if (n === 0) {
            firstCheckpointBegan.resolve();
            await firstCheckpoint.promise;
          }
          events.push(`checkpoint ${n} ends`);
        };
      });
      await appendAll(sink, run, 0, 50);
      events.push('segment 0 sealed');
      // While segment 0 finishes and its checkpoint is held, the next segment still takes records: if
      // these appends waited for it, this test would never end.
      await appendAll(sink, run, 50, 80);
      events.push('30 records in segment 1');
      await firstCheckpointBegan.promise;
      const sealing = appendAll(sink, run, 80, 100).then(() => events.push('segment 1 sealed'));
      events.push('release checkpoint 0');
      firstCheckpoint.resolve();
      await sealing;
      await sink.close();

      // Segment 0's finish (fsync, rename) may end before or after the 30 records went in.
      expect(events.indexOf('checkpoint 0 begins')).toBeLessThan(events.indexOf('release checkpoint 0'));
      expect(events.filter((e) => e !== 'checkpoint 0 begins')).toEqual([
        'segment 0 sealed',
        '30 records in segment 1',
        'release checkpoint 0',
        'checkpoint 0 ends',
        'segment 1 sealed',
        'checkpoint 1 begins',
        'checkpoint 1 ends',
      ]);
    });
  });

  it('drops the open segment when close() finds that the sealed one could not be checkpointed', async () => {
    await withTempDir(async (dir) => {
      const run = EncodedRecords.fromRecords(sampleRecords(60, 6, 0n));
      let sealed = 0;
      const sink = new PartitionSegmentSink(dir, ROLLING, (): SegmentCheckpoint => {
        sealed++;
        return () => Promise.reject(new Error('no space left on device'));
      });
      await appendAll(sink, run, 0, 50);
      // Records in the next segment, then a stop (an interrupted backup closes its sink).
      await appendAll(sink, run, 50, 60);
      await expect(sink.close()).rejects.toThrow('no space left on device');
      expect(await readdir(dir)).toEqual([segmentFileName(0n)]);
      expect(sealed).toBe(1);
    });
  });

  it('fails the appends after a segment that could not be checkpointed, and abort leaves no temp file', async () => {
    await withTempDir(async (dir) => {
      const run = EncodedRecords.fromRecords(sampleRecords(150, 5, 0n));
      let sealed = 0;
      const sink = new PartitionSegmentSink(dir, ROLLING, (): SegmentCheckpoint => {
        const n = sealed++;
        return n === 0 ? () => Promise.reject(new Error('no space left on device')) : () => Promise.resolve();
      });
      await appendAll(sink, run, 0, 50);
      await expect(appendAll(sink, run, 50, 150)).rejects.toThrow('no space left on device');
      await expect(sink.close()).rejects.toThrow('no space left on device');
      await sink.abort();
      // Segment 0 was renamed into place before its checkpoint failed; nothing else remains.
      expect(await readdir(dir)).toEqual([segmentFileName(0n)]);
      expect(sealed).toBe(1);
    });
  });
});
