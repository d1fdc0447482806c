import type { Codec, ManifestSegment } from '../core/manifest/schema.js';
import type { BackupRecord } from '../core/record.js';
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
   * Adds a record. Synchronous on the hot path: returns a promise only when a segment is opened or
   * finished, or a block waits for compression, and then it MUST be awaited before the next call.
   */
  append(record: BackupRecord): Promise<void> | undefined {
    const writer = this.#writer;
    if (!writer) return this.#openAndAppend(record);
    // append returns a promise only when a block is handed to the compressor.
    const flushing = writer.append(record);
    if (
      writer.rawBytes < this.rolling.segmentMaxBytes &&
      writer.recordCount < this.rolling.segmentMaxRecords
    ) {
      return flushing;
    }
    return flushing ? flushing.then(() => this.close()) : this.close();
  }

  async #openAndAppend(record: BackupRecord): Promise<void> {
    this.#writer = await SegmentWriter.open(`${this.directory}/${segmentFileName(record.offset)}`, {
      codec: this.rolling.codec,
      ...(this.rolling.level === undefined ? {} : { level: this.rolling.level }),
    });
    const appending = this.append(record);
    if (appending) await appending;
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
