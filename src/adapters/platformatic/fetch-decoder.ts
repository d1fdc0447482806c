import type { fetchV17 } from '@platformatic/kafka';
import { KbackupError } from '../../core/errors.js';
import type { BackupRecord } from '../../core/record.js';
import { EncodedRecords } from '../../core/segment/encoded-records.js';
import type { FetchRequest, FetchResult, FetchedBatches, SkippedRange } from '../../core/ports/kafka-port.js';
import * as batch from './batch-reader.js';

const CONTROL_TYPE_ABORT = 0;

export type FetchedPartition = Pick<
  fetchV17.FetchResponsePartition,
  'highWatermark' | 'lastStableOffset' | 'logStartOffset' | 'abortedTransactions'
>;

/**
 * How the records of one batch are handed out: decode() reads them (returning the next expected offset
 * delta, see batch.decodeRecords), take() gives what the caller receives, or undefined for none.
 */
interface RecordsDecoder<T> {
  decode(
    raw: Buffer,
    start: number,
    end: number,
    firstDelta: number,
    expectedDelta: number,
    onGap: (fromDelta: number, toDelta: number) => void,
  ): number;
  take(): T | undefined;
}

/** Each batch's records as BackupRecord objects. */
function recordObjects(): RecordsDecoder<BackupRecord[]> {
  let records: BackupRecord[] = [];
  return {
    decode(raw, start, end, firstDelta, expectedDelta, onGap) {
      records = [];
      return batch.decodeRecords(raw, start, end, firstDelta, expectedDelta, onGap, records);
    },
    take: () => (records.length > 0 ? records : undefined),
  };
}

/** Each batch's records transcoded into `out`, refilled batch after batch. */
function encodedRecords(out: EncodedRecords): RecordsDecoder<EncodedRecords> {
  return {
    decode: (raw, start, end, firstDelta, expectedDelta, onGap) =>
      batch.transcodeRecords(raw, start, end, firstDelta, expectedDelta, onGap, out),
    take: () => (out.count > 0 ? out : undefined),
  };
}

/**
 * Decodes the raw record batches of one fetched partition (see raw-fetch.ts) into BackupRecords, all at
 * once. Keys, values and headers are views into the fetched (or decompressed) buffer, never copies.
 */
export function decodeFetchedBatches(
  request: FetchRequest,
  partition: FetchedPartition,
  raw: Buffer | null | undefined,
): FetchResult {
  const { batches, result } = streamBatches(request, partition, raw, recordObjects());
  const records: BackupRecord[] = [];
  for (const group of batches) for (const record of group) records.push(record);
  const { batches: _none, endOffset: _end, ...rest } = result;
  return { ...rest, records };
}

/**
 * Scratch runs kept for reuse: one grows to the largest batch it has held, and backup and migrate iterate
 * one fetch per partition at a time (backup plus its read-ahead).
 */
const spareScratch: EncodedRecords[] = [];
const MAX_SPARE_SCRATCH = 8;

/**
 * Transcodes the raw record batches of one fetched partition (see raw-fetch.ts) one batch at a time, as
 * the caller iterates `batches`, into the segment encoding (batch.transcodeRecords). Every batch is handed
 * out in the same EncodedRecords, refilled: a batch's records are valid until the iteration moves on.
 *
 * `skipped` and `nextOffset` of the result grow as the iteration goes: when a batch's records are yielded,
 * every range skipped up to the end of that batch is in `skipped`. A corrupt batch throws from the iteration.
 * `release` is called once the iteration ends, however it ends (`raw` is free from then on).
 */
export function streamFetchedBatches(
  request: FetchRequest,
  partition: FetchedPartition,
  raw: Buffer | null | undefined,
  release: () => void = () => undefined,
): FetchedBatches {
  const scratch = spareScratch.pop() ?? new EncodedRecords();
  const { batches, result } = streamBatches(request, partition, raw, encodedRecords(scratch));
  result.batches = releasing(batches, () => {
    if (spareScratch.length < MAX_SPARE_SCRATCH) spareScratch.push(scratch);
    release();
  });
  return result;
}

/**
 * The batches of one fetched partition, decoded lazily, dropping control batches and, under
 * read_committed, aborted transactional batches with the standard consumer algorithm: a transactional batch
 * of a producer listed in abortedTransactions (with firstOffset <= the batch's last offset) is aborted until
 * that producer's ABORT marker is seen. Offsets missing between or inside batches are reported as skipped
 * ranges. A trailing partial batch (the broker cuts the response at maxBytes) is left for the next fetch.
 */
function streamBatches<T>(
  request: FetchRequest,
  partition: FetchedPartition,
  raw: Buffer | null | undefined,
  decoder: RecordsDecoder<T>,
): { batches: Generator<T, void, undefined>; result: FetchedBatches } {
  const result: FetchedBatches = {
    batches: [],
    skipped: [],
    nextOffset: request.offset,
    highWatermark: partition.highWatermark,
    lastStableOffset: partition.lastStableOffset,
    logStartOffset: partition.logStartOffset,
    offsetOutOfRange: false,
    endOffset: offsetAfterWholeBatches(raw, request.offset),
  };
  return { batches: decodeBatches(request, partition, raw, result, decoder), result };
}

/**
 * Walks the batch headers only (no CRC, no records): one past the last offset of the last whole batch that
 * ends at or after `from`. decodeBatches advances nextOffset to the same place batch by batch; a batch it
 * would reject (corrupt, wrong format) throws there, so this value is only ever used as a hint.
 */
export function offsetAfterWholeBatches(raw: Buffer | null | undefined, from: bigint): bigint {
  let next = from;
  const end = raw?.length ?? 0;
  let start = 0;
  while (raw && end - start >= batch.RECORDS_OFFSET) {
    const batchEnd = start + batch.BATCH_LOG_OVERHEAD + raw.readInt32BE(start + batch.BATCH_LENGTH_OFFSET);
    if (batchEnd > end || batchEnd < start + batch.RECORDS_OFFSET) break;
    const lastOffset =
      raw.readBigInt64BE(start) + BigInt(raw.readInt32BE(start + batch.LAST_OFFSET_DELTA_OFFSET));
    if (lastOffset >= next) next = lastOffset + 1n;
    start = batchEnd;
  }
  return next;
}

function* releasing<T>(
  items: Generator<T, void, undefined>,
  release: () => void,
): Generator<T, void, undefined> {
  try {
    yield* items;
  } finally {
    release();
  }
}

function* decodeBatches<T>(
  request: FetchRequest,
  partition: FetchedPartition,
  raw: Buffer | null | undefined,
  result: FetchedBatches,
  decoder: RecordsDecoder<T>,
): Generator<T, void, undefined> {
  const skipped = result.skipped;
  const aborted = [...(partition.abortedTransactions ?? [])].sort((a, b) =>
    a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0,
  );
  const hadAbortedTransactions = aborted.length > 0;
  const abortedProducers = new Set<bigint>();
  let expected = request.offset;

  const skip = (from: bigint, to: bigint, reason: SkippedRange['reason']): void => {
    if (to < from) return;
    const last = skipped.at(-1);
    if (last?.reason === reason && last.to + 1n === from) last.to = to;
    else skipped.push({ from, to, reason });
  };

  const end = raw?.length ?? 0;
  let start = 0;
  while (raw && end - start >= batch.BATCH_LOG_OVERHEAD) {
    const batchEnd = start + batch.BATCH_LOG_OVERHEAD + raw.readInt32BE(start + batch.BATCH_LENGTH_OFFSET);
    if (batchEnd > end) break;
    const baseOffset = raw.readBigInt64BE(start);
    checkBatch(request, raw, start, batchEnd, baseOffset);
    const attributes = raw.readInt16BE(start + batch.ATTRIBUTES_OFFSET);
    const lastOffset = baseOffset + BigInt(raw.readInt32BE(start + batch.LAST_OFFSET_DELTA_OFFSET));
    const producerId = raw.readBigInt64BE(start + batch.PRODUCER_ID_OFFSET);
    const batchStart = start;
    start = batchEnd;
    if (lastOffset < request.offset) continue;
    if (baseOffset > expected) {
      // Compaction removed whole batches (the log cleaner also removes aborted transactional data).
      skip(expected, baseOffset - 1n, hadAbortedTransactions ? 'aborted-transaction' : 'missing');
      expected = baseOffset;
    }
    while (aborted.length > 0 && (aborted[0]?.firstOffset ?? 0n) <= lastOffset) {
      const next = aborted.shift();
      if (next) abortedProducers.add(next.producerId);
    }
    const firstWanted = baseOffset > request.offset ? baseOffset : request.offset;
    let records: T | undefined;
    try {
      if (attributes & batch.IS_CONTROL) {
        const type = batch.controlType(raw, batchStart, batchEnd);
        if (type === CONTROL_TYPE_ABORT) abortedProducers.delete(producerId);
        skip(firstWanted, lastOffset, 'transaction-control');
        expected = lastOffset + 1n;
        result.nextOffset = expected;
        continue;
      }
      if (
        request.isolation === 'read_committed' &&
        attributes & batch.IS_TRANSACTIONAL &&
        abortedProducers.has(producerId)
      ) {
        skip(firstWanted, lastOffset, 'aborted-transaction');
        expected = lastOffset + 1n;
        result.nextOffset = expected;
        continue;
      }
      // Offsets inside the batch are tracked as deltas (numbers): no BigInt per record comparison.
      const onGap = (fromDelta: number, toDelta: number): void => {
        skip(baseOffset + BigInt(fromDelta), baseOffset + BigInt(toDelta), 'missing');
      };
      const firstDelta = Number(request.offset - baseOffset);
      const expectedDelta = Number(expected - baseOffset);
      const nextDelta = decoder.decode(raw, batchStart, batchEnd, firstDelta, expectedDelta, onGap);
      records = decoder.take();
      expected = baseOffset + BigInt(nextDelta);
    } catch (error) {
      if (error instanceof batch.MalformedBatchError) throw corrupt(request, baseOffset, error.message);
      throw error;
    }
    // Compaction can remove the tail records of a batch while the batch keeps its last offset delta.
    if (lastOffset >= expected) {
      skip(expected, lastOffset, 'missing');
      expected = lastOffset + 1n;
    }
    result.nextOffset = expected;
    if (records !== undefined) yield records;
  }
}

/** Rejects other record formats and checks the batch CRC, as the Java consumer does (check.crcs=true). */
function checkBatch(
  request: FetchRequest,
  raw: Buffer,
  start: number,
  end: number,
  baseOffset: bigint,
): void {
  const magic = raw.readInt8(start + batch.MAGIC_OFFSET);
  if (magic !== 2) {
    throw new KbackupError(
      'KAFKA',
      `${where(request, baseOffset)} is in record format v${magic}; kbackup reads only v2 (magic 2) batches`,
      {
        hint: 'Message formats v0/v1 predate Kafka 0.11; rewrite the topic with a current client (or upgrade it) before backing it up.',
        details: { topic: request.topic, partition: request.partition, offset: baseOffset.toString(), magic },
      },
    );
  }
  if (end - start < batch.RECORDS_OFFSET) throw corrupt(request, baseOffset, 'batch shorter than its header');
  if (!batch.batchCrcMatches(raw, start, end)) {
    throw corrupt(request, baseOffset, 'CRC-32C mismatch');
  }
}

const where = (request: FetchRequest, baseOffset: bigint): string =>
  `the record batch of ${request.topic}-${request.partition} at offset ${baseOffset}`;

/**
 * A batch whose bytes do not check out. Not retriable: the broker serves what is in its log (it does not
 * check CRCs on fetch), so the same request returns the same bytes; like the Java consumer's
 * CorruptRecordException, the backup stops rather than store records it cannot trust.
 */
function corrupt(request: FetchRequest, baseOffset: bigint, reason: string): KbackupError {
  return new KbackupError('KAFKA', `${where(request, baseOffset)} is corrupt (${reason})`, {
    hint: "Inspect the partition's log on the leader (kafka-dump-log.sh --deep-iteration); if another replica is healthy, moving leadership to it lets the backup read the batch.",
    details: { topic: request.topic, partition: request.partition, offset: baseOffset.toString(), reason },
  });
}
