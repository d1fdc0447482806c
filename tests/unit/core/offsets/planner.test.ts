import { describe, expect, it } from 'vitest';
import {
  planGroupReset,
  revalidate,
  summarizePlan,
  type GroupPlanInput,
  type PartitionBounds,
  type PlannedPartition,
  type ScopedPartition,
} from '../../../../src/core/offsets/planner.js';
import {
  backupSources,
  partitionKey,
  type ResetTarget,
  type SourceOffsets,
} from '../../../../src/core/offsets/target.js';
import { makeManifest, makeTopic } from '../manifest-fixture.js';

/**
 * Topic "orders" with three partitions:
 *   p0: log [100, 200), committed 150     p1: log [0, 50), committed 50 (caught up)     p2: empty log [30, 30), no commit
 */
const bounds = new Map<string, PartitionBounds>([
  [partitionKey('orders', 0), { logStartOffset: 100n, highWatermark: 200n }],
  [partitionKey('orders', 1), { logStartOffset: 0n, highWatermark: 50n }],
  [partitionKey('orders', 2), { logStartOffset: 30n, highWatermark: 30n }],
]);
const committed = new Map([
  [partitionKey('orders', 0), 150n],
  [partitionKey('orders', 1), 50n],
]);
const scope: ScopedPartition[] = [0, 1, 2].map((partition) => ({
  topic: 'orders',
  partition,
  origin: 'topics',
}));

function plan(target: ResetTarget, over: Partial<GroupPlanInput> = {}): PlannedPartition[] {
  return planGroupReset({ group: 'g1', partitions: scope, committed, bounds, target, ...over });
}

function row(rows: PlannedPartition[], partition: number, topic = 'orders'): PlannedPartition {
  const found = rows.find((r) => r.topic === topic && r.partition === partition);
  if (!found) throw new Error(`no row for ${topic}-${partition}`);
  return found;
}

const snapshotTarget = (offsets: SourceOffsets, group = 'g1'): ResetTarget => ({
  kind: 'snapshot',
  path: 'snap.json',
  clusterId: 'c1',
  groups: new Map([[group, offsets]]),
});

describe('planGroupReset', () => {
  it('--to-earliest moves to each log start and reports lag before and after', () => {
    const rows = plan({ kind: 'earliest' });
    expect(row(rows, 0)).toMatchObject({
      current: 150n,
      requested: 100n,
      target: 100n,
      lagBefore: 50n,
      lagAfter: 100n,
      status: 'change',
      changed: true,
      reason: null,
    });
    expect(row(rows, 1)).toMatchObject({ target: 0n, lagBefore: 0n, lagAfter: 50n, status: 'change' });
    // No commit yet: the new commit is a change, lag before is unknown.
    expect(row(rows, 2)).toMatchObject({ current: null, target: 30n, lagBefore: null, lagAfter: 0n });
    expect(row(rows, 2).status).toBe('change');
  });

  it('--to-latest moves to each high watermark; an already caught-up partition is unchanged', () => {
    const rows = plan({ kind: 'latest' });
    expect(row(rows, 0)).toMatchObject({ target: 200n, lagAfter: 0n, status: 'change' });
    expect(row(rows, 1)).toMatchObject({ target: 50n, status: 'unchanged', changed: false });
  });

  it('--to-offset inside the log is taken as is', () => {
    expect(row(plan({ kind: 'offset', offset: 120n }), 0)).toMatchObject({
      target: 120n,
      status: 'change',
      lagAfter: 80n,
    });
  });

  it('--to-offset above the high watermark is clamped to it and says so', () => {
    const r = row(plan({ kind: 'offset', offset: 10_000n }), 0);
    expect(r).toMatchObject({ requested: 10_000n, target: 200n, status: 'clamped', changed: true });
    expect(r.reason).toMatch(/above the high watermark 200/);
  });

  it('--to-offset below the log start is clamped to it and says so', () => {
    const r = row(plan({ kind: 'offset', offset: 5n }), 0);
    expect(r).toMatchObject({ requested: 5n, target: 100n, status: 'clamped' });
    expect(r.reason).toMatch(/below the log start 100/);
  });

  it('a clamp that lands on the current offset is clamped but not a change', () => {
    const r = row(plan({ kind: 'offset', offset: 999n }), 1);
    expect(r).toMatchObject({ target: 50n, status: 'clamped', changed: false });
  });

  it('an empty partition clamps every request to its single valid offset', () => {
    expect(row(plan({ kind: 'offset', offset: 0n }), 2)).toMatchObject({ target: 30n, status: 'clamped' });
    expect(row(plan({ kind: 'offset', offset: 31n }), 2)).toMatchObject({ target: 30n, status: 'clamped' });
  });

  it('--shift-by moves relative to the committed offset', () => {
    expect(row(plan({ kind: 'shift', by: -20n }), 0)).toMatchObject({ requested: 130n, target: 130n });
    expect(row(plan({ kind: 'shift', by: 0n }), 0)).toMatchObject({ target: 150n, status: 'unchanged' });
  });

  it('--shift-by below zero (and below the log start) clamps to the log start', () => {
    const r = row(plan({ kind: 'shift', by: -1_000n }), 0);
    expect(r).toMatchObject({ requested: -850n, target: 100n, status: 'clamped' });
  });

  it('--shift-by beyond the high watermark clamps to it', () => {
    const r = row(plan({ kind: 'shift', by: 60n }), 0);
    expect(r).toMatchObject({ requested: 210n, target: 200n, status: 'clamped' });
  });

  it('--shift-by without a committed offset is an error for that partition only', () => {
    const rows = plan({ kind: 'shift', by: 1n });
    expect(row(rows, 2)).toMatchObject({ status: 'error', target: null, changed: false });
    expect(row(rows, 2).reason).toMatch(/no committed offset/);
    expect(row(rows, 0).status).toBe('change');
  });

  it('--to-datetime uses the looked-up offset; "no record after T" (the log end) moves to the end', () => {
    const rows = plan(
      { kind: 'datetime', timestamp: 1_700_000_000_000n },
      {
        timestampOffsets: new Map([
          [partitionKey('orders', 0), 170n],
          [partitionKey('orders', 1), 50n], // the broker answers the high watermark when no record is newer
          [partitionKey('orders', 2), 30n],
        ]),
      },
    );
    expect(row(rows, 0)).toMatchObject({ target: 170n, status: 'change', lagAfter: 30n });
    expect(row(rows, 1)).toMatchObject({ target: 50n, lagAfter: 0n, status: 'unchanged' });
  });

  it('--to-datetime with a failed lookup is an error for that partition, with the reason', () => {
    const rows = plan(
      { kind: 'datetime', timestamp: 1n },
      {
        timestampOffsets: new Map([[partitionKey('orders', 0), 120n]]),
        lookupErrors: new Map([[partitionKey('orders', 1), 'timestamp lookup failed: boom']]),
      },
    );
    expect(row(rows, 0).status).toBe('change');
    expect(row(rows, 1)).toMatchObject({ status: 'error', reason: 'timestamp lookup failed: boom' });
    expect(row(rows, 2)).toMatchObject({ status: 'error', reason: 'no offset found for the timestamp' });
  });

  it('--from-snapshot restores recorded offsets; a partition the snapshot lacks is left unchanged and reported', () => {
    const rows = plan(snapshotTarget(new Map([[partitionKey('orders', 0), 110n]])));
    expect(row(rows, 0)).toMatchObject({ target: 110n, status: 'change' });
    expect(row(rows, 1)).toMatchObject({ status: 'skipped', target: null, current: 50n, changed: false });
    expect(row(rows, 1).reason).toMatch(/not in the snapshot; left as is/);
  });

  it('--from-snapshot reports a partition that had no commit in the snapshot (it cannot be un-committed)', () => {
    const r = row(plan(snapshotTarget(new Map([[partitionKey('orders', 1), null]]))), 1);
    expect(r).toMatchObject({ status: 'skipped', target: null });
    expect(r.reason).toMatch(/no committed offset here in the snapshot/);
  });

  it('rollback deletes a commit made where the snapshot had none; where there is still none, nothing to do', () => {
    const target: ResetTarget = {
      ...snapshotTarget(
        new Map([
          [partitionKey('orders', 1), null],
          [partitionKey('orders', 2), null],
        ]),
      ),
      deleteUncommitted: true,
    } as ResetTarget;
    const rows = plan(target);
    expect(row(rows, 1)).toMatchObject({ status: 'delete', current: 50n, target: null, changed: true });
    expect(row(rows, 1).reason).toMatch(/committed after the snapshot was taken.*deleted/);
    // p2 has no commit now either: left as is.
    expect(row(rows, 2)).toMatchObject({ status: 'skipped', current: null, changed: false });
    expect(summarizePlan(rows)).toMatchObject({ delete: 1, changed: 1 });
  });

  it('--from-snapshot clamps recorded offsets that retention has since passed', () => {
    const r = row(plan(snapshotTarget(new Map([[partitionKey('orders', 0), 10n]]))), 0);
    expect(r).toMatchObject({ requested: 10n, target: 100n, status: 'clamped' });
  });

  it('--from-snapshot without offsets for the group is an error', () => {
    const rows = plan(snapshotTarget(new Map(), 'other-group'));
    expect(rows.every((r) => r.status === 'error' && /no offsets for group g1/.test(r.reason ?? ''))).toBe(
      true,
    );
  });

  it('--from-backup commits what the backup captured at its cut', () => {
    const manifest = makeManifest([makeTopic('orders', 3)]);
    manifest.consumerGroups = [
      {
        groupId: 'g1',
        state: 'Empty',
        memberCount: 0,
        offsets: [
          { topic: 'orders', partition: 0, offset: 180n, metadata: null },
          { topic: 'orders', partition: 1, offset: 20n, metadata: null },
        ],
      },
    ];
    const target: ResetTarget = {
      kind: 'backup',
      backupId: manifest.backupId,
      clusterId: 'cluster-1',
      groups: backupSources(manifest),
    };
    const rows = plan(target);
    expect(row(rows, 0)).toMatchObject({ target: 180n, status: 'change' });
    expect(row(rows, 1)).toMatchObject({ target: 20n, status: 'change' });
    expect(row(rows, 2).status).toBe('skipped');
    expect(row(rows, 2).reason).toMatch(/not in backup bk-2026-01-01/);
  });

  it('a named partition missing on the cluster is an error; a stale commit on a deleted topic is skipped', () => {
    const rows = plan(
      { kind: 'earliest' },
      {
        partitions: [
          { topic: 'orders', partition: 7, origin: 'topics' },
          { topic: 'gone', partition: 0, origin: 'committed' },
        ],
        committed: new Map([[partitionKey('gone', 0), 3n]]),
        boundsErrors: new Map([[partitionKey('orders', 7), 'reading log offsets failed: x']]),
      },
    );
    expect(row(rows, 7)).toMatchObject({ status: 'error', reason: 'reading log offsets failed: x' });
    expect(row(rows, 0, 'gone')).toMatchObject({ status: 'skipped', current: 3n, target: null });
  });

  it('collapses duplicate partitions (explicit origin wins) and sorts by topic and partition', () => {
    const rows = plan(
      { kind: 'latest' },
      {
        partitions: [
          { topic: 'orders', partition: 1, origin: 'committed' },
          { topic: 'orders', partition: 0, origin: 'topics' },
          { topic: 'orders', partition: 1, origin: 'topics' },
        ],
      },
    );
    expect(rows.map((r) => r.partition)).toEqual([0, 1]);
  });

  it('is idempotent: planning again after applying the targets changes nothing', () => {
    for (const target of [
      { kind: 'earliest' },
      { kind: 'latest' },
      { kind: 'offset', offset: 10_000n },
      { kind: 'offset', offset: 130n },
    ] satisfies ResetTarget[]) {
      const first = plan(target);
      const applied = new Map(
        first.flatMap((r) => (r.target === null ? [] : [[partitionKey(r.topic, r.partition), r.target]])),
      );
      const second = plan(target, { committed: applied });
      expect(second.every((r) => !r.changed)).toBe(true);
      expect(second.map((r) => r.target)).toEqual(first.map((r) => r.target));
    }
  });
});

describe('revalidate', () => {
  const planned = row(plan({ kind: 'earliest' }), 0); // target 100

  it('keeps a target that is still inside the log and refreshes the lag', () => {
    const r = revalidate(planned, { logStartOffset: 100n, highWatermark: 250n });
    expect(r).toMatchObject({ target: 100n, status: 'change', lagAfter: 150n, lagBefore: 100n });
  });

  it('clamps again when retention moved the log start past the target since planning', () => {
    const r = revalidate(planned, { logStartOffset: 140n, highWatermark: 250n });
    expect(r).toMatchObject({ target: 140n, status: 'clamped', changed: true });
    expect(r.reason).toMatch(/below the log start 140.*since planning/);
  });

  it('clamps to a high watermark that went down (truncation)', () => {
    const latest = row(plan({ kind: 'latest' }), 0); // target 200
    expect(revalidate(latest, { logStartOffset: 100n, highWatermark: 180n })).toMatchObject({
      target: 180n,
      status: 'clamped',
    });
  });

  it('turns a vanished partition into an error and leaves skipped rows alone', () => {
    expect(revalidate(planned, undefined)).toMatchObject({ status: 'error', target: null, changed: false });
    const skipped = row(plan(snapshotTarget(new Map())), 1);
    expect(revalidate(skipped, undefined)).toBe(skipped);
  });
});

describe('summarizePlan', () => {
  it('counts rows by status and the rows that would move', () => {
    const rows = plan({ kind: 'offset', offset: 10_000n }); // p0 clamped+moves, p1 clamped only, p2 clamped+moves
    expect(summarizePlan(rows)).toEqual({
      partitions: 3,
      change: 0,
      unchanged: 0,
      clamped: 3,
      delete: 0,
      skipped: 0,
      error: 0,
      changed: 2,
    });
  });
});
