import { KbackupError } from '../errors.js';
import type { BackupRecord, RecordHeader } from '../record.js';
import { INT64_MAX, INT64_MIN, MIN_RECORD_BYTES, SegmentFormatError } from './format.js';

/*
 * Record encoding inside a raw (uncompressed) block, big-endian:
 *
 *   u8 attributes (bit 0 = timestampType) | i64 offset | i64 timestamp
 *   i32 keyLength (-1 = null) | key | i32 valueLength (-1 = null) | value
 *   u32 headerCount | { i32 keyLength (>= 0) | key | i32 valueLength (-1 = null) | value }*
 *
 * Pure and I/O-free so that the writer, the reader and the in-memory helpers share one implementation.
 */

const FIXED_BYTES = MIN_RECORD_BYTES;
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
  // Runs once per record on the backup path: plain comparisons, no closure.
  const { offset, timestamp } = record;
  if (offset < 0n || offset > INT64_MAX) invalidRecord(record, 'offset is outside 0..2^63-1');
  if (timestamp < INT64_MIN || timestamp > INT64_MAX) invalidRecord(record, 'timestamp is outside int64');
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- runtime guard for untyped callers
  if (record.timestampType !== 0 && record.timestampType !== 1) {
    invalidRecord(record, 'timestampType must be 0 or 1');
  }
  if ((record.key?.length ?? 0) > I32_MAX || (record.value?.length ?? 0) > I32_MAX) {
    invalidRecord(record, 'key/value too large');
  }
  if (record.headers.length > 0xffff_ffff) invalidRecord(record, 'too many headers');
}

function invalidRecord(record: BackupRecord, what: string): never {
  throw new KbackupError('INTERNAL', `cannot encode record at offset ${record.offset}: ${what}`);
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

function encodeValidatedRecords(records: readonly BackupRecord[], totalBytes: number): Buffer {
  const buf = Buffer.allocUnsafe(totalBytes);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = 0;
  for (const record of records) pos = writeRecord(buf, pos, record, view);
  if (pos !== totalBytes) {
    throw new KbackupError('INTERNAL', `encoded ${pos} record bytes, expected ${totalBytes}`);
  }
  return buf;
}

/**
 * Writes a validated record at `at` and returns the position after it; `view` spans `buf`. The caller
 * must have room for encodedRecordSize(record) bytes. The segment builder writes each record into its
 * block as it arrives, so that records and the fetched buffers they view die young.
 */
export function writeRecord(buf: Buffer, at: number, record: BackupRecord, view: DataView): number {
  // DataView's 64-bit setters compile to a few instructions; Buffer.writeBigInt64BE splits the BigInt in
  // JavaScript and was 5-10% of backup's main thread. Same bytes (big-endian two's complement).
  buf[at] = record.timestampType;
  view.setBigInt64(at + 1, record.offset);
  view.setBigInt64(at + 9, record.timestamp);
  let pos = writeBytes(buf, at + 17, record.key, view);
  pos = writeBytes(buf, pos, record.value, view);
  const headers = record.headers;
  view.setUint32(pos, headers.length);
  pos += 4;
  for (const [key, value] of headers) {
    pos = writeBytes(buf, pos, key, view);
    pos = writeBytes(buf, pos, value, view);
  }
  return pos;
}

function writeBytes(buf: Buffer, at: number, bytes: Uint8Array | null, view: DataView): number {
  if (bytes === null) {
    view.setInt32(at, NULL_LENGTH);
    return at + 4;
  }
  view.setInt32(at, bytes.length);
  buf.set(bytes, at + 4);
  return at + 4 + bytes.length;
}

/**
 * Decodes exactly `expectedCount` records that must fill `raw` exactly. Keys, values and header
 * bytes are zero-copy `subarray` views into `raw`, so they keep the block alive while referenced.
 * Every length is bounds-checked before use; malformed input throws SegmentFormatError and nothing
 * else, and no loop runs longer than the bytes available can justify.
 */
export function decodeRecords(raw: Buffer, expectedCount: number): BackupRecord[] {
  const records: BackupRecord[] = [];
  const end = decodeRecordsFast(raw, 0, expectedCount, records);
  return end === raw.length ? records : decodeRecordsChecked(raw, expectedCount);
}

/**
 * Decodes `count` records of a block that summarizeRecords has already passed, starting at byte
 * `position`, and returns them with the position after them: a large block is then handed out a slice
 * at a time, and each slice's records can die young. A block that did not pass summarizeRecords throws
 * the precise error, as decodeRecords does.
 */
export function decodeRecordSlice(
  raw: Buffer,
  position: number,
  count: number,
  blockRecordCount: number,
): { records: BackupRecord[]; next: number } {
  const records: BackupRecord[] = [];
  const next = decodeRecordsFast(raw, position, count, records);
  if (next === undefined) {
    decodeRecordsChecked(raw, blockRecordCount);
    throw new KbackupError('INTERNAL', 'a record slice failed to decode in a block that decodes whole');
  }
  return { records, next };
}

/**
 * The hot path of decodeRecords: the same bounds checks, inlined, with no error text. It appends `count`
 * records read from byte `start` to `records` and returns the position after them, or undefined at the
 * first anomaly; decodeRecordsChecked then decodes the block again to throw the precise error, so
 * malformed input is reported exactly as before.
 */
function decodeRecordsFast(
  raw: Buffer,
  start: number,
  count: number,
  records: BackupRecord[],
): number | undefined {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const end = raw.length;
  let pos = start;
  for (let index = 0; index < count; index++) {
    if (end - pos < MIN_RECORD_BYTES) return undefined;
    const attributes = raw[pos] as number;
    if (attributes > 1) return undefined;
    const offset = view.getBigInt64(pos + 1);
    const timestamp = view.getBigInt64(pos + 9);
    pos += 17;
    let length = view.getInt32(pos);
    pos += 4;
    let key: Buffer | null = null;
    if (length >= 0) {
      if (length > end - pos) return undefined;
      key = raw.subarray(pos, pos + length);
      pos += length;
    } else if (length !== NULL_LENGTH) return undefined;
    if (end - pos < 8) return undefined;
    length = view.getInt32(pos);
    pos += 4;
    let value: Buffer | null = null;
    if (length >= 0) {
      if (length > end - pos) return undefined;
      value = raw.subarray(pos, pos + length);
      pos += length;
    } else if (length !== NULL_LENGTH) return undefined;
    if (end - pos < 4) return undefined;
    const headerCount = view.getUint32(pos);
    pos += 4;
    const headers: RecordHeader[] = [];
    if (headerCount > 0) {
      if (headerCount > (end - pos) / 8) return undefined;
      for (let h = 0; h < headerCount; h++) {
        if (end - pos < 8) return undefined;
        length = view.getInt32(pos);
        pos += 4;
        if (length < 0 || length > end - pos - 4) return undefined;
        const headerKey = raw.subarray(pos, pos + length);
        pos += length;
        length = view.getInt32(pos);
        pos += 4;
        let headerValue: Buffer | null = null;
        if (length >= 0) {
          if (length > end - pos) return undefined;
          headerValue = raw.subarray(pos, pos + length);
          pos += length;
        } else if (length !== NULL_LENGTH) return undefined;
        headers.push([headerKey, headerValue]);
      }
    }
    records.push({ offset, timestamp, timestampType: attributes === 1 ? 1 : 0, key, value, headers });
  }
  return pos;
}

/** What summarizeRecords found in a well-formed block. */
export interface RecordsSummary {
  firstOffset: bigint;
  lastOffset: bigint;
  minTimestamp: bigint;
  maxTimestamp: bigint;
}

/**
 * Validates a block exactly as decodeRecords does (every record's framing, lengths and attribute bits,
 * nothing left over) and also that offsets strictly increase within the block, without materialising
 * records: no objects, no views, no BigInts per record. 64-bit fields are compared as (signed high,
 * unsigned low) 32-bit halves, which orders them exactly like int64. Returns undefined if anything is
 * wrong; the caller then decodes the block with decodeRecords to report the precise error.
 */
export function summarizeRecords(raw: Buffer, expectedCount: number): RecordsSummary | undefined {
  if (expectedCount < 1) return undefined;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const end = raw.length;
  let pos = 0;
  let firstAt = -1;
  let lastAt = -1;
  let minAt = -1;
  let maxAt = -1;
  let prevHi = 0;
  let prevLo = 0;
  let minHi = 0;
  let minLo = 0;
  let maxHi = 0;
  let maxLo = 0;
  for (let index = 0; index < expectedCount; index++) {
    if (end - pos < MIN_RECORD_BYTES) return undefined;
    if ((raw[pos] as number) > 1) return undefined;
    const offsetHi = view.getInt32(pos + 1);
    const offsetLo = view.getUint32(pos + 5);
    const tsHi = view.getInt32(pos + 9);
    const tsLo = view.getUint32(pos + 13);
    if (index === 0) {
      firstAt = pos + 1;
      minAt = maxAt = pos + 9;
      minHi = maxHi = tsHi;
      minLo = maxLo = tsLo;
    } else {
      if (offsetHi < prevHi || (offsetHi === prevHi && offsetLo <= prevLo)) return undefined;
      if (tsHi < minHi || (tsHi === minHi && tsLo < minLo)) {
        minHi = tsHi;
        minLo = tsLo;
        minAt = pos + 9;
      }
      if (tsHi > maxHi || (tsHi === maxHi && tsLo > maxLo)) {
        maxHi = tsHi;
        maxLo = tsLo;
        maxAt = pos + 9;
      }
    }
    prevHi = offsetHi;
    prevLo = offsetLo;
    lastAt = pos + 1;
    pos += 17;
    // key, then value: -1 (null) or a length that fits.
    for (let field = 0; field < 2; field++) {
      if (end - pos < 4) return undefined;
      const length = view.getInt32(pos);
      pos += 4;
      if (length >= 0) {
        if (length > end - pos) return undefined;
        pos += length;
      } else if (length !== NULL_LENGTH) return undefined;
    }
    if (end - pos < 4) return undefined;
    const headerCount = view.getUint32(pos);
    pos += 4;
    if (headerCount > (end - pos) / 8) return undefined;
    for (let h = 0; h < headerCount; h++) {
      if (end - pos < 8) return undefined;
      let length = view.getInt32(pos);
      pos += 4;
      if (length < 0 || length > end - pos - 4) return undefined;
      pos += length;
      length = view.getInt32(pos);
      pos += 4;
      if (length >= 0) {
        if (length > end - pos) return undefined;
        pos += length;
      } else if (length !== NULL_LENGTH) return undefined;
    }
  }
  if (pos !== end) return undefined;
  return {
    firstOffset: view.getBigInt64(firstAt),
    lastOffset: view.getBigInt64(lastAt),
    minTimestamp: view.getBigInt64(minAt),
    maxTimestamp: view.getBigInt64(maxAt),
  };
}

/** The reference decoder: slower, but every malformation gets a message naming the record and field. */
function decodeRecordsChecked(raw: Buffer, expectedCount: number): BackupRecord[] {
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
