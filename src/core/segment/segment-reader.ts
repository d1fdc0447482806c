import { open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { SegmentCorruptError, type KbackupError } from '../errors.js';
import type { BackupRecord } from '../record.js';
import { readAt } from './file-io.js';
import { segmentFileBytes, type SegmentHeader, type SegmentInfo } from './format.js';
import { errnoCode, mapFsError } from './fs-errors.js';
import {
  checkSegment,
  scanHeader,
  scanSegment,
  scanSegmentBlocks,
  type ByteSource,
  type ScanOptions,
  type VerifiedBlock,
} from './segment-scan.js';

export type ReadSegmentOptions = ScanOptions;

export type VerifyResult = { ok: true; info: SegmentInfo } | { ok: false; error: SegmentCorruptError };

/** Reads and validates only the 80-byte header. */
export async function readSegmentHeader(path: string): Promise<SegmentHeader> {
  const { handle, source } = await openSource(path);
  try {
    return await scanHeader(source, path);
  } finally {
    await handle.close();
  }
}

/**
 * Streams a segment block by block, holding one block at a time: yields each block's records (those at
 * or after `fromOffset`, in slices of up to 1000 records) only after the block has been checked, and
 * checks the file as a whole after the last block. A consumer therefore sees every record it is given
 * verified, but learns about damage further on only when it gets there; the SegmentCorruptError's offset
 * range says what is missing. Returns the header when done.
 */
export async function* readSegmentBlocks(
  path: string,
  opts: ReadSegmentOptions = {},
): AsyncGenerator<BackupRecord[], SegmentHeader, undefined> {
  const { handle, source } = await openSource(path);
  try {
    return yield* scanSegment(source, path, opts);
  } finally {
    await handle.close();
  }
}

/**
 * readSegmentBlocks without decoding: yields each block's raw bytes once every check on it passed, for
 * reading in place with RecordCursor (record-slices.ts).
 */
export async function* readVerifiedBlocks(
  path: string,
): AsyncGenerator<VerifiedBlock, SegmentHeader, undefined> {
  const { handle, source } = await openSource(path);
  try {
    return yield* scanSegmentBlocks(source, path);
  } finally {
    await handle.close();
  }
}

/**
 * Runs every check readSegmentBlocks runs (checksums, lengths, each record's framing, offset order,
 * timestamps, totals, trailer) without materialising records, and returns the header. Damage throws
 * SegmentCorruptError. The records are then exactly header.recordCount, from header.firstOffset to
 * header.lastOffset.
 */
export async function checkSegmentFile(path: string): Promise<SegmentHeader> {
  const { handle, source } = await openSource(path);
  try {
    return await checkSegment(source, path);
  } finally {
    await handle.close();
  }
}

/**
 * Checks every record of a segment without keeping them. Damage is a result ({ ok: false }); other
 * failures (permission, I/O) are thrown, since they say nothing about the segment itself.
 */
export async function verifySegment(path: string): Promise<VerifyResult> {
  try {
    const header = await checkSegmentFile(path);
    return { ok: true, info: segmentInfo(basename(path), header) };
  } catch (error) {
    if (error instanceof SegmentCorruptError) return { ok: false, error };
    throw error;
  }
}

export function segmentInfo(file: string, header: SegmentHeader): SegmentInfo {
  return {
    file,
    firstOffset: header.firstOffset,
    lastOffset: header.lastOffset,
    recordCount: header.recordCount,
    minTimestamp: header.minTimestamp,
    maxTimestamp: header.maxTimestamp,
    rawBytes: header.rawBytes,
    storedBytes: header.bodyBytes,
    fileBytes: segmentFileBytes(header.bodyBytes),
    bodyCrc32c: header.bodyCrc32c,
    codec: header.codec,
  };
}

async function openSource(path: string): Promise<{ handle: FileHandle; source: ByteSource }> {
  let handle: FileHandle;
  let size: number;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw openError(error, path);
  }
  try {
    size = (await handle.stat()).size;
  } catch (error) {
    await handle.close();
    throw mapFsError(error, path, 'reading segment file');
  }
  const source: ByteSource = {
    size,
    read: async (position, length) => {
      try {
        return await readAt(handle, position, length);
      } catch (error) {
        throw mapFsError(error, path, 'reading segment file');
      }
    },
  };
  return { handle, source };
}

/** A segment the backup lists but the disk lacks is damage to the backup, not an I/O hiccup. */
function openError(error: unknown, path: string): KbackupError {
  if (errnoCode(error) === 'ENOENT') {
    return new SegmentCorruptError(`${path}: segment file not found`, path, undefined, undefined);
  }
  return mapFsError(error, path, 'opening segment file');
}
