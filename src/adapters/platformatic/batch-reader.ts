import { compressionsAlgorithmsByBitmask } from '@platformatic/kafka';
import { crc32c } from '../../core/checksum.js';
import { CREATE_TIME, LOG_APPEND_TIME, type BackupRecord, type RecordHeader } from '../../core/record.js';
import { setSafeInt64, type EncodedRecords } from '../../core/segment/encoded-records.js';

const EMPTY = Buffer.alloc(0);
/** Shared by every record without headers (most of them): frozen, since records are never mutated. */
const NO_HEADERS = Object.freeze([]) as unknown as RecordHeader[];

/**
 * Low-level reading of Kafka v2 record batches (magic 2), straight from the fetched bytes:
 *
 *   baseOffset int64 | length int32 | partitionLeaderEpoch int32 | magic int8 | crc uint32 |
 *   attributes int16 | lastOffsetDelta int32 | firstTimestamp int64 | maxTimestamp int64 |
 *   producerId int64 | producerEpoch int16 | baseSequence int32 | recordCount int32 | records...
 *
 * `length` counts the bytes after itself; the CRC-32C covers attributes to the end of the batch.
 */
export const BATCH_LENGTH_OFFSET = 8;
/** baseOffset + length: the bytes a batch occupies before the part `length` counts. */
export const BATCH_LOG_OVERHEAD = 12;
export const PARTITION_LEADER_EPOCH_OFFSET = 12;
export const MAGIC_OFFSET = 16;
export const CRC_OFFSET = 17;
export const ATTRIBUTES_OFFSET = 21;
export const LAST_OFFSET_DELTA_OFFSET = 23;
export const FIRST_TIMESTAMP_OFFSET = 27;
export const MAX_TIMESTAMP_OFFSET = 35;
export const PRODUCER_ID_OFFSET = 43;
export const PRODUCER_EPOCH_OFFSET = 51;
export const BASE_SEQUENCE_OFFSET = 53;
export const RECORD_COUNT_OFFSET = 57;
export const RECORDS_OFFSET = 61;

/** A base offset up to this plus any int32 delta is still exact as a number; beyond it, BigInts are used. */
const SAFE_BASE = Number.MAX_SAFE_INTEGER - 0x7fff_ffff;

const COMPRESSION_MASK = 0b111;
const TIMESTAMP_TYPE_BIT = 1 << 3;
export const IS_TRANSACTIONAL = 1 << 4;
export const IS_CONTROL = 1 << 5;

/** Thrown on bytes that cannot be a batch's records; the caller names the partition and offset. */
export class MalformedBatchError extends Error {}

/** Whether the batch starting at `start` and ending at `end` matches its stored CRC-32C. */
export function batchCrcMatches(raw: Buffer, start: number, end: number): boolean {
  return crc32c(raw.subarray(start + ATTRIBUTES_OFFSET, end)) === raw.readUInt32BE(start + CRC_OFFSET);
}

/**
 * The record bytes of a batch: the fetched buffer itself when uncompressed (no copy), else the decompressed
 * records. The client's codecs handle Kafka's framings (xerial snappy, lz4 frames).
 */
function batchRecords(raw: Buffer, start: number, end: number): Buffer {
  const codec = raw.readInt16BE(start + ATTRIBUTES_OFFSET) & COMPRESSION_MASK;
  if (codec === 0) return raw;
  const algorithm = compressionsAlgorithmsByBitmask[codec];
  if (!algorithm) throw new MalformedBatchError(`unknown compression codec ${codec}`);
  try {
    return algorithm.decompressSync(raw.subarray(start + RECORDS_OFFSET, end));
  } catch (error) {
    throw new MalformedBatchError(
      `cannot decompress: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/**
 * Read position of the varint readers: module state rather than a returned [value, position] pair, so that
 * reading a field allocates nothing. Decoding is synchronous, so no two callers interleave.
 */
let at = 0;

/** A zigzag-encoded int32 varint (record length, offset delta, key/value/header lengths and counts). */
function readVarInt(buf: Uint8Array): number {
  let b = buf[at++] ?? 0;
  if (b < 0x80) return (b >>> 1) ^ -(b & 1);
  let value = b & 0x7f;
  for (let shift = 7; ; shift += 7) {
    if (shift > 28) throw new MalformedBatchError('varint longer than 5 bytes');
    b = buf[at++] ?? 0;
    value |= (b & 0x7f) << shift;
    if (b < 0x80) return (value >>> 1) ^ -(value & 1);
  }
}

/** The varlong readVarLong returned NaN for: a BigInt only then, as nearly every delta fits a number. */
let wideVarLong = 0n;

/**
 * A zigzag-encoded int64 varint (timestamp delta). Up to 7 bytes (49 bits) are summed exactly as a number;
 * a longer one (a delta beyond about ±8900 years) is decoded as a BigInt into wideVarLong and NaN returned.
 */
function readVarLong(buf: Uint8Array): number {
  const start = at;
  let b = buf[at++] ?? 0;
  if (b < 0x80) return (b >>> 1) ^ -(b & 1);
  let value = b & 0x7f;
  let scale = 0x80;
  for (let i = 1; i < 7; i++) {
    b = buf[at++] ?? 0;
    value += (b & 0x7f) * scale;
    if (b < 0x80) return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
    scale *= 0x80;
  }
  at = start;
  let wide = 0n;
  for (let shift = 0n; ; shift += 7n) {
    if (shift > 63n) throw new MalformedBatchError('varlong longer than 10 bytes');
    b = buf[at++] ?? 0;
    wide |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) break;
  }
  wideVarLong = BigInt.asIntN(64, (wide >> 1n) ^ -(wide & 1n));
  return NaN;
}

/** Bytes of a length-prefixed field: null for a negative length, the shared EMPTY for 0, else a view. */
function readBytes(buf: Buffer): Buffer | null {
  const length = readVarInt(buf);
  if (length <= 0) return length === 0 ? EMPTY : null;
  const bytes = buf.subarray(at, at + length);
  at += length;
  return bytes;
}

/** The control type of a control batch (0 = ABORT, 1 = COMMIT): int16 at byte 2 of its first record's key. */
export function controlType(raw: Buffer, start: number, end: number): number | undefined {
  if (raw.readInt32BE(start + RECORD_COUNT_OFFSET) < 1) return undefined;
  const data = batchRecords(raw, start, end);
  at = data === raw ? start + RECORDS_OFFSET : 0;
  readVarInt(data); // record length
  at += 1; // attributes
  readVarLong(data); // timestamp delta
  readVarInt(data); // offset delta
  const key = readBytes(data);
  return key && key.length >= 4 ? key.readInt16BE(2) : undefined;
}

/**
 * The header fields both record readers need, and the records' bytes: `data` (the fetched buffer itself, or
 * the decompressed records), read from position `at`, which this sets, up to `last`.
 */
function openBatch(raw: Buffer, start: number, end: number) {
  const data = batchRecords(raw, start, end);
  at = data === raw ? start + RECORDS_OFFSET : 0;
  return {
    data,
    last: data === raw ? end : data.length,
    count: raw.readInt32BE(start + RECORD_COUNT_OFFSET),
    logAppendTime: (raw.readInt16BE(start + ATTRIBUTES_OFFSET) & TIMESTAMP_TYPE_BIT) !== 0,
    baseOffset: raw.readBigInt64BE(start),
    firstTimestamp: raw.readBigInt64BE(start + FIRST_TIMESTAMP_OFFSET),
    maxTimestamp: raw.readBigInt64BE(start + MAX_TIMESTAMP_OFFSET),
  };
}

/**
 * Decodes the records of the batch raw[start, end) into `out`, dropping those whose offset delta is below
 * firstDelta and reporting the deltas missing before each record through onGap. `expectedDelta` is the delta
 * of the next offset expected; returns it as updated by the records decoded.
 */
export function decodeRecords(
  raw: Buffer,
  start: number,
  end: number,
  firstDelta: number,
  expectedDelta: number,
  onGap: (fromDelta: number, toDelta: number) => void,
  out: BackupRecord[],
): number {
  const { data, last, count, logAppendTime, baseOffset, firstTimestamp, maxTimestamp } = openBatch(
    raw,
    start,
    end,
  );
  const timestampType = logAppendTime ? LOG_APPEND_TIME : CREATE_TIME;
  // Offsets and timestamps are summed as numbers when exact (always, for real offsets and epoch millis), so
  // that a record allocates one BigInt per field rather than two.
  const baseNumber = Number(baseOffset);
  const baseIsSafe = Number.isSafeInteger(baseNumber) && baseNumber <= SAFE_BASE;
  const firstTimestampNumber = Number(firstTimestamp);
  const timestampIsSafe = Number.isSafeInteger(firstTimestampNumber);
  let previousDelta = NaN;
  let previousTimestamp = maxTimestamp;

  for (let i = 0; i < count; i++) {
    const length = readVarInt(data);
    const recordEnd = at + length;
    if (length < 0 || recordEnd > last) throw new MalformedBatchError(`record ${i} overruns its batch`);
    at += 1; // record attributes: unused
    const timestampDelta = readVarLong(data);
    const offsetDelta = readVarInt(data);
    const key = readBytes(data);
    const value = readBytes(data);
    const headerCount = readVarInt(data);
    let headers = NO_HEADERS;
    if (headerCount > 0) {
      headers = new Array<RecordHeader>(headerCount);
      for (let h = 0; h < headerCount; h++) headers[h] = [readBytes(data) ?? EMPTY, readBytes(data)];
    }
    if (at !== recordEnd) throw new MalformedBatchError(`record ${i} does not match its length`);
    if (offsetDelta < firstDelta) continue;
    if (offsetDelta > expectedDelta) onGap(expectedDelta, offsetDelta - 1);
    expectedDelta = offsetDelta + 1;
    let timestamp = maxTimestamp;
    if (!logAppendTime) {
      // Records of a batch often share a timestamp: reuse its BigInt (BigInts are immutable).
      if (timestampDelta === previousDelta) timestamp = previousTimestamp;
      else if (Number.isNaN(timestampDelta)) timestamp = firstTimestamp + wideVarLong;
      else {
        const sum = firstTimestampNumber + timestampDelta;
        timestamp =
          timestampIsSafe && Number.isSafeInteger(sum)
            ? BigInt(sum)
            : firstTimestamp + BigInt(timestampDelta);
        previousDelta = timestampDelta;
        previousTimestamp = timestamp;
      }
    }
    out.push({
      offset: baseIsSafe ? BigInt(baseNumber + offsetDelta) : baseOffset + BigInt(offsetDelta),
      timestamp,
      timestampType,
      key,
      value,
      headers,
    });
  }
  return expectedDelta;
}

/**
 * Transcodes the records of the batch raw[start, end) into `out` (reset to the batch's base offset), in the
 * segment's raw block encoding (record-codec.ts), with what decodeRecords would decode: the same records,
 * the same gaps reported through onGap, the same return value. Record by record it reads the varints and
 * copies the key, value and header bytes; it builds no objects. The segment builder then copies whole runs.
 */
export function transcodeRecords(
  raw: Buffer,
  start: number,
  end: number,
  firstDelta: number,
  expectedDelta: number,
  onGap: (fromDelta: number, toDelta: number) => void,
  out: EncodedRecords,
): number {
  const { data, last, count, logAppendTime, baseOffset, firstTimestamp, maxTimestamp } = openBatch(
    raw,
    start,
    end,
  );
  const attributes = logAppendTime ? LOG_APPEND_TIME : CREATE_TIME;
  if (baseOffset < 0n) throw new MalformedBatchError(`negative base offset ${baseOffset}`);
  const baseNumber = Number(baseOffset);
  const offsetsAreNumbers = baseNumber <= SAFE_BASE;
  const firstTimestampNumber = Number(firstTimestamp);
  const timestampsAreNumbers = Number.isSafeInteger(firstTimestampNumber);
  const maxTimestampNumber = Number(maxTimestamp);
  out.reset(baseOffset);

  let pos = 0;
  for (let i = 0; i < count; i++) {
    const length = readVarInt(data);
    const recordEnd = at + length;
    if (length < 0 || recordEnd > last) throw new MalformedBatchError(`record ${i} overruns its batch`);
    at += 1; // record attributes: unused
    const timestampDelta = readVarLong(data);
    const offsetDelta = readVarInt(data);
    if (offsetDelta < firstDelta) {
      at = recordEnd;
      continue;
    }
    if (offsetDelta < expectedDelta) throw new MalformedBatchError(`record ${i} repeats an earlier offset`);
    if (offsetDelta > expectedDelta) onGap(expectedDelta, offsetDelta - 1);
    expectedDelta = offsetDelta + 1;

    // Fixed fields, then key and value: at most 29 bytes more than the Kafka bytes left in the record.
    out.reserve(pos + 29 + (recordEnd - at));
    let bytes = out.bytes;
    let view = out.view;
    bytes[pos] = attributes;
    if (offsetsAreNumbers) setSafeInt64(view, pos + 1, baseNumber + offsetDelta);
    else view.setBigInt64(pos + 1, checkedInt64(baseOffset + BigInt(offsetDelta), 'offset'));
    let timestamp = firstTimestampNumber + timestampDelta;
    if (logAppendTime) {
      timestamp = maxTimestampNumber;
      view.setBigInt64(pos + 9, maxTimestamp);
    } else if (timestampsAreNumbers && Number.isSafeInteger(timestamp)) {
      setSafeInt64(view, pos + 9, timestamp);
    } else {
      const wide = firstTimestamp + (Number.isNaN(timestampDelta) ? wideVarLong : BigInt(timestampDelta));
      view.setBigInt64(pos + 9, checkedInt64(wide, 'timestamp'));
      timestamp = Number(wide);
    }
    pos += 17;
    let payload = 0;
    for (let field = 0; field < 2; field++) {
      const fieldLength = readVarInt(data);
      pos = copyField(data, fieldLength, recordEnd, bytes, view, pos);
      if (fieldLength > 0) payload += fieldLength;
    }
    const headerCount = Math.max(readVarInt(data), 0);
    // Each header's two lengths grow from varints of at least a byte each to 4 bytes each.
    out.reserve(pos + 4 + 8 * headerCount + (recordEnd - at));
    bytes = out.bytes;
    view = out.view;
    view.setUint32(pos, headerCount);
    pos += 4;
    for (let h = 0; h < headerCount; h++) {
      // A null header key is stored as an empty one, as decodeRecords reads it.
      const keyLength = Math.max(readVarInt(data), 0);
      pos = copyField(data, keyLength, recordEnd, bytes, view, pos);
      const valueLength = readVarInt(data);
      pos = copyField(data, valueLength, recordEnd, bytes, view, pos);
      payload += keyLength + (valueLength > 0 ? valueLength : 0);
    }
    if (at !== recordEnd) throw new MalformedBatchError(`record ${i} does not match its length`);
    out.push(pos, offsetDelta, timestamp, payload);
  }
  return expectedDelta;
}

/** Writes a length (-1 for null) and copies the field's bytes; returns the position after them. */
function copyField(
  data: Buffer,
  length: number,
  recordEnd: number,
  bytes: Buffer,
  view: DataView,
  pos: number,
): number {
  if (length <= 0) {
    view.setInt32(pos, length < 0 ? -1 : 0);
    return pos + 4;
  }
  if (length > recordEnd - at) throw new MalformedBatchError('a field overruns its record');
  view.setInt32(pos, length);
  pos += 4;
  // A short field is copied byte by byte: cheaper than the view a Buffer copy creates.
  if (length < 64) for (let k = 0; k < length; k++) bytes[pos + k] = data[at + k] as number;
  else data.copy(bytes, pos, at, at + length);
  at += length;
  return pos + length;
}

function checkedInt64(value: bigint, what: string): bigint {
  if (BigInt.asIntN(64, value) !== value)
    throw new MalformedBatchError(`record ${what} ${value} is outside int64`);
  return value;
}
