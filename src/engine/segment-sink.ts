import type { Codec, ManifestSegment } from '../core/manifest/schema.js';
import type { EncodedRecords } from '../core/segment/encoded-records.js';
import { SegmentWriter } from '../core/segment/segment-writer.js';

export interface SegmentRolling {
  codec: Codec;
  level: number | undefined;
  segmentMaxBytes: number;
  segmentMaxRecords: number;
}

export const segmentFileName = (firstOffset: bigint): string =>
  `${firstOffset.toString().padStart(20, '0')}.kseg`;

/**
 * Writes the records of one partition into a series of segment files, rolling by raw size and record
 * count. Each segment becomes visible only when complete (SegmentWriter renames it into place), so a crash
 * leaves whole segments and at most one temp file.
 */
export class PartitionSegmentSink {
  readonly segments: ManifestSegment[] = [];
  #writer: SegmentWriter | undefined;

  constructor(
    private readonly directory: string,
    private readonly rolling: SegmentRolling,
    /** Called once each segment is durable, before the next one starts. */
    private readonly onSegmentDurable: (segment: ManifestSegment) => Promise<void> = () => Promise.resolve(),
  ) {}

  /**
   * Adds records [from, to) of `run`, copied as they are encoded. A segment is finished after the record
   * with which it reaches segmentMaxBytes raw bytes or segmentMaxRecords records. Returns a promise only
   * when a segment is opened or finished, or a block waits for compression, and then it MUST be awaited
   * before the next call.
   */
  appendEncoded(run: EncodedRecords, from: number, to: number): Promise<void> | undefined {
    const writer = this.#writer;
    if (writer && this.#rollAfter(writer, run, from, to) < 0) return writer.appendEncoded(run, from, to);
    return this.#appendRolling(run, from, to);
  }

  /**
   * Index after the last record of run[from, to) that the open segment (or the next one) takes before it is
   * finished: `to` if it takes them all. A caller that records progress per record appends up to there, so
   * that the progress saved when that segment becomes durable counts exactly the records in it.
   */
  segmentTakes(run: EncodedRecords, from: number, to: number): number {
    const rollAt = this.#rollAfter(this.#writer, run, from, to);
    return rollAt < 0 ? to : rollAt;
  }

  async #appendRolling(run: EncodedRecords, from: number, to: number): Promise<void> {
    let i = from;
    while (i < to) {
      const writer = this.#writer ?? (await this.#open(run.offsetAt(i)));
      const rollAt = this.#rollAfter(writer, run, i, to);
      const j = rollAt < 0 ? to : rollAt;
      const flushing = writer.appendEncoded(run, i, j);
      if (flushing) await flushing;
      i = j;
      if (rollAt >= 0) await this.close();
    }
  }

  /**
   * Index after the record of run[from, to) with which the open segment reaches its size or record limit
   * (the segment is finished after that record); -1 if none of them reaches one.
   */
  #rollAfter(writer: SegmentWriter | undefined, run: EncodedRecords, from: number, to: number): number {
    const byCount = from + (this.rolling.segmentMaxRecords - (writer?.recordCount ?? 0));
    const bytesLeft = this.rolling.segmentMaxBytes - (writer?.rawBytes ?? 0);
    const base = run.startOf(from);
    const ends = run.ends;
    const last = Math.min(to, byCount);
    for (let k = from; k < last; k++) if ((ends[k] as number) - base >= bytesLeft) return k + 1;
    return byCount <= to ? byCount : -1;
  }

  async #open(firstOffset: bigint): Promise<SegmentWriter> {
    const writer = await SegmentWriter.open(`${this.directory}/${segmentFileName(firstOffset)}`, {
      codec: this.rolling.codec,
      ...(this.rolling.level === undefined ? {} : { level: this.rolling.level }),
    });
    this.#writer = writer;
    return writer;
  }

  /** Finishes the open segment, if any, making it durable. */
  async close(): Promise<void> {
    const writer = this.#writer;
    if (!writer) return;
    this.#writer = undefined;
    const info = await writer.finish();
    const segment: ManifestSegment = {
      file: info.file,
      firstOffset: info.firstOffset,
      lastOffset: info.lastOffset,
      recordCount: info.recordCount,
      minTimestamp: info.minTimestamp,
      maxTimestamp: info.maxTimestamp,
      rawBytes: info.rawBytes,
      storedBytes: info.storedBytes,
      fileBytes: info.fileBytes,
      bodyCrc32c: info.bodyCrc32c,
    };
    this.segments.push(segment);
    await this.onSegmentDurable(segment);
  }

  /** Drops the open segment's temp file (used when the run fails). */
  async abort(): Promise<void> {
    const writer = this.#writer;
    this.#writer = undefined;
    await writer?.abort();
  }
}
