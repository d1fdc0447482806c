import { describe, expect, it } from 'vitest';
import { GapTracker } from '../../../src/core/gaps.js';

describe('GapTracker', () => {
  it('starts empty', () => {
    const t = new GapTracker();
    expect(t.gaps).toEqual([]);
    expect(t.missingOffsets()).toBe(0n);
  });

  it('records a single range inclusively', () => {
    const t = new GapTracker();
    t.add(5n, 9n, 'compacted');
    expect(t.gaps).toEqual([{ from: 5n, to: 9n, reason: 'compacted' }]);
    expect(t.missingOffsets()).toBe(5n);
  });

  it('ignores an empty range (to < from)', () => {
    const t = new GapTracker();
    t.add(5n, 4n, 'missing');
    expect(t.gaps).toEqual([]);
  });

  it('merges adjacent ranges with the same reason', () => {
    const t = new GapTracker();
    t.add(0n, 0n, 'transaction-control');
    t.add(1n, 3n, 'transaction-control');
    t.add(4n, 4n, 'transaction-control');
    expect(t.gaps).toEqual([{ from: 0n, to: 4n, reason: 'transaction-control' }]);
    expect(t.gaps[0]).not.toHaveProperty('missing');
    expect(t.missingOffsets()).toBe(5n);
  });

  it('does not merge non-adjacent ranges of the same reason below the limit', () => {
    const t = new GapTracker();
    t.add(0n, 1n, 'compacted');
    t.add(3n, 4n, 'compacted');
    expect(t.gaps).toEqual([
      { from: 0n, to: 1n, reason: 'compacted' },
      { from: 3n, to: 4n, reason: 'compacted' },
    ]);
    expect(t.missingOffsets()).toBe(4n);
  });

  it('does not merge adjacent ranges with different reasons', () => {
    const t = new GapTracker();
    t.add(0n, 4n, 'aborted-transaction');
    t.add(5n, 5n, 'transaction-control');
    t.add(6n, 6n, 'aborted-transaction');
    expect(t.gaps.map((g) => [g.from, g.to, g.reason])).toEqual([
      [0n, 4n, 'aborted-transaction'],
      [5n, 5n, 'transaction-control'],
      [6n, 6n, 'aborted-transaction'],
    ]);
    expect(t.missingOffsets()).toBe(7n);
  });

  it('past exactLimit folds new ranges into the previous same-reason one with an exact missing count', () => {
    const t = new GapTracker(2);
    t.add(10n, 10n, 'compacted');
    t.add(12n, 13n, 'compacted'); // two entries: at the limit
    t.add(20n, 22n, 'compacted'); // folded into [12, 22], 5 missing of 11
    expect(t.gaps).toEqual([
      { from: 10n, to: 10n, reason: 'compacted' },
      { from: 12n, to: 22n, reason: 'compacted', missing: 5n },
    ]);
    t.add(30n, 30n, 'compacted');
    expect(t.gaps[1]).toEqual({ from: 12n, to: 30n, reason: 'compacted', missing: 6n });
    expect(t.missingOffsets()).toBe(7n);
  });

  it('adds adjacent ranges to a folded range exactly, and drops `missing` once the range is full', () => {
    const t = new GapTracker(1);
    t.add(0n, 0n, 'missing');
    t.add(2n, 2n, 'missing'); // folded: [0, 2] with 2 missing
    expect(t.gaps).toEqual([{ from: 0n, to: 2n, reason: 'missing', missing: 2n }]);
    t.add(3n, 5n, 'missing'); // adjacent: [0, 5] with 5 missing
    expect(t.gaps).toEqual([{ from: 0n, to: 5n, reason: 'missing', missing: 5n }]);
    expect(t.missingOffsets()).toBe(5n);
  });

  it('folding never loses a missing offset across many compaction holes', () => {
    const t = new GapTracker(10);
    let expected = 0n;
    // Every third offset kept: holes [3k+1, 3k+2] for k = 0..999.
    for (let k = 0n; k < 1000n; k++) {
      t.add(3n * k + 1n, 3n * k + 2n, 'compacted');
      expected += 2n;
    }
    expect(t.gaps).toHaveLength(10);
    expect(t.missingOffsets()).toBe(expected);
    const last = t.gaps.at(-1);
    expect(last).toEqual({ from: 28n, to: 2999n, reason: 'compacted', missing: expected - 18n });
  });

  it('does not fold a range into a previous range of a different reason past the limit', () => {
    const t = new GapTracker(1);
    t.add(0n, 0n, 'compacted');
    t.add(5n, 5n, 'retention');
    expect(t.gaps).toEqual([
      { from: 0n, to: 0n, reason: 'compacted' },
      { from: 5n, to: 5n, reason: 'retention' },
    ]);
    expect(t.missingOffsets()).toBe(2n);
  });

  // A compacted transactional topic interleaves compaction holes with single-offset commit markers, so the
  // reasons alternate. The class promises to fold ranges "into the previous one of the same reason" past
  // exactLimit to keep the manifest small; it only looks at the very last entry, so here it grows without
  // bound. (Regression test.)
  it('stays bounded past exactLimit when reasons alternate (compaction holes + commit markers)', () => {
    const limit = 10;
    const t = new GapTracker(limit);
    let expected = 0n;
    for (let k = 0n; k < 1000n; k++) {
      t.add(4n * k + 1n, 4n * k + 1n, 'compacted');
      t.add(4n * k + 3n, 4n * k + 3n, 'transaction-control');
      expected += 2n;
    }
    expect(t.missingOffsets()).toBe(expected);
    expect(t.gaps.length).toBeLessThanOrEqual(limit + 2);
  });
});
