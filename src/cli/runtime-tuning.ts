import { setFlagsFromString } from 'node:v8';

/**
 * Verify decompresses a new 1 MiB block buffer per block. V8 counts such buffers as external memory, and
 * its default external-memory limit starts a full mark-compact about every 20 blocks: a fifth of the main
 * thread's time. Accounting external memory in the global heap limit instead made verify of zstd segments
 * about 1.5x faster with a third less CPU, for a peak RSS that stays under 256 MiB (docs/BENCHMARKS.md).
 * The flag exists in V8 13 (Node 24) and is left alone on older engines, where V8 would print an
 * "unrecognized flag" error.
 */
export function tuneHeapForVerify(): void {
  const v8Major = Number(process.versions.v8.split('.')[0]);
  if (v8Major >= 13) setFlagsFromString('--external-memory-accounted-in-global-limit');
}

/**
 * Restore reads verified blocks in place and keeps only a few dozen MiB of objects. V8 sizes the old
 * generation's limit from what is live, and with so small a heap its slack stayed below the young
 * generation's size, which V8 treats as its signal to start marking: a full collection every 40-80 ms, 97
 * in a 1 GiB restore against 25 with the record objects of the path it replaced, 2-3 CPU-seconds per GiB.
 * A larger growing factor (4x after each full GC instead of about 1.1-2x) leaves the slack well above it:
 * the same restore as fast as before or faster, for the same peak RSS (docs/BENCHMARKS.md). Set at run time,
 * so that backup and verify keep V8's defaults (a larger starting heap, tried first, cost verify 100 MiB).
 */
export function tuneHeapForRestore(): void {
  setFlagsFromString('--heap-growing-percent=300');
}
