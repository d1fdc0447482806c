import { mapWithConcurrency } from '../../core/concurrency.js';
import type { SnapshotGroup } from '../../core/offsets/snapshot-format.js';
import { partitionKey } from '../../core/offsets/target.js';
import type { KafkaPort } from '../../core/ports/kafka-port.js';
import { fetchCommitted } from './cluster.js';
import type { AppliedPartition } from './reset.js';

export interface RollbackCheck {
  group: string;
  topic: string;
  partition: number;
  /** What the snapshot recorded (null: no committed offset), or the clamped target when the log moved on. */
  expected: bigint | null;
  actual: bigint | null;
  ok: boolean;
  note: string | null;
}

/**
 * After a rollback, re-reads every group's committed offsets and compares them with the snapshot itself,
 * not with what the rollback meant to do: a partition committed after the snapshot was taken (where it
 * recorded none) must have no commit any more.
 */
export async function verifyAgainstSnapshot(
  port: KafkaPort,
  groups: readonly SnapshotGroup[],
  applied: readonly AppliedPartition[],
  concurrency: number,
): Promise<RollbackCheck[]> {
  const appliedByKey = new Map(
    applied.map((r) => [`${r.group}\u0000${partitionKey(r.topic, r.partition)}`, r]),
  );
  const perGroup = await mapWithConcurrency(groups, concurrency, async (g): Promise<RollbackCheck[]> => {
    const topics = [...new Set(g.offsets.map((o) => o.topic))];
    if (topics.length === 0) return [];
    let actual: Map<string, bigint>;
    try {
      actual = (await fetchCommitted(port, g.groupId, topics)).offsets;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return g.offsets.map((o) => ({
        group: g.groupId,
        topic: o.topic,
        partition: o.partition,
        expected: o.offset,
        actual: null,
        ok: false,
        note: `reading the committed offsets back failed: ${reason}`,
      }));
    }
    return g.offsets.map((o) => {
      const key = partitionKey(o.topic, o.partition);
      const row = appliedByKey.get(`${g.groupId}\u0000${key}`);
      // A clamped rollback cannot restore the exact offset (the log moved past it); expect the clamp.
      const clamped = row?.status === 'clamped' && row.target !== null;
      const expected = clamped ? row.target : o.offset;
      const got = actual.get(key) ?? null;
      const ok = got === expected;
      let note: string | null = clamped
        ? `snapshot had ${o.offset ?? 'none'}; ${row.reason ?? 'clamped'}`
        : null;
      if (!ok && o.offset === null) {
        note = `committed after the snapshot was taken (it recorded none), and still there (found ${got ?? 'none'})`;
      } else if (!ok) {
        note = `expected ${expected ?? 'none'}, found ${got ?? 'none'}`;
      }
      return { group: g.groupId, topic: o.topic, partition: o.partition, expected, actual: got, ok, note };
    });
  });
  return perGroup.flat();
}

/**
 * A snapshot is the complete picture of its groups' commits on the topics it covers (all topics when taken
 * without --topics). Adds the group's current commits in that coverage which the snapshot lacks, as "no
 * committed offset then" (null), so that a rollback deletes them and --verify checks they are gone.
 */
export async function completeSnapshotGroups(
  port: KafkaPort,
  groups: readonly SnapshotGroup[],
  coverage: readonly string[] | null,
  concurrency: number,
): Promise<SnapshotGroup[]> {
  return mapWithConcurrency(groups, concurrency, async (g) => {
    const now = await fetchCommitted(port, g.groupId, coverage ?? undefined);
    const known = new Set(g.offsets.map((o) => partitionKey(o.topic, o.partition)));
    const added = now.partitions
      .filter((p) => !known.has(partitionKey(p.topic, p.partition)))
      .map((p) => ({
        ...p,
        offset: null,
        metadata: null,
        logStartOffset: null,
        highWatermark: null,
        lag: null,
      }));
    return { ...g, offsets: [...g.offsets, ...added] };
  });
}
