import { KbackupError } from '../../core/errors.js';
import { OffsetMapBuilder, type OffsetRun } from '../../core/offset-map.js';
import type { KafkaPort, ProduceRecord } from '../../core/ports/kafka-port.js';
import { recordPayloadBytes, type BackupRecord } from '../../core/record.js';
import { recordInWindow, type PartitionRestorePlan, type RestoreWindow } from '../../core/restore-plan.js';
import { readSegmentBlocks } from '../../core/segment/segment-reader.js';
import type { Repository } from '../../storage/repository.js';
import type { RunObserver } from '../observer.js';

export interface PartitionRestoreResult {
  sourceTopic: string;
  targetTopic: string;
  partition: number;
  /** Records this run produced (a resumed run does not count those an earlier run wrote). */
  records: number;
  /** Records in the target from this restore, in all runs. */
  totalRecords: number;
  payloadBytes: number;
  runs: OffsetRun[];
  targetEndOffset: bigint;
}

export interface PartitionRestoreOptions {
  backupId: string;
  window: RestoreWindow;
  provenanceHeaders: boolean;
  batchMaxBytes: number;
  signal?: AbortSignal;
}

/** Bytes of per-record framing counted against a produce request besides the payload. */
const RECORD_OVERHEAD = 64;

/**
 * Records per produce request, whatever their size. A request's records keep their segment blocks alive
 * until the broker answers; with 100-byte records a batch bounded only by bytes (5,000+ records) set the
 * peak RSS when the client library still built objects per record: 420-460 MiB, against 330-350 MiB with
 * this cap, at the same speed. 1 KiB records (about 900 per batch) are not affected.
 */
const MAX_BATCH_RECORDS = 1000;

/**
 * Replays one partition's segments in offset order into the same partition number of the target. The
 * first `alreadyWritten` selected records are known to be in the target already (a resumed restore is the
 * only writer, from `targetStartOffset` on), so they are mapped but not produced again. Each segment block
 * is checksum-verified by the reader before any of its records is produced.
 */
export async function restorePartition(
  kafka: KafkaPort,
  repo: Repository,
  plan: PartitionRestorePlan,
  options: PartitionRestoreOptions,
  resume: { targetStartOffset: bigint; alreadyWritten: bigint },
  observer: RunObserver,
): Promise<PartitionRestoreResult> {
  const label = `${plan.sourceTopic}-${plan.partition}→${plan.targetTopic}`;
  const map = new OffsetMapBuilder();
  let produced = 0;
  let payloadBytes = 0;
  let selected = 0n;
  let targetEndOffset = resume.targetStartOffset + resume.alreadyWritten;
  let batch: ProduceRecord[] = [];
  let batchSources: bigint[] = [];
  let batchBytes = 0;

  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const ack = await kafka.produce(plan.targetTopic, plan.partition, batch);
    if (ack.baseOffset === undefined) {
      throw new KbackupError('KAFKA', `${label}: the broker did not report the offset of a produced batch`);
    }
    if (ack.baseOffset !== targetEndOffset) {
      // The offset map would be wrong from here on: restore must be the only writer into the partition.
      throw new KbackupError(
        'KAFKA',
        `${label}: a batch landed at target offset ${ack.baseOffset}, expected ${targetEndOffset}: something else writes into ${plan.targetTopic}-${plan.partition}`,
        { hint: 'Stop the other producer into the target topic, then run the same restore again to resume.' },
      );
    }
    map.addBatch(batchSources, ack.baseOffset);
    targetEndOffset = ack.baseOffset + BigInt(batch.length);
    produced += batch.length;
    observer.progress?.({
      label,
      records: batch.length,
      bytes: batchBytes - batch.length * RECORD_OVERHEAD,
      advanced: batch.length,
      position: resume.alreadyWritten + BigInt(produced),
      end: BigInt(plan.records),
    });
    batch = [];
    batchSources = [];
    batchBytes = 0;
  };

  const provenance = (r: BackupRecord): ProduceRecord['headers'] => [
    ...r.headers,
    [Buffer.from('kbackup.source.topic'), Buffer.from(plan.sourceTopic)],
    [Buffer.from('kbackup.source.partition'), Buffer.from(String(plan.partition))],
    [Buffer.from('kbackup.source.offset'), Buffer.from(r.offset.toString())],
  ];

  for (const segment of plan.segments) {
    const path = repo.segmentPath(segment.backupId, plan.sourceTopic, plan.partition, segment.file);
    for await (const block of readSegmentBlocks(path)) {
      if (options.signal?.aborted) throw new KbackupError('INTERRUPTED', 'restore interrupted');
      for (const record of block) {
        if (!recordInWindow(record.offset, record.timestamp, options.window)) continue;
        if (selected < resume.alreadyWritten) {
          // Written by an earlier run of this restore: keep its place in the offset map, do not resend.
          map.add(record.offset, resume.targetStartOffset + selected);
          selected++;
          continue;
        }
        selected++;
        const size = recordPayloadBytes(record) + RECORD_OVERHEAD;
        if (
          batch.length > 0 &&
          (batchBytes + size > options.batchMaxBytes || batch.length >= MAX_BATCH_RECORDS)
        ) {
          await flush();
        }
        // A BackupRecord is already a ProduceRecord: no copy per record unless headers are added.
        batch.push(
          options.provenanceHeaders
            ? {
                key: record.key,
                value: record.value,
                headers: provenance(record),
                timestamp: record.timestamp,
              }
            : record,
        );
        batchSources.push(record.offset);
        batchBytes += size;
        payloadBytes += size - RECORD_OVERHEAD;
      }
    }
  }
  await flush();
  if (selected < resume.alreadyWritten) {
    throw new KbackupError(
      'KAFKA',
      `${label}: the target holds ${resume.alreadyWritten} records from this restore, but the backup selects only ${selected}`,
      { hint: 'Something else wrote into the target partition. Restore into a new topic instead.' },
    );
  }
  return {
    sourceTopic: plan.sourceTopic,
    targetTopic: plan.targetTopic,
    partition: plan.partition,
    records: produced,
    totalRecords: Number(selected),
    payloadBytes,
    runs: map.runs,
    targetEndOffset,
  };
}
