import { describe, expect, it } from 'vitest';
import { KbackupError } from '../../../src/core/errors.js';
import { planRetention, type BackupInfo } from '../../../src/core/retention.js';

const at = (iso: string, id: string, parent: string | null = null): BackupInfo => ({
  id,
  completedAt: new Date(iso),
  parent,
});

const kept = (backups: BackupInfo[], policy: Parameters<typeof planRetention>[1]): string[] =>
  planRetention(backups, policy)
    .filter((d) => d.keep)
    .map((d) => d.id)
    .sort();

describe('planRetention', () => {
  const nightly = [
    at('2026-11-15T02:00:00Z', 'd15'),
    at('2026-11-16T02:00:00Z', 'd16'),
    at('2026-11-16T14:00:00Z', 'd16b'),
    at('2026-11-17T02:00:00Z', 'd17'),
    at('2026-11-20T02:00:00Z', 'd20'),
    at('2026-11-22T02:00:00Z', 'd22'),
  ];

  it('keeps the n newest with --keep-last', () => {
    expect(kept(nightly, { keepLast: 2 })).toEqual(['d20', 'd22']);
  });

  it('keeps the newest backup of each of the last n days that have one', () => {
    expect(kept(nightly, { keepDaily: 4 })).toEqual(['d16b', 'd17', 'd20', 'd22']);
  });

  it('keeps one per ISO week and everything within a duration of the newest', () => {
    // 2026-11-15 is a Sunday (week 46); 16-22 is week 47.
    expect(kept(nightly, { keepWeekly: 2 })).toEqual(['d15', 'd22']);
    expect(kept(nightly, { keepWithinMs: 2 * 86_400_000 })).toEqual(['d20', 'd22']);
  });

  it('unions the rules and says why each backup is kept', () => {
    const plan = planRetention(nightly, { keepLast: 1, keepDaily: 2 });
    expect(plan.find((d) => d.id === 'd22')?.reasons).toEqual(['last', 'daily 2026-11-22']);
    expect(plan.find((d) => d.id === 'd17')).toMatchObject({ keep: false, reasons: [] });
  });

  it('never breaks an incremental chain a kept backup needs', () => {
    const chain = [
      at('2026-11-01T00:00:00Z', 'full'),
      at('2026-11-02T00:00:00Z', 'inc1', 'full'),
      at('2026-11-03T00:00:00Z', 'inc2', 'inc1'),
      at('2026-11-04T00:00:00Z', 'other'),
    ];
    const plan = planRetention(chain, { keepLast: 1 });
    expect(kept(chain, { keepLast: 1 })).toEqual(['other']);
    expect(plan.find((d) => d.id === 'full')?.keep).toBe(false);
    const withChain = planRetention([...chain, at('2026-11-05T00:00:00Z', 'inc3', 'inc2')], { keepLast: 1 });
    expect(withChain.filter((d) => d.keep).map((d) => [d.id, d.reasons])).toEqual([
      ['inc3', ['last']],
      ['inc2', ['parent of inc3']],
      ['inc1', ['parent of inc2']],
      ['full', ['parent of inc1']],
    ]);
  });

  it('refuses to plan without a policy', () => {
    expect(() => planRetention(nightly, {})).toThrow(KbackupError);
  });
});
