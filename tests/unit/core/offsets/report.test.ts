import { describe, expect, it } from 'vitest';
import { planGroupReset, summarizePlan } from '../../../../src/core/offsets/planner.js';
import { dryRunText, executedText, type TableData } from '../../../../src/core/offsets/report.js';
import { describeTarget, partitionKey } from '../../../../src/core/offsets/target.js';

const layout = (t: TableData): string => [t.headers, ...t.rows].map((r) => r.join('|')).join('\n');

const rows = planGroupReset({
  group: 'g1',
  partitions: [
    { topic: 'orders', partition: 0, origin: 'topics' },
    { topic: 'orders', partition: 1, origin: 'topics' },
  ],
  committed: new Map([[partitionKey('orders', 0), 5n]]),
  bounds: new Map([
    [partitionKey('orders', 0), { logStartOffset: 0n, highWatermark: 10n }],
    [partitionKey('orders', 1), { logStartOffset: 0n, highWatermark: 3n }],
  ]),
  target: { kind: 'offset', offset: 8n },
});

describe('human reports', () => {
  it('a dry run shows current, target, lag before → after and status, and what would block --execute', () => {
    const text = dryRunText(
      'DRY RUN',
      {
        groups: [{ groupId: 'g1', state: 'Stable', memberCount: 2, active: true }],
        rows,
        totals: summarizePlan(rows),
      },
      [],
      layout,
    );
    expect(text).toContain('g1|orders|0|5|8|5 → 2|change|');
    expect(text).toContain('g1|orders|1|-|3|- → 0|clamped|requested 8 is above the high watermark 3');
    expect(text).toContain('2 partition(s): 2 to change, 0 unchanged, 1 clamped, 0 skipped, 0 error(s)');
    expect(text).toMatch(/group g1 is active \(Stable, 2 member\(s\)\): applying will be refused/);
    expect(text).toMatch(/Nothing was changed\. Re-run with --execute to apply\.$/);
  });

  it('after --execute it shows each result, verify differences and how to undo', () => {
    const applied = rows.map((r, i) => ({
      ...r,
      result: i === 0 ? 'committed' : 'failed',
      error: i === 0 ? null : 'boom',
    }));
    const text = executedText(
      {
        command: 'offsets reset',
        groups: 1,
        applied,
        totals: { committed: 1, deleted: 0, unchanged: 0, clamped: 1, skipped: 0, failed: 1 },
        verify: { failures: 1, mismatches: [{ group: 'g1', topic: 'orders', partition: 0, note: 'x' }] },
        warnings: ['w'],
        undo: 'undo with: kbackup offsets rollback ...',
      },
      layout,
    );
    expect(text).toContain('g1|orders|0|5|8|5 → 2|committed|');
    expect(text).toContain('g1|orders|1|-|-|- → 0|failed|boom');
    expect(text).toContain('verify: 1 difference(s)\n  g1 orders-0: x');
    expect(text).toMatch(/warning: w\nundo with: kbackup offsets rollback \.\.\.$/);
  });

  it('describes every target kind', () => {
    expect(describeTarget({ kind: 'datetime', timestamp: 0n })).toBe('datetime 1970-01-01T00:00:00.000Z (0)');
    expect(describeTarget({ kind: 'datetime', timestamp: 2n ** 62n })).toContain('4611686018427387904');
    expect(describeTarget({ kind: 'shift', by: -3n })).toBe('shift by -3');
  });
});
