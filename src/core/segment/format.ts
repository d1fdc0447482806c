import { crc32c, crc32cCombine } from '../checksum.js';
import { codecFromId, codecId, type CodecName } from '../codecs.js';
import { KbackupError } from '../errors.js';

/*
 * Segment file layout (docs/FORMAT-segment.md is the normative description):
 *
 *   header (80) | block* | trailer (16)
 *   block = block header (16) | stored bytes (storedLength)
 *
 * All integers are big-endian. The header is written last (pwrite at 0) so it can carry totals and the
 * body checksum, which is why a crash mid-write leaves a zeroed header that no reader accepts.
 */

export const SEGMENT_MAGIC = Buffer.from('KBSG', 'ascii');
export const TRAILER_MAGIC = Buffer.from('KBSG-END', 'ascii');
export const FORMAT_VERSION = 1;
export const HEADER_BYTES = 80;
export const BLOCK_HEADER_BYTES = 16;
export const TRAILER_BYTES = 16;
export const DEFAULT_BLOCK_BYTES = 1024 * 1024;
/** attributes + offset + timestamp + keyLength + valueLength + headerCount: a record is never smaller. */
export const MIN_RECORD_BYTES = 1 + 8 + 8 + 4 + 4 + 4;

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;
const UINT32_MAX = 0xffff_ffff;

/**
 * Malformed segment bytes, found without knowing which file they came from. The segment reader turns it
 * into a SegmentCorruptError naming the path and the offsets at risk; it is still a SEGMENT_CORRUPT
 * KbackupError so that it exits correctly even if it escapes some other caller.
 */
export class SegmentFormatError extends KbackupError {
  constructor(message: string) {
    super('SEGMENT_CORRUPT', message);
    this.name = 'SegmentFormatError';
  }
}

export interface SegmentHeader {
  version: number;
  codec: CodecName;
  flags: number;
  recordCount: number;
  blockCount: number;
  firstOffset: bigint;
  lastOffset: bigint;
  minTimestamp: bigint;
  maxTimestamp: bigint;
  /** Sum of the blocks' uncompressed payload lengths. */
  rawBytes: number;
  /** Every byte between header and trailer: block headers plus stored bytes. */
  bodyBytes: number;
  bodyCrc32c: number;
}

export type SegmentHeaderFields = Omit<SegmentHeader, 'version' | 'flags'>;

/** What a finished segment holds; goes into the backup manifest. */
export interface SegmentInfo {
  /** Base name of the segment file. */
  file: string;
  firstOffset: bigint;
  lastOffset: bigint;
  recordCount: number;
  minTimestamp: bigint;
  maxTimestamp: bigint;
  rawBytes: number;
  /** Body bytes (block headers + compressed payloads), i.e. the header's bodyBytes. */
  storedBytes: number;
  fileBytes: number;
  bodyCrc32c: number;
  codec: CodecName;
}

export function segmentFileBytes(bodyBytes: number): number {
  return HEADER_BYTES + bodyBytes + TRAILER_BYTES;
}

export function encodeHeader(fields: SegmentHeaderFields): Buffer {
  const buf = Buffer.alloc(HEADER_BYTES);
  SEGMENT_MAGIC.copy(buf, 0);
  buf.writeUInt16BE(FORMAT_VERSION, 4);
  buf.writeUInt8(codecId(fields.codec), 6);
  buf.writeUInt8(0, 7);
  buf.writeUInt32BE(fields.recordCount, 8);
  buf.writeUInt32BE(fields.blockCount, 12);
  buf.writeBigInt64BE(fields.firstOffset, 16);
  buf.writeBigInt64BE(fields.lastOffset, 24);
  buf.writeBigInt64BE(fields.minTimestamp, 32);
  buf.writeBigInt64BE(fields.maxTimestamp, 40);
  buf.writeBigUInt64BE(BigInt(fields.rawBytes), 48);
  buf.writeBigUInt64BE(BigInt(fields.bodyBytes), 56);
  buf.writeUInt32BE(fields.bodyCrc32c, 64);
  // 68..75 reserved, already zero.
  buf.writeUInt32BE(crc32c(buf.subarray(0, 76)), 76);
  return buf;
}

/**
 * Decodes and validates a header: magic, checksum, version, codec, reserved fields and the internal
 * consistency of the totals. The checksum is checked before the version because the header size and
 * checksum position are fixed for every format version; a flipped version byte is damage, not a newer file.
 */
export function decodeHeader(buf: Buffer): SegmentHeader {
  if (buf.length < HEADER_BYTES) {
    throw new SegmentFormatError(`file truncated: header needs ${HEADER_BYTES} bytes, found ${buf.length}`);
  }
  if (!buf.subarray(0, 4).equals(SEGMENT_MAGIC)) {
    throw new SegmentFormatError('bad magic: not a kbackup segment file (or its header was never written)');
  }
  const storedCrc = buf.readUInt32BE(76);
  if (crc32c(buf.subarray(0, 76)) !== storedCrc) throw new SegmentFormatError('header checksum mismatch');
  const version = buf.readUInt16BE(4);
  if (version !== FORMAT_VERSION) {
    throw new SegmentFormatError(
      `unsupported segment format version ${version} (this kbackup reads version ${FORMAT_VERSION})`,
    );
  }
  const id = buf.readUInt8(6);
  const codec = codecFromId(id);
  if (codec === undefined) throw new SegmentFormatError(`unknown codec id ${id} in header`);
  const flags = buf.readUInt8(7);
  if (flags !== 0) throw new SegmentFormatError(`reserved header flags are set (0x${flags.toString(16)})`);
  if (buf.readUInt32BE(68) !== 0 || buf.readUInt32BE(72) !== 0) {
    throw new SegmentFormatError('reserved header bytes 68..75 are not zero');
  }
  const header: SegmentHeader = {
    version,
    codec,
    flags,
    recordCount: buf.readUInt32BE(8),
    blockCount: buf.readUInt32BE(12),
    firstOffset: buf.readBigInt64BE(16),
    lastOffset: buf.readBigInt64BE(24),
    minTimestamp: buf.readBigInt64BE(32),
    maxTimestamp: buf.readBigInt64BE(40),
    rawBytes: safeU64(buf, 48, 'rawBytes'),
    bodyBytes: safeU64(buf, 56, 'bodyBytes'),
    bodyCrc32c: buf.readUInt32BE(64),
  };
  checkHeaderConsistency(header);
  return header;
}

function safeU64(buf: Buffer, at: number, field: string): number {
  const value = buf.readBigUInt64BE(at);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new SegmentFormatError(`header ${field} ${value} is implausibly large`);
  }
  return Number(value);
}

function checkHeaderConsistency(h: SegmentHeader): void {
  const fail = (what: string): never => {
    throw new SegmentFormatError(`inconsistent header: ${what}`);
  };
  if (h.recordCount < 1) fail('recordCount is 0 (a segment is never empty)');
  if (h.blockCount < 1 || h.blockCount > h.recordCount) {
    fail(`blockCount ${h.blockCount} for ${h.recordCount} records`);
  }
  if (h.firstOffset < 0n) fail(`negative firstOffset ${h.firstOffset}`);
  // Offsets strictly increase, so the span must hold every record.
  if (h.lastOffset - h.firstOffset < BigInt(h.recordCount - 1)) {
    fail(`offsets ${h.firstOffset}..${h.lastOffset} cannot hold ${h.recordCount} records`);
  }
  if (h.minTimestamp > h.maxTimestamp) {
    fail(`minTimestamp ${h.minTimestamp} > maxTimestamp ${h.maxTimestamp}`);
  }
  if (h.rawBytes < h.recordCount * MIN_RECORD_BYTES) {
    fail(`rawBytes ${h.rawBytes} too small for ${h.recordCount} records`);
  }
  if (h.bodyBytes < h.blockCount * BLOCK_HEADER_BYTES) {
    fail(`bodyBytes ${h.bodyBytes} too small for ${h.blockCount} blocks`);
  }
}

export interface BlockHeader {
  rawLength: number;
  storedLength: number;
  recordCount: number;
  crc32c: number;
}

/** The block checksum covers the first 12 header bytes and then the stored bytes, in that order. */
export function blockChecksum(blockHeader: Buffer, stored: Buffer): number {
  return crc32c(stored, crc32c(blockHeader.subarray(0, 12)));
}

/**
 * blockChecksum from the stored bytes' own CRC-32C, so that a caller that also needs that CRC (for the body
 * checksum) reads the stored bytes once instead of twice.
 */
export function blockChecksumFrom(blockHeader: Buffer, storedCrc: number, storedLength: number): number {
  return crc32cCombine(crc32c(blockHeader.subarray(0, 12)), storedCrc, storedLength);
}

export function encodeBlockHeader(
  rawLength: number,
  recordCount: number,
  stored: Buffer,
  storedCrc: number = crc32c(stored),
): Buffer {
  if (rawLength > UINT32_MAX || stored.length > UINT32_MAX) {
    throw new KbackupError('INTERNAL', `block of ${rawLength} raw bytes exceeds the 4 GiB block limit`);
  }
  const buf = Buffer.allocUnsafe(BLOCK_HEADER_BYTES);
  buf.writeUInt32BE(rawLength, 0);
  buf.writeUInt32BE(stored.length, 4);
  buf.writeUInt32BE(recordCount, 8);
  buf.writeUInt32BE(blockChecksumFrom(buf, storedCrc, stored.length), 12);
  return buf;
}

export function decodeBlockHeader(buf: Buffer): BlockHeader {
  return {
    rawLength: buf.readUInt32BE(0),
    storedLength: buf.readUInt32BE(4),
    recordCount: buf.readUInt32BE(8),
    crc32c: buf.readUInt32BE(12),
  };
}

export function encodeTrailer(fileBytes: number): Buffer {
  const buf = Buffer.alloc(TRAILER_BYTES);
  TRAILER_MAGIC.copy(buf, 0);
  buf.writeBigUInt64BE(BigInt(fileBytes), 8);
  return buf;
}

/** Returns the file length the trailer records; throws if the trailer magic is wrong. */
export function decodeTrailer(buf: Buffer): bigint {
  if (buf.length < TRAILER_BYTES || !buf.subarray(0, 8).equals(TRAILER_MAGIC)) {
    throw new SegmentFormatError('trailer missing or damaged (no "KBSG-END" marker)');
  }
  return buf.readBigUInt64BE(8);
}
