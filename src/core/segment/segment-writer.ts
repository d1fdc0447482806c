import { randomBytes } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { KbackupError } from '../errors.js';
import type { BackupRecord } from '../record.js';
import { SegmentBuilder, type SegmentBuildOptions } from './builder.js';
import type { EncodedRecords } from './encoded-records.js';
import { writeFully, syncDirectory } from './file-io.js';
import { HEADER_BYTES, type SegmentInfo } from './format.js';
import { mapFsError } from './fs-errors.js';

export type SegmentWriterOptions = SegmentBuildOptions;

type State = 'open' | 'finishing' | 'finished' | 'aborted';

/**
 * Writes one segment file with bounded memory (about three blocks) and atomic visibility: everything
 * goes to a hidden temp file in the target directory, and only finish() fsyncs it and renames it to its
 * final name. A crash or error at any earlier point leaves at most a `.<name>.tmp-*` file, never a
 * final file. After any error from append() or finish(), call abort() to remove the temp file.
 */
export class SegmentWriter {
  private state: State = 'open';
  private handleOpen = true;
  private finishing: Promise<unknown> | undefined;

  private constructor(
    readonly finalPath: string,
    readonly tempPath: string,
    private readonly handle: FileHandle,
    private readonly builder: SegmentBuilder,
    private readonly codec: SegmentBuildOptions['codec'],
  ) {}

  static async open(finalPath: string, opts: SegmentWriterOptions): Promise<SegmentWriter> {
    const tempPath = join(
      dirname(finalPath),
      `.${basename(finalPath)}.tmp-${randomBytes(6).toString('hex')}`,
    );
    let handle: FileHandle;
    try {
      handle = await open(tempPath, 'wx');
    } catch (error) {
      throw mapFsError(error, tempPath, 'creating segment file');
    }
    const sink = {
      write: async (buffers: Buffer[], position: number): Promise<void> => {
        try {
          await writeFully(handle, buffers, position);
        } catch (error) {
          throw mapFsError(error, tempPath, 'writing segment file');
        }
      },
    };
    try {
      const builder = new SegmentBuilder(sink, opts);
      // Placeholder (zeros, so no valid magic): the real header is written at finish().
      await sink.write([Buffer.alloc(HEADER_BYTES)], 0);
      return new SegmentWriter(finalPath, tempPath, handle, builder, opts.codec);
    } catch (error) {
      await handle.close().catch(() => undefined);
      await rm(tempPath, { force: true }).catch(() => undefined);
      throw error;
    }
  }

  get recordCount(): number {
    return this.builder.recordCount;
  }

  get rawBytes(): number {
    return this.builder.rawBytes;
  }

  get firstOffset(): bigint | undefined {
    return this.builder.firstOffset;
  }

  get lastOffset(): bigint | undefined {
    return this.builder.lastOffset;
  }

  /**
   * Synchronous on the hot path: returns a promise only when a block was closed and the caller has to
   * wait for compression to catch up; it MUST be awaited before the next call:
   * `const p = writer.append(r); if (p) await p;`. Offsets must strictly increase.
   */
  append(record: BackupRecord): Promise<void> | undefined {
    this.checkOpen();
    return this.builder.append(record);
  }

  private checkOpen(): void {
    if (this.state !== 'open') {
      throw new KbackupError('INTERNAL', `append() on a segment writer that is ${this.state}`);
    }
  }

  /** Records [from, to) of `run`, as SegmentBuilder.appendEncoded; the same contract as append(). */
  appendEncoded(run: EncodedRecords, from: number, to: number): Promise<void> | undefined {
    this.checkOpen();
    return this.builder.appendEncoded(run, from, to);
  }

  /** Flushes, writes trailer and header, fsyncs, renames temp -> final and fsyncs the directory. */
  finish(): Promise<SegmentInfo> {
    if (this.state !== 'open') {
      return Promise.reject(
        new KbackupError('INTERNAL', `finish() on a segment writer that is ${this.state}`),
      );
    }
    this.state = 'finishing';
    const finishing = this.doFinish();
    this.finishing = finishing.catch(() => undefined);
    return finishing;
  }

  private async doFinish(): Promise<SegmentInfo> {
    let built;
    try {
      built = await this.builder.finish();
      await this.handle.sync();
      this.handleOpen = false;
      await this.handle.close();
      await rename(this.tempPath, this.finalPath);
    } catch (error) {
      await this.discard();
      throw mapFsError(error, this.tempPath, 'finishing segment file');
    }
    try {
      await syncDirectory(dirname(this.finalPath));
    } catch (error) {
      // The rename may not survive a crash; retracting it keeps "final file exists" meaning "durable".
      this.state = 'aborted';
      await rm(this.finalPath, { force: true }).catch(() => undefined);
      throw mapFsError(error, dirname(this.finalPath), 'syncing directory');
    }
    this.state = 'finished';
    const { header, fileBytes } = built;
    return {
      file: basename(this.finalPath),
      firstOffset: header.firstOffset,
      lastOffset: header.lastOffset,
      recordCount: header.recordCount,
      minTimestamp: header.minTimestamp,
      maxTimestamp: header.maxTimestamp,
      rawBytes: header.rawBytes,
      storedBytes: header.bodyBytes,
      fileBytes,
      bodyCrc32c: header.bodyCrc32c,
      codec: this.codec,
    };
  }

  /**
   * Stops writing and removes the temp file. Safe to call more than once and after a failed finish().
   * During finish() it waits for finish() to end instead: a segment that made it to its final name stays.
   */
  async abort(): Promise<void> {
    if (this.state === 'finishing') await this.finishing;
    if (this.state === 'finished' || this.state === 'aborted') return;
    await this.discard();
  }

  private async discard(): Promise<void> {
    this.state = 'aborted';
    // Let in-flight block writes end first so that none lands after the unlink (they never reject).
    await this.builder.settle();
    if (this.handleOpen) {
      this.handleOpen = false;
      await this.handle.close().catch(() => undefined);
    }
    await rm(this.tempPath, { force: true }).catch(() => undefined);
  }
}
