import { crc32c } from '../checksum.js';
import { decompressBlock } from '../codecs.js';
import { KbackupError, SegmentCorruptError } from '../errors.js';
import type { BackupRecord } from '../record.js';
import {
  BLOCK_HEADER_BYTES,
  HEADER_BYTES,
  MIN_RECORD_BYTES,
  SegmentFormatError,
  TRAILER_BYTES,
  blockChecksum,
  decodeBlockHeader,
  decodeHeader,
  decodeTrailer,
  segmentFileBytes,
  type BlockHeader,
  type SegmentHeader,
} from './format.js';
import { decodeRecords } from './record-codec.js';

/** Random access to a segment's bytes: a file handle or a Buffer. */
export interface ByteSource {
  readonly size: number;
  /** Up to `length` bytes at `position`; shorter only at the end of the data. */
  read(position: number, length: number): Promise<Buffer>;
}

export interface ScanOptions {
  /** Yield only records with offset >= fromOffset. Every block is still verified. */
  fromOffset?: bigint;
}

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
 * records of each block once that block's framing, CRC, decompressed length and records have been
 * checked, and checks the whole-file totals, body CRC and trailer after the last block; returns the
 * header. Damage throws SegmentCorruptError covering offsets from just after the last record verified
 * (or the header's firstOffset) through the header's lastOffset.
 */
export async function* scanSegment(
  source: ByteSource,
  path: string,
  options: ScanOptions = {},
): AsyncGenerator<BackupRecord[], SegmentHeader, undefined> {
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

  let position = HEADER_BYTES;
  let bodyCrc = 0;
  let records = 0;
  let rawBytes = 0;
  let minTimestamp = header.maxTimestamp;
  let maxTimestamp = header.minTimestamp;
  // decodeHeader guarantees blockCount >= 1.
  let next = fetchBlock(source, 0, position, bodyEnd);
  for (let block = 0; block < header.blockCount; block++) {
    const fetched = await next;
    if ('damage' in fetched) throw corrupt(fetched.damage);
    if ('found' in fetched) throw corrupt(truncated(fetched.found));
    const { headerBytes: blockHeaderBytes, header: blockHeader, stored } = fetched;
    if (blockChecksum(blockHeaderBytes, stored) !== blockHeader.crc32c) {
      throw corrupt(`block ${block} checksum mismatch`);
    }
    const storedEnd = position + BLOCK_HEADER_BYTES + stored.length;
    // Read-ahead: the next block's I/O overlaps this block's decompression and the consumer's work.
    // Its outcome, damage included, is only acted on when the loop gets there.
    if (block + 1 < header.blockCount) {
      next = fetchBlock(source, block + 1, storedEnd, bodyEnd);
      next.catch(() => undefined);
    }
    const { rawLength, recordCount } = blockHeader;
    if (
      recordCount < 1 ||
      rawLength < recordCount * MIN_RECORD_BYTES ||
      records + recordCount > header.recordCount
    ) {
      throw corrupt(`block ${block} header is inconsistent (${recordCount} records in ${rawLength} bytes)`);
    }
    bodyCrc = crc32c(stored, crc32c(blockHeaderBytes, bodyCrc));

    let decoded: BackupRecord[];
    try {
      decoded = decodeRecords(await decompressBlock(header.codec, stored, rawLength), recordCount);
    } catch (error) {
      if (error instanceof KbackupError && error.code === 'SEGMENT_CORRUPT') {
        throw corrupt(`block ${block}: ${error.message}`);
      }
      throw error;
    }
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
    records += recordCount;
    rawBytes += rawLength;
    position = storedEnd;
    const from = options.fromOffset;
    const wanted = from === undefined ? decoded : decoded.filter((r) => r.offset >= from);
    if (wanted.length > 0) yield wanted;
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
  { headerBytes: Buffer; header: BlockHeader; stored: Buffer } | { damage: string } | { found: number };

/** Reads one block's header and stored bytes without judging them beyond what is needed to read them. */
async function fetchBlock(
  source: ByteSource,
  block: number,
  position: number,
  bodyEnd: number,
): Promise<Fetched> {
  if (position + BLOCK_HEADER_BYTES > bodyEnd) {
    return { damage: `block ${block} header lies past the end of the body` };
  }
  const headerBytes = await readUpTo(source, position, BLOCK_HEADER_BYTES);
  if (typeof headerBytes === 'number') return { found: headerBytes };
  const header = decodeBlockHeader(headerBytes);
  // Checked before reading, so a damaged length can neither allocate nor read beyond the body.
  if (position + BLOCK_HEADER_BYTES + header.storedLength > bodyEnd) {
    return { damage: `block ${block} length ${header.storedLength} runs past the end of the body` };
  }
  const stored = await readUpTo(source, position + BLOCK_HEADER_BYTES, header.storedLength);
  if (typeof stored === 'number') return { found: stored };
  return { headerBytes, header, stored };
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
