import { createRecordsBatch, type fetchV17, type MessageRecord } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { isRetriableKafkaError } from '../../../src/adapters/platformatic/errors.js';
import { decodeFetchedBatches } from '../../../src/adapters/platformatic/fetch-decoder.js';
import { KbackupError } from '../../../src/core/errors.js';
import type { FetchRequest } from '../../../src/core/ports/kafka-port.js';
import type { BackupRecord } from '../../../src/core/record.js';
import { encodeBatch, encodeBatches, fixCrc, type TestBatch, type TestRecord } from './raw-batches.js';

const partition: fetchV17.FetchResponsePartition = {
  partitionIndex: 0,
  errorCode: 0,
  highWatermark: 100n,
  lastStableOffset: 100n,
  logStartOffset: 0n,
  abortedTransactions: null,
  preferredReadReplica: -1,
};
const request = (offset = 0n): FetchRequest => ({
  topic: 'orders',
  partition: 3,
  offset,
  isolation: 'read_uncommitted',
  maxBytes: 1 << 20,
});
const decode = (raw: Buffer, offset = 0n) => decodeFetchedBatches(request(offset), partition, raw);
const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
const EMPTY = Buffer.alloc(0);

/** Records covering every shape a field can take. */
const RICH: TestRecord[] = [
  { offsetDelta: 0, key: null, value: null },
  { offsetDelta: 1, key: EMPTY, value: EMPTY, timestampDelta: -5n },
  {
    offsetDelta: 2,
    key: Buffer.from('key'),
    value: Buffer.alloc(100_000, 7),
    headers: [
      [Buffer.from('h'), null],
      [Buffer.from('h'), EMPTY],
      [null, Buffer.from('x')],
      [Buffer.from('trace'), Buffer.from('abc')],
    ],
  },
  { offsetDelta: 3, key: Buffer.from('k'), value: null, timestampDelta: 300n },
];

/** What decoding RICH at base offset 10 with firstTimestamp 1000 must give, field by field. */
function expectRich(records: BackupRecord[]): void {
  expect(records).toHaveLength(4);
  expect(records.map((r) => [r.offset, r.timestamp, r.timestampType])).toEqual([
    [10n, 1_000n, 0],
    [11n, 995n, 0],
    [12n, 1_020n, 0],
    [13n, 1_300n, 0],
  ]);
  const [r0, r1, r2, r3] = records;
  expect(r0?.key).toBeNull();
  expect(r0?.value).toBeNull();
  expect(r0?.headers).toEqual([]);
  expect(r1?.key).toEqual(EMPTY);
  expect(r1?.value).toEqual(EMPTY);
  expect(r2?.key).toEqual(Buffer.from('key'));
  expect(r2?.value).toEqual(Buffer.alloc(100_000, 7));
  expect(r2?.headers).toEqual([
    [Buffer.from('h'), null],
    [Buffer.from('h'), EMPTY],
    [EMPTY, Buffer.from('x')],
    [Buffer.from('trace'), Buffer.from('abc')],
  ]);
  expect(r3?.key).toEqual(Buffer.from('k'));
  expect(r3?.value).toBeNull();
}

function thrown(fn: () => unknown): KbackupError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(KbackupError);
    return error as KbackupError;
  }
  throw new Error('expected an error');
}

describe('decoding raw record batches', () => {
  it.each(CODECS)('decodes every field of a %s batch', (compression) => {
    const raw = encodeBatch({ baseOffset: 10n, records: RICH, compression });
    if (compression !== 'none') expect(raw.readInt16BE(21) & 7).not.toBe(0);
    expectRich(decode(raw).records);
  });

  it('returns keys, values and headers as views of the fetched buffer, not copies', () => {
    const raw = encodeBatch({ baseOffset: 10n, records: RICH });
    const r2 = decode(raw).records[2];
    expect(r2?.value?.buffer).toBe(raw.buffer);
    expect(r2?.key?.buffer).toBe(raw.buffer);
    expect(r2?.headers[0]?.[0].buffer).toBe(raw.buffer);
  });

  it.each(CODECS)('reads the bytes the client itself produces (%s, transactional)', (compression) => {
    const messages: MessageRecord[] = [
      { topic: 'orders', key: Buffer.from('a'), value: Buffer.from('one'), timestamp: 5_000n },
      {
        topic: 'orders',
        value: Buffer.from('two'),
        timestamp: 4_000n,
        headers: new Map([[Buffer.from('h1'), Buffer.from('v1')]]),
      },
      { topic: 'orders', key: Buffer.from('c'), value: Buffer.alloc(0), timestamp: 5_000n + 123_456n },
    ];
    const raw = createRecordsBatch(messages, {
      compression,
      producerId: 7n,
      producerEpoch: 1,
      transactionalId: 'tx',
    }).buffer;
    // (Timestamps stay close together: the client's appendVarInt64 mis-encodes deltas beyond 2^31.)
    raw.writeBigInt64BE(500n, 0); // the broker assigns the base offset; it is outside the CRC
    const result = decode(raw);
    expect(result.records.map((r) => [r.offset, r.timestamp, r.timestampType])).toEqual([
      [500n, 5_000n, 0],
      [501n, 4_000n, 0],
      [502n, 5_000n + 123_456n, 0],
    ]);
    expect(result.records.map((r) => [r.key, r.value, r.headers])).toEqual([
      [Buffer.from('a'), Buffer.from('one'), []],
      [null, Buffer.from('two'), [[Buffer.from('h1'), Buffer.from('v1')]]],
      [Buffer.from('c'), EMPTY, []],
    ]);
    expect(result.nextOffset).toBe(503n);
  });

  it('decodes timestamp deltas beyond 2^31, 2^48 and 2^53 exactly', () => {
    const deltas = [
      2n ** 31n + 1n,
      -(2n ** 40n),
      2n ** 48n - 1n,
      2n ** 48n,
      -(2n ** 48n) - 1n,
      2n ** 60n + 3n,
    ];
    deltas.push(-(2n ** 63n) + 1n);
    const records = deltas.map((timestampDelta, offsetDelta) => ({ offsetDelta, timestampDelta }));
    const raw = encodeBatch({ baseOffset: 0n, records, firstTimestamp: -1n });
    expect(decode(raw).records.map((r) => r.timestamp)).toEqual(deltas.map((d) => d - 1n));
  });

  it('computes offsets beyond 2^53 exactly', () => {
    const base = 2n ** 60n;
    const raw = encodeBatch({ baseOffset: base, records: [{ offsetDelta: 0 }, { offsetDelta: 5 }] });
    const result = decode(raw, base);
    expect(result.records.map((r) => r.offset)).toEqual([base, base + 5n]);
    expect(result.skipped).toEqual([{ from: base + 1n, to: base + 4n, reason: 'missing' }]);
    expect(result.nextOffset).toBe(base + 6n);
  });

  it('computes offsets exactly in a batch that starts below 2^53 and ends above it', () => {
    const base = 2n ** 53n - 2n;
    const raw = encodeBatch({
      baseOffset: base,
      records: [0, 1, 2, 3, 4].map((offsetDelta) => ({ offsetDelta })),
    });
    expect(decode(raw, base).records.map((r) => r.offset - base)).toEqual([0n, 1n, 2n, 3n, 4n]);
  });

  it('leaves a trailing partial batch (cut at maxBytes) for the next fetch', () => {
    const first: TestBatch = { baseOffset: 0n, records: [{ offsetDelta: 0 }, { offsetDelta: 1 }] };
    const raw = encodeBatches([first, { baseOffset: 2n, records: RICH }]);
    const firstLength = encodeBatch(first).length;
    for (const cut of [1, 8, 11, 12, 40, 61, 100, raw.length - firstLength - 1]) {
      const result = decode(raw.subarray(0, firstLength + cut));
      expect(result.records.map((r) => r.offset)).toEqual([0n, 1n]);
      expect(result.nextOffset).toBe(2n);
      expect(result.skipped).toEqual([]);
    }
    expect(decode(raw.subarray(0, firstLength - 1)).records).toEqual([]);
  });

  it('reports a CRC mismatch as a non-retriable error naming the partition and batch offset', () => {
    const raw = encodeBatches([
      { baseOffset: 0n, records: [{ offsetDelta: 0 }] },
      { baseOffset: 1n, records: RICH },
    ]);
    const corrupted = Buffer.from(raw);
    const valueAt = corrupted.lastIndexOf(Buffer.from('trace'));
    corrupted[valueAt] = 0x54;
    const error = thrown(() => decode(corrupted));
    expect(error.message).toContain('orders-3');
    expect(error.message).toContain('offset 1');
    expect(error.message).toContain('CRC-32C mismatch');
    expect(error.code).toBe('KAFKA');
    expect(error.canRetry).toBe(false);
    expect(isRetriableKafkaError(error)).toBe(false);
    expect(error.details).toMatchObject({ topic: 'orders', partition: 3, offset: '1' });
  });

  it('rejects a batch whose records do not match its header, even with a valid CRC', () => {
    const raw = encodeBatch({ baseOffset: 4n, records: [{ offsetDelta: 0 }, { offsetDelta: 1 }] });
    raw.writeInt32BE(3, 57); // record count
    fixCrc(raw);
    expect(thrown(() => decode(raw)).message).toMatch(/orders-3 at offset 4 is corrupt \(record 2/);
  });

  it('rejects compressed bytes that do not decompress', () => {
    const raw = encodeBatch({ baseOffset: 0n, records: RICH, compression: 'zstd' });
    raw.fill(0xaa, 61, 70);
    fixCrc(raw);
    expect(thrown(() => decode(raw)).message).toContain('cannot decompress');
  });

  it('rejects record formats other than v2', () => {
    const raw = encodeBatch({ baseOffset: 9n, records: [{ offsetDelta: 0 }], magic: 1 });
    const error = thrown(() => decode(raw));
    expect(error.message).toContain('record format v1');
    expect(error.message).toContain('orders-3 at offset 9');
    expect(error.canRetry).toBe(false);
  });
});
