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

  async append(record: BackupRecord): Promise<void> {
    if (!this.#writer) {
      this.#writer = await SegmentWriter.open(`${this.directory}/${segmentFileName(record.offset)}`, {
        codec: this.rolling.codec,
        ...(this.rolling.level === undefined ? {} : { level: this.rolling.level }),
      });
    }
    // append returns a promise only when a block is handed to the compressor: the hot path stays sync.
    const flushing = this.#writer.append(record);
    if (flushing) await flushing;
    if (
      this.#writer.rawBytes >= this.rolling.segmentMaxBytes ||
      this.#writer.recordCount >= this.rolling.segmentMaxRecords
    ) {
      await this.close();
    }
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
