import { describe, expect, it } from 'vitest';
import { QuietTracker, caughtUp } from '../../../../src/core/migrate/drain.js';
import { sameContent } from '../../../../src/core/migrate/records.js';
import type { BackupRecord } from '../../../../src/core/record.js';

describe('QuietTracker', () => {
  it('is quiet only after the ends stayed the same for the whole period since first seen', () => {
    const t = new QuietTracker(1_000);
    expect(t.quiet(0)).toBe(false);
    t.observe(0, new Map([['a', 5n]]));
    expect(t.quiet(999)).toBe(false);
    t.observe(500, new Map([['a', 6n]]));
    t.observe(1_200, new Map([['a', 6n]]));
    expect(t.quiet(1_499)).toBe(false);
    expect(t.quiet(1_500)).toBe(true);
    t.observe(
      1_600,
      new Map([
        ['a', 6n],
        ['b', 0n],
      ]),
    );
    expect(t.quiet(2_000)).toBe(false);
  });

  it('caughtUp needs every position at or past its end', () => {
    const ends = new Map([
      ['a', 5n],
      ['b', 3n],
    ]);
    expect(
      caughtUp(
        new Map([
          ['a', 5n],
          ['b', 4n],
        ]),
        ends,
      ),
    ).toBe(true);
    expect(caughtUp(new Map([['a', 5n]]), ends)).toBe(false);
  });
});

const rec = (over: Partial<BackupRecord> = {}): BackupRecord => ({
  offset: 0n,
  timestamp: 1n,
  timestampType: 0,
  key: Buffer.from('k'),
  value: Buffer.from('v'),
  headers: [[Buffer.from('h'), null]],
  ...over,
});

describe('records', () => {
  it('sameContent compares key, value and headers byte for byte; null is not empty; time is ignored', () => {
    expect(sameContent(rec(), rec({ offset: 9n, timestamp: 7n }))).toBe(true);
    expect(sameContent(rec(), rec({ key: null }))).toBe(false);
    expect(sameContent(rec({ value: null }), rec({ value: Buffer.alloc(0) }))).toBe(false);
    expect(sameContent(rec(), rec({ headers: [[Buffer.from('h'), Buffer.alloc(0)]] }))).toBe(false);
    expect(sameContent(rec(), rec({ headers: [] }))).toBe(false);
  });
});
