import { describe, expect, it } from 'vitest';
import { OffsetMapBuilder, translateOffset, type OffsetRun } from '../../../src/core/offset-map.js';
import { randomInt, seededRandom } from './helpers.js';

describe('OffsetMapBuilder', () => {
  it('extends a run while source and target are both contiguous', () => {
    const b = new OffsetMapBuilder();
    b.add(10n, 0n);
    b.add(11n, 1n);
    b.add(12n, 2n);
    expect(b.runs).toEqual([{ source: 10n, target: 0n, length: 3n }]);
  });

  it('starts a new run at a gap in the source', () => {
    const b = new OffsetMapBuilder();
    b.add(0n, 0n);
    b.add(1n, 1n);
    b.add(5n, 2n);
    b.add(6n, 3n);
    expect(b.runs).toEqual([
      { source: 0n, target: 0n, length: 2n },
      { source: 5n, target: 2n, length: 2n },
    ]);
  });

  it('starts a new run at a gap in the target', () => {
    const b = new OffsetMapBuilder();
    b.add(0n, 0n);
    b.add(1n, 7n);
    expect(b.runs).toEqual([
      { source: 0n, target: 0n, length: 1n },
      { source: 1n, target: 7n, length: 1n },
    ]);
  });

  it('throws on a repeated or decreasing source or target offset', () => {
    const b = new OffsetMapBuilder();
    b.add(5n, 5n);
    b.add(6n, 6n);
    expect(() => {
      b.add(6n, 7n);
    }).toThrow(/out of order/);
    expect(() => {
      b.add(3n, 9n);
    }).toThrow(/out of order/);
    expect(() => {
      b.add(9n, 6n);
    }).toThrow(/out of order/);
    expect(b.runs).toEqual([{ source: 5n, target: 5n, length: 2n }]);
  });

  it('addBatch assigns consecutive targets from the base', () => {
    const b = new OffsetMapBuilder();
    b.addBatch([0n, 1n, 2n, 4n, 5n], 100n);
    b.addBatch([6n, 7n], 105n);
    b.addBatch([], 200n);
    expect(b.runs).toEqual([
      { source: 0n, target: 100n, length: 3n },
      { source: 4n, target: 103n, length: 4n },
    ]);
  });

  it('addBatch rejects decreasing sources', () => {
    const b = new OffsetMapBuilder();
    expect(() => {
      b.addBatch([3n, 2n], 0n);
    }).toThrow(/out of order/);
  });

  it('addBatch rejects a repeated source inside a batch whose span looks gap-free', () => {
    // [5, 5, 7] spans 2 = count - 1, like a gap-free batch: the contiguous path must not take it.
    const b = new OffsetMapBuilder();
    expect(() => {
      b.addBatch([5n, 5n, 7n], 0n);
    }).toThrow(/out of order/);
  });

  it('addBatch rejects a gap-free batch that starts inside the last run, in source or in target', () => {
    const b = new OffsetMapBuilder();
    b.addBatch([10n, 11n, 12n], 100n);
    expect(() => {
      b.addBatch([12n, 13n], 103n);
    }).toThrow(/out of order/);
    expect(() => {
      b.addBatch([13n, 14n], 102n);
    }).toThrow(/out of order/);
    expect(b.runs).toEqual([{ source: 10n, target: 100n, length: 3n }]);
  });

  it('addBatch builds the same runs as add() one record at a time (seeded batches, gaps in source and target)', () => {
    for (let round = 0; round < 200; round++) {
      const rand = seededRandom(5000 + round);
      const batched = new OffsetMapBuilder();
      const single = new OffsetMapBuilder();
      let source = BigInt(randomInt(rand, 3));
      let target = BigInt(randomInt(rand, 3));
      for (let batch = 0, batches = 1 + randomInt(rand, 6); batch < batches; batch++) {
        const sources: bigint[] = [];
        for (let i = 0, count = randomInt(rand, 8); i < count; i++) {
          sources.push(source);
          // Mostly gap-free batches, as a restore of an uncompacted topic sends them.
          source += rand() < 0.9 ? 1n : 2n + BigInt(randomInt(rand, 3));
        }
        // Sometimes the next batch does not start where the last one ended in the target (another writer).
        if (rand() < 0.2) target += 1n + BigInt(randomInt(rand, 3));
        batched.addBatch(sources, target);
        sources.forEach((s, i) => {
          single.add(s, target + BigInt(i));
        });
        target += BigInt(sources.length);
        if (rand() < 0.2) source += 1n + BigInt(randomInt(rand, 3));
      }
      expect(batched.runs).toEqual(single.runs);
    }
  });
});

describe('translateOffset', () => {
  // Source 10..14 → target 0..4, source 20..22 → target 5..7; target end 8.
  const runs: OffsetRun[] = [
    { source: 10n, target: 0n, length: 5n },
    { source: 20n, target: 5n, length: 3n },
  ];
  const END = 8n;

  it('maps an offset at a run start to the run target', () => {
    expect(translateOffset(runs, 10n, END)).toBe(0n);
    expect(translateOffset(runs, 20n, END)).toBe(5n);
  });

  it('maps an offset inside a run by its distance from the start', () => {
    expect(translateOffset(runs, 12n, END)).toBe(2n);
    expect(translateOffset(runs, 14n, END)).toBe(4n);
    expect(translateOffset(runs, 22n, END)).toBe(7n);
  });

  it('maps an offset inside a gap to the start of the next run, never extrapolating', () => {
    for (let o = 15n; o <= 20n; o++) expect(translateOffset(runs, o, END)).toBe(5n);
  });

  it('maps an offset before the first run to the first target', () => {
    expect(translateOffset(runs, 0n, END)).toBe(0n);
    expect(translateOffset(runs, 9n, END)).toBe(0n);
  });

  it('maps an offset after the last run to targetEnd', () => {
    expect(translateOffset(runs, 23n, END)).toBe(END);
    expect(translateOffset(runs, 1_000_000n, END)).toBe(END);
  });

  it('maps everything to targetEnd when nothing was restored', () => {
    expect(translateOffset([], 0n, 42n)).toBe(42n);
    expect(translateOffset([], 99n, 42n)).toBe(42n);
  });

  it('handles a single one-record run', () => {
    const one: OffsetRun[] = [{ source: 7n, target: 3n, length: 1n }];
    expect(translateOffset(one, 6n, 4n)).toBe(3n);
    expect(translateOffset(one, 7n, 4n)).toBe(3n);
    expect(translateOffset(one, 8n, 4n)).toBe(4n);
  });

  it('matches brute force for every offset on random compacted partitions (seeded)', () => {
    for (let round = 0; round < 40; round++) {
      const rand = seededRandom(1000 + round);
      const count = 1 + randomInt(rand, 300);
      const sources: bigint[] = [];
      let source = BigInt(randomInt(rand, 5));
      for (let i = 0; i < count; i++) {
        sources.push(source);
        // Mostly consecutive, sometimes a gap of 1..20 offsets.
        source += rand() < 0.7 ? 1n : 2n + BigInt(randomInt(rand, 20));
      }
      const builder = new OffsetMapBuilder();
      builder.addBatch(sources, 0n);
      const targetEnd = BigInt(sources.length);
      expect(builder.runs.reduce((sum, r) => sum + r.length, 0n)).toBe(targetEnd);
      const maxSource = sources.at(-1) ?? 0n;
      for (let o = 0n; o <= maxSource + 2n; o++) {
        const index = sources.findIndex((s) => s >= o);
        const expected = index < 0 ? targetEnd : BigInt(index);
        expect(translateOffset(builder.runs, o, targetEnd)).toBe(expected);
      }
    }
  });

  it('keeps 100,000,000 consecutive offsets as one run that later records extend', () => {
    const b = new OffsetMapBuilder();
    b.runs.push({ source: 0n, target: 0n, length: 100_000_000n });
    b.add(100_000_000n, 100_000_000n);
    expect(b.runs).toEqual([{ source: 0n, target: 0n, length: 100_000_001n }]);
    b.add(100_000_005n, 100_000_001n);
    expect(b.runs).toHaveLength(2);
    const rand = seededRandom(7);
    for (let i = 0; i < 1_000; i++) {
      const o = BigInt(randomInt(rand, 100_000_001));
      expect(translateOffset(b.runs, o, 100_000_002n)).toBe(o);
    }
    expect(translateOffset(b.runs, 100_000_003n, 100_000_002n)).toBe(100_000_001n);
    expect(translateOffset(b.runs, 100_000_006n, 100_000_002n)).toBe(100_000_002n);
  });

  it('answers queries on a 100,000,000-record partition held as a handful of runs', () => {
    // Built as runs directly (not record by record): source 0..99,999,999 with three holes cut out.
    const holes: [bigint, bigint][] = [
      [1_000n, 1_999n],
      [50_000_000n, 50_000_000n],
      [77_777_777n, 77_800_000n],
    ];
    const runs: OffsetRun[] = [];
    let start = 0n;
    let target = 0n;
    for (const [from, to] of [...holes, [100_000_000n, 100_000_000n] as [bigint, bigint]]) {
      runs.push({ source: start, target, length: from - start });
      target += from - start;
      start = to + 1n;
    }
    const targetEnd = target;
    expect(runs).toHaveLength(4);
    expect(runs[0]).toEqual({ source: 0n, target: 0n, length: 1_000n });
    const missing = holes.reduce((sum, [from, to]) => sum + to - from + 1n, 0n);
    expect(targetEnd).toBe(100_000_000n - missing);

    // Reference answer by arithmetic on the holes: records kept before O, or the next kept record.
    const expected = (o: bigint): bigint => {
      let next = o;
      for (const [from, to] of holes) if (next >= from && next <= to) next = to + 1n;
      if (next >= 100_000_000n) return targetEnd;
      let removed = 0n;
      for (const [from, to] of holes) if (to < next) removed += to - from + 1n;
      return next - removed;
    };
    const rand = seededRandom(42);
    const probes = [0n, 999n, 1_000n, 1_999n, 2_000n, 50_000_000n, 77_800_001n, 99_999_999n, 100_000_000n];
    for (let i = 0; i < 10_000; i++) probes.push(BigInt(randomInt(rand, 100_000_010)));
    for (const o of probes) expect(translateOffset(runs, o, targetEnd)).toBe(expected(o));
  });
});
