import {
  createRecordsBatch,
  NumericMap,
  readRecordsBatch,
  Reader,
  type MessageRecord,
} from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { encodeRecordBatch, type BatchRecord } from '../../../src/adapters/platformatic/batch-writer.js';
import { crc32c } from '../../../src/core/checksum.js';

const NOW = 1_700_000_000_000n;

function records(): BatchRecord[] {
  const headers: [Buffer, Buffer | null][] = [
    [Buffer.from('trace'), Buffer.from('abc')],
    [Buffer.from('trace'), Buffer.from('repeated key, kept in order')],
    [Buffer.from('nullable'), null],
    [Buffer.alloc(0), Buffer.alloc(0)],
  ];
  return [
    { key: Buffer.from('k1'), value: Buffer.from('first'), headers: [], timestamp: NOW },
    { key: Buffer.from('tombstone'), value: null, headers: [], timestamp: NOW + 5n },
    { key: Buffer.alloc(0), value: Buffer.alloc(0), headers: [], timestamp: NOW - 1_000n },
    { key: null, value: Buffer.alloc(300, 7), headers, timestamp: NOW + 2n ** 30n },
    { key: null, value: Buffer.from('no timestamp'), headers: [] },
  ];
}

/** The same record as the client library's encoder takes it (a Map keyed by distinct Buffers keeps repeats). */
const clientMessage = (r: BatchRecord): MessageRecord => ({
  topic: 't',
  partition: 0,
  key: r.key ?? undefined,
  value: r.value as Buffer,
  headers: new Map(r.headers) as Map<Buffer, Buffer>,
  timestamp: r.timestamp ?? NOW,
});

describe('encodeRecordBatch', () => {
  it('writes the same bytes as the client encoder for the same records and producer state', () => {
    const sequences = new NumericMap();
    sequences.set('t:0', 42);
    const ours = encodeRecordBatch(
      records(),
      { producerId: 7n, producerEpoch: 3, firstSequence: 42, transactional: false, partitionLeaderEpoch: 0 },
      NOW,
    );
    const theirs = createRecordsBatch(records().map(clientMessage), {
      producerId: 7n,
      producerEpoch: 3,
      sequences,
    }).buffer;
    expect(ours.equals(theirs)).toBe(true);
  });

  it('writes the same bytes into a reused, dirty buffer that the caller hands out', () => {
    const header = { producerId: 7n, producerEpoch: 3, firstSequence: 5, transactional: false };
    const fresh = encodeRecordBatch(records(), header, NOW);
    const dirty = Buffer.alloc(fresh.length + 100, 0xa5);
    const reused = encodeRecordBatch(records(), header, NOW, (bytes) => dirty.subarray(0, bytes));
    expect(reused.buffer).toBe(dirty.buffer);
    expect(reused.equals(fresh)).toBe(true);
  });

  it('round-trips every field through a v2 batch decoder, null distinct from empty', () => {
    const input = records();
    const bytes = encodeRecordBatch(
      input,
      { producerId: 9n, producerEpoch: 1, firstSequence: 0, transactional: true },
      NOW,
    );
    const batch = readRecordsBatch(Reader.from(bytes));
    expect(batch.magic).toBe(2);
    expect(batch.length).toBe(bytes.length - 12);
    expect(batch.partitionLeaderEpoch).toBe(-1);
    expect(batch.attributes).toBe(1 << 4);
    expect(batch.lastOffsetDelta).toBe(input.length - 1);
    expect(batch.producerId).toBe(9n);
    expect(batch.producerEpoch).toBe(1);
    expect(batch.firstSequence).toBe(0);
    expect(batch.firstTimestamp).toBe(NOW);
    expect(batch.maxTimestamp).toBe(NOW + 2n ** 30n);
    expect(batch.crc).toBe(crc32c(bytes.subarray(21)));
    expect(batch.records).toHaveLength(input.length);
    batch.records.forEach((record, i) => {
      const sent = input[i] as BatchRecord;
      expect(record.offsetDelta).toBe(i);
      expect(batch.firstTimestamp + record.timestampDelta).toBe(sent.timestamp ?? NOW);
      expect(record.key).toEqual(sent.key);
      expect(record.value).toEqual(sent.value);
      expect(record.headers).toEqual(sent.headers);
    });
    expect(batch.records[1]?.value).toBeNull();
    expect(batch.records[2]?.value).toEqual(Buffer.alloc(0));
    expect(batch.records[4]?.key).toBeNull();
  });

  it('encodes timestamp deltas beyond 2^53 and negative ones exactly', () => {
    const far = [
      { key: null, value: Buffer.from('a'), headers: [], timestamp: -(2n ** 60n) },
      { key: null, value: Buffer.from('b'), headers: [], timestamp: 2n ** 61n },
      { key: null, value: Buffer.from('c'), headers: [], timestamp: -(2n ** 60n) - 1n },
    ];
    const bytes = encodeRecordBatch(
      far,
      { producerId: -1n, producerEpoch: -1, firstSequence: -1, transactional: false },
      NOW,
    );
    const batch = readRecordsBatch(Reader.from(bytes));
    expect(batch.records.map((r) => batch.firstTimestamp + r.timestampDelta)).toEqual(
      far.map((r) => r.timestamp),
    );
    expect(batch.maxTimestamp).toBe(2n ** 61n);
  });
});
