import { describe, expect, it } from 'vitest';
import { KbackupError } from '../../../src/core/errors.js';
import type { BackupRecord } from '../../../src/core/record.js';
import { SegmentFormatError } from '../../../src/core/segment/format.js';
import { decodeRecords, encodeRecords, encodedRecordSize } from '../../../src/core/segment/record-codec.js';
import { expectSameRecords, prng, randomBytes, randomInt, rec, sampleRecords } from './helpers.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('record encoding', () => {
  it('lays out a record byte for byte as the format says', () => {
    const record = rec(5, {
      timestamp: 1000n,
      timestampType: 1,
      key: Buffer.from('k'),
      value: null,
      headers: [
        [Buffer.from('h'), Buffer.alloc(0)],
        [Buffer.from('h'), null],
      ],
    });
    const expected = hex(`
      01
      0000000000000005
      00000000000003e8
      00000001 6b
      ffffffff
      00000002
      00000001 68 00000000
      00000001 68 ffffffff`);
    const encoded = encodeRecords([record]);
    expect(encoded.toString('hex')).toBe(expected.toString('hex'));
    expect(encodedRecordSize(record)).toBe(expected.length);
    expectSameRecords(decodeRecords(encoded, 1), [record]);
  });

  it('encodes negative and extreme timestamps as two-complement int64', () => {
    const encoded = encodeRecords([rec(0, { timestamp: -1n, key: null, value: null })]);
    expect(encoded.subarray(9, 17).toString('hex')).toBe('ffffffffffffffff');
  });

  it('keeps null and empty apart everywhere', () => {
    const records = [
      rec(1, { key: null, value: null, headers: [[Buffer.alloc(0), null]] }),
      rec(2, { key: Buffer.alloc(0), value: Buffer.alloc(0), headers: [[Buffer.alloc(0), Buffer.alloc(0)]] }),
    ];
    const [a, b] = decodeRecords(encodeRecords(records), 2);
    expect(a?.key).toBeNull();
    expect(a?.value).toBeNull();
    expect(a?.headers[0]?.[1]).toBeNull();
    expect(b?.key?.length).toBe(0);
    expect(b?.value?.length).toBe(0);
    expect(b?.headers[0]?.[0].length).toBe(0);
    expect(b?.headers[0]?.[1]?.length).toBe(0);
  });

  it('returns zero-copy views into the raw block', () => {
    const raw = encodeRecords(sampleRecords(10));
    for (const record of decodeRecords(raw, 10)) {
      if (record.value !== null) expect(record.value.buffer).toBe(raw.buffer);
      if (record.key !== null) expect(record.key.buffer).toBe(raw.buffer);
    }
  });

  it('round-trips many random records', () => {
    const records = sampleRecords(500, 42, 1000n);
    expectSameRecords(decodeRecords(encodeRecords(records), 500), records);
  });

  it('rejects records the format cannot hold', () => {
    expect(() => encodeRecords([rec(-1)])).toThrow(KbackupError);
    expect(() => encodeRecords([rec(0, { timestamp: 2n ** 63n })])).toThrow(/timestamp/);
    expect(() => encodeRecords([{ ...rec(0), timestampType: 2 } as unknown as BackupRecord])).toThrow(
      /timestampType/,
    );
  });
});

describe('record decoding of malformed input', () => {
  const valid = encodeRecords([
    rec(7, { headers: [[Buffer.from('a'), Buffer.from('b')]] }),
    rec(8, { key: null }),
  ]);

  it('throws SegmentFormatError for every truncation', () => {
    for (let cut = 0; cut < valid.length; cut++) {
      expect(() => decodeRecords(valid.subarray(0, cut), 2), `cut at ${cut}`).toThrow(SegmentFormatError);
    }
  });

  it('rejects trailing bytes, a wrong count and unknown attribute bits', () => {
    expect(() => decodeRecords(Buffer.concat([valid, Buffer.from([0])]), 2)).toThrow(/unexpected bytes/);
    expect(() => decodeRecords(valid, 1)).toThrow(SegmentFormatError);
    expect(() => decodeRecords(valid, 3)).toThrow(/block holds 2 records, header says 3/);
    const bad = Buffer.from(valid);
    bad[0] = 0x02;
    expect(() => decodeRecords(bad, 2)).toThrow(/attribute bits/);
  });

  it('rejects negative lengths other than -1 and a null header key', () => {
    const badKey = Buffer.from(valid);
    badKey.writeInt32BE(-2, 17);
    expect(() => decodeRecords(badKey, 2)).toThrow(/invalid length -2/);
    // record 0: 17 fixed + key(4+5) + value(4+7) = 37, headerCount at 37, header key length at 41
    const nullHeaderKey = Buffer.from(valid);
    expect(nullHeaderKey.readUInt32BE(37)).toBe(1);
    nullHeaderKey.writeInt32BE(-1, 41);
    expect(() => decodeRecords(nullHeaderKey, 2)).toThrow(/header 0 key has invalid length -1/);
  });

  it('rejects an absurd header count without looping over it', () => {
    const bad = Buffer.from(valid);
    bad.writeUInt32BE(0xffffffff, 37);
    const started = Date.now();
    expect(() => decodeRecords(bad, 2)).toThrow(/headerCount 4294967295/);
    expect(Date.now() - started).toBeLessThan(100);
  });

  it('throws only SegmentFormatError on 2000 seeded random inputs', () => {
    const rand = prng(2024);
    for (let i = 0; i < 2000; i++) {
      const input = i % 2 === 0 ? randomBytes(rand, randomInt(rand, 200)) : mutate(valid, rand);
      try {
        decodeRecords(input, 1 + randomInt(rand, 3));
      } catch (error) {
        expect(error, `iteration ${i}`).toBeInstanceOf(SegmentFormatError);
      }
    }
  });
});

function mutate(buf: Buffer, rand: () => number): Buffer {
  const out = Buffer.from(buf);
  for (let n = 1 + randomInt(rand, 4); n > 0; n--) out[randomInt(rand, out.length)] = randomInt(rand, 256);
  return out;
}
