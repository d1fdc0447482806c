import { KbackupError } from '../../core/errors.js';
import { OffsetMapBuilder, type OffsetRun } from '../../core/offset-map.js';
import type { KafkaPort, ProduceBatch, ProduceRecord } from '../../core/ports/kafka-port.js';
import type { BackupRecord } from '../../core/record.js';
import {
  recordInWindow,
  windowIsEmpty,
  type PartitionRestorePlan,
  type RestoreWindow,
} from '../../core/restore-plan.js';
import { decodeRecordSlice } from '../../core/segment/record-codec.js';
import { offsetAt, RecordCursor, sliceOffsets, type RecordSlice } from '../../core/segment/record-slices.js';
import { readVerifiedBlocks } from '../../core/segment/segment-reader.js';
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
  // Counts as numbers (exact to 2^53 records): a BigInt increment allocates, once per record.
  let selected = 0;
  const alreadyWritten = Number(resume.alreadyWritten);
  let targetEndOffset = resume.targetStartOffset + resume.alreadyWritten;
  let batch = new PendingBatch();

  const flush = async (): Promise<void> => {
    if (batch.count === 0) return;
    const sending = batch;
    batch = new PendingBatch();
    const ack = await kafka.produce(plan.targetTopic, plan.partition, sending.records());
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
    sending.mapInto(map, ack.baseOffset);
    targetEndOffset = ack.baseOffset + BigInt(sending.count);
    produced += sending.count;
    observer.progress?.({
      label,
      records: sending.count,
      bytes: sending.payloadBytes,
      advanced: sending.count,
      position: resume.alreadyWritten + BigInt(produced),
      end: BigInt(plan.records),
    });
  };

  const provenance = (r: BackupRecord): ProduceRecord['headers'] => [
    ...r.headers,
    [Buffer.from('kbackup.source.topic'), Buffer.from(plan.sourceTopic)],
    [Buffer.from('kbackup.source.partition'), Buffer.from(String(plan.partition))],
    [Buffer.from('kbackup.source.offset'), Buffer.from(r.offset.toString())],
  ];
  const { window } = options;
  // Without a window a record's offset and timestamp are not even read (each read is a BigInt).
  const windowed = !windowIsEmpty(window);

  for (const segment of plan.segments) {
    const path = repo.segmentPath(segment.backupId, plan.sourceTopic, plan.partition, segment.file);
    // Verified blocks read in place: records go to the producer as runs of the block's bytes (see
    // record-slices.ts), with no object per record unless provenance headers are added.
    for await (const block of readVerifiedBlocks(path)) {
      if (options.signal?.aborted) throw new KbackupError('INTERRUPTED', 'restore interrupted');
      const cursor = new RecordCursor(block.raw, block.recordCount);
      while (cursor.next()) {
        if (windowed && !recordInWindow(cursor.offset, cursor.timestamp, window)) continue;
        if (selected < alreadyWritten) {
          // Written by an earlier run of this restore: keep its place in the offset map, do not resend.
          map.add(cursor.offset, resume.targetStartOffset + BigInt(selected));
          selected++;
          continue;
        }
        selected++;
        const size = cursor.payloadBytes + RECORD_OVERHEAD;
        if (
          batch.count > 0 &&
          (batch.payloadBytes + batch.count * RECORD_OVERHEAD + size > options.batchMaxBytes ||
            batch.count >= MAX_BATCH_RECORDS)
        ) {
          await flush();
        }
        if (options.provenanceHeaders) {
          const { records } = decodeRecordSlice(block.raw, cursor.start, 1, block.recordCount);
          const record = records[0] as BackupRecord;
          batch.addRecord(
            {
              key: record.key,
              value: record.value,
              headers: provenance(record),
              timestamp: record.timestamp,
            },
            record.offset,
            cursor.payloadBytes,
          );
        } else {
          batch.addEncoded(block.raw, cursor.start, cursor.end, cursor.payloadBytes);
        }
        payloadBytes += cursor.payloadBytes;
      }
    }
  }
  await flush();
  if (selected < alreadyWritten) {
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
    totalRecords: selected,
    payloadBytes,
    runs: map.runs,
    targetEndOffset,
  };
}

/**
 * The records of the next produce request and the source offsets they come from: either runs of verified
 * raw blocks, passed on as they are (the usual case), or records with provenance headers added.
 */
class PendingBatch {
  count = 0;
  payloadBytes = 0;
  readonly #slices: RecordSlice[] = [];
  readonly #records: ProduceRecord[] = [];
  readonly #sources: bigint[] = [];

  /** Adds the record at [start, end) of `bytes`; it extends the last run when it directly follows it. */
  addEncoded(bytes: Buffer, start: number, end: number, payloadBytes: number): void {
    const last = this.#slices.at(-1);
    if (last?.bytes === bytes && last.end === start) {
      last.end = end;
      last.count++;
      last.lastStart = start;
    } else {
      this.#slices.push({ bytes, start, end, count: 1, lastStart: start });
    }
    this.count++;
    this.payloadBytes += payloadBytes;
  }

  addRecord(record: ProduceRecord, source: bigint, payloadBytes: number): void {
    this.#records.push(record);
    this.#sources.push(source);
    this.count++;
    this.payloadBytes += payloadBytes;
  }

  records(): ProduceBatch {
    return this.#records.length > 0 ? this.#records : { slices: this.#slices, count: this.count };
  }

  /** Maps the batch's source offsets onto target offsets from `targetBase`, in order. */
  mapInto(map: OffsetMapBuilder, targetBase: bigint): void {
    if (this.#records.length > 0) {
      map.addBatch(this.#sources, targetBase);
      return;
    }
    let target = targetBase;
    for (const slice of this.#slices) {
      // A run's offsets strictly increase (the block was verified): first and last tell whether it has gaps.
      const first = offsetAt(slice.bytes, slice.start);
      const length = BigInt(slice.count);
      if (offsetAt(slice.bytes, slice.lastStart) - first === length - 1n) map.addRun(first, target, length);
      else map.addBatch(sliceOffsets(slice), target);
      target += length;
    }
  }
}
