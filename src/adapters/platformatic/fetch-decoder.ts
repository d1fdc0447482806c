import type { fetchV17, RecordsBatch } from '@platformatic/kafka';
import { CREATE_TIME, LOG_APPEND_TIME, type BackupRecord, type RecordHeader } from '../../core/record.js';
import type { FetchRequest, FetchResult, SkippedRange } from '../../core/ports/kafka-port.js';

const IS_TRANSACTIONAL = 1 << 4;
const IS_CONTROL = 1 << 5;
const TIMESTAMP_TYPE_BIT = 1 << 3;
const CONTROL_TYPE_ABORT = 0;
const EMPTY = Buffer.alloc(0);
/** Shared by every record without headers (most of them): frozen, since records are never mutated. */
const NO_HEADERS = Object.freeze([]) as unknown as RecordHeader[];

/**
 * Turns the record batches of one fetched partition into BackupRecords, dropping control batches and, under
 * read_committed, aborted transactional batches. The client filters aborted batches only when their abort
 * marker is in the same response, so the standard consumer algorithm is applied here as well: a batch of a
 * producer listed in abortedTransactions (with firstOffset <= the batch's last offset) is aborted until that
 * producer's ABORT marker is seen. Offsets missing between returned batches are reported as skipped ranges.
 */
export function decodeFetchedBatches(
  request: FetchRequest,
  partition: fetchV17.FetchResponsePartition,
  batches: RecordsBatch[],
): FetchResult {
  const records: BackupRecord[] = [];
  const skipped: SkippedRange[] = [];
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

  for (const batch of batches) {
    const lastOffset = batch.firstOffset + BigInt(batch.lastOffsetDelta);
    if (lastOffset < request.offset) continue;
    if (batch.firstOffset > expected) {
      // Batches the client removed (aborted) or that compaction removed entirely.
      skip(expected, batch.firstOffset - 1n, hadAbortedTransactions ? 'aborted-transaction' : 'missing');
      expected = batch.firstOffset;
    }
    while (aborted.length > 0 && (aborted[0]?.firstOffset ?? 0n) <= lastOffset) {
      const next = aborted.shift();
      if (next) abortedProducers.add(next.producerId);
    }
    const batchStart = batch.firstOffset > request.offset ? batch.firstOffset : request.offset;
    if (batch.attributes & IS_CONTROL) {
      const controlType = batch.records[0]?.key?.readInt16BE(2);
      if (controlType === CONTROL_TYPE_ABORT) abortedProducers.delete(batch.producerId);
      skip(batchStart, lastOffset, 'transaction-control');
      expected = lastOffset + 1n;
      continue;
    }
    if (
      request.isolation === 'read_committed' &&
      batch.attributes & IS_TRANSACTIONAL &&
      abortedProducers.has(batch.producerId)
    ) {
      skip(batchStart, lastOffset, 'aborted-transaction');
      expected = lastOffset + 1n;
      continue;
    }
    const logAppendTime = (batch.attributes & TIMESTAMP_TYPE_BIT) !== 0;
    for (const record of batch.records) {
      const offset = batch.firstOffset + BigInt(record.offsetDelta);
      if (offset < request.offset) continue;
      if (offset > expected) skip(expected, offset - 1n, 'missing');
      records.push({
        offset,
        timestamp: logAppendTime ? batch.maxTimestamp : batch.firstTimestamp + record.timestampDelta,
        timestampType: logAppendTime ? LOG_APPEND_TIME : CREATE_TIME,
        key: record.key,
        value: record.value,
        headers: record.headers.length === 0 ? NO_HEADERS : record.headers.map(([k, v]) => [k ?? EMPTY, v]),
      });
      expected = offset + 1n;
    }
    // Compaction can remove the tail records of a batch while the batch keeps its last offset delta.
    if (lastOffset >= expected) {
      skip(expected, lastOffset, 'missing');
      expected = lastOffset + 1n;
    }
  }
  return {
    records,
    skipped,
    nextOffset: expected,
    highWatermark: partition.highWatermark,
    lastStableOffset: partition.lastStableOffset,
    logStartOffset: partition.logStartOffset,
    offsetOutOfRange: false,
  };
}
