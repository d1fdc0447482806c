import { crc32c } from '../../core/checksum.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BATCH_LENGTH_OFFSET,
  BATCH_LOG_OVERHEAD,
  CRC_OFFSET,
  FIRST_TIMESTAMP_OFFSET,
  IS_TRANSACTIONAL,
  LAST_OFFSET_DELTA_OFFSET,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORD_COUNT_OFFSET,
  RECORDS_OFFSET,
} from './batch-reader.js';
import { decodeRecordSlice } from '../../core/segment/record-codec.js';
import type { RecordSlice, SegmentRecords } from '../../core/segment/record-slices.js';

/** One record to produce (a ProduceRecord; the timestamp defaults to `now`). */
export interface BatchRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: readonly (readonly [Buffer, Buffer | null])[];
  timestamp?: bigint;
}

export interface BatchHeader {
  producerId: bigint;
  producerEpoch: number;
  firstSequence: number;
  transactional: boolean;
  partitionLeaderEpoch?: number;
}

/** The record format these batches are in (magic byte 2). */
const MAGIC = 2;
const SAFE_DELTA = 2 ** 52;

function varIntSize(value: number): number {
  let zigzag = ((value << 1) ^ (value >> 31)) >>> 0;
  let size = 1;
  while (zigzag >= 0x80) {
    zigzag >>>= 7;
    size++;
  }
  return size;
}

function writeVarInt(buf: Buffer, pos: number, value: number): number {
  let zigzag = ((value << 1) ^ (value >> 31)) >>> 0;
  while (zigzag >= 0x80) {
    buf[pos++] = (zigzag & 0x7f) | 0x80;
    zigzag >>>= 7;
  }
  buf[pos++] = zigzag;
  return pos;
}

/** A 64-bit delta as its unsigned zigzag value: a number while that is exact, else a bigint. */
function zigzag64(delta: bigint): number | bigint {
  const n = Number(delta);
  if (n > -SAFE_DELTA && n < SAFE_DELTA) return n >= 0 ? n * 2 : -n * 2 - 1;
  return delta >= 0n ? delta << 1n : (-delta << 1n) - 1n;
}

function varLongSize(zigzag: number | bigint): number {
  let size = 1;
  if (typeof zigzag === 'number') {
    for (let v = zigzag; v >= 0x80; v = Math.floor(v / 128)) size++;
  } else {
    for (let v = zigzag; v >= 0x80n; v >>= 7n) size++;
  }
  return size;
}

function writeVarLong(buf: Buffer, pos: number, zigzag: number | bigint): number {
  if (typeof zigzag === 'number') {
    let v = zigzag;
    while (v >= 0x80) {
      buf[pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    buf[pos++] = v;
    return pos;
  }
  let v = zigzag;
  while (v >= 0x80n) {
    buf[pos++] = Number(v & 0x7fn) | 0x80;
    v >>= 7n;
  }
  buf[pos++] = Number(v);
  return pos;
}

/** Bytes of a length-prefixed field; null is written as length -1 with no bytes. */
function bytesSize(value: Buffer | null): number {
  return value === null ? 1 : varIntSize(value.length) + value.length;
}

function writeBytes(buf: Buffer, pos: number, value: Buffer | null): number {
  if (value === null) return writeVarInt(buf, pos, -1);
  pos = writeVarInt(buf, pos, value.length);
  value.copy(buf, pos);
  return pos + value.length;
}

/**
 * Encodes uncompressed records into one Kafka v2 record batch (baseOffset 0, as producers send it) in a
 * single buffer: sizes are computed first, so each record's bytes are copied once and the CRC is one pass.
 * The client's own encoder builds a buffer per field and record and concatenates them twice per request
 * (a third of restore's main thread), and it truncates timestamp deltas beyond 32 bits.
 */
export function encodeRecordBatch(
  records: readonly BatchRecord[],
  header: BatchHeader,
  now: bigint,
  /** Where the batch is written: a buffer of exactly `bytes` bytes (a caller may hand out reused memory). */
  allocate: (bytes: number) => Buffer = (bytes) => Buffer.allocUnsafe(bytes),
): Buffer {
  const count = records.length;
  const firstTimestamp = records[0]?.timestamp ?? now;
  let maxTimestamp = firstTimestamp;
  const deltas = new Array<number | bigint>(count);
  const bodySizes = new Int32Array(count);
  let total = RECORDS_OFFSET;
  for (let i = 0; i < count; i++) {
    const record = records[i] as BatchRecord;
    const timestamp = record.timestamp ?? now;
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
    const delta = zigzag64(timestamp - firstTimestamp);
    deltas[i] = delta;
    let size = 1 + varLongSize(delta) + varIntSize(i) + bytesSize(record.key) + bytesSize(record.value);
    size += varIntSize(record.headers.length);
    for (const [key, value] of record.headers) size += bytesSize(key) + bytesSize(value);
    bodySizes[i] = size;
    total += varIntSize(size) + size;
  }

  const buf = allocate(total);
  writeBatchHeader(buf, header, count, firstTimestamp, maxTimestamp);
  let pos = RECORDS_OFFSET;
  for (let i = 0; i < count; i++) {
    const record = records[i] as BatchRecord;
    pos = writeVarInt(buf, pos, bodySizes[i] as number);
    buf[pos++] = 0; // record attributes: unused in v2
    pos = writeVarLong(buf, pos, deltas[i] as number | bigint);
    pos = writeVarInt(buf, pos, i);
    pos = writeBytes(buf, pos, record.key);
    pos = writeBytes(buf, pos, record.value);
    pos = writeVarInt(buf, pos, record.headers.length);
    for (const [key, value] of record.headers) {
      pos = writeBytes(buf, pos, key);
      pos = writeBytes(buf, pos, value);
    }
  }
  sealBatch(buf);
  return buf;
}

/** Everything before the records, for a batch of `count` records filling all of `buf`. */
function writeBatchHeader(
  buf: Buffer,
  header: BatchHeader,
  count: number,
  firstTimestamp: bigint,
  maxTimestamp: bigint,
): void {
  buf.writeBigInt64BE(0n, 0);
  buf.writeInt32BE(buf.length - BATCH_LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  buf.writeInt32BE(header.partitionLeaderEpoch ?? -1, PARTITION_LEADER_EPOCH_OFFSET);
  buf.writeInt8(MAGIC, MAGIC_OFFSET);
  buf.writeInt16BE(header.transactional ? IS_TRANSACTIONAL : 0, ATTRIBUTES_OFFSET);
  buf.writeInt32BE(count - 1, LAST_OFFSET_DELTA_OFFSET);
  buf.writeBigInt64BE(firstTimestamp, FIRST_TIMESTAMP_OFFSET);
  buf.writeBigInt64BE(maxTimestamp, MAX_TIMESTAMP_OFFSET);
  buf.writeBigInt64BE(header.producerId, PRODUCER_ID_OFFSET);
  buf.writeInt16BE(header.producerEpoch, PRODUCER_EPOCH_OFFSET);
  buf.writeInt32BE(header.firstSequence, BASE_SEQUENCE_OFFSET);
  buf.writeInt32BE(count, RECORD_COUNT_OFFSET);
}

/** The CRC covers everything from the attributes to the end of the batch. */
function sealBatch(buf: Buffer): void {
  buf.writeUInt32BE(crc32c(buf.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
}

/**
 * Timestamps whose high 32 bits lie within +-2^19 are below 2^51 in magnitude: as numbers their
 * differences and zigzag values (below 2^53) are exact. Real millisecond timestamps are near 2^41.
 */
const SAFE_TIMESTAMP_HIGH = 2 ** 19;
const TWO_32 = 2 ** 32;

/**
 * encodeRecordBatch for records still in the segment encoding (record-slices.ts), read in place: the same
 * bytes as encodeRecordBatch(decodeRecords(...)) with no object, view or BigInt per record. Records with
 * a timestamp beyond +-2^51 ms go through the decoded path instead.
 */
export function encodeSegmentRecordsBatch(
  records: SegmentRecords,
  header: BatchHeader,
  allocate: (bytes: number) => Buffer = (bytes) => Buffer.allocUnsafe(bytes),
): Buffer {
  const { slices, count } = records;
  const deltas = new Float64Array(count);
  const bodySizes = new Int32Array(count);
  let firstTimestamp = 0;
  let maxTimestamp = 0;
  let total = RECORDS_OFFSET;
  let index = 0;
  for (const { bytes, start, count: sliceCount } of slices) {
    let pos = start;
    for (let i = 0; i < sliceCount; i++, index++) {
      const high = bytes.readInt32BE(pos + 9);
      if (high >= SAFE_TIMESTAMP_HIGH || high < -SAFE_TIMESTAMP_HIGH) {
        return encodeRecordBatch(decodeSlices(slices), header, 0n, allocate);
      }
      const timestamp = high * TWO_32 + bytes.readUInt32BE(pos + 13);
      if (index === 0) firstTimestamp = maxTimestamp = timestamp;
      else if (timestamp > maxTimestamp) maxTimestamp = timestamp;
      const delta = timestamp - firstTimestamp;
      const zigzag = delta >= 0 ? delta * 2 : -delta * 2 - 1;
      deltas[index] = zigzag;
      let size = 1 + varLongSize(zigzag) + varIntSize(index);
      pos += 17;
      // Key, value, then per header a key and a value: int32 length (-1 = null) and the bytes.
      let fields = 2;
      for (let field = 0; field < fields; field++) {
        const length = bytes.readInt32BE(pos);
        size += length < 0 ? 1 : varIntSize(length) + length;
        pos += length < 0 ? 4 : 4 + length;
        if (field === 1) {
          const headers = bytes.readUInt32BE(pos);
          pos += 4;
          size += varIntSize(headers);
          fields += 2 * headers;
        }
      }
      bodySizes[index] = size;
      total += varIntSize(size) + size;
    }
  }
  if (index !== count) throw new Error(`segment records hold ${index} records, expected ${count}`);

  const buf = allocate(total);
  writeBatchHeader(buf, header, count, BigInt(firstTimestamp), BigInt(maxTimestamp));
  let out = RECORDS_OFFSET;
  index = 0;
  for (const { bytes, start, count: sliceCount } of slices) {
    let pos = start;
    for (let i = 0; i < sliceCount; i++, index++) {
      out = writeVarInt(buf, out, bodySizes[index] as number);
      buf[out++] = 0; // record attributes: unused in v2
      out = writeVarLong(buf, out, deltas[index] as number);
      out = writeVarInt(buf, out, index);
      pos += 17;
      let fields = 2;
      for (let field = 0; field < fields; field++) {
        const length = bytes.readInt32BE(pos);
        pos += 4;
        out = copyField(bytes, pos, length, buf, out);
        if (length > 0) pos += length;
        if (field === 1) {
          const headers = bytes.readUInt32BE(pos);
          pos += 4;
          out = writeVarInt(buf, out, headers);
          fields += 2 * headers;
        }
      }
    }
  }
  sealBatch(buf);
  return buf;
}

/** A length-prefixed field copied from the segment encoding (length -1 = null) into the batch at `out`. */
function copyField(from: Buffer, at: number, length: number, buf: Buffer, out: number): number {
  if (length < 0) return writeVarInt(buf, out, -1);
  out = writeVarInt(buf, out, length);
  from.copy(buf, out, at, at + length);
  return out + length;
}

function decodeSlices(slices: readonly RecordSlice[]): BatchRecord[] {
  const records: BatchRecord[] = [];
  for (const slice of slices) {
    records.push(...decodeRecordSlice(slice.bytes, slice.start, slice.count, slice.count).records);
  }
  return records;
}
