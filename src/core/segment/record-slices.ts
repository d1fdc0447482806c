/*
 * Records of a verified raw block read in place, in the block's own encoding (record-codec.ts), without a
 * BackupRecord, a Buffer view or a BigInt per record. Restore hands runs of them to the producer, which
 * re-encodes them straight into a Kafka record batch: with 100-byte records the objects of the decoded
 * path were most of restore's garbage collection and the largest part of its peak RSS.
 *
 * Only for blocks that passed summarizeRecords (segment-scan.ts checks every block before handing it
 * out): the framing is then known to be sound, so nothing here re-checks lengths.
 */

/** Consecutive records of one raw block: bytes [start, end) hold `count` records; the last starts at lastStart. */
export interface RecordSlice {
  bytes: Buffer;
  start: number;
  end: number;
  count: number;
  lastStart: number;
}

/** Records in the segment encoding, as restore hands them to KafkaPort.produce. */
export interface SegmentRecords {
  slices: RecordSlice[];
  count: number;
}

const KEY_AT = 17;

/**
 * Steps through `recordCount` records of a verified raw block, the first starting at byte `from`.
 * `start` and `end` frame the current record.
 */
export class RecordCursor {
  start = 0;
  end: number;
  /** Key, value and header bytes of the current record (recordPayloadBytes). */
  payloadBytes = 0;
  #remaining: number;
  readonly #raw: Buffer;

  constructor(raw: Buffer, recordCount: number, from = 0) {
    this.#raw = raw;
    this.#remaining = recordCount;
    this.end = from;
  }

  /** Moves to the next record; false after the last. */
  next(): boolean {
    if (this.#remaining === 0) return false;
    this.#remaining--;
    const raw = this.#raw;
    this.start = this.end;
    let pos = this.start + KEY_AT;
    let payload = 0;
    // Key and value: int32 length, -1 for null.
    for (let field = 0; field < 2; field++) {
      const length = raw.readInt32BE(pos);
      pos += 4;
      if (length > 0) {
        pos += length;
        payload += length;
      }
    }
    const headers = raw.readUInt32BE(pos);
    pos += 4;
    for (let h = 0; h < headers; h++) {
      const keyLength = raw.readInt32BE(pos);
      pos += 4 + keyLength;
      const valueLength = raw.readInt32BE(pos);
      pos += 4;
      if (valueLength > 0) pos += valueLength;
      payload += keyLength + (valueLength > 0 ? valueLength : 0);
    }
    this.end = pos;
    this.payloadBytes = payload;
    return true;
  }

  /** The current record's offset (a BigInt each call: read it only where needed). */
  get offset(): bigint {
    return offsetAt(this.#raw, this.start);
  }

  get timestamp(): bigint {
    return this.#raw.readBigInt64BE(this.start + 9);
  }
}

/** Offset of the record that starts at byte `at` of a raw block. */
export function offsetAt(bytes: Buffer, at: number): bigint {
  return bytes.readBigInt64BE(at + 1);
}

/** The offsets of a slice's records, in order. */
export function sliceOffsets(slice: RecordSlice): bigint[] {
  const offsets: bigint[] = [];
  const cursor = new RecordCursor(slice.bytes, slice.count, slice.start);
  while (cursor.next()) offsets.push(cursor.offset);
  return offsets;
}
