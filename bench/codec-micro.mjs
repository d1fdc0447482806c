// Micro-benchmark for the segment codec building blocks: checksums and block codecs on 1 MiB blocks of
// ~1 KiB JSON-like records. Imports the packages directly because dist/ may not be built.
// Usage: node bench/codec-micro.mjs [--seconds 1]
import { crc32c } from '@node-rs/crc32';
import {
  compress as lz4BlockCompress,
  compressFrame,
  decompressFrame,
  uncompress as lz4BlockUncompress,
} from 'lz4-napi';
import { compress as snappyCompress, uncompress as snappyUncompress } from 'snappy';
import zlib from 'node:zlib';
import { promisify } from 'node:util';

const secondsArg = process.argv.indexOf('--seconds');
const SECONDS = secondsArg > 0 ? Number(process.argv[secondsArg + 1]) : 1;
const BLOCK = 1024 * 1024;

const gzip = promisify(zlib.gzip);
const gunzip = promisify(zlib.gunzip);
const zstdCompress = promisify(zlib.zstdCompress);
const zstdDecompress = promisify(zlib.zstdDecompress);

// Deterministic xorshift PRNG so the data (and thus ratios) are the same on every run.
let seed = 0x9e3779b9;
function rnd() {
  seed ^= seed << 13;
  seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  seed >>>= 0;
  return seed / 0x100000000;
}
const words = [
  'order',
  'customer',
  'status',
  'shipped',
  'pending',
  'amount',
  'currency',
  'EUR',
  'USD',
  'sku',
];
function jsonRecord(i) {
  const items = [];
  while (JSON.stringify(items).length < 800) {
    items.push({
      sku: `SKU-${Math.floor(rnd() * 1e6)}`,
      qty: Math.floor(rnd() * 10),
      note: words[Math.floor(rnd() * words.length)],
      price: Math.round(rnd() * 100000) / 100,
    });
  }
  return JSON.stringify({ id: i, ts: 1700000000000 + i, customer: `c-${Math.floor(rnd() * 5000)}`, items });
}
function makeBlock() {
  const parts = [];
  let size = 0;
  for (let i = 0; size < BLOCK; i++) {
    const b = Buffer.from(jsonRecord(i));
    parts.push(b);
    size += b.length;
  }
  return Buffer.concat(parts).subarray(0, BLOCK);
}

async function measure(label, bytesPerOp, fn) {
  await fn(); // warm up (JIT, thread pool, lazy native init)
  let ops = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(SECONDS * 1e9));
  let now = start;
  while (now < deadline) {
    await fn();
    ops++;
    now = process.hrtime.bigint();
  }
  const secs = Number(now - start) / 1e9;
  const mbs = (bytesPerOp * ops) / secs / 1e6;
  console.log(`${label.padEnd(34)} ${mbs.toFixed(0).padStart(7)} MB/s`);
  return mbs;
}

const block = makeBlock();
console.log(
  `node ${process.version}, block ${block.length} bytes of ~1 KiB JSON records, ${SECONDS}s per case\n`,
);

console.log('checksums (sync, main thread)');
await measure('@node-rs/crc32 crc32c', block.length, () => crc32c(block));
await measure('node:zlib crc32 (IEEE, not -C)', block.length, () => zlib.crc32(block));

const codecs = [
  // chunkSize = block size mirrors src/core/codecs.ts: one output buffer instead of 16 KiB pieces to join
  // (2-3x faster decompression on Node 24).
  ['gzip:6', (b) => gzip(b, { level: 6, chunkSize: b.length }), (b) => gunzip(b, { chunkSize: BLOCK })],
  ['snappy (raw block)', (b) => snappyCompress(b), (b) => snappyUncompress(b, { asBuffer: true })],
  ['lz4 frame', (b) => compressFrame(b), (b) => decompressFrame(b)],
  ['lz4 block (size-prefixed)', (b) => lz4BlockCompress(b), (b) => lz4BlockUncompress(b)],
  ['zstd:1', (b) => zstdCompress(b, zparams(1, b.length)), (b) => zstdDecompress(b, { chunkSize: BLOCK })],
  ['zstd:3', (b) => zstdCompress(b, zparams(3, b.length)), (b) => zstdDecompress(b, { chunkSize: BLOCK })],
  ['zstd:6', (b) => zstdCompress(b, zparams(6, b.length)), (b) => zstdDecompress(b, { chunkSize: BLOCK })],
];
function zparams(level, size) {
  return {
    params: { [zlib.constants.ZSTD_c_compressionLevel]: level },
    pledgedSrcSize: size,
    chunkSize: size,
  };
}

console.log('\ncodecs (async, libuv thread pool, one block at a time)');
console.log(
  `${'codec'.padEnd(26)} ${'ratio'.padStart(6)} ${'compress'.padStart(14)} ${'decompress'.padStart(14)}`,
);
for (const [name, c, d] of codecs) {
  const stored = await c(block);
  const back = await d(stored);
  if (!block.equals(back)) throw new Error(`${name} round trip failed`);
  const quiet = async (label, fn) => {
    const log = console.log;
    console.log = () => {};
    try {
      return await measure(label, block.length, fn);
    } finally {
      console.log = log;
    }
  };
  const cm = await quiet(name, () => c(block));
  const dm = await quiet(name, () => d(stored));
  const ratio = block.length / stored.length;
  console.log(
    `${name.padEnd(26)} ${ratio.toFixed(2).padStart(6)} ${cm.toFixed(0).padStart(9)} MB/s ${dm.toFixed(0).padStart(9)} MB/s`,
  );
}

// Two blocks in flight, as the segment writer does: shows what the thread pool buys on this machine.
console.log('\nzstd:3 compress with 2 blocks in flight');
await measure('zstd:3 x2 concurrent', block.length * 2, () =>
  Promise.all([zstdCompress(block, zparams(3, block.length)), zstdCompress(block, zparams(3, block.length))]),
);
