import { describe, expect, it } from 'vitest';
import { formatEta, ProgressTracker, renderProgress, MAX_PROGRESS_ROWS } from '../../../src/cli/progress.js';

const MiB = 1024 * 1024;

describe('ProgressTracker', () => {
  it('adds records, bytes and units across partitions and estimates the total ETA from the average rate', () => {
    const tracker = new ProgressTracker(0);
    tracker.start({ partitions: 2, totalUnits: 1000 });
    tracker.update(
      { label: 't-0', records: 100, bytes: 10 * MiB, advanced: 100, position: 100n, end: 500n },
      1000,
    );
    tracker.update(
      { label: 't-1', records: 150, bytes: 15 * MiB, advanced: 150, position: 150n, end: 500n },
      2000,
    );
    const s = tracker.snapshot(2000);
    expect(s.records).toBe(250);
    expect(s.bytes).toBe(25 * MiB);
    expect(s.bytesPerSecond).toBe(12.5 * MiB);
    expect(s.fraction).toBe(0.25);
    // 250 units in 2 s: 750 left at 125/s is 6 s.
    expect(s.etaSeconds).toBe(6);
    expect(s.partitionsTotal).toBe(2);
    expect(s.partitionsDone).toBe(0);
  });

  it('measures a partition from its first step, and counts idle time against its ETA', () => {
    const tracker = new ProgressTracker(0);
    tracker.update({ label: 't-0', records: 10, bytes: MiB, advanced: 10, position: 10n, end: 110n }, 1000);
    let view = tracker.snapshot(1000).partitions[0];
    expect(view?.bytesPerSecond).toBeUndefined();
    expect(view?.etaSeconds).toBeUndefined();
    tracker.update(
      { label: 't-0', records: 20, bytes: 2 * MiB, advanced: 20, position: 30n, end: 110n },
      3000,
    );
    view = tracker.snapshot(3000).partitions[0];
    // 2 MiB and 20 units in the 2 s after the first step; 80 units left at 10/s.
    expect(view?.bytesPerSecond).toBe(MiB);
    expect(view?.etaSeconds).toBe(8);
    expect(view?.records).toBe(30);
    // Two seconds without a step: 20 units over 4 s, so 80 units take 16 s.
    expect(tracker.snapshot(5000).partitions[0]?.etaSeconds).toBe(16);
  });

  it('marks a partition done at its end and counts it', () => {
    const tracker = new ProgressTracker(0);
    tracker.start({ partitions: 1, totalUnits: 10 });
    tracker.update({ label: 't-0', records: 7, bytes: 70, advanced: 10, position: 10n, end: 10n }, 500);
    const s = tracker.snapshot(1000);
    expect(s.partitions[0]?.done).toBe(true);
    expect(s.partitions[0]?.etaSeconds).toBe(0);
    expect(s.partitionsDone).toBe(1);
    expect(s.fraction).toBe(1);
    expect(s.etaSeconds).toBe(0);
  });

  it('has no fraction or ETA when no total was announced (migrate --follow)', () => {
    const tracker = new ProgressTracker(0);
    tracker.update({ label: 't-0', records: 1, bytes: 1, advanced: 1, position: 1n, end: 5n }, 10);
    const s = tracker.snapshot(20);
    expect(s.fraction).toBeUndefined();
    expect(s.etaSeconds).toBeUndefined();
  });
});

describe('renderProgress', () => {
  it('shows a row per active partition with rate, percent and ETA, and a total line', () => {
    const tracker = new ProgressTracker(0);
    tracker.start({ partitions: 3, totalUnits: 300 });
    for (const [label, at] of [
      ['orders-0', 1000],
      ['orders-1', 1000],
      ['orders-2', 1000],
    ] as const) {
      tracker.update({ label, records: 10, bytes: MiB, advanced: 10, position: 10n, end: 100n }, at);
    }
    tracker.update(
      { label: 'orders-0', records: 40, bytes: 4 * MiB, advanced: 40, position: 50n, end: 100n },
      2000,
    );
    tracker.update(
      { label: 'orders-2', records: 90, bytes: 9 * MiB, advanced: 90, position: 100n, end: 100n },
      2000,
    );
    const text = renderProgress(tracker.snapshot(2000), 'backup');
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^partition\s+records\s+bytes\s+rate\s+done\s+eta$/);
    // orders-1 has most left and comes first; orders-2 is done and not shown.
    expect(lines[2]).toMatch(/^orders-1\s+10\s+1\.0 MiB\s+…\s+10%\s+…$/);
    // 40 units in the second after its first step; 50 left take 1.25 s.
    expect(lines[3]).toMatch(/^orders-0\s+50\s+5\.0 MiB\s+4\.0 MiB\/s\s+50%\s+1s$/);
    expect(text).not.toContain('orders-2');
    expect(lines.at(-1)).toBe('backup: 160 records, 16.0 MiB, 8.0 MiB/s, 53%, ETA 2s, 1/3 partitions done');
  });

  it(`shows at most ${MAX_PROGRESS_ROWS} partitions and says how many more are active`, () => {
    const tracker = new ProgressTracker(0);
    for (let p = 0; p < MAX_PROGRESS_ROWS + 3; p++) {
      tracker.update({ label: `t-${p}`, records: 1, bytes: 1, advanced: 1, position: 1n, end: 10n }, 100);
    }
    const text = renderProgress(tracker.snapshot(100), 'restore');
    expect(text).toContain('… 3 more partitions active');
    expect(text.split('\n').filter((l) => l.startsWith('t-'))).toHaveLength(MAX_PROGRESS_ROWS);
  });
});

describe('formatEta', () => {
  it.each([
    [undefined, '…'],
    [Infinity, '…'],
    [0, '0s'],
    [44.6, '45s'],
    [725, '12m05s'],
    [12_000, '3h20m'],
  ])('%s s is %s', (seconds, text) => {
    expect(formatEta(seconds)).toBe(text);
  });
});
