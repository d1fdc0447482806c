import { grownBuffer } from '../buffer-pool.js';
import { KbackupError } from '../errors.js';
import type { BackupRecord } from '../record.js';
import { recordPayloadBytes } from '../record.js';
import { encodedRecordSize, validateRecord, writeRecord } from './record-codec.js';

const INITIAL_BYTES = 64 * 1024;
const INITIAL_RECORDS = 256;
const TWO_32 = 2 ** 32;

/**
 * Consecutive records of one partition already in the segment's raw block encoding (record-codec.ts), with
 * per record what the segment builder and the backup engine need, as plain numbers. Backup's fetch hands
 * the records of each Kafka batch over in this form: the adapter transcodes the batch straight into it,
 * and the builder copies runs of records into its block, without a BackupRecord, Buffer views or BigInts
 * per record (with 100-byte records those were most of backup's main thread).
 *
 * Record i occupies bytes [startOf(i), ends[i]) of `bytes`; its offset is baseOffset + offsetDeltas[i],
 * and offsets strictly increase. One instance is refilled batch after batch: what it holds is valid until
 * the next reset().
 */
export class EncodedRecords {
  bytes: Buffer;
  /** A view of `bytes`, for the writers' fixed-width fields. */
  view: DataView;
  count = 0;
  /** Bytes used: ends[count - 1], or 0. */
  length = 0;
  baseOffset = 0n;
  ends: Int32Array;
  offsetDeltas: Int32Array;
  /** Timestamps as numbers: exact while timestampsExact; otherwise read them with timestampAt(). */
  timestamps: Float64Array;
  timestampsExact = true;
  /** Key, value and header bytes of records 0..i together (recordPayloadBytes summed). */
  payloadEnds: Float64Array;

  constructor(bytes = INITIAL_BYTES, records = INITIAL_RECORDS) {
    this.bytes = Buffer.allocUnsafeSlow(bytes);
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    this.ends = new Int32Array(records);
    this.offsetDeltas = new Int32Array(records);
    this.timestamps = new Float64Array(records);
    this.payloadEnds = new Float64Array(records);
  }

  /** Empties the run for records whose offsets count from `baseOffset`. */
  reset(baseOffset: bigint): void {
    this.count = 0;
    this.length = 0;
    this.baseOffset = baseOffset;
    this.timestampsExact = true;
  }

  /** Makes `bytes` at least `capacity` long, keeping what it holds (the buffer and view may change). */
  reserve(capacity: number): void {
    const grown = grownBuffer(this.bytes, this.length, capacity);
    if (grown === this.bytes) return;
    this.bytes = grown;
    this.view = new DataView(grown.buffer, grown.byteOffset, grown.byteLength);
  }

  /**
   * Records the record just written at [this.length, end): its offset delta, timestamp (a number, or NaN
   * with timestampsExact cleared when it is not exactly one) and payload bytes.
   */
  push(end: number, offsetDelta: number, timestamp: number, payloadBytes: number): void {
    const i = this.count;
    if (i === this.ends.length) this.#growRecords();
    this.ends[i] = end;
    this.offsetDeltas[i] = offsetDelta;
    this.timestamps[i] = timestamp;
    if (!Number.isSafeInteger(timestamp)) this.timestampsExact = false;
    this.payloadEnds[i] = (i === 0 ? 0 : (this.payloadEnds[i - 1] as number)) + payloadBytes;
    this.count = i + 1;
    this.length = end;
  }

  startOf(i: number): number {
    return i === 0 ? 0 : (this.ends[i - 1] as number);
  }

  offsetAt(i: number): bigint {
    return this.baseOffset + BigInt(this.offsetDeltas[i] as number);
  }

  timestampAt(i: number): bigint {
    return this.bytes.readBigInt64BE(this.startOf(i) + 9);
  }

  /** Payload bytes of records [from, to). */
  payloadBytes(from: number, to: number): number {
    if (to <= from) return 0;
    return (this.payloadEnds[to - 1] as number) - (from === 0 ? 0 : (this.payloadEnds[from - 1] as number));
  }

  /** Smallest and largest timestamp of records [from, to), which must not be empty. */
  timestampRange(from: number, to: number): [min: bigint, max: bigint] {
    if (!this.timestampsExact) {
      let min = this.timestampAt(from);
      let max = min;
      for (let i = from + 1; i < to; i++) {
        const t = this.timestampAt(i);
        if (t < min) min = t;
        if (t > max) max = t;
      }
      return [min, max];
    }
    const timestamps = this.timestamps;
    let min = timestamps[from] as number;
    let max = min;
    for (let i = from + 1; i < to; i++) {
      const t = timestamps[i] as number;
      if (t < min) min = t;
      else if (t > max) max = t;
    }
    return [BigInt(min), BigInt(max)];
  }

  /**
   * Index of the first record at or after `from` whose offset is above `offset` (count if none): where a
   * run must stop so that nothing above `offset` is appended yet.
   */
  firstAbove(offset: bigint, from = 0): number {
    const limit = offset - this.baseOffset;
    if (limit < 0n) return from;
    if (limit >= 0x7fff_ffffn) return this.count;
    const delta = Number(limit);
    let i = from;
    while (i < this.count && (this.offsetDeltas[i] as number) <= delta) i++;
    return i;
  }

  /** A run holding these records (validated, offsets strictly increasing): for tests and slow paths. */
  static fromRecords(records: readonly BackupRecord[]): EncodedRecords {
    let bytes = 0;
    for (const record of records) {
      validateRecord(record);
      bytes += encodedRecordSize(record);
    }
    const run = new EncodedRecords(Math.max(bytes, 1), Math.max(records.length, 1));
    run.reset(records[0]?.offset ?? 0n);
    for (const record of records) {
      const delta = record.offset - run.baseOffset;
      if (
        delta < 0n ||
        delta > 0x7fff_ffffn ||
        (run.count > 0 && record.offset <= run.offsetAt(run.count - 1))
      ) {
        throw new KbackupError('INTERNAL', `records at offset ${record.offset} do not fit one encoded run`);
      }
      const end = writeRecord(run.bytes, run.length, record, run.view);
      run.push(end, Number(delta), Number(record.timestamp), recordPayloadBytes(record));
    }
    return run;
  }

  #growRecords(): void {
    const size = this.ends.length * 2;
    const grow = <T extends Int32Array | Float64Array>(old: T, fresh: T): T => {
      fresh.set(old);
      return fresh;
    };
    this.ends = grow(this.ends, new Int32Array(size));
    this.offsetDeltas = grow(this.offsetDeltas, new Int32Array(size));
    this.timestamps = grow(this.timestamps, new Float64Array(size));
    this.payloadEnds = grow(this.payloadEnds, new Float64Array(size));
  }
}

/** Writes an int64 given as a safe integer (offsets, epoch milliseconds) big-endian at `at`. */
export function setSafeInt64(view: DataView, at: number, value: number): void {
  view.setInt32(at, Math.floor(value / TWO_32));
  view.setUint32(at + 4, value >>> 0);
}
