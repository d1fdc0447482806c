import type { fetchV17 } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import {
  decodeFetchedBatches,
  streamFetchedBatches,
} from '../../../src/adapters/platformatic/fetch-decoder.js';
import type { FetchRequest } from '../../../src/core/ports/kafka-port.js';
import { recordPayloadBytes, type BackupRecord } from '../../../src/core/record.js';
import type { EncodedRecords } from '../../../src/core/segment/encoded-records.js';
import { decodeRecords, encodeRecords } from '../../../src/core/segment/record-codec.js';
import { expectSameRecords, prng, randomBytes, randomInt } from '../segment/helpers.js';
import { encodeBatches, fixCrc, type TestBatch, type TestRecord } from './raw-batches.js';

const LOG_APPEND_TIME = 1 << 3;
const INT64_MAX = 2n ** 63n - 1n;

const request = (offset: bigint): FetchRequest => ({
  topic: 'orders',
  partition: 0,
  offset,
  isolation: 'read_committed',
  maxBytes: 1 << 20,
});

const partition = (): fetchV17.FetchResponsePartition => ({
  partitionIndex: 0,
  errorCode: 0,
  highWatermark: 1n << 62n,
  lastStableOffset: 1n << 62n,
  logStartOffset: 0n,
  abortedTransactions: [],
  preferredReadReplica: -1,
  records: undefined,
});

/**
 * A run's records decoded back from its bytes, after checking that its per-record numbers (offsets,
 * timestamps, payload sizes, record boundaries) agree with those bytes.
 */
function decodeRun(run: EncodedRecords): BackupRecord[] {
  // From a copy: the run is refilled by the next batch.
  const records = decodeRecords(Buffer.from(run.bytes.subarray(0, run.length)), run.count);
  let payload = 0;
  records.forEach((record, i) => {
    expect(run.offsetAt(i)).toBe(record.offset);
    expect(run.timestampAt(i)).toBe(record.timestamp);
    if (run.timestampsExact) expect(run.timestamps[i]).toBe(Number(record.timestamp));
    payload += recordPayloadBytes(record);
    expect(run.payloadBytes(0, i + 1)).toBe(payload);
    expect(encodeRecords([record]).length).toBe((run.ends[i] as number) - run.startOf(i));
  });
  return records;
}

/** Both decoders over the same bytes: the transcoded runs must hold exactly the records decoded as objects. */
function expectSameAsDecoded(req: FetchRequest, raw: Buffer): BackupRecord[] {
  const eager = decodeFetchedBatches(req, partition(), raw);
  const streamed = streamFetchedBatches(req, partition(), raw);
  const runs = Array.from(streamed.batches, (run) => ({
    records: decodeRun(run),
    bytes: Buffer.from(run.bytes.subarray(0, run.length)),
  }));
  const transcoded = runs.flatMap((r) => r.records);
  expectSameRecords(transcoded, eager.records);
  // Byte for byte what the segment writer encodes for the decoded records.
  expect(Buffer.concat(runs.map((r) => r.bytes)).equals(encodeRecords(eager.records))).toBe(true);
  expect(streamed.skipped).toEqual(eager.skipped);
  expect(streamed.nextOffset).toBe(eager.nextOffset);
  return transcoded;
}

function randomField(rand: () => number): Buffer | null {
  switch (randomInt(rand, 5)) {
    case 0:
      return null;
    case 1:
      return Buffer.alloc(0);
    case 2:
      return randomBytes(rand, 1 + randomInt(rand, 63));
    case 3:
      return randomBytes(rand, 64 + randomInt(rand, 2000));
    default:
      return randomBytes(rand, randomInt(rand, 200));
  }
}

const TIMESTAMP_BASES = [0n, 1_735_689_600_000n, -1n, -(2n ** 40n), 2n ** 53n - 5n, -(2n ** 53n), 2n ** 60n];
const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;

function randomBatch(rand: () => number, baseOffset: bigint): TestBatch {
  const records: TestRecord[] = [];
  let delta = randomInt(rand, 3);
  const count = 1 + randomInt(rand, 12);
  for (let i = 0; i < count; i++) {
    const headers: [Buffer | null, Buffer | null][] = [];
    const headerCount = randomInt(rand, 4) === 0 ? randomInt(rand, 4) : 0;
    for (let h = 0; h < headerCount; h++) headers.push([randomField(rand), randomField(rand)]);
    const wide = randomInt(rand, 10) === 0;
    records.push({
      offsetDelta: delta,
      timestampDelta: wide
        ? BigInt(randomInt(rand, 2)) * 2n ** 50n - 2n ** 49n + BigInt(randomInt(rand, 1000))
        : BigInt(randomInt(rand, 5000) - 1000),
      key: randomField(rand),
      value: randomField(rand),
      headers,
    });
    // Mostly consecutive; sometimes compaction left a gap inside the batch.
    delta += randomInt(rand, 5) === 0 ? 2 + randomInt(rand, 3) : 1;
  }
  const logAppendTime = randomInt(rand, 6) === 0;
  const firstTimestamp = TIMESTAMP_BASES[randomInt(rand, TIMESTAMP_BASES.length)] as bigint;
  return {
    baseOffset,
    records,
    lastOffsetDelta: delta - 1 + randomInt(rand, 2),
    attributes: logAppendTime ? LOG_APPEND_TIME : 0,
    firstTimestamp,
    maxTimestamp: firstTimestamp + BigInt(randomInt(rand, 100_000)),
    compression: CODECS[randomInt(rand, CODECS.length)],
  };
}

describe('transcoding fetched batches into the segment encoding', () => {
  it('holds exactly the records the object decoder returns, byte for byte, across 200 seeded fetches', () => {
    let records = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const rand = prng(seed);
      // Offsets near 0, near 2^53 (number arithmetic's limit) and beyond it.
      const starts = [0n, 2n ** 53n - 40n, 2n ** 62n];
      let offset = starts[seed % starts.length] as bigint;
      const batches: TestBatch[] = [];
      for (let b = 0; b < 1 + randomInt(rand, 5); b++) {
        const next = randomBatch(rand, offset + BigInt(randomInt(rand, 3)));
        batches.push(next);
        offset = next.baseOffset + BigInt((next.lastOffsetDelta ?? 0) + 1);
      }
      const first = batches[0] as TestBatch;
      // Sometimes from inside the first batch, as after a fetch that ended mid-batch.
      const from = first.baseOffset + BigInt(randomInt(rand, 4));
      records += expectSameAsDecoded(request(from), encodeBatches(batches)).length;
    }
    expect(records).toBeGreaterThan(1000);
  });

  it('keeps null and empty distinct, and stores a null header key as an empty one', () => {
    const raw = encodeBatches([
      {
        baseOffset: 5n,
        records: [
          { offsetDelta: 0, key: null, value: Buffer.alloc(0), headers: [[null, null]] },
          {
            offsetDelta: 1,
            key: Buffer.alloc(0),
            value: null,
            headers: [[Buffer.from('h'), Buffer.alloc(0)]],
          },
        ],
      },
    ]);
    const [a, b] = expectSameAsDecoded(request(5n), raw);
    expect(a?.key).toBeNull();
    expect(a?.value).toEqual(Buffer.alloc(0));
    expect(a?.headers).toEqual([[Buffer.alloc(0), null]]);
    expect(b?.key).toEqual(Buffer.alloc(0));
    expect(b?.value).toBeNull();
  });

  it('writes every LogAppendTime record with the batch maximum timestamp', () => {
    const raw = encodeBatches([
      {
        baseOffset: 0n,
        records: [{ offsetDelta: 0 }, { offsetDelta: 1, timestampDelta: 99n }],
        attributes: LOG_APPEND_TIME,
        firstTimestamp: 10n,
        maxTimestamp: 777n,
      },
    ]);
    const records = expectSameAsDecoded(request(0n), raw);
    expect(records.map((r) => [r.timestamp, r.timestampType])).toEqual([
      [777n, 1],
      [777n, 1],
    ]);
  });

  it('computes timestamps beyond 2^53 exactly and says the numbers are not exact', () => {
    const raw = encodeBatches([
      { baseOffset: 0n, records: [{ offsetDelta: 0, timestampDelta: 3n }], firstTimestamp: INT64_MAX - 3n },
    ]);
    const streamed = streamFetchedBatches(request(0n), partition(), raw);
    const seen = Array.from(streamed.batches, (run) => ({
      exact: run.timestampsExact,
      range: run.timestampRange(0, run.count),
    }));
    expect(seen).toEqual([{ exact: false, range: [INT64_MAX, INT64_MAX] }]);
  });

  it('rejects as corrupt a timestamp beyond int64 and a record that repeats an offset', () => {
    const overflow = encodeBatches([
      { baseOffset: 0n, records: [{ offsetDelta: 0, timestampDelta: 4n }], firstTimestamp: INT64_MAX - 3n },
    ]);
    expect(() => [...streamFetchedBatches(request(0n), partition(), overflow).batches]).toThrow(
      /orders-0 at offset 0 is corrupt \(record timestamp 9223372036854775808 is outside int64\)/,
    );
    const repeated = encodeBatches([{ baseOffset: 0n, records: [{ offsetDelta: 0 }, { offsetDelta: 0 }] }]);
    expect(() => [...streamFetchedBatches(request(0n), partition(), repeated).batches]).toThrow(
      /orders-0 at offset 0 is corrupt \(record 1 repeats an earlier offset\)/,
    );
  });

  it('rejects a field longer than its record as corrupt, without reading past it', () => {
    const raw = encodeBatches([
      { baseOffset: 0n, records: [{ offsetDelta: 0, key: Buffer.from('abcdef') }] },
    ]);
    // The key's length varint (zigzag 12 = 6 bytes) sits after length, attributes and both deltas.
    const keyLengthAt = 61 + 1 + 1 + 1 + 1;
    expect(raw[keyLengthAt]).toBe(12);
    raw[keyLengthAt] = 0x7e; // 63 bytes: more than the record holds
    fixCrc(raw);
    expect(() => [...streamFetchedBatches(request(0n), partition(), raw).batches]).toThrow(
      /orders-0 at offset 0 is corrupt \(a field overruns its record\)/,
    );
  });
});
