import zlib from 'node:zlib';

/**
 * zstd compression of segment blocks through reused compressor streams. The one-shot zlib.zstdCompress
 * builds a zstd context per call (its tables are allocated and freed for every 1 MiB block) and a block-sized
 * output buffer. A stream keeps its context; ending the frame after each block (ZSTD_e_end) makes every
 * block a complete, independent zstd frame, which zstdDecompress reads as before. The frame header then
 * carries no content size; readers take the raw length from the block header anyway. On 1 GiB of 1 KiB
 * JSON records this cut a backup's CPU by 15-25% and its peak RSS by about 10 MiB, at the same ratio
 * (docs/BENCHMARKS.md). Only for low levels: a stream cannot pledge its input's size, so at high levels
 * zstd sizes the context for any input (GiBs at level 22); codecs.ts sends levels above 9 elsewhere.
 */

/** Output is collected in pieces of this size; a block of JSON compresses into one or two. */
const OUTPUT_CHUNK_BYTES = 256 * 1024;
/** Idle compressors kept per level: blocks in flight at the default concurrency (2 partitions x 2). */
const MAX_IDLE_PER_LEVEL = 4;

interface Compressor {
  stream: zlib.ZstdCompress;
  output: Buffer[];
}

const idle = new Map<number, Compressor[]>();

function createCompressor(level: number): Compressor {
  const stream = zlib.createZstdCompress({
    params: { [zlib.constants.ZSTD_c_compressionLevel]: level },
    chunkSize: OUTPUT_CHUNK_BYTES,
  });
  const compressor: Compressor = { stream, output: [] };
  stream.on('data', (piece: Buffer) => compressor.output.push(piece));
  return compressor;
}

function putBack(level: number, compressor: Compressor): void {
  let list = idle.get(level);
  if (list === undefined) {
    list = [];
    idle.set(level, list);
  }
  if (list.length < MAX_IDLE_PER_LEVEL) list.push(compressor);
  else compressor.stream.close();
}

/** Compresses `raw` into one zstd frame on the thread pool, with a compressor no other call is using. */
export function zstdCompressFrame(raw: Buffer, level: number): Promise<Buffer> {
  const compressor = idle.get(level)?.pop() ?? createCompressor(level);
  const { stream } = compressor;
  return new Promise((resolve, reject) => {
    let settled = false;
    const onError = (error: Error): void => {
      if (settled) return;
      settled = true;
      // A failed stream is never reused.
      stream.destroy();
      reject(error);
    };
    stream.once('error', onError);
    stream.write(raw);
    stream.flush(zlib.constants.ZSTD_e_end, () => {
      if (settled) return;
      settled = true;
      stream.off('error', onError);
      const { output } = compressor;
      compressor.output = [];
      // The pieces are views of the stream's output buffer, which it never writes over: no copy for one.
      const frame = output.length === 1 ? (output[0] as Buffer) : Buffer.concat(output);
      putBack(level, compressor);
      resolve(frame);
    });
  });
}
