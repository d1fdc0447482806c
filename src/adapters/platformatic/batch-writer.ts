import { crc32c } from '../../core/checksum.js';

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

const MAGIC = 2;
const TRANSACTIONAL = 1 << 4;
/** baseOffset(8) length(4) partitionLeaderEpoch(4) magic(1) crc(4): the CRC covers what follows. */
const CRC_END = 21;
/** The rest of the header: attributes(2) lastOffsetDelta(4) firstTimestamp(8) maxTimestamp(8) producerId(8)
 * producerEpoch(2) baseSequence(4) recordCount(4). */
const BATCH_OVERHEAD = CRC_END + 40;
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
export function encodeRecordBatch(records: readonly BatchRecord[], header: BatchHeader, now: bigint): Buffer {
  const count = records.length;
  const firstTimestamp = records[0]?.timestamp ?? now;
  let maxTimestamp = firstTimestamp;
  const deltas = new Array<number | bigint>(count);
  const bodySizes = new Int32Array(count);
  let total = BATCH_OVERHEAD;
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

  const buf = Buffer.allocUnsafe(total);
  buf.writeBigInt64BE(0n, 0);
  buf.writeInt32BE(total - 12, 8);
  buf.writeInt32BE(header.partitionLeaderEpoch ?? -1, 12);
  buf.writeInt8(MAGIC, 16);
  buf.writeInt16BE(header.transactional ? TRANSACTIONAL : 0, CRC_END);
  buf.writeInt32BE(count - 1, 23);
  buf.writeBigInt64BE(firstTimestamp, 27);
  buf.writeBigInt64BE(maxTimestamp, 35);
  buf.writeBigInt64BE(header.producerId, 43);
  buf.writeInt16BE(header.producerEpoch, 51);
  buf.writeInt32BE(header.firstSequence, 53);
  buf.writeInt32BE(count, 57);
  let pos = BATCH_OVERHEAD;
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
  buf.writeUInt32BE(crc32c(buf.subarray(CRC_END)), 17);
  return buf;
}
