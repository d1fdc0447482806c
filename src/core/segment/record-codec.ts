import { KbackupError } from '../errors.js';
import type { BackupRecord, RecordHeader } from '../record.js';
import { INT64_MAX, INT64_MIN, SegmentFormatError } from './format.js';

/*
 * Record encoding inside a raw (uncompressed) block, big-endian:
 *
 *   u8 attributes (bit 0 = timestampType) | i64 offset | i64 timestamp
 *   i32 keyLength (-1 = null) | key | i32 valueLength (-1 = null) | value
 *   u32 headerCount | { i32 keyLength (>= 0) | key | i32 valueLength (-1 = null) | value }*
 *
 * Pure and I/O-free so that the writer, the reader and the in-memory helpers share one implementation.
 */

const FIXED_BYTES = 1 + 8 + 8 + 4 + 4 + 4;
const NULL_LENGTH = -1;
const I32_MAX = 0x7fff_ffff;

/** Bytes `record` occupies in a raw block. */
export function encodedRecordSize(record: BackupRecord): number {
  let size = FIXED_BYTES + (record.key?.length ?? 0) + (record.value?.length ?? 0);
  for (const [key, value] of record.headers) size += 8 + key.length + (value?.length ?? 0);
  return size;
}

/**
 * Rejects records the format cannot represent. These are programming errors upstream (a Kafka client
 * never produces them), hence INTERNAL rather than a user-facing code.
 */
export function validateRecord(record: BackupRecord): void {
  const bad = (what: string): never => {
    throw new KbackupError('INTERNAL', `cannot encode record at offset ${record.offset}: ${what}`);
  };
  if (record.offset < 0n || record.offset > INT64_MAX) bad('offset is outside 0..2^63-1');
  if (record.timestamp < INT64_MIN || record.timestamp > INT64_MAX) bad('timestamp is outside int64');
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- runtime guard for untyped callers
  if (record.timestampType !== 0 && record.timestampType !== 1) bad('timestampType must be 0 or 1');
  if ((record.key?.length ?? 0) > I32_MAX || (record.value?.length ?? 0) > I32_MAX) {
    bad('key/value too large');
  }
  if (record.headers.length > 0xffff_ffff) bad('too many headers');
}

/** Encodes records into one freshly allocated buffer: sizes first, then a single allocation. */
export function encodeRecords(records: readonly BackupRecord[]): Buffer {
  let total = 0;
  for (const record of records) {
    validateRecord(record);
    total += encodedRecordSize(record);
  }
  return encodeValidatedRecords(records, total);
}

/**
 * encodeRecords for callers that already validated every record and summed encodedRecordSize (the
 * segment builder does both as records arrive), so the block is not walked twice more.
 */
export function encodeValidatedRecords(records: readonly BackupRecord[], totalBytes: number): Buffer {
  const buf = Buffer.allocUnsafe(totalBytes);
  let pos = 0;
  for (const record of records) pos = writeRecord(buf, pos, record);
  if (pos !== totalBytes) {
    throw new KbackupError('INTERNAL', `encoded ${pos} record bytes, expected ${totalBytes}`);
  }
  return buf;
}

function writeRecord(buf: Buffer, at: number, record: BackupRecord): number {
  let pos = buf.writeUInt8(record.timestampType, at);
  pos = buf.writeBigInt64BE(record.offset, pos);
  pos = buf.writeBigInt64BE(record.timestamp, pos);
  pos = writeBytes(buf, pos, record.key);
  pos = writeBytes(buf, pos, record.value);
  pos = buf.writeUInt32BE(record.headers.length, pos);
  for (const [key, value] of record.headers) {
    pos = writeBytes(buf, pos, key);
    pos = writeBytes(buf, pos, value);
  }
  return pos;
}

function writeBytes(buf: Buffer, at: number, bytes: Uint8Array | null): number {
  if (bytes === null) return buf.writeInt32BE(NULL_LENGTH, at);
  const pos = buf.writeInt32BE(bytes.length, at);
  buf.set(bytes, pos);
  return pos + bytes.length;
}

/**
 * Decodes exactly `expectedCount` records that must fill `raw` exactly. Keys, values and header
 * bytes are zero-copy `subarray` views into `raw`, so they keep the block alive while referenced.
 * Every length is bounds-checked before use; malformed input throws SegmentFormatError and nothing
 * else, and no loop runs longer than the bytes available can justify.
 */
export function decodeRecords(raw: Buffer, expectedCount: number): BackupRecord[] {
  const reader = new Cursor(raw);
  const records: BackupRecord[] = [];
  for (let index = 0; index < expectedCount; index++) {
    reader.record = index;
    if (reader.remaining() === 0) {
      throw new SegmentFormatError(`block holds ${index} records, header says ${expectedCount}`);
    }
    const attributes = reader.u8('attributes');
    if ((attributes & ~1) !== 0) reader.fail(`unknown attribute bits 0x${attributes.toString(16)}`);
    const offset = reader.i64('offset');
    const timestamp = reader.i64('timestamp');
    const key = reader.nullableBytes('key');
    const value = reader.nullableBytes('value');
    const headerCount = reader.u32('headerCount');
    // Each header takes at least 8 bytes; checking up front bounds the loop below by the data present.
    if (headerCount > reader.remaining() / 8) {
      reader.fail(`headerCount ${headerCount} exceeds the ${reader.remaining()} bytes left in the block`);
    }
    const headers: RecordHeader[] = [];
    for (let h = 0; h < headerCount; h++) {
      const headerKey = reader.bytes(`header ${h} key`);
      headers.push([headerKey, reader.nullableBytes(`header ${h} value`)]);
    }
    records.push({ offset, timestamp, timestampType: attributes === 1 ? 1 : 0, key, value, headers });
  }
  if (reader.remaining() !== 0) {
    throw new SegmentFormatError(
      `${reader.remaining()} unexpected bytes after the last of ${expectedCount} records`,
    );
  }
  return records;
}

class Cursor {
  pos = 0;
  record = 0;

  constructor(private readonly buf: Buffer) {}

  remaining(): number {
    return this.buf.length - this.pos;
  }

  fail(what: string): never {
    throw new SegmentFormatError(`record ${this.record}: ${what}`);
  }

  private need(field: string, n: number): void {
    if (n > this.buf.length - this.pos) {
      this.fail(`${field} needs ${n} bytes at block byte ${this.pos}, only ${this.remaining()} left`);
    }
  }

  u8(field: string): number {
    this.need(field, 1);
    return this.buf[this.pos++] ?? 0;
  }

  u32(field: string): number {
    this.need(field, 4);
    const value = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return value;
  }

  i64(field: string): bigint {
    this.need(field, 8);
    const value = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return value;
  }

  nullableBytes(field: string): Buffer | null {
    this.need(`${field} length`, 4);
    if (this.buf.readInt32BE(this.pos) === NULL_LENGTH) {
      this.pos += 4;
      return null;
    }
    return this.bytes(field);
  }

  /** Header keys are never null, so -1 is as invalid here as any other negative length. */
  bytes(field: string): Buffer {
    this.need(`${field} length`, 4);
    const length = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    if (length < 0) this.fail(`${field} has invalid length ${length}`);
    this.need(field, length);
    const view = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return view;
  }
}
