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
 * What to record once a sealed segment is durable. Taken synchronously when the segment is sealed, so that
 * it describes exactly that segment's end even though more records have been appended by the time the
 * segment is durable. Sealing happens inside the append that completes the segment (after the previous
 * segment's checkpoint), before that append's promise settles: a caller that counts records before
 * appending them and awaits each append sees its totals end exactly at the sealed segment's last record.
 */
export type SegmentCheckpoint = (segment: ManifestSegment) => Promise<void>;

const NO_CHECKPOINT: SegmentCheckpoint = () => Promise.resolve();

/**
 * Writes the records of one partition into a series of segment files, rolling by raw size and record
 * count. Each segment becomes visible only when complete (SegmentWriter renames it into place), so a crash
 * leaves whole segments and at most two temp files.
 *
 * A sealed segment is finished (last block, trailer, header, fsync, rename, directory fsync) while the
 * next one fills, because a partition that waited for each fsync spent about a sixth of a codec none
 * backup doing nothing. Segments still become durable, and are checkpointed, strictly in order: a segment
 * is sealed only after the one before it is durable and checkpointed, so at most one is finishing at a
 * time.
 */
export class PartitionSegmentSink {
  readonly segments: ManifestSegment[] = [];
  #writer: SegmentWriter | undefined;
  /** The sealed segment's finish and checkpoint; never rejects (failures go to #failure). */
  #finishing: Promise<void> = Promise.resolve();
  #failure: { error: unknown } | undefined;

  constructor(
    private readonly directory: string,
    private readonly rolling: SegmentRolling,
    /** Called when a segment is sealed; what it returns is called once that segment is durable. */
    private readonly onSegmentSealed: () => SegmentCheckpoint = () => NO_CHECKPOINT,
  ) {}

  /**
   * Adds records [from, to) of `run`, copied as they are encoded. A segment is sealed after the record
   * with which it reaches segmentMaxBytes raw bytes or segmentMaxRecords records. Returns a promise only
   * when a segment is opened or sealed, or a block waits for compression, and then it MUST be awaited
   * before the next call. Throws the failure of a sealed segment that could not be finished.
   */
  appendEncoded(run: EncodedRecords, from: number, to: number): Promise<void> | undefined {
    this.#throwIfFailed();
    const writer = this.#writer;
    if (writer && this.#rollAfter(writer, run, from, to) < 0) return writer.appendEncoded(run, from, to);
    return this.#appendRolling(run, from, to);
  }

  /**
   * Index after the last record of run[from, to) that the open segment (or the next one) takes before it is
   * sealed: `to` if it takes them all. A caller that records progress per record appends up to there, so
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
      if (rollAt >= 0) await this.#seal();
    }
  }

  /**
   * Index after the record of run[from, to) with which the open segment reaches its size or record limit
   * (the segment is sealed after that record); -1 if none of them reaches one.
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

  /**
   * Seals the open segment, if any, and starts finishing it in the background, after waiting for the
   * segment sealed before it (whose failure it throws).
   */
  async #seal(): Promise<void> {
    await this.#finishing;
    this.#throwIfFailed();
    const writer = this.#writer;
    if (!writer) return;
    this.#writer = undefined;
    const checkpoint = this.onSegmentSealed();
    this.#finishing = this.#finish(writer, checkpoint).catch((error: unknown) => {
      this.#failure ??= { error };
    });
  }

  async #finish(writer: SegmentWriter, checkpoint: SegmentCheckpoint): Promise<void> {
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
    await checkpoint(segment);
  }

  #throwIfFailed(): void {
    if (this.#failure !== undefined) throw this.#failure.error;
  }

  /**
   * Finishes the open segment, if any, and returns once every segment is durable and checkpointed. If a
   * sealed segment failed, the open one is dropped (its temp file removed) and the failure thrown.
   */
  async close(): Promise<void> {
    try {
      await this.#seal();
      await this.#finishing;
      this.#throwIfFailed();
    } catch (error) {
      await this.abort();
      throw error;
    }
  }

  /**
   * Drops the open segment's temp file (used when the run fails), after the sealed segment's finish ends:
   * if that failed, the segment writer has already removed its temp file.
   */
  async abort(): Promise<void> {
    const writer = this.#writer;
    this.#writer = undefined;
    await Promise.all([this.#finishing, writer?.abort()]);
  }
}
