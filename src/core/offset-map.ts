/**
 * Source → target offset mapping of one restored partition, kept as runs: a run maps `length` consecutive
 * source offsets starting at `source` onto consecutive target offsets starting at `target`. Gaps in the
 * source (compaction, transaction markers, a time window) end a run, so the map stays small: a partition
 * restored in one piece is one run, whatever its size.
 */
export interface OffsetRun {
  source: bigint;
  target: bigint;
  length: bigint;
}

export class OffsetMapBuilder {
  readonly runs: OffsetRun[] = [];

  /** Records that the record at `source` was written at `target`. Calls must be in increasing order. */
  add(source: bigint, target: bigint): void {
    this.addRun(source, target, 1n);
  }

  /**
   * Records that `length` consecutive source offsets from `source` were written at consecutive target
   * offsets from `target`. Runs must come in increasing order, in source and in target.
   */
  addRun(source: bigint, target: bigint, length: bigint): void {
    const last = this.runs.at(-1);
    if (last) {
      const sourceEnd = last.source + last.length;
      const targetEnd = last.target + last.length;
      if (source === sourceEnd && target === targetEnd) {
        last.length += length;
        return;
      }
      if (source < sourceEnd || target < targetEnd) {
        throw new Error(`offset map out of order: ${source}→${target} after run ending ${sourceEnd}`);
      }
    }
    this.runs.push({ source, target, length });
  }

  /**
   * Adds consecutive target offsets base, base+1, ... for the given increasing source offsets. Sources with
   * no gap among them (the common case) become one run in a few BigInt operations, instead of several per
   * record (each allocates; with 100-byte records they were 5% of restore's main thread).
   */
  addBatch(sources: readonly bigint[], targetBase: bigint): void {
    const first = sources[0];
    const lastSource = sources.at(-1);
    if (first === undefined || lastSource === undefined) return;
    // Comparisons allocate nothing; strictly increasing plus a span of count - 1 means no gap at all.
    let increasing = true;
    for (let i = 1; i < sources.length && increasing; i++) {
      increasing = (sources[i] as bigint) > (sources[i - 1] as bigint);
    }
    const length = BigInt(sources.length);
    if (increasing && lastSource - first === length - 1n) {
      this.addRun(first, targetBase, length);
      return;
    }
    let target = targetBase;
    for (const source of sources) this.add(source, target++);
  }
}

/**
 * Translates a committed source offset O: the target offset of the first restored record whose source
 * offset is >= O, or `targetEnd` when no such record was restored. It never extrapolates across a gap, so
 * a consumer resuming at the result skips no record it had not consumed. O(log runs).
 */
export function translateOffset(runs: readonly OffsetRun[], committed: bigint, targetEnd: bigint): bigint {
  let lo = 0;
  let hi = runs.length - 1;
  let found = -1;
  // First run whose last source offset is >= committed.
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const run = runs[mid] as OffsetRun;
    if (run.source + run.length - 1n >= committed) {
      found = mid;
      hi = mid - 1;
    } else lo = mid + 1;
  }
  if (found < 0) return targetEnd;
  const run = runs[found] as OffsetRun;
  return committed <= run.source ? run.target : run.target + (committed - run.source);
}
