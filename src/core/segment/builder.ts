import { BufferPool } from '../buffer-pool.js';
import { crc32c, crc32cCombine } from '../checksum.js';
import { checkLevel, compressBlock, type CodecName } from '../codecs.js';
import { KbackupError } from '../errors.js';
import type { BackupRecord } from '../record.js';
import {
  DEFAULT_BLOCK_BYTES,
  HEADER_BYTES,
  encodeBlockHeader,
  encodeHeader,
  encodeTrailer,
  segmentFileBytes,
  type SegmentHeaderFields,
} from './format.js';
import type { EncodedRecords } from './encoded-records.js';
import { encodedRecordSize, validateRecord, writeRecord } from './record-codec.js';

export interface SegmentBuildOptions {
  codec: CodecName;
  /** gzip 1-9 or zstd 1-22; undefined = codec default. */
  level?: number;
  /** Raw bytes at which a block is closed; default 1 MiB. */
  blockBytes?: number;
}

/**
 * Where a segment's bytes go: a file handle or memory. Writes are positional and never overlap. The
 * buffers are lent: once write() resolves the builder reuses them, so a sink that keeps bytes must copy.
 */
export interface SegmentSink {
  write(buffers: Buffer[], position: number): Promise<void>;
}

export interface BuiltSegment {
  header: SegmentHeaderFields;
  fileBytes: number;
}

/**
 * Blocks compressing at once. Two lets the thread pool compress block N while the caller fills block N+1,
 * while memory stays bounded at about three blocks (two in flight plus the one being filled).
 */
const MAX_IN_FLIGHT = 2;
const MAX_BLOCK_BYTES = 0x7fff_ffff;
/** A block buffer starts at the block size up to this, and grows by doubling beyond it. */
const MAX_INITIAL_BLOCK_BUFFER = 4 * 1024 * 1024;
/** Block buffers kept for reuse (see BufferPool): one per block in flight plus the one being filled. */
const MAX_SPARE_BUFFERS = MAX_IN_FLIGHT + 1;
const EMPTY_BLOCK = Buffer.alloc(0);

/**
 * The format logic shared by SegmentWriter (file) and encodeSegment (memory): groups records into
 * blocks, compresses them off the main thread, writes them to the sink strictly in order, and
 * produces the trailer and the header with its totals.
 */
export class SegmentBuilder {
  recordCount = 0;
  rawBytes = 0;
  firstOffset: bigint | undefined;
  lastOffset: bigint | undefined;
  minTimestamp: bigint | undefined;
  maxTimestamp: bigint | undefined;

  private readonly codec: CodecName;
  private readonly level: number | undefined;
  private readonly blockBytes: number;
  /** The block being filled: records are encoded into it as they arrive (see append). */
  private block: Buffer = EMPTY_BLOCK;
  private blockView: DataView = new DataView(EMPTY_BLOCK.buffer, 0, 0);
  private pendingCount = 0;
  private pendingBytes = 0;
  /** Block buffers of the initial size, taken back once their block is written. */
  private readonly buffers: BufferPool;
  /** Blocks compressing or waiting to be written, oldest first; they complete in this order. */
  private readonly inFlight: Promise<void>[] = [];
  /** The last block's write; each block's write waits on it, which keeps blocks in file order. */
  private writeTail: Promise<void> = Promise.resolve();
  private position = HEADER_BYTES;
  private blockCount = 0;
  private bodyCrc = 0;
  private failure: { error: unknown } | undefined;
  private blocked = false;
  private finished = false;

  constructor(
    private readonly sink: SegmentSink,
    options: SegmentBuildOptions,
  ) {
    checkLevel(options.codec, options.level);
    const blockBytes = options.blockBytes ?? DEFAULT_BLOCK_BYTES;
    if (!Number.isInteger(blockBytes) || blockBytes < 1 || blockBytes > MAX_BLOCK_BYTES) {
      throw new KbackupError(
        'USAGE',
        `Block size ${blockBytes} must be an integer from 1 to ${MAX_BLOCK_BYTES}.`,
      );
    }
    this.codec = options.codec;
    this.level = options.level;
    this.blockBytes = blockBytes;
    this.buffers = new BufferPool(Math.min(blockBytes, MAX_INITIAL_BLOCK_BUFFER), MAX_SPARE_BUFFERS);
  }

  /**
   * Adds a record. Returns undefined on the hot path; returns a promise only when a block was closed
   * and the in-flight window is full, and then the caller MUST await it before the next append.
   * Offsets must strictly increase (gaps are fine).
   */
  append(record: BackupRecord): Promise<void> | undefined {
    this.checkAppendable();
    validateRecord(record);
    this.checkFollows(record.offset);
    const size = encodedRecordSize(record);
    // A record that would push a non-empty block past the target starts a new block, so that a block
    // only exceeds the target when it holds a single oversized record.
    const before =
      this.pendingCount > 0 && this.pendingBytes + size > this.blockBytes ? this.closeBlock() : undefined;

    this.firstOffset ??= record.offset;
    this.lastOffset = record.offset;
    if (this.minTimestamp === undefined || record.timestamp < this.minTimestamp) {
      this.minTimestamp = record.timestamp;
    }
    if (this.maxTimestamp === undefined || record.timestamp > this.maxTimestamp) {
      this.maxTimestamp = record.timestamp;
    }
    this.recordCount++;
    this.rawBytes += size;
    this.reserve(size);
    // Encoded now rather than at block close: the record and the fetched buffer its bytes view are then
    // garbage at once, instead of surviving a young-generation collection or two while the block fills.
    this.pendingBytes = writeRecord(this.block, this.pendingBytes, record, this.blockView);
    this.pendingCount++;

    if (this.pendingBytes < this.blockBytes) return before;
    if (before === undefined) return this.closeBlock();
    // Two blocks closed by one record: launch the second only once the first has a slot.
    return this.gate(before.then(() => this.closeBlock()));
  }

  /**
   * Adds records [from, to) of `run`, copied as they are encoded: the same bytes, blocks and totals as
   * appending them one by one, at a copy per block instead of work per record. Same contract as append():
   * a returned promise MUST be awaited before the next call.
   */
  appendEncoded(run: EncodedRecords, from: number, to: number): Promise<void> | undefined {
    this.checkAppendable();
    if (from >= to) return undefined;
    this.checkFollows(run.offsetAt(from));
    const waiting = this.appendRange(run, from, to);
    return waiting && this.gate(waiting);
  }

  private appendRange(run: EncodedRecords, from: number, to: number): Promise<void> | undefined {
    const ends = run.ends;
    let i = from;
    while (i < to) {
      // The records that go into the current block, by append()'s rule: a record that would push a
      // non-empty block past the target starts the next one, and a block at or past it is closed.
      const start = run.startOf(i);
      let end = start;
      let bytes = this.pendingBytes;
      let j = i;
      let full = false;
      while (j < to) {
        const recordEnd = ends[j] as number;
        if (bytes > 0 && bytes + (recordEnd - end) > this.blockBytes) {
          full = true;
          break;
        }
        bytes += recordEnd - end;
        end = recordEnd;
        j++;
        if (bytes >= this.blockBytes) {
          full = true;
          break;
        }
      }
      if (j > i) {
        this.reserve(end - start);
        run.bytes.copy(this.block, this.pendingBytes, start, end);
        this.firstOffset ??= run.offsetAt(i);
        this.lastOffset = run.offsetAt(j - 1);
        const [min, max] = run.timestampRange(i, j);
        if (this.minTimestamp === undefined || min < this.minTimestamp) this.minTimestamp = min;
        if (this.maxTimestamp === undefined || max > this.maxTimestamp) this.maxTimestamp = max;
        this.recordCount += j - i;
        this.rawBytes += end - start;
        this.pendingCount += j - i;
        this.pendingBytes = bytes;
        i = j;
      }
      if (full) {
        const waiting = this.launchBlock();
        if (waiting) return i < to ? waiting.then(() => this.appendRange(run, i, to)) : waiting;
      }
    }
    return undefined;
  }

  /** Flushes the last block, writes trailer and header; the segment must not be empty. */
  async finish(): Promise<BuiltSegment> {
    if (this.blocked) throw new KbackupError('INTERNAL', 'segment finish() called before append() settled');
    if (this.finished) throw new KbackupError('INTERNAL', 'segment finish() called twice');
    this.finished = true;
    if (this.recordCount === 0) throw new KbackupError('INTERNAL', 'refusing to write an empty segment');
    if (this.pendingCount > 0) await this.closeBlock();
    await this.settle();
    this.throwIfFailed();

    const bodyBytes = this.position - HEADER_BYTES;
    const fileBytes = segmentFileBytes(bodyBytes);
    await this.sink.write([encodeTrailer(fileBytes)], this.position);
    const header: SegmentHeaderFields = {
      codec: this.codec,
      recordCount: this.recordCount,
      blockCount: this.blockCount,
      firstOffset: this.firstOffset ?? 0n,
      lastOffset: this.lastOffset ?? 0n,
      minTimestamp: this.minTimestamp ?? 0n,
      maxTimestamp: this.maxTimestamp ?? 0n,
      rawBytes: this.rawBytes,
      bodyBytes,
      bodyCrc32c: this.bodyCrc,
    };
    // Written last: until here the placeholder header (zeros) makes the file unreadable as a segment.
    await this.sink.write([encodeHeader(header)], 0);
    return { header, fileBytes };
  }

  /** Resolves once no block is compressing or being written; never rejects. */
  async settle(): Promise<void> {
    await this.writeTail;
  }

  private checkAppendable(): void {
    if (this.blocked) {
      throw new KbackupError('INTERNAL', 'segment append() called before the previous append() settled');
    }
    if (this.finished) throw new KbackupError('INTERNAL', 'segment append() called after finish()');
    this.throwIfFailed();
  }

  /** Offsets must strictly increase across appends (gaps are fine). */
  private checkFollows(offset: bigint): void {
    if (this.lastOffset !== undefined && offset <= this.lastOffset) {
      throw new KbackupError(
        'INTERNAL',
        `segment offsets must strictly increase: got ${offset} after ${this.lastOffset}`,
      );
    }
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure.error;
  }

  private gate(promise: Promise<void>): Promise<void> {
    this.blocked = true;
    return promise.finally(() => {
      this.blocked = false;
    });
  }

  /** Makes room for `size` more bytes in the block buffer, starting or growing it. */
  private reserve(size: number): void {
    const needed = this.pendingBytes + size;
    if (needed <= this.block.length) return;
    let capacity = this.pendingCount === 0 ? this.buffers.bufferBytes : this.block.length;
    while (capacity < needed) capacity *= 2;
    // A block buffer of the initial size comes from the pool; one grown for large records does not.
    const grown = this.buffers.take(Math.max(capacity, needed));
    if (this.pendingCount > 0) this.block.copy(grown, 0, 0, this.pendingBytes);
    this.block = grown;
    this.blockView = new DataView(grown.buffer, grown.byteOffset, grown.byteLength);
  }

  /** Starts compressing the pending records; returns a promise only if the caller must wait for a slot. */
  private closeBlock(): Promise<void> | undefined {
    const waiting = this.launchBlock();
    return waiting && this.gate(waiting);
  }

  /** closeBlock() without marking the builder blocked while the returned promise is pending. */
  private launchBlock(): Promise<void> | undefined {
    const buffer = this.block;
    const recordCount = this.pendingCount;
    const rawLength = this.pendingBytes;
    // The next block takes another buffer: this one is compressed (and maybe stored as is) asynchronously.
    this.block = EMPTY_BLOCK;
    this.pendingCount = 0;
    this.pendingBytes = 0;
    this.launch(buffer, rawLength, recordCount);
    if (this.inFlight.length < MAX_IN_FLIGHT) return undefined;
    return this.waitForSlot();
  }

  private async waitForSlot(): Promise<void> {
    while (this.inFlight.length >= MAX_IN_FLIGHT) await this.inFlight[0];
    this.throwIfFailed();
  }

  private launch(buffer: Buffer, rawLength: number, recordCount: number): void {
    const compressed = compressBlock(this.codec, buffer.subarray(0, rawLength), this.level);
    // Handled below once the previous write is done; this stops an early rejection counting as unhandled.
    compressed.catch(() => undefined);
    const done = this.writeBlock(this.writeTail, compressed, buffer, rawLength, recordCount);
    this.inFlight.push(done);
    this.writeTail = done;
  }

  /** Writes one block after the previous one; records failures instead of rejecting. */
  private async writeBlock(
    previous: Promise<void>,
    compressed: Promise<Buffer>,
    buffer: Buffer,
    rawLength: number,
    recordCount: number,
  ): Promise<void> {
    try {
      await previous;
      if (this.failure !== undefined) return;
      const stored = await compressed;
      // One pass over the stored bytes serves both the block CRC and the body CRC.
      const storedCrc = crc32c(stored);
      const blockHeader = encodeBlockHeader(rawLength, recordCount, stored, storedCrc);
      const at = this.position;
      this.position += blockHeader.length + stored.length;
      await this.sink.write([blockHeader, stored], at);
      this.bodyCrc = crc32cCombine(crc32c(blockHeader, this.bodyCrc), storedCrc, stored.length);
      this.blockCount++;
      // Compressed and written (with codec none, `stored` is this buffer): nothing refers to it any more.
      this.buffers.release(buffer);
    } catch (error) {
      this.failure ??= { error };
    } finally {
      // Blocks finish in launch order (each awaits the previous), so this block is the oldest entry.
      void this.inFlight.shift();
    }
  }
}
