import type { fetchV17 } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import {
  decodeFetchedBatches,
  streamFetchedBatches,
} from '../../../src/adapters/platformatic/fetch-decoder.js';
import type {
  FetchRequest,
  FetchResult,
  IsolationLevel,
  SkippedRange,
} from '../../../src/core/ports/kafka-port.js';
import type { BackupRecord } from '../../../src/core/record.js';
import type { EncodedRecords } from '../../../src/core/segment/encoded-records.js';
import { decodeRecords } from '../../../src/core/segment/record-codec.js';
import { encodeBatches, type TestBatch, type TestRecord } from './raw-batches.js';

const LOG_APPEND_TIME = 1 << 3;
const TRANSACTIONAL = 1 << 4;
const CONTROL = 1 << 5;
const ABORT = 0;
const COMMIT = 1;

const record = (offsetDelta: number, over: Partial<TestRecord> = {}): TestRecord => ({
  offsetDelta,
  ...over,
});

/** A batch at baseOffset holding records at the given deltas; lastOffsetDelta defaults to the largest. */
const batch = (baseOffset: bigint, deltas: number[], over: Partial<TestBatch> = {}): TestBatch => ({
  baseOffset,
  records: deltas.map((d) => record(d)),
  ...over,
});

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** A transactional data batch of `count` records. */
const txn = (baseOffset: bigint, count: number, producerId: bigint): TestBatch =>
  batch(baseOffset, range(count), { attributes: TRANSACTIONAL, producerId, producerEpoch: 0 });

/** A control batch holding one transaction marker (key: int16 version 0, int16 type). */
function marker(offset: bigint, producerId: bigint, type: typeof ABORT | typeof COMMIT): TestBatch {
  const key = Buffer.alloc(4);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(type, 2);
  return batch(offset, [0], {
    attributes: TRANSACTIONAL | CONTROL,
    producerId,
    producerEpoch: 0,
    records: [record(0, { key, value: Buffer.from([0, 0, 0, 0, 0, 0]) })],
  });
}

/** The records of one streamed batch, decoded from a copy of the segment encoding it comes in. */
const decodeRun = (run: EncodedRecords): BackupRecord[] =>
  decodeRecords(Buffer.from(run.bytes.subarray(0, run.length)), run.count);

/** decodeFetchedBatches over the raw bytes of these batches, as a fetch response carries them. */
const decode = (
  request: FetchRequest,
  partition: fetchV17.FetchResponsePartition,
  batches: TestBatch[],
): FetchResult => decodeFetchedBatches(request, partition, encodeBatches(batches));

function partition(
  aborted: fetchV17.FetchResponsePartitionAbortedTransaction[] | null = null,
): fetchV17.FetchResponsePartition {
  return {
    partitionIndex: 0,
    errorCode: 0,
    highWatermark: 100n,
    lastStableOffset: 90n,
    logStartOffset: 3n,
    abortedTransactions: aborted,
    preferredReadReplica: -1,
  };
}

const request = (offset: bigint, isolation: IsolationLevel = 'read_committed'): FetchRequest => ({
  topic: 'orders',
  partition: 0,
  offset,
  isolation,
  maxBytes: 1 << 20,
});

const offsets = (result: FetchResult): bigint[] => result.records.map((r) => r.offset);
const gap = (from: bigint, to: bigint, reason: SkippedRange['reason']): SkippedRange => ({
  from,
  to,
  reason,
});

describe('decodeFetchedBatches', () => {
  it('decodes plain batches and passes the partition watermarks through', () => {
    const result = decode(request(0n), partition(), [batch(0n, range(3)), batch(3n, range(2))]);
    expect(offsets(result)).toEqual([0n, 1n, 2n, 3n, 4n]);
    expect(result.records[4]?.key).toEqual(Buffer.from('k1'));
    expect(result.skipped).toEqual([]);
    expect(result.nextOffset).toBe(5n);
    expect(result.highWatermark).toBe(100n);
    expect(result.lastStableOffset).toBe(90n);
    expect(result.logStartOffset).toBe(3n);
    expect(result.offsetOutOfRange).toBe(false);
  });

  it('returns nothing and keeps the requested offset for an empty response', () => {
    const result = decodeFetchedBatches(request(42n), partition(), null);
    expect(decodeFetchedBatches(request(42n), partition(), Buffer.alloc(0)).records).toEqual([]);
    expect(result.records).toEqual([]);
    expect(result.skipped).toEqual([]);
    expect(result.nextOffset).toBe(42n);
  });

  it('drops records before request.offset inside the first batch, and whole batches before it', () => {
    const result = decode(request(14n), partition(), [batch(5n, range(5)), batch(10n, range(10))]);
    expect(offsets(result)).toEqual([14n, 15n, 16n, 17n, 18n, 19n]);
    expect(result.skipped).toEqual([]);
    expect(result.nextOffset).toBe(20n);
  });

  it('skips control batches and reports them as transaction-control; a COMMIT does not drop data', () => {
    const batches = [txn(0n, 3, 7n), marker(3n, 7n, COMMIT), batch(4n, range(2))];
    for (const isolation of ['read_committed', 'read_uncommitted'] as const) {
      const result = decode(request(0n, isolation), partition(), batches);
      expect(offsets(result)).toEqual([0n, 1n, 2n, 4n, 5n]);
      expect(result.skipped).toEqual([gap(3n, 3n, 'transaction-control')]);
      expect(result.nextOffset).toBe(6n);
    }
  });

  it('drops an aborted transaction under read_committed when its ABORT marker is in the response', () => {
    const batches = [txn(0n, 3, 7n), marker(3n, 7n, ABORT), txn(4n, 2, 8n), marker(6n, 8n, COMMIT)];
    const result = decode(request(0n), partition([{ producerId: 7n, firstOffset: 0n }]), batches);
    expect(offsets(result)).toEqual([4n, 5n]);
    expect(result.skipped).toEqual([
      gap(0n, 2n, 'aborted-transaction'),
      gap(3n, 3n, 'transaction-control'),
      gap(6n, 6n, 'transaction-control'),
    ]);
    expect(result.nextOffset).toBe(7n);
  });

  it('drops an aborted transaction whose ABORT marker is not in this response', () => {
    const batches = [txn(10n, 3, 7n), batch(13n, range(2), { producerId: 9n }), txn(15n, 2, 7n)];
    const result = decode(request(10n), partition([{ producerId: 7n, firstOffset: 10n }]), batches);
    expect(offsets(result)).toEqual([13n, 14n]);
    expect(result.skipped).toEqual([
      gap(10n, 12n, 'aborted-transaction'),
      gap(15n, 16n, 'aborted-transaction'),
    ]);
    expect(result.nextOffset).toBe(17n);
  });

  it('keeps the same batches under read_uncommitted', () => {
    const batches = [txn(10n, 3, 7n), marker(13n, 7n, ABORT)];
    const result = decode(
      request(10n, 'read_uncommitted'),
      partition([{ producerId: 7n, firstOffset: 10n }]),
      batches,
    );
    expect(offsets(result)).toEqual([10n, 11n, 12n]);
    expect(result.skipped).toEqual([gap(13n, 13n, 'transaction-control')]);
    expect(result.nextOffset).toBe(14n);
  });

  it('only aborts a producer from the first offset of its aborted transaction', () => {
    // Producer 7 commits 0-1, then aborts 3-4; the response lists only the aborted one (from offset 3).
    const batches = [txn(0n, 2, 7n), marker(2n, 7n, COMMIT), txn(3n, 2, 7n), marker(5n, 7n, ABORT)];
    const result = decode(request(0n), partition([{ producerId: 7n, firstOffset: 3n }]), batches);
    expect(offsets(result)).toEqual([0n, 1n]);
    expect(result.skipped).toEqual([
      gap(2n, 2n, 'transaction-control'),
      gap(3n, 4n, 'aborted-transaction'),
      gap(5n, 5n, 'transaction-control'),
    ]);
  });

  it('keeps a later transaction of the same producer after its ABORT marker', () => {
    const batches = [txn(0n, 2, 7n), marker(2n, 7n, ABORT), txn(3n, 2, 7n), marker(5n, 7n, COMMIT)];
    const result = decode(request(0n), partition([{ producerId: 7n, firstOffset: 0n }]), batches);
    expect(offsets(result)).toEqual([3n, 4n]);
    expect(result.skipped).toEqual([
      gap(0n, 1n, 'aborted-transaction'),
      gap(2n, 2n, 'transaction-control'),
      gap(5n, 5n, 'transaction-control'),
    ]);
    expect(result.nextOffset).toBe(6n);
  });

  it('does not drop non-transactional batches of a listed producer id, nor other producers', () => {
    const batches = [batch(0n, range(2), { producerId: 7n }), txn(2n, 2, 8n)];
    const result = decode(request(0n), partition([{ producerId: 7n, firstOffset: 0n }]), batches);
    expect(offsets(result)).toEqual([0n, 1n, 2n, 3n]);
    expect(result.skipped).toEqual([]);
  });

  it('reports only the part of an aborted batch at or after request.offset', () => {
    const result = decode(request(12n), partition([{ producerId: 7n, firstOffset: 10n }]), [txn(10n, 5, 7n)]);
    expect(result.records).toEqual([]);
    expect(result.skipped).toEqual([gap(12n, 14n, 'aborted-transaction')]);
    expect(result.nextOffset).toBe(15n);
  });

  it('reports offsets compacted out of a batch, including its tail, as missing', () => {
    const result = decode(request(0n), partition(), [batch(0n, [0, 3, 4, 8], { lastOffsetDelta: 9 })]);
    expect(offsets(result)).toEqual([0n, 3n, 4n, 8n]);
    expect(result.skipped).toEqual([gap(1n, 2n, 'missing'), gap(5n, 7n, 'missing'), gap(9n, 9n, 'missing')]);
    expect(result.nextOffset).toBe(10n);
  });

  it('reports offsets missing before and between batches as missing', () => {
    const result = decode(request(0n), partition(), [batch(3n, range(2)), batch(8n, range(1))]);
    expect(offsets(result)).toEqual([3n, 4n, 8n]);
    expect(result.skipped).toEqual([gap(0n, 2n, 'missing'), gap(5n, 7n, 'missing')]);
    expect(result.nextOffset).toBe(9n);
  });

  it('reports offsets between batches as aborted-transaction when the response listed aborted transactions', () => {
    // The client removed producer 5's aborted batch (offsets 2-4) together with its marker.
    const result = decode(request(0n), partition([{ producerId: 5n, firstOffset: 2n }]), [
      batch(0n, range(2)),
      batch(5n, range(2)),
    ]);
    expect(offsets(result)).toEqual([0n, 1n, 5n, 6n]);
    expect(result.skipped).toEqual([gap(2n, 4n, 'aborted-transaction')]);
  });

  it('gives every record of a LogAppendTime batch the batch maxTimestamp and timestampType 1', () => {
    const b = batch(0n, range(3), {
      attributes: LOG_APPEND_TIME,
      firstTimestamp: 1_000n,
      maxTimestamp: 9_999n,
    });
    const result = decode(request(0n), partition(), [b]);
    expect(result.records.map((r) => [r.timestamp, r.timestampType])).toEqual([
      [9_999n, 1],
      [9_999n, 1],
      [9_999n, 1],
    ]);
  });

  it('gives CreateTime records firstTimestamp + timestampDelta and timestampType 0', () => {
    const b = batch(0n, [], {
      firstTimestamp: 1_700_000_000_000n,
      maxTimestamp: 1_700_000_000_500n,
      records: [
        record(0, { timestampDelta: 0n }),
        record(1, { timestampDelta: 500n }),
        record(2, { timestampDelta: -20n }),
      ],
    });
    const result = decode(request(0n), partition(), [b]);
    expect(result.records.map((r) => [r.timestamp, r.timestampType])).toEqual([
      [1_700_000_000_000n, 0],
      [1_700_000_000_500n, 0],
      [1_699_999_999_980n, 0],
    ]);
  });

  it('preserves null versus empty keys, values and header values', () => {
    const empty = Buffer.alloc(0);
    const b = batch(0n, [], {
      records: [
        record(0, { key: null, value: null }),
        record(1, { key: empty, value: empty }),
        record(2, {
          headers: [
            [Buffer.from('h'), null],
            [Buffer.from('h'), empty],
            [null, Buffer.from('x')],
          ],
        }),
      ],
    });
    const [r0, r1, r2] = decode(request(0n), partition(), [b]).records;
    expect(r0?.key).toBeNull();
    expect(r0?.value).toBeNull();
    expect(r1?.key).toEqual(empty);
    expect(r1?.value).toEqual(empty);
    expect(r1?.key).not.toBeNull();
    expect(r1?.value).not.toBeNull();
    expect(r0?.headers).toEqual([]);
    expect(r2?.headers).toEqual([
      [Buffer.from('h'), null],
      [Buffer.from('h'), empty],
      [empty, Buffer.from('x')],
    ]);
  });
});

describe('streamFetchedBatches', () => {
  const batches = [
    batch(0n, range(3)),
    marker(3n, 7n, COMMIT),
    batch(6n, [0, 2], { lastOffsetDelta: 4 }),
    batch(12n, range(2)),
  ];

  it('yields the records of each data batch in turn, the same records decodeFetchedBatches returns', () => {
    const eager = decode(request(1n), partition(), batches);
    const streamed = streamFetchedBatches(request(1n), partition(), encodeBatches(batches));
    const groups = Array.from(streamed.batches, decodeRun);
    expect(groups.map((g) => g.map((r) => r.offset))).toEqual([
      [1n, 2n],
      [6n, 8n],
      [12n, 13n],
    ]);
    expect(groups.flat()).toEqual(eager.records);
    expect(streamed.skipped).toEqual(eager.skipped);
    expect(streamed.nextOffset).toBe(14n);
    expect(streamed.highWatermark).toBe(100n);
  });

  it('has every skipped range up to the end of a batch, and only those, when that batch is yielded', () => {
    const streamed = streamFetchedBatches(request(0n), partition(), encodeBatches(batches));
    const seen: { skipped: SkippedRange[]; nextOffset: bigint }[] = [];
    for (const _group of streamed.batches) {
      seen.push({ skipped: streamed.skipped.map((s) => ({ ...s })), nextOffset: streamed.nextOffset });
    }
    expect(seen).toEqual([
      { skipped: [], nextOffset: 3n },
      {
        skipped: [
          gap(3n, 3n, 'transaction-control'),
          gap(4n, 5n, 'missing'),
          gap(7n, 7n, 'missing'),
          gap(9n, 10n, 'missing'),
        ],
        nextOffset: 11n,
      },
      {
        skipped: [
          gap(3n, 3n, 'transaction-control'),
          gap(4n, 5n, 'missing'),
          gap(7n, 7n, 'missing'),
          gap(9n, 11n, 'missing'),
        ],
        nextOffset: 14n,
      },
    ]);
  });

  it('knows before the iteration the endOffset that nextOffset reaches after it', () => {
    const whole = encodeBatches(batches);
    // A response cut inside its last batch, one whose batches all end below the request, and none at all.
    const cut = whole.subarray(0, whole.length - 5);
    const cases: [FetchRequest, Buffer | null, bigint][] = [
      [request(1n), whole, 14n],
      [request(0n, 'read_uncommitted'), whole, 14n],
      [request(7n), whole, 14n],
      [request(1n), cut, 11n],
      [request(20n), whole, 20n],
      [request(5n), null, 5n],
      [request(5n), Buffer.alloc(0), 5n],
    ];
    for (const [req, raw, expected] of cases) {
      const streamed = streamFetchedBatches(req, partition(), raw);
      expect(streamed.endOffset).toBe(expected);
      Array.from(streamed.batches);
      expect(streamed.nextOffset).toBe(expected);
    }
  });

  it('stops its header walk at a length that cannot be a batch, leaving the error to the iteration', () => {
    const raw = encodeBatches([batch(0n, range(2)), batch(2n, range(2))]);
    const second = raw.readInt32BE(8) + 12;
    raw.writeInt32BE(-1, second + 8); // the second batch's length field
    const streamed = streamFetchedBatches(request(0n), partition(), raw);
    expect(streamed.endOffset).toBe(2n);
    expect(() => [...streamed.batches]).toThrow(/orders-0 at offset 2 is corrupt/);
  });

  it('decodes lazily: the batches before a corrupt one are yielded, then the iteration throws', () => {
    const raw = encodeBatches([batch(0n, range(2)), batch(2n, range(2))]);
    raw.writeUInt8(raw.readUInt8(raw.length - 1) ^ 0xff, raw.length - 1); // the second batch's last byte
    const streamed = streamFetchedBatches(request(0n), partition(), raw);
    const iterator = streamed.batches[Symbol.iterator]();
    const first = iterator.next();
    expect(first.done).toBe(false);
    expect(decodeRun(first.value as EncodedRecords).map((r) => r.offset)).toEqual([0n, 1n]);
    expect(() => iterator.next()).toThrow(/orders-0 at offset 2 is corrupt \(CRC-32C mismatch\)/);
  });

  it('releases the fetched bytes once the iteration ends, is left with break, or throws', () => {
    const releases: string[] = [];
    const stream = (raw: Buffer, what: string): Iterable<EncodedRecords> =>
      streamFetchedBatches(request(0n), partition(), raw, () => releases.push(what)).batches;

    const whole = stream(encodeBatches(batches), 'end');
    const whileIterating: number[] = [];
    for (const _group of whole) whileIterating.push(releases.length);
    expect(whileIterating).toEqual([0, 0, 0]); // not while a batch's records are in use
    expect(releases).toEqual(['end']);

    for (const _group of stream(encodeBatches(batches), 'break')) break;
    expect(releases).toEqual(['end', 'break']);

    const corrupt = encodeBatches([batch(0n, range(2)), batch(2n, range(2))]);
    corrupt.writeUInt8(corrupt.readUInt8(corrupt.length - 1) ^ 0xff, corrupt.length - 1);
    expect(() => [...stream(corrupt, 'throw')]).toThrow(/corrupt/);
    expect(releases).toEqual(['end', 'break', 'throw']);
  });
});
