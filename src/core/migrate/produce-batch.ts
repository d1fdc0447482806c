import { grownBuffer } from '../buffer-pool.js';
import type { OffsetMapBuilder } from '../offset-map.js';
import type { EncodedRecords } from '../segment/encoded-records.js';
import type { SegmentRecords } from '../segment/record-slices.js';
import { RECORD_OVERHEAD } from './records.js';

/** The buffer starts at the request size up to this, and doubles when records need more. */
const MAX_INITIAL_BYTES = 4 * 1024 * 1024;

/**
 * Gathers fetched records into one produce request, in the segment encoding the producer re-encodes from.
 * A fetched run (EncodedRecords) is valid only until the next batch of its fetch is taken, and a fetch
 * holds many small Kafka batches, so the records are copied once into a buffer of the request's own.
 * Their source offsets are kept as runs of consecutive offsets, for the offset map: no object, Buffer
 * view or BigInt is made per record (migrate built all three before).
 *
 * A request takes records while their payload plus RECORD_OVERHEAD each stays within `maxBytes`, and
 * always at least one record. Reuse a builder (clear()) rather than making one per request: its buffer is
 * external memory, and a new one per fetch doubled migrate's full garbage collections.
 */
export class ProduceBatchBuilder {
  count = 0;
  payloadBytes = 0;
  #bytes: Buffer;
  #length = 0;
  #lastStart = 0;
  /** Source offsets of the records, in order, as runs of consecutive offsets. */
  #sources: { first: bigint; length: number }[] = [];

  constructor(readonly maxBytes: number) {
    this.#bytes = Buffer.allocUnsafeSlow(Math.min(Math.max(maxBytes, 1), MAX_INITIAL_BYTES));
  }

  /**
   * Adds records [from, to) of `run` while they fit, and returns the index after the last one taken: `to`
   * when all of them fit, less when the request is full and must be sent before the rest.
   */
  add(run: EncodedRecords, from: number, to: number): number {
    let budget = this.maxBytes - this.payloadBytes - this.count * RECORD_OVERHEAD;
    let j = from;
    while (j < to) {
      const size = run.payloadBytes(j, j + 1) + RECORD_OVERHEAD;
      if (size > budget && (this.count > 0 || j > from)) break;
      budget -= size;
      j++;
    }
    if (j === from) return from;
    const start = run.startOf(from);
    const end = run.ends[j - 1] as number;
    this.#bytes = grownBuffer(this.#bytes, this.#length, this.#length + end - start);
    run.bytes.copy(this.#bytes, this.#length, start, end);
    this.#lastStart = this.#length + run.startOf(j - 1) - start;
    this.#length += end - start;
    this.#addSources(run, from, j);
    this.count += j - from;
    this.payloadBytes += run.payloadBytes(from, j);
    return j;
  }

  /** The records gathered, for KafkaPort.produce; valid until clear(). */
  records(): SegmentRecords {
    return {
      slices: [
        { bytes: this.#bytes, start: 0, end: this.#length, count: this.count, lastStart: this.#lastStart },
      ],
      count: this.count,
    };
  }

  /** Records in `map` that these records were written at consecutive target offsets from `targetBase`. */
  mapTo(map: OffsetMapBuilder, targetBase: bigint): void {
    let target = targetBase;
    for (const { first, length } of this.#sources) {
      map.addRun(first, target, BigInt(length));
      target += BigInt(length);
    }
  }

  /** Empties the request for the next one, keeping its buffer. */
  clear(): void {
    this.count = 0;
    this.payloadBytes = 0;
    this.#length = 0;
    this.#lastStart = 0;
    this.#sources = [];
  }

  #addSources(run: EncodedRecords, from: number, to: number): void {
    const deltas = run.offsetDeltas;
    for (let i = from; i < to;) {
      let k = i + 1;
      while (k < to && (deltas[k] as number) === (deltas[k - 1] as number) + 1) k++;
      const first = run.baseOffset + BigInt(deltas[i] as number);
      const last = this.#sources.at(-1);
      if (last !== undefined && last.first + BigInt(last.length) === first) last.length += k - i;
      else this.#sources.push({ first, length: k - i });
      i = k;
    }
  }
}
