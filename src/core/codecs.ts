import { promisify } from 'node:util';
import zlib from 'node:zlib';
import * as lz4 from 'lz4-napi';
import * as snappy from 'snappy';
import { KbackupError } from './errors.js';
import { zstdCompressFrame } from './zstd-stream.js';

/**
 * Block codecs for segment files. The numeric ids are Kafka's own compression ids so that a segment's
 * codec reads the same as a topic's `compression.type`. The level is a writer-side choice only: no
 * decoder needs it, so it is never stored.
 */
export type CodecName = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

export const CODEC_NAMES: readonly CodecName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

const IDS: Readonly<Record<CodecName, number>> = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 };

export function codecId(codec: CodecName): number {
  return IDS[codec];
}

/** The codec for a stored id, or undefined for an id this version does not know. */
export function codecFromId(id: number): CodecName | undefined {
  return CODEC_NAMES[id];
}

export interface CodecSpec {
  codec: CodecName;
  /** Only gzip (1-9) and zstd (1-22) take a level; undefined means the codec's default. */
  level?: number;
}

export const DEFAULT_LEVEL = { gzip: 6, zstd: 3 } as const;
const LEVEL_RANGE = { gzip: [1, 9], zstd: [1, 22] } as const;

const CODEC_SYNTAX = 'none, gzip[:1-9], snappy, lz4, zstd[:1-22]';

/** Parses a `--codec` value such as "zstd", "zstd:5", "gzip:9", "lz4", "snappy" or "none". */
export function parseCodec(text: string): CodecSpec {
  const match = /^([a-z0-9]+)(?::(-?\d+))?$/.exec(text.trim().toLowerCase());
  const name = match?.[1];
  if (match === null || name === undefined || !isCodecName(name)) {
    throw new KbackupError('USAGE', `Unknown codec "${text}": expected one of ${CODEC_SYNTAX}.`);
  }
  if (match[2] === undefined) return { codec: name };
  const level = Number(match[2]);
  checkLevel(name, level);
  return { codec: name, level };
}

export function formatCodec(spec: CodecSpec): string {
  return spec.level === undefined ? spec.codec : `${spec.codec}:${spec.level}`;
}

function isCodecName(text: string): text is CodecName {
  return (CODEC_NAMES as readonly string[]).includes(text);
}

/** Throws KbackupError('USAGE') unless `level` is acceptable for `codec` (undefined always is). */
export function checkLevel(codec: CodecName, level: number | undefined): void {
  if (level === undefined) return;
  if (codec !== 'gzip' && codec !== 'zstd') {
    throw new KbackupError('USAGE', `Codec ${codec} takes no compression level (got "${codec}:${level}").`, {
      hint: `Use one of ${CODEC_SYNTAX}.`,
    });
  }
  const [min, max] = LEVEL_RANGE[codec];
  if (!Number.isInteger(level) || level < min || level > max) {
    throw new KbackupError(
      'USAGE',
      `Compression level ${level} is out of range for ${codec} (${min}-${max}).`,
    );
  }
}

const gzipAsync = promisify(zlib.gzip);
const gunzipAsync = promisify(zlib.gunzip);
const zstdCompressAsync = promisify(zlib.zstdCompress);
const zstdDecompressAsync = promisify(zlib.zstdDecompress);

// zlib's convenience methods emit 16 KiB chunks and join them at the end; one chunk of the final size
// avoids the join and made decompression 2-3x faster on 1 MiB blocks (see bench/codec-micro.mjs).
// 64 is zlib's minimum chunk size.
function chunkSize(bytes: number): number {
  return Math.max(64, bytes);
}

function gzipOptions(raw: Buffer, level: number | undefined): zlib.ZlibOptions {
  return { level: level ?? DEFAULT_LEVEL.gzip, chunkSize: chunkSize(raw.length) };
}

function zstdOptions(raw: Buffer, level: number | undefined): zlib.ZstdOptions {
  return {
    params: { [zlib.constants.ZSTD_c_compressionLevel]: level ?? DEFAULT_LEVEL.zstd },
    // Recorded in the zstd frame header, which lets the decoder size its output up front.
    pledgedSrcSize: raw.length,
    chunkSize: chunkSize(raw.length),
  };
}

// maxOutputLength stops a hostile or damaged stream from inflating far beyond the block's declared size.
// One byte more than the block: zlib takes an output chunk that it filled to the last byte as a sign of
// more output and allocates a second chunk of the same size before it finds the stream's end, which
// doubled the large allocations of verify and restore (and the malloc fragmentation they leave behind).
function inflateOptions(rawLength: number): { chunkSize: number; maxOutputLength: number } {
  return { chunkSize: chunkSize(rawLength + 1), maxOutputLength: Math.max(1, rawLength) };
}

/**
 * Compresses one block on the libuv thread pool (zlib, lz4-napi and snappy all do their work there), so
 * the caller's event loop keeps filling the next block meanwhile. 'none' returns `raw` itself.
 * lz4 uses the standard LZ4 frame format (lz4_flex), without its optional content checksum: the block
 * CRC-32C already covers the stored bytes. zstd writes one frame per block, with a reused compressor up to
 * level 9 (zstd-stream.ts).
 */
export async function compressBlock(codec: CodecName, raw: Buffer, level?: number): Promise<Buffer> {
  checkLevel(codec, level);
  try {
    switch (codec) {
      case 'none':
        return raw;
      case 'gzip':
        return await gzipAsync(raw, gzipOptions(raw, level));
      case 'snappy':
        return await snappy.compress(raw);
      case 'lz4':
        return await lz4.compressFrame(raw);
      case 'zstd':
        return await compressZstd(raw, level ?? DEFAULT_LEVEL.zstd);
    }
  } catch (error) {
    throw compressError(codec, error);
  }
}

/**
 * Levels up to this one go through reused stream compressors (zstd-stream.ts). A stream does not know its
 * input's size, so zstd sizes its context for any input: from level 10 or so that grows fast, and at the
 * top levels four compressors took 0.4 GiB (19) and 2.6 GiB (22) against 0.16 for the one-shot call, which
 * sizes its context for the 1 MiB block. Those levels spend far more time compressing than creating contexts.
 */
const MAX_STREAM_LEVEL = 9;

function compressZstd(raw: Buffer, level: number): Promise<Buffer> {
  if (level <= MAX_STREAM_LEVEL) return zstdCompressFrame(raw, level);
  return zstdCompressAsync(raw, zstdOptions(raw, level));
}

/**
 * Synchronous twin of compressBlock, for tests and tools. Output decodes identically but need not be the
 * same bytes: Node's async zstd feeds the input in pieces and may frame it differently.
 */
export function compressBlockSync(codec: CodecName, raw: Buffer, level?: number): Buffer {
  checkLevel(codec, level);
  try {
    switch (codec) {
      case 'none':
        return raw;
      case 'gzip':
        return zlib.gzipSync(raw, gzipOptions(raw, level));
      case 'snappy':
        return snappy.compressSync(raw);
      case 'lz4':
        return lz4.compressFrameSync(raw);
      case 'zstd':
        return zlib.zstdCompressSync(raw, zstdOptions(raw, level));
    }
  } catch (error) {
    throw compressError(codec, error);
  }
}

/**
 * Decompresses one block on the thread pool and checks that it yields exactly `rawLength` bytes.
 * Any failure is a KbackupError('SEGMENT_CORRUPT'): callers have already matched the block's CRC, so a
 * stream that still does not decode means damage the CRC could not see, or a writer bug.
 */
export async function decompressBlock(codec: CodecName, stored: Buffer, rawLength: number): Promise<Buffer> {
  let raw: Buffer;
  try {
    switch (codec) {
      case 'none':
        raw = stored;
        break;
      case 'gzip':
        raw = await gunzipAsync(stored, inflateOptions(rawLength));
        break;
      case 'snappy':
        raw = asBuffer(await snappy.uncompress(stored, { asBuffer: true }));
        break;
      case 'lz4':
        raw = await lz4.decompressFrame(stored);
        break;
      case 'zstd':
        raw = await zstdDecompressAsync(stored, inflateOptions(rawLength));
        break;
    }
  } catch (error) {
    throw decompressError(codec, error);
  }
  return checkLength(codec, raw, rawLength);
}

/** Synchronous twin of decompressBlock. */
export function decompressBlockSync(codec: CodecName, stored: Buffer, rawLength: number): Buffer {
  let raw: Buffer;
  try {
    switch (codec) {
      case 'none':
        raw = stored;
        break;
      case 'gzip':
        raw = zlib.gunzipSync(stored, inflateOptions(rawLength));
        break;
      case 'snappy':
        raw = asBuffer(snappy.uncompressSync(stored, { asBuffer: true }));
        break;
      case 'lz4':
        raw = lz4.decompressFrameSync(stored);
        break;
      case 'zstd':
        raw = zlib.zstdDecompressSync(stored, inflateOptions(rawLength));
        break;
    }
  } catch (error) {
    throw decompressError(codec, error);
  }
  return checkLength(codec, raw, rawLength);
}

function asBuffer(value: string | Buffer): Buffer {
  // snappy types its result as string | Buffer; with asBuffer: true it is always a Buffer.
  return typeof value === 'string' ? Buffer.from(value, 'binary') : value;
}

function checkLength(codec: CodecName, raw: Buffer, rawLength: number): Buffer {
  if (raw.length !== rawLength) {
    throw new KbackupError(
      'SEGMENT_CORRUPT',
      `${codec} block decompressed to ${raw.length} bytes, expected ${rawLength}`,
    );
  }
  return raw;
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function decompressError(codec: CodecName, error: unknown): KbackupError {
  return new KbackupError('SEGMENT_CORRUPT', `${codec} decompression failed: ${reason(error)}`, {
    cause: error,
  });
}

function compressError(codec: CodecName, error: unknown): KbackupError {
  if (error instanceof KbackupError) return error;
  return new KbackupError('INTERNAL', `${codec} compression failed: ${reason(error)}`, { cause: error });
}
