/**
 * Estimates the bytes a backup will write: each partition's on-disk size on the broker, scaled to the
 * share of its offsets the backup reads. Compression in the backup is usually at least as good as on the
 * broker, so this errs on the high side. Pure.
 */
export function estimateBackupBytes(
  partitions: readonly {
    size: bigint;
    logStartOffset: bigint;
    highWatermark: bigint;
    startOffset: bigint;
    cutOffset: bigint;
  }[],
): bigint {
  let total = 0n;
  for (const p of partitions) {
    const all = p.highWatermark - p.logStartOffset;
    const read = p.cutOffset - p.startOffset;
    if (all <= 0n || read <= 0n) continue;
    total += read >= all ? p.size : (p.size * read) / all;
  }
  return total;
}
