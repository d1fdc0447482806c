import { crc32c, crc32cCombine } from '../checksum.js';
import { decompressBlock } from '../codecs.js';
import { KbackupError, SegmentCorruptError } from '../errors.js';
import type { BackupRecord } from '../record.js';
import {
  BLOCK_HEADER_BYTES,
  HEADER_BYTES,
  MIN_RECORD_BYTES,
  SegmentFormatError,
  TRAILER_BYTES,
  blockChecksumFrom,
  decodeBlockHeader,
  decodeHeader,
  decodeTrailer,
  segmentFileBytes,
  type BlockHeader,
  type SegmentHeader,
} from './format.js';
import { decodeRecordSlice, decodeRecords, summarizeRecords, type RecordsSummary } from './record-codec.js';

/** Random access to a segment's bytes: a file handle or a Buffer. */
export interface ByteSource {
  readonly size: number;
  /** Up to `length` bytes at `position`; shorter only at the end of the data. */
  read(position: number, length: number): Promise<Buffer>;
}

export interface ScanOptions {
  /** Yield only records with offset >= fromOffset. Every block is still verified. */
  fromOffset?: bigint;
  /** Blocks read and decompressed ahead of the one being handed out (default 2). */
  readAhead?: number;
}

/**
 * Blocks in flight ahead of the consumer. Decompression runs on the thread pool, so blocks ahead decompress
 * in parallel with each other and with the consumer. Restore's consumer (the producer) is busy on the main
 * thread, and 2 keep it fed; verify's consumer does almost nothing, so it keeps 3 in flight to use the cores.
 */
const DEFAULT_READ_AHEAD = 2;
/**
 * Records per slice of a verified block handed to the caller. A 1 MiB block of 100-byte records is 10 000
 * records; decoded and handed out at once, they all lived until restore had produced the last of them and
 * were promoted out of the young generation. 1000 is restore's largest produce batch.
 */
const SLICE_RECORDS = 1000;
const CHECK_READ_AHEAD = 3;

/** Decodes just the header, as a SegmentCorruptError with no offset range when it is bad. */
export async function scanHeader(source: ByteSource, path: string): Promise<SegmentHeader> {
  const bytes = await source.read(0, HEADER_BYTES);
  try {
    return decodeHeader(bytes);
  } catch (error) {
    if (error instanceof SegmentFormatError) {
      throw new SegmentCorruptError(`${path}: ${error.message}`, path, undefined, undefined);
    }
    throw error;
  }
}

/**
 * The one segment decoder, behind readSegmentBlocks, verifySegment and decodeSegment. Yields the
 * records of each block, in slices of at most SLICE_RECORDS, once that block's framing, CRC, decompressed
 * length and records have all been checked, and checks the whole-file totals, body CRC and trailer after
 * the last block; returns the header. Damage throws SegmentCorruptError covering offsets from just after
 * the last record verified (or the header's firstOffset) through the header's lastOffset.
 */
export function scanSegment(
  source: ByteSource,
  path: string,
  options: ScanOptions = {},
): AsyncGenerator<BackupRecord[], SegmentHeader, undefined> {
  return scan(source, path, options, 'records') as AsyncGenerator<BackupRecord[], SegmentHeader, undefined>;
}

/** A block's raw (decompressed) bytes after every check of scanSegment passed, records in place. */
export interface VerifiedBlock {
  raw: Buffer;
  recordCount: number;
}

/**
 * scanSegment, yielding each verified block whole and undecoded (read it with RecordCursor): the same
 * checks in the same order, and the same errors.
 */
export function scanSegmentBlocks(
  source: ByteSource,
  path: string,
): AsyncGenerator<VerifiedBlock, SegmentHeader, undefined> {
  return scan(source, path, {}, 'blocks') as AsyncGenerator<VerifiedBlock, SegmentHeader, undefined>;
}

/**
 * Runs every check scanSegment runs (checksums, lengths, each record's framing, offset order, timestamps
 * and the totals) without materialising records, for verify. Returns the header; damage throws
 * SegmentCorruptError with the same message scanSegment would give.
 */
export async function checkSegment(source: ByteSource, path: string): Promise<SegmentHeader> {
  const blocks = scan(source, path, { readAhead: CHECK_READ_AHEAD }, 'none');
  let step = await blocks.next();
  while (step.done !== true) step = await blocks.next();
  return step.value;
}

/** A block whose checksum and lengths passed, with its decompression under way. */
interface PreparedBlock {
  headerBytes: Buffer;
  header: BlockHeader;
  stored: Buffer;
  end: number;
  /** The next block's header bytes, read together with this block's stored bytes (see fetchBlock). */
  nextHeader: Buffer | undefined;
  raw: Promise<Buffer>;
}

/** What scan hands out per block: record slices, the verified raw block, or nothing (checks only). */
type ScanOutput = 'records' | 'blocks' | 'none';

async function* scan(
  source: ByteSource,
  path: string,
  options: ScanOptions,
  output: ScanOutput,
): AsyncGenerator<BackupRecord[] | VerifiedBlock, SegmentHeader, undefined> {
  const header = await scanHeader(source, path);
  const expectedBytes = segmentFileBytes(header.bodyBytes);
  const bodyEnd = HEADER_BYTES + header.bodyBytes;
  let lastGood: bigint | undefined;
  const corrupt = (what: string): SegmentCorruptError =>
    new SegmentCorruptError(
      `${path}: ${what}`,
      path,
      lastGood === undefined ? header.firstOffset : lastGood + 1n,
      header.lastOffset,
    );
  const truncated = (found: number): string =>
    `file truncated: expected ${expectedBytes} bytes, found ${found}`;
  const readExact = async (position: number, length: number): Promise<Buffer> => {
    const bytes = await readUpTo(source, position, length);
    if (typeof bytes === 'number') throw corrupt(truncated(bytes));
    return bytes;
  };

  let bodyCrc = 0;
  let records = 0;
  let rawBytes = 0;
  let minTimestamp = header.maxTimestamp;
  let maxTimestamp = header.minTimestamp;
  /** Records of the blocks prepared so far (checked against the header before decompressing). */
  let preparedRecords = 0;

  /**
   * Checks block `block`'s checksum and lengths, adds it to the body CRC and starts decompressing it
   * (invariant 9: nothing is decompressed before its CRC and lengths are verified). Damage comes back as
   * a message, to be thrown only when the loop reaches that block, after the blocks before it were handed out.
   */
  const prepare = async (block: number, fetching: Promise<Fetched>): Promise<PreparedBlock | string> => {
    const fetched = await fetching;
    if ('damage' in fetched) return fetched.damage;
    if ('found' in fetched) return truncated(fetched.found);
    const { headerBytes, header: blockHeader, stored, end, nextHeader } = fetched;
    // One pass over the stored bytes serves both the block CRC and the body CRC.
    const storedCrc = crc32c(stored);
    if (blockChecksumFrom(headerBytes, storedCrc, stored.length) !== blockHeader.crc32c) {
      return `block ${block} checksum mismatch`;
    }
    const { rawLength, recordCount } = blockHeader;
    if (
      recordCount < 1 ||
      rawLength < recordCount * MIN_RECORD_BYTES ||
      preparedRecords + recordCount > header.recordCount
    ) {
      return `block ${block} header is inconsistent (${recordCount} records in ${rawLength} bytes)`;
    }
    preparedRecords += recordCount;
    bodyCrc = crc32cCombine(crc32c(headerBytes, bodyCrc), storedCrc, stored.length);
    const raw = decompressBlock(header.codec, stored, rawLength);
    raw.catch(() => undefined);
    return { headerBytes, header: blockHeader, stored, end, nextHeader, raw };
  };

  // decodeHeader guarantees blockCount >= 1. Pipeline: while block N is decoded and handed out, the next
  // `depth` blocks are read and decompressing on the thread pool (in parallel with each other). Block k's
  // read starts once block k-1's length is known.
  const depth = Math.max(1, options.readAhead ?? DEFAULT_READ_AHEAD);
  const launch = (block: number, after: Promise<PreparedBlock | string> | undefined) => {
    const launched = (async (): Promise<PreparedBlock | string> => {
      let at = HEADER_BYTES;
      let headerBytes: Buffer | undefined;
      if (after !== undefined) {
        const previous = await after;
        if (typeof previous === 'string') return previous;
        at = previous.end;
        headerBytes = previous.nextHeader;
      }
      return prepare(block, fetchBlock(source, block, at, bodyEnd, headerBytes));
    })();
    launched.catch(() => undefined);
    return launched;
  };
  const ahead: Promise<PreparedBlock | string>[] = [];
  let tail: Promise<PreparedBlock | string> | undefined;
  let launched = 0;
  const topUp = (): void => {
    while (ahead.length < depth && launched < header.blockCount) {
      tail = launch(launched++, tail);
      ahead.push(tail);
    }
  };
  topUp();
  let position = HEADER_BYTES;
  for (let block = 0; block < header.blockCount; block++) {
    const prepared = await (ahead.shift() as Promise<PreparedBlock | string>);
    if (typeof prepared === 'string') throw corrupt(prepared);
    topUp();
    const { rawLength, recordCount } = prepared.header;

    let decoded: BackupRecord[] | undefined;
    let summary: RecordsSummary | undefined;
    let raw: Buffer;
    try {
      raw = await prepared.raw;
      summary = summarizeRecords(raw, recordCount);
      // Without a summary (damage) decode fully: it names what is wrong.
      if (summary === undefined) decoded = decodeRecords(raw, recordCount);
    } catch (error) {
      if (error instanceof KbackupError && error.code === 'SEGMENT_CORRUPT') {
        throw corrupt(`block ${block}: ${error.message}`);
      }
      throw error;
    }
    if (
      summary !== undefined &&
      (lastGood === undefined
        ? summary.firstOffset === header.firstOffset
        : summary.firstOffset > lastGood) &&
      summary.lastOffset <= header.lastOffset &&
      summary.minTimestamp >= header.minTimestamp &&
      summary.maxTimestamp <= header.maxTimestamp
    ) {
      if (summary.minTimestamp < minTimestamp) minTimestamp = summary.minTimestamp;
      if (summary.maxTimestamp > maxTimestamp) maxTimestamp = summary.maxTimestamp;
      lastGood = summary.lastOffset;
    } else {
      // The summary proved the framing sound, so this decode cannot fail; the loop names the bad record.
      decoded ??= decodeRecords(raw, recordCount);
      for (const record of decoded) {
        const expectFirst = lastGood === undefined && record.offset !== header.firstOffset;
        if (
          expectFirst ||
          (lastGood !== undefined && record.offset <= lastGood) ||
          record.offset > header.lastOffset
        ) {
          throw corrupt(
            `block ${block}: record offset ${record.offset} out of order or outside the header's range`,
          );
        }
        if (record.timestamp < header.minTimestamp || record.timestamp > header.maxTimestamp) {
          throw corrupt(`block ${block}: record timestamp ${record.timestamp} outside the header's range`);
        }
        if (record.timestamp < minTimestamp) minTimestamp = record.timestamp;
        if (record.timestamp > maxTimestamp) maxTimestamp = record.timestamp;
        lastGood = record.offset;
      }
    }
    records += recordCount;
    rawBytes += rawLength;
    position = prepared.end;
    if (output === 'none') continue;
    if (output === 'blocks') {
      yield { raw, recordCount };
      continue;
    }
    const from = options.fromOffset;
    if (decoded !== undefined) {
      const wanted = from === undefined ? decoded : decoded.filter((r) => r.offset >= from);
      if (wanted.length > 0) yield wanted;
      continue;
    }
    // The whole block is verified: hand it out a slice at a time, decoding each slice only when asked for.
    let at = 0;
    for (let done = 0; done < recordCount;) {
      const count = Math.min(SLICE_RECORDS, recordCount - done);
      const slice = decodeRecordSlice(raw, at, count, recordCount);
      at = slice.next;
      done += count;
      const wanted = from === undefined ? slice.records : slice.records.filter((r) => r.offset >= from);
      if (wanted.length > 0) yield wanted;
    }
  }

  if (position !== bodyEnd) throw corrupt(`${bodyEnd - position} unexpected bytes after the last block`);
  if (bodyCrc !== header.bodyCrc32c) throw corrupt('body checksum mismatch');
  const totals: [string, unknown, unknown][] = [
    ['recordCount', records, header.recordCount],
    ['rawBytes', rawBytes, header.rawBytes],
    ['lastOffset', lastGood, header.lastOffset],
    ['minTimestamp', minTimestamp, header.minTimestamp],
    ['maxTimestamp', maxTimestamp, header.maxTimestamp],
  ];
  for (const [field, found, declared] of totals) {
    if (found !== declared) {
      throw corrupt(`header ${field} is ${String(declared)}, blocks hold ${String(found)}`);
    }
  }
  const trailerLength = decodeTrailerAt(await readExact(bodyEnd, TRAILER_BYTES), corrupt);
  if (trailerLength !== BigInt(expectedBytes)) {
    throw corrupt(`trailer records ${trailerLength} bytes, header implies ${expectedBytes}`);
  }
  if (source.size !== expectedBytes) {
    throw corrupt(`file has ${source.size} bytes, expected ${expectedBytes} (data after the trailer)`);
  }
  return header;
}

type Fetched =
  | { headerBytes: Buffer; header: BlockHeader; stored: Buffer; end: number; nextHeader: Buffer | undefined }
  | { damage: string }
  | { found: number };

/**
 * Reads one block's header and stored bytes without judging them beyond what is needed to read them.
 * The stored bytes are read together with the next block's header, when the body holds one, so that a
 * block costs one read instead of two; `headerBytes` is this block's header if the previous read brought it.
 */
async function fetchBlock(
  source: ByteSource,
  block: number,
  position: number,
  bodyEnd: number,
  headerBytes?: Buffer,
): Promise<Fetched> {
  if (position + BLOCK_HEADER_BYTES > bodyEnd) {
    return { damage: `block ${block} header lies past the end of the body` };
  }
  const headerRead = headerBytes ?? (await readUpTo(source, position, BLOCK_HEADER_BYTES));
  if (typeof headerRead === 'number') return { found: headerRead };
  const header = decodeBlockHeader(headerRead);
  const start = position + BLOCK_HEADER_BYTES;
  const end = start + header.storedLength;
  // Checked before reading, so a damaged length can neither allocate nor read beyond the body.
  if (end > bodyEnd) {
    return { damage: `block ${block} length ${header.storedLength} runs past the end of the body` };
  }
  let withNext = end + BLOCK_HEADER_BYTES <= bodyEnd;
  let bytes = await readUpTo(source, start, header.storedLength + (withNext ? BLOCK_HEADER_BYTES : 0));
  if (typeof bytes === 'number' && withNext && bytes >= end) {
    // A file cut inside the next header still holds this block whole: hand it out; the next block reports
    // the truncation.
    withNext = false;
    bytes = await readUpTo(source, start, header.storedLength);
  }
  if (typeof bytes === 'number') return { found: bytes };
  return {
    headerBytes: headerRead,
    header,
    stored: withNext ? bytes.subarray(0, header.storedLength) : bytes,
    end,
    // A copy: a view would keep this block's whole stored bytes alive while the next block is prepared.
    nextHeader: withNext ? Buffer.from(bytes.subarray(header.storedLength)) : undefined,
  };
}

/** Exactly `length` bytes, or the file size if the file ends first (checked before allocating). */
async function readUpTo(source: ByteSource, position: number, length: number): Promise<Buffer | number> {
  if (position + length > source.size) return source.size;
  const bytes = await source.read(position, length);
  return bytes.length === length ? bytes : position + bytes.length;
}

function decodeTrailerAt(bytes: Buffer, corrupt: (what: string) => SegmentCorruptError): bigint {
  try {
    return decodeTrailer(bytes);
  } catch (error) {
    if (error instanceof SegmentFormatError) throw corrupt(error.message);
    throw error;
  }
}
