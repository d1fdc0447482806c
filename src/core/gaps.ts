import type { Gap, GapReason } from './manifest/schema.js';

/**
 * Collects the offset ranges of a partition that hold no backed-up record, with their reason. Adjacent
 * ranges of the same reason are merged. A compacted topic can have a gap between every pair of records, so
 * past `exactLimit` entries new ranges are folded into the previous one of the same reason, which then
 * spans records (and may overlap folded ranges of other reasons) and carries the exact count of missing
 * offsets in `missing`. The segments still hold every
 * record's offset, so nothing is lost by folding.
 */
export class GapTracker {
  readonly gaps: Gap[] = [];

  constructor(private readonly exactLimit = 1_000) {}

  add(from: bigint, to: bigint, reason: GapReason): void {
    if (to < from) return;
    const size = to - from + 1n;
    const last = this.gaps.at(-1);
    // Past the limit, fold into the most recent gap of the same reason even when other reasons come in
    // between (compaction holes interleaved with transaction markers), so the list stays bounded.
    const target =
      last?.reason === reason && last.to + 1n === from
        ? last
        : this.gaps.length >= this.exactLimit
          ? this.gaps.findLast((g) => g.reason === reason)
          : undefined;
    if (target) {
      const targetMissing = target.missing ?? target.to - target.from + 1n;
      target.to = to;
      target.missing = targetMissing + size;
      if (target.missing === target.to - target.from + 1n) delete target.missing;
      return;
    }
    this.gaps.push({ from, to, reason });
  }

  missingOffsets(): bigint {
    return this.gaps.reduce((sum, g) => sum + (g.missing ?? g.to - g.from + 1n), 0n);
  }
}
