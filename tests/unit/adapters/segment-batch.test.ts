import { describe, expect, it } from 'vitest';
import {
  encodeRecordBatch,
  encodeSegmentRecordsBatch,
  type BatchHeader,
} from '../../../src/adapters/platformatic/batch-writer.js';
import type { BackupRecord, RecordHeader } from '../../../src/core/record.js';
import { encodeRecords } from '../../../src/core/segment/record-codec.js';
import { RecordCursor, sliceOffsets, type RecordSlice } from '../../../src/core/segment/record-slices.js';
import { recordPayloadBytes } from '../../../src/core/record.js';
import { prng, randomBytes, randomInt } from '../segment/helpers.js';

const HEADER: BatchHeader = { producerId: 9n, producerEpoch: 2, firstSequence: 77, transactional: false };

/** Records with every shape the format allows: null and empty keys, values and header values, repeats. */
function oddRecords(seed: number, count: number, timestamps: (i: number) => bigint): BackupRecord[] {
  const rand = prng(seed);
  const nullable = (max: number): Buffer | null => {
    const pick = randomInt(rand, 4);
    if (pick === 0) return null;
    if (pick === 1) return Buffer.alloc(0);
    return randomBytes(rand, randomInt(rand, max));
  };
  let offset = BigInt(randomInt(rand, 1000));
  const out: BackupRecord[] = [];
  for (let i = 0; i < count; i++) {
    const headers: RecordHeader[] = [];
    for (let h = randomInt(rand, 4); h > 0; h--) {
      headers.push([
        randomInt(rand, 3) === 0 ? Buffer.alloc(0) : randomBytes(rand, 1 + randomInt(rand, 9)),
        nullable(20),
      ]);
    }
    // Lengths past 127 and 16383 exercise multi-byte varints.
    const big = randomInt(rand, 10) === 0;
    out.push({
      offset,
      timestamp: timestamps(i),
      timestampType: randomInt(rand, 2) === 0 ? 0 : 1,
      key: nullable(big ? 300 : 40),
      value: nullable(big ? 20_000 : 200),
      headers,
    });
    offset += rand() < 0.8 ? 1n : 2n + BigInt(randomInt(rand, 5));
  }
  return out;
}

/** Cuts `records` into blocks (separate buffers) and hands out runs of them as slices, as restore does. */
function slicesOf(records: BackupRecord[], seed: number): RecordSlice[] {
  const rand = prng(seed);
  const slices: RecordSlice[] = [];
  for (let at = 0; at < records.length;) {
    const blockRecords = records.slice(at, at + 1 + randomInt(rand, 12));
    at += blockRecords.length;
    // Leading bytes that belong to nobody: a slice need not start at byte 0 of its buffer.
    const lead = randomBytes(rand, randomInt(rand, 3));
    const bytes = Buffer.concat([lead, encodeRecords(blockRecords)]);
    const cursor = new RecordCursor(bytes, blockRecords.length, lead.length);
    let slice: RecordSlice | undefined;
    while (cursor.next()) {
      if (slice === undefined || randomInt(rand, 4) === 0) {
        slice = { bytes, start: cursor.start, end: cursor.end, count: 1, lastStart: cursor.start };
        slices.push(slice);
      } else {
        slice.end = cursor.end;
        slice.count++;
        slice.lastStart = cursor.start;
      }
    }
  }
  return slices;
}

const NOW_MS = 1_763_800_000_000n;

describe('RecordCursor', () => {
  it('frames every record of a block and reads its offset, timestamp and payload size', () => {
    const records = oddRecords(3, 300, (i) => NOW_MS + BigInt(i * 37 - 5000));
    const raw = encodeRecords(records);
    const cursor = new RecordCursor(raw, records.length);
    for (const record of records) {
      expect(cursor.next()).toBe(true);
      expect(cursor.offset).toBe(record.offset);
      expect(cursor.timestamp).toBe(record.timestamp);
      expect(cursor.payloadBytes).toBe(recordPayloadBytes(record));
      expect(encodeRecords([record]).equals(raw.subarray(cursor.start, cursor.end))).toBe(true);
    }
    expect(cursor.next()).toBe(false);
    expect(cursor.end).toBe(raw.length);
  });

  it("lists a slice's offsets, gaps included", () => {
    const records = oddRecords(4, 120, (i) => NOW_MS + BigInt(i));
    for (const slice of slicesOf(records, 11)) {
      const first = records.findIndex((r) => r.offset === slice.bytes.readBigInt64BE(slice.start + 1));
      expect(sliceOffsets(slice)).toEqual(records.slice(first, first + slice.count).map((r) => r.offset));
    }
  });
});

describe('encodeSegmentRecordsBatch', () => {
  const cases: [string, (i: number) => bigint][] = [
    ['increasing timestamps', (i) => NOW_MS + BigInt(i)],
    ['timestamps out of order, some before the first', (i) => NOW_MS + BigInt(((i * 7919) % 2001) - 1000)],
    ['negative and zero timestamps', (i) => BigInt((i % 5) - 2)],
    [
      'timestamps near +-2^51, the edge of the number path',
      (i) => (i % 2 === 0 ? 1n : -1n) * (2n ** 51n - 1n - BigInt(i)),
    ],
  ];
  for (const [name, timestamps] of cases) {
    it(`writes the same bytes as encodeRecordBatch on the decoded records (${name}, seeded)`, () => {
      for (let round = 0; round < 25; round++) {
        const records = oddRecords(100 + round, 1 + randomInt(prng(round), 200), timestamps);
        const slices = slicesOf(records, 200 + round);
        const header = { ...HEADER, firstSequence: round };
        const ours = encodeSegmentRecordsBatch({ slices, count: records.length }, header);
        const expected = encodeRecordBatch(records, header, 0n);
        expect(ours.length).toBe(expected.length);
        expect(ours.equals(expected)).toBe(true);
      }
    });
  }

  it('falls back to the decoded path for timestamps beyond +-2^51 and still writes the same bytes', () => {
    const timestamps = (i: number): bigint => (i === 3 ? 2n ** 62n : NOW_MS - 2n ** 60n * BigInt(i % 2));
    const records = oddRecords(7, 40, timestamps);
    const slices = slicesOf(records, 8);
    const ours = encodeSegmentRecordsBatch({ slices, count: records.length }, HEADER);
    expect(ours.equals(encodeRecordBatch(records, HEADER, 0n))).toBe(true);
  });

  it('writes into the buffer the caller hands out, whatever it held before', () => {
    const records = oddRecords(9, 50, (i) => NOW_MS + BigInt(i));
    const slices = slicesOf(records, 10);
    const expected = encodeRecordBatch(records, HEADER, 0n);
    const dirty = Buffer.alloc(expected.length + 64, 0xa5);
    const ours = encodeSegmentRecordsBatch({ slices, count: records.length }, HEADER, (n) =>
      dirty.subarray(0, n),
    );
    expect(ours.buffer).toBe(dirty.buffer);
    expect(ours.equals(expected)).toBe(true);
  });

  it('refuses a count that does not match the slices', () => {
    const records = oddRecords(12, 5, (i) => NOW_MS + BigInt(i));
    const slices = slicesOf(records, 13);
    expect(() => encodeSegmentRecordsBatch({ slices, count: 6 }, HEADER)).toThrow(
      /hold 5 records, expected 6/,
    );
  });
});
