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
