import { describe, expect, it } from 'vitest';
import type { BackupPlan, PartitionProgress, PlannedPartition } from '../../../src/core/manifest/plan.js';
import type {
  FetchedBatches,
  FetchRequest,
  KafkaPort,
  SkippedRange,
} from '../../../src/core/ports/kafka-port.js';
import type { BackupRecord } from '../../../src/core/record.js';
import { EncodedRecords } from '../../../src/core/segment/encoded-records.js';
import { backupPartition, emptyProgress } from '../../../src/engine/backup/partition.js';
import type { RunObserver } from '../../../src/engine/observer.js';
import { Repository } from '../../../src/storage/repository.js';
import { sampleRecords, withTempDir } from '../segment/helpers.js';

const TOPIC = 'orders';
const BATCH_RECORDS = 13;

/**
 * A partition log for the engine to read: records with a hole every 50 offsets, reported as a skipped
 * transaction marker, served 4 batches per fetch. Only what backupPartition calls is implemented.
 */
function fakeLog(count: number): { records: BackupRecord[]; skipped: SkippedRange[]; kafka: KafkaPort } {
  const records: BackupRecord[] = [];
  const skipped: SkippedRange[] = [];
  let offset = 0n;
  for (const record of sampleRecords(count, 9)) {
    if (records.length % 50 === 49) {
      skipped.push({ from: offset, to: offset, reason: 'transaction-control' });
      offset++;
    }
    records.push({ ...record, offset });
    offset++;
  }
  const end = offset;
  const fetchBatches = (request: FetchRequest): Promise<FetchedBatches> => {
    const first = records.findIndex((r) => r.offset >= request.offset);
    const taken = first < 0 ? [] : records.slice(first, first + 4 * BATCH_RECORDS);
    const nextOffset = taken.length === 0 ? end : (taken.at(-1) as BackupRecord).offset + 1n;
    const batches: EncodedRecords[] = [];
    for (let i = 0; i < taken.length; i += BATCH_RECORDS) {
      batches.push(EncodedRecords.fromRecords(taken.slice(i, i + BATCH_RECORDS)));
    }
    return Promise.resolve({
      batches,
      skipped: skipped.filter((s) => s.from >= request.offset && s.from < nextOffset),
      nextOffset,
      endOffset: nextOffset,
      highWatermark: end,
      lastStableOffset: end,
      logStartOffset: 0n,
      offsetOutOfRange: false,
    });
  };
  return { records, skipped, kafka: { fetchBatches } as unknown as KafkaPort };
}

const observer: RunObserver = { warn: () => undefined, warnings: () => [] };

describe('backupPartition', () => {
  it('saves with every durable segment the totals of exactly the records up to its end', async () => {
    await withTempDir(async (root) => {
      const { records, kafka } = fakeLog(1_000);
      const cutOffset = (records.at(-1) as BackupRecord).offset + 1n;
      const planned: PlannedPartition = {
        topic: TOPIC,
        partition: 0,
        logStartOffset: 0n,
        highWatermark: cutOffset,
        lastStableOffset: cutOffset,
        startOffset: 0n,
        cutOffset,
        initialGaps: [],
        compacted: false,
      };
      const plan = {
        backupId: 'b1',
        options: {
          codec: 'none',
          compressionLevel: null,
          isolation: 'read_committed',
          segmentMaxBytes: 1 << 30,
          segmentMaxRecords: 70,
        },
      } as unknown as BackupPlan;
      const repo = await Repository.open(root, { create: true });
      const saved: PartitionProgress[] = [];
      const writeProgress = repo.writeProgress.bind(repo);
      repo.writeProgress = async (id, topic, partition, progress) => {
        saved.push(structuredClone(progress));
        await writeProgress(id, topic, partition, progress);
      };

      const final = await backupPartition(
        kafka,
        repo,
        plan,
        planned,
        emptyProgress(0n),
        { fetchMaxBytes: 1 << 20 },
        observer,
      );

      const all = EncodedRecords.fromRecords(records);
      const checkpoints = saved.filter((p) => !p.done);
      expect(checkpoints.length).toBe(Math.ceil(records.length / 70));
      checkpoints.forEach((progress, i) => {
        const last = progress.segments.at(-1);
        expect(progress.segments.length).toBe(i + 1);
        const count = progress.segments.reduce((sum, s) => sum + s.recordCount, 0);
        expect(progress.recordCount, `checkpoint ${i}`).toBe(count);
        expect(progress.lastOffset).toBe(last?.lastOffset);
        expect(progress.nextOffset).toBe((last?.lastOffset ?? -1n) + 1n);
        expect(progress.payloadBytes).toBe(all.payloadBytes(0, count));
        const upTo = records.slice(0, count).map((r) => r.timestamp);
        expect(progress.minTimestamp).toBe(upTo.reduce((a, b) => (b < a ? b : a)));
        expect(progress.maxTimestamp).toBe(upTo.reduce((a, b) => (b > a ? b : a)));
        // Gaps below the saved position only, and all of those.
        expect(progress.gaps.every((g) => g.to < progress.nextOffset)).toBe(true);
        expect(progress.gaps.reduce((n, g) => n + Number(g.to - g.from + 1n), 0)).toBe(
          Number(progress.nextOffset) - count,
        );
      });
      expect(final).toMatchObject({ done: true, recordCount: records.length, nextOffset: cutOffset });
      expect(saved.at(-1)).toEqual(final);
    });
  });
});
