import type { Gap, GapReason } from './manifest/schema.js';

/**
 * Collects the offset ranges of a partition that hold no backed-up record, with their reason. Adjacent
 * ranges of the same reason are merged. A compacted topic can have a gap between every pair of records, so
 * past `exactLimit` entries new ranges are folded into the previous one of the same reason, which then
 * spans records and carries the exact count of missing offsets in `missing`. The segments still hold every
 * record's offset, so nothing is lost by folding.
 */
export class GapTracker {
  readonly gaps: Gap[] = [];

  constructor(private readonly exactLimit = 1_000) {}

  add(from: bigint, to: bigint, reason: GapReason): void {
    if (to < from) return;
    const last = this.gaps.at(-1);
    const size = to - from + 1n;
    if (last?.reason === reason && (last.to + 1n === from || this.gaps.length >= this.exactLimit)) {
      const lastMissing = last.missing ?? last.to - last.from + 1n;
      last.to = to;
      last.missing = lastMissing + size;
      if (last.missing === last.to - last.from + 1n) delete last.missing;
      return;
    }
    this.gaps.push({ from, to, reason });
  }

  missingOffsets(): bigint {
    return this.gaps.reduce((sum, g) => sum + (g.missing ?? g.to - g.from + 1n), 0n);
  }
}
