import { describe, expect, it } from 'vitest';
import { crc32c } from '../../../src/core/checksum.js';
import {
  BLOCK_HEADER_BYTES,
  HEADER_BYTES,
  INT64_MAX,
  INT64_MIN,
  SegmentFormatError,
  TRAILER_BYTES,
  blockChecksum,
  decodeBlockHeader,
  decodeHeader,
  decodeTrailer,
  encodeBlockHeader,
  encodeHeader,
  encodeTrailer,
  type SegmentHeaderFields,
} from '../../../src/core/segment/format.js';

const fields: SegmentHeaderFields = {
  codec: 'zstd',
  recordCount: 3,
  blockCount: 2,
  firstOffset: 10n,
  lastOffset: 2n ** 40n,
  minTimestamp: INT64_MIN,
  maxTimestamp: INT64_MAX,
  rawBytes: 300,
  bodyBytes: 200,
  bodyCrc32c: 0xdeadbeef,
};

function reseal(buf: Buffer): Buffer {
  buf.writeUInt32BE(crc32c(buf.subarray(0, 76)), 76);
  return buf;
}

describe('segment header', () => {
  it('puts every field at its documented position', () => {
    const buf = encodeHeader(fields);
    expect(buf.length).toBe(HEADER_BYTES);
    expect(buf.subarray(0, 4).toString('ascii')).toBe('KBSG');
    expect(buf.readUInt16BE(4)).toBe(1);
    expect(buf.readUInt8(6)).toBe(4);
    expect(buf.readUInt8(7)).toBe(0);
    expect(buf.readUInt32BE(8)).toBe(3);
    expect(buf.readUInt32BE(12)).toBe(2);
    expect(buf.readBigInt64BE(16)).toBe(10n);
    expect(buf.readBigInt64BE(24)).toBe(2n ** 40n);
    expect(buf.readBigInt64BE(32)).toBe(INT64_MIN);
    expect(buf.readBigInt64BE(40)).toBe(INT64_MAX);
    expect(buf.readBigUInt64BE(48)).toBe(300n);
    expect(buf.readBigUInt64BE(56)).toBe(200n);
    expect(buf.readUInt32BE(64)).toBe(0xdeadbeef);
    expect(buf.readUInt32BE(68)).toBe(0);
    expect(buf.readUInt32BE(72)).toBe(0);
    expect(buf.readUInt32BE(76)).toBe(crc32c(buf.subarray(0, 76)));
    expect(decodeHeader(buf)).toEqual({ ...fields, version: 1, flags: 0 });
  });

  it('detects a flip of any single bit', () => {
    const good = encodeHeader(fields);
    for (let bit = 0; bit < HEADER_BYTES * 8; bit++) {
      const bad = Buffer.from(good);
      bad[bit >> 3] = (bad[bit >> 3] ?? 0) ^ (1 << (bit & 7));
      expect(() => decodeHeader(bad), `bit ${bit}`).toThrow(SegmentFormatError);
    }
  });

  it.each([
    ['a short buffer', (b: Buffer) => b.subarray(0, 79), /header needs 80 bytes, found 79/],
    ['a zeroed placeholder', () => Buffer.alloc(80), /bad magic/],
    ['a checksum mismatch', (b: Buffer) => (b.writeUInt32BE(4, 8), b), /header checksum mismatch/],
    [
      'another version',
      (b: Buffer) => reseal((b.writeUInt16BE(2, 4), b)),
      /unsupported segment format version 2/,
    ],
    ['an unknown codec', (b: Buffer) => reseal((b.writeUInt8(9, 6), b)), /unknown codec id 9/],
    ['flags', (b: Buffer) => reseal((b.writeUInt8(1, 7), b)), /flags/],
    ['reserved bytes', (b: Buffer) => reseal((b.writeUInt32BE(1, 72), b)), /reserved/],
    ['zero records', (b: Buffer) => reseal((b.writeUInt32BE(0, 8), b)), /never empty/],
    ['more blocks than records', (b: Buffer) => reseal((b.writeUInt32BE(4, 12), b)), /blockCount 4/],
    ['an offset span too small', (b: Buffer) => reseal((b.writeBigInt64BE(11n, 24), b)), /cannot hold 3/],
    ['a negative offset', (b: Buffer) => reseal((b.writeBigInt64BE(-1n, 16), b)), /negative firstOffset/],
    [
      'min > max timestamp',
      (b: Buffer) => reseal((b.writeBigInt64BE(INT64_MAX, 32), b.writeBigInt64BE(0n, 40), b)),
      /minTimestamp/,
    ],
    ['a huge rawBytes', (b: Buffer) => reseal((b.writeBigUInt64BE(2n ** 60n, 48), b)), /implausibly large/],
  ])('rejects %s', (_what, damage: (b: Buffer) => Buffer, message) => {
    expect(() => decodeHeader(damage(encodeHeader(fields)))).toThrow(message);
  });
});

describe('block header and trailer', () => {
  it('covers the first 12 header bytes and then the stored bytes', () => {
    const stored = Buffer.from('stored bytes');
    const header = encodeBlockHeader(1234, 7, stored);
    expect(header.length).toBe(BLOCK_HEADER_BYTES);
    expect(decodeBlockHeader(header)).toEqual({
      rawLength: 1234,
      storedLength: stored.length,
      recordCount: 7,
      crc32c: crc32c(Buffer.concat([header.subarray(0, 12), stored])),
    });
    expect(blockChecksum(header, stored)).toBe(header.readUInt32BE(12));
  });

  it('writes KBSG-END and the file length', () => {
    const trailer = encodeTrailer(123_456);
    expect(trailer.length).toBe(TRAILER_BYTES);
    expect(trailer.subarray(0, 8).toString('ascii')).toBe('KBSG-END');
    expect(decodeTrailer(trailer)).toBe(123_456n);
    const bad = Buffer.from(trailer);
    bad[3] = 0;
    expect(() => decodeTrailer(bad)).toThrow(/trailer missing or damaged/);
    expect(() => decodeTrailer(trailer.subarray(0, 10))).toThrow(SegmentFormatError);
  });
});
