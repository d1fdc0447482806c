import { describe, expect, it } from 'vitest';
import { manifestSchema } from '../../../src/core/manifest/schema.js';
import {
  planRestore,
  recordInWindow,
  segmentOverlapsWindow,
  windowIsEmpty,
  type RestoreSelection,
  type RestoreWindow,
} from '../../../src/core/restore-plan.js';
import { expectKbackupError } from './helpers.js';
import { makeManifest, makeSegment, makeTopic, threeSegments } from './manifest-fixture.js';

const manifest = makeManifest([
  makeTopic('orders', 3, threeSegments),
  makeTopic('payments', 2, (p) => (p === 0 ? [makeSegment(0n, 9n, 500n, 600n)] : [])),
  makeTopic('audit', 1, threeSegments),
]);

const select = (over: Partial<RestoreSelection> = {}): RestoreSelection => ({
  topics: [],
  partitions: [],
  renames: new Map(),
  window: {},
  ...over,
});

/** First offsets of the planned segments of one topic partition. */
function planned(window: RestoreWindow, topic = 'orders', partition = 0): bigint[] {
  const plan = planRestore(manifest, select({ topics: [topic], partitions: [partition], window }));
  return plan.topics[0]?.partitions[0]?.segments.map((s) => s.firstOffset) ?? [];
}

describe('planRestore', () => {
  it('uses a manifest that passes the schema', () => {
    expect(manifestSchema.parse(manifest)).toEqual(manifest);
  });

  it('plans every topic, partition and segment, exactly, when nothing is selected', () => {
    const plan = planRestore(manifest, select());
    expect(plan.backupId).toBe('bk-2026-01-01');
    expect(plan.exact).toBe(true);
    expect(plan.topics.map((t) => [t.sourceTopic, t.targetTopic, t.partitionCount])).toEqual([
      ['orders', 'orders', 3],
      ['payments', 'payments', 2],
      ['audit', 'audit', 1],
    ]);
    expect(plan.topics[0]?.configs).toEqual({ 'cleanup.policy': 'delete' });
    expect(plan.topics[0]?.replicationFactor).toBe(1);
    expect(plan.totals).toEqual({ partitions: 6, segments: 13, records: 1210, rawBytes: 121_000 });
    const p1 = plan.topics[0]?.partitions[1];
    expect(p1).toMatchObject({ sourceTopic: 'orders', targetTopic: 'orders', partition: 1, records: 300 });
    expect(p1?.segments.map((s) => s.file)).toEqual([
      '00000000000000000000.kseg',
      '00000000000000000100.kseg',
      '00000000000000000200.kseg',
    ]);
  });

  it('restores only the selected topics, in manifest order', () => {
    const plan = planRestore(manifest, select({ topics: ['audit', 'orders'] }));
    expect(plan.topics.map((t) => t.sourceTopic)).toEqual(['orders', 'audit']);
    expect(plan.totals.partitions).toBe(4);
  });

  it('restores only the selected partitions of each topic', () => {
    const plan = planRestore(manifest, select({ topics: ['orders', 'payments'], partitions: [1] }));
    expect(plan.topics.map((t) => t.partitions.map((p) => p.partition))).toEqual([[1], [1]]);
    expect(plan.totals).toEqual({ partitions: 2, segments: 3, records: 300, rawBytes: 30_000 });
  });

  it('applies renames to the target topic only', () => {
    const plan = planRestore(manifest, select({ renames: new Map([['orders', 'orders-restored']]) }));
    const orders = plan.topics[0];
    expect(orders?.sourceTopic).toBe('orders');
    expect(orders?.targetTopic).toBe('orders-restored');
    expect(
      orders?.partitions.every((p) => p.targetTopic === 'orders-restored' && p.sourceTopic === 'orders'),
    ).toBe(true);
    expect(plan.topics[1]?.targetTopic).toBe('payments');
  });

  it('allows two topics to swap names', () => {
    const renames = new Map([
      ['orders', 'payments'],
      ['payments', 'orders'],
    ]);
    const plan = planRestore(manifest, select({ renames }));
    expect(plan.topics.map((t) => t.targetTopic)).toEqual(['payments', 'orders', 'audit']);
  });

  it('fails with TOPIC_NOT_FOUND for a selected topic not in the backup', () => {
    const error = expectKbackupError(
      () => planRestore(manifest, select({ topics: ['orders', 'nope', 'nada'] })),
      'TOPIC_NOT_FOUND',
      /nope, nada/,
    );
    expect(error.hint).toMatch(/orders, payments, audit/);
  });

  it('fails with USAGE when --rename names a topic not in the backup', () => {
    expectKbackupError(
      () => planRestore(manifest, select({ renames: new Map([['ghost', 'x']]) })),
      'USAGE',
      /ghost/,
    );
  });

  it('fails with USAGE when two topics would be restored into the same target', () => {
    expectKbackupError(
      () => planRestore(manifest, select({ renames: new Map([['orders', 'payments']]) })),
      'USAGE',
      /orders and payments would both be restored into payments/,
    );
    const both = new Map([
      ['orders', 'merged'],
      ['audit', 'merged'],
    ]);
    expectKbackupError(() => planRestore(manifest, select({ renames: both })), 'USAGE', /into merged/);
  });

  it('allows a rename onto a backed-up topic name that is not being restored', () => {
    const plan = planRestore(
      manifest,
      select({ topics: ['orders'], renames: new Map([['orders', 'payments']]) }),
    );
    expect(plan.topics.map((t) => t.targetTopic)).toEqual(['payments']);
  });

  it('fails with USAGE for a partition out of range of any selected topic', () => {
    expectKbackupError(
      () => planRestore(manifest, select({ partitions: [2] })),
      'USAGE',
      /topic payments has 2 partitions; no partition 2/,
    );
    expect(planRestore(manifest, select({ topics: ['orders'], partitions: [2] })).totals.partitions).toBe(1);
  });

  it('skips segments entirely outside a time window, with inclusive bounds', () => {
    expect(planned({ fromTime: 2999n })).toEqual([100n, 200n]);
    expect(planned({ fromTime: 3000n })).toEqual([200n]);
    expect(planned({ toTime: 2000n })).toEqual([0n, 100n]);
    expect(planned({ toTime: 1999n })).toEqual([0n]);
    expect(planned({ fromTime: 2000n, toTime: 2999n })).toEqual([100n]);
    expect(planned({ fromTime: 1999n, toTime: 3000n })).toEqual([0n, 100n, 200n]);
    expect(planned({ fromTime: 4000n })).toEqual([]);
    expect(planned({ toTime: 999n })).toEqual([]);
  });

  it('skips segments entirely outside an offset window, with inclusive bounds', () => {
    expect(planned({ fromOffset: 199n })).toEqual([100n, 200n]);
    expect(planned({ fromOffset: 200n })).toEqual([200n]);
    expect(planned({ toOffset: 100n })).toEqual([0n, 100n]);
    expect(planned({ toOffset: 99n })).toEqual([0n]);
    expect(planned({ fromOffset: 300n })).toEqual([]);
  });

  it('combines time and offset windows and reports the plan as inexact', () => {
    const plan = planRestore(
      manifest,
      select({ topics: ['orders'], window: { fromTime: 2500n, toOffset: 150n } }),
    );
    expect(plan.exact).toBe(false);
    expect(plan.topics[0]?.partitions.map((p) => p.segments.map((s) => s.firstOffset))).toEqual([
      [100n],
      [100n],
      [100n],
    ]);
    expect(plan.totals).toEqual({ partitions: 3, segments: 3, records: 300, rawBytes: 30_000 });
  });
});

describe('windows', () => {
  const seg = makeSegment(100n, 199n, 2000n, 2999n);

  it('windowIsEmpty only when no bound is set', () => {
    expect(windowIsEmpty({})).toBe(true);
    expect(windowIsEmpty({ fromTime: 0n })).toBe(false);
    expect(windowIsEmpty({ toOffset: 0n })).toBe(false);
  });

  it('segmentOverlapsWindow uses min/max timestamps and first/last offsets inclusively', () => {
    expect(segmentOverlapsWindow(seg, {})).toBe(true);
    expect(segmentOverlapsWindow(seg, { fromTime: 2999n })).toBe(true);
    expect(segmentOverlapsWindow(seg, { fromTime: 3000n })).toBe(false);
    expect(segmentOverlapsWindow(seg, { toTime: 2000n })).toBe(true);
    expect(segmentOverlapsWindow(seg, { toTime: 1999n })).toBe(false);
    expect(segmentOverlapsWindow(seg, { fromOffset: 199n })).toBe(true);
    expect(segmentOverlapsWindow(seg, { fromOffset: 200n })).toBe(false);
    expect(segmentOverlapsWindow(seg, { toOffset: 100n })).toBe(true);
    expect(segmentOverlapsWindow(seg, { toOffset: 99n })).toBe(false);
    // A window strictly inside the segment overlaps it.
    expect(
      segmentOverlapsWindow(seg, { fromTime: 2500n, toTime: 2501n, fromOffset: 150n, toOffset: 150n }),
    ).toBe(true);
  });

  it('recordInWindow has inclusive bounds at the exact millisecond and offset', () => {
    const w: RestoreWindow = { fromTime: 1000n, toTime: 2000n, fromOffset: 10n, toOffset: 20n };
    expect(recordInWindow(10n, 1000n, w)).toBe(true);
    expect(recordInWindow(20n, 2000n, w)).toBe(true);
    expect(recordInWindow(15n, 999n, w)).toBe(false);
    expect(recordInWindow(15n, 2001n, w)).toBe(false);
    expect(recordInWindow(9n, 1500n, w)).toBe(false);
    expect(recordInWindow(21n, 1500n, w)).toBe(false);
    expect(recordInWindow(-5n, -5n, {})).toBe(true);
  });
});
