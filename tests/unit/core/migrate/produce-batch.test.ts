import { describe, expect, it } from 'vitest';
import { ProduceBatchBuilder } from '../../../../src/core/migrate/produce-batch.js';
import { RECORD_OVERHEAD } from '../../../../src/core/migrate/records.js';
import { OffsetMapBuilder } from '../../../../src/core/offset-map.js';
import { recordPayloadBytes, type BackupRecord } from '../../../../src/core/record.js';
import { EncodedRecords } from '../../../../src/core/segment/encoded-records.js';
import { decodeRecordSlice } from '../../../../src/core/segment/record-codec.js';
import { expectSameRecords, prng, randomBytes, randomInt, sampleRecords } from '../../segment/helpers.js';

/** Records with gaps between some offsets and a few values larger than a whole request. */
function fetchedRecords(seed: number, count: number): BackupRecord[] {
  const rand = prng(seed);
  let offset = 100n;
  return sampleRecords(count, seed).map((record) => {
    offset += randomInt(rand, 5) === 0 ? BigInt(2 + randomInt(rand, 9)) : 1n;
    return { ...record, offset, value: randomInt(rand, 40) === 0 ? randomBytes(rand, 5000) : record.value };
  });
}

/** The rule written out: in order, payload + RECORD_OVERHEAD per record up to maxBytes, at least one. */
function referenceRequests(records: BackupRecord[], maxBytes: number): BackupRecord[][] {
  const requests: BackupRecord[][] = [];
  let current: BackupRecord[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = recordPayloadBytes(record) + RECORD_OVERHEAD;
    if (current.length > 0 && bytes + size > maxBytes) {
      requests.push(current);
      current = [];
      bytes = 0;
    }
    current.push(record);
    bytes += size;
  }
  if (current.length > 0) requests.push(current);
  return requests;
}

/** Feeds the records as fetched runs of random sizes, the way migrate's step does, and collects each request. */
function gather(records: BackupRecord[], maxBytes: number, seed: number) {
  const rand = prng(seed + 7);
  const builder = new ProduceBatchBuilder(maxBytes);
  const requests: { records: BackupRecord[]; payloadBytes: number; map: OffsetMapBuilder }[] = [];
  let target = 5000n;
  const send = (): void => {
    const { slices, count } = builder.records();
    const [slice] = slices;
    if (slices.length !== 1 || slice === undefined) throw new Error('a request is one slice');
    const decoded = decodeRecordSlice(slice.bytes, slice.start, count, count);
    expect(decoded.next).toBe(slice.end);
    // lastStart frames the last record.
    expect(decodeRecordSlice(slice.bytes, slice.lastStart, 1, 1).records[0]).toEqual(decoded.records.at(-1));
    const map = new OffsetMapBuilder();
    builder.mapTo(map, target);
    target += BigInt(count);
    // Decoded records view the request's buffer, which the next request reuses: keep copies.
    const copy = (b: Buffer | null): Buffer | null => (b === null ? null : Buffer.from(b));
    const kept = decoded.records.map((r) => ({
      ...r,
      key: copy(r.key),
      value: copy(r.value),
      headers: r.headers.map(([k, v]): [Buffer, Buffer | null] => [Buffer.from(k), copy(v)]),
    }));
    requests.push({ records: kept, payloadBytes: builder.payloadBytes, map });
    builder.clear();
  };
  for (let at = 0; at < records.length;) {
    // A fetched batch is reused for the next one: overwrite it, as the fetch decoder does.
    const size = 1 + randomInt(rand, 30);
    const run = EncodedRecords.fromRecords(records.slice(at, at + size));
    for (let i = 0; i < run.count;) {
      i = builder.add(run, i, run.count);
      if (i < run.count) send();
    }
    run.bytes.fill(0xee);
    at += run.count;
  }
  if (builder.count > 0) send();
  return requests;
}

describe('ProduceBatchBuilder', () => {
  it('cuts the same requests as the per-record rule, with every record byte for byte', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const records = fetchedRecords(seed, 300);
      for (const maxBytes of [1, 900, 16_384, 1 << 20]) {
        const expected = referenceRequests(records, maxBytes);
        const actual = gather(records, maxBytes, seed);
        expect(
          actual.map((r) => r.records.length),
          `seed ${seed}, ${maxBytes}`,
        ).toEqual(expected.map((r) => r.length));
        actual.forEach((request, i) => {
          const want = expected[i] ?? [];
          expectSameRecords(request.records, want);
          expect(request.payloadBytes).toBe(want.reduce((n, r) => n + recordPayloadBytes(r), 0));
        });
      }
    }
  });

  it('maps source offsets to consecutive target offsets as runs, gaps included', () => {
    const records = fetchedRecords(3, 400);
    const actual = gather(records, 1 << 20, 3);
    expect(actual).toHaveLength(1);
    const expected = new OffsetMapBuilder();
    expected.addBatch(
      records.map((r) => r.offset),
      5000n,
    );
    expect(actual[0]?.map.runs).toEqual(expected.runs);
    // Runs across requests continue where the previous request ended.
    const split = gather(records, 2000, 3);
    const joined = new OffsetMapBuilder();
    for (const request of split)
      for (const run of request.map.runs) joined.addRun(run.source, run.target, run.length);
    expect(joined.runs).toEqual(expected.runs);
  });
});
