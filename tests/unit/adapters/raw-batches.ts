import { compressionsAlgorithms } from '@platformatic/kafka';
import { crc32c } from '../../../src/core/checksum.js';

/**
 * A test-only encoder of Kafka v2 record batches, independent of the decoder under test, that can write what
 * a real log holds but a producer cannot: arbitrary offset deltas (compaction gaps), control batches,
 * LogAppendTime, null header keys, huge timestamp deltas, other magic values.
 */
export interface TestRecord {
  offsetDelta: number;
  timestampDelta?: bigint;
  key?: Buffer | null;
  value?: Buffer | null;
  headers?: [Buffer | null, Buffer | null][];
}

export interface TestBatch {
  baseOffset: bigint;
  records: TestRecord[];
  /** Defaults to the largest record offset delta (0 without records). */
  lastOffsetDelta?: number;
  attributes?: number;
  firstTimestamp?: bigint;
  maxTimestamp?: bigint;
  producerId?: bigint;
  producerEpoch?: number;
  magic?: number;
  compression?: keyof typeof compressionsAlgorithms;
}

/** Zigzag LEB128, for int32 varints and int64 varlongs alike. */
function varint(value: bigint | number): Buffer {
  const v = BigInt(value);
  let u = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
  const bytes: number[] = [];
  while (u >= 0x80n) {
    bytes.push(Number(u & 0x7fn) | 0x80);
    u >>= 7n;
  }
  bytes.push(Number(u));
  return Buffer.from(bytes);
}

const bytes = (b: Buffer | null | undefined): Buffer[] => (b ? [varint(b.length), b] : [varint(-1)]);

export function encodeRecord(r: TestRecord): Buffer {
  const body = Buffer.concat([
    Buffer.from([0]),
    varint(r.timestampDelta ?? BigInt(r.offsetDelta) * 10n),
    varint(r.offsetDelta),
    ...bytes(r.key === undefined ? Buffer.from(`k${r.offsetDelta}`) : r.key),
    ...bytes(r.value === undefined ? Buffer.from(`v${r.offsetDelta}`) : r.value),
    varint(r.headers?.length ?? 0),
    ...(r.headers ?? []).flatMap(([k, v]) => [...bytes(k), ...bytes(v)]),
  ]);
  return Buffer.concat([varint(body.length), body]);
}

/** Rewrites the CRC-32C of the batch at `start` after its bytes were changed. */
export function fixCrc(raw: Buffer, start = 0): void {
  const end = start + 12 + raw.readInt32BE(start + 8);
  raw.writeUInt32BE(crc32c(raw.subarray(start + 21, end)), start + 17);
}

export function encodeBatch(b: TestBatch): Buffer {
  let records: Buffer = Buffer.concat(b.records.map(encodeRecord));
  let attributes = b.attributes ?? 0;
  if (b.compression && b.compression !== 'none') {
    const algorithm = compressionsAlgorithms[b.compression];
    attributes |= algorithm.bitmask;
    records = algorithm.compressSync(records);
  }
  const lastOffsetDelta = b.lastOffsetDelta ?? Math.max(0, ...b.records.map((r) => r.offsetDelta));
  const header = Buffer.alloc(61);
  header.writeBigInt64BE(b.baseOffset, 0);
  header.writeInt32BE(49 + records.length, 8);
  header.writeInt32BE(0, 12);
  header.writeInt8(b.magic ?? 2, 16);
  header.writeInt16BE(attributes, 21);
  header.writeInt32BE(lastOffsetDelta, 23);
  header.writeBigInt64BE(b.firstTimestamp ?? 1_000n, 27);
  header.writeBigInt64BE(b.maxTimestamp ?? (b.firstTimestamp ?? 1_000n) + BigInt(lastOffsetDelta) * 10n, 35);
  header.writeBigInt64BE(b.producerId ?? -1n, 43);
  header.writeInt16BE(b.producerEpoch ?? -1, 51);
  header.writeInt32BE(-1, 53);
  header.writeInt32BE(b.records.length, 57);
  const batch = Buffer.concat([header, records]);
  fixCrc(batch);
  return batch;
}

export const encodeBatches = (batches: TestBatch[]): Buffer => Buffer.concat(batches.map(encodeBatch));
