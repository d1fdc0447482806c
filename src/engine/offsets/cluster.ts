import { mapWithConcurrency } from '../../core/concurrency.js';
import { KbackupError } from '../../core/errors.js';
import type { PartitionBounds } from '../../core/offsets/planner.js';
import { partitionKey } from '../../core/offsets/target.js';
import type { KafkaPort } from '../../core/ports/kafka-port.js';

/** Cluster reads shared by snapshot, reset and rollback. Per-topic failures become per-partition reasons. */

export interface GroupState {
  groupId: string;
  state: string;
  memberCount: number;
}

/**
 * Only groups without members can have their offsets altered: the coordinator rejects commits from outside
 * an active generation, and a running consumer would overwrite the new offsets with its next commit anyway.
 * "Dead" is what the coordinator reports for a group that does not exist (yet).
 */
export function isGroupInactive(group: GroupState): boolean {
  const state = group.state.toLowerCase();
  return group.memberCount === 0 && (state === 'empty' || state === 'dead');
}

export async function describeGroupStates(
  port: KafkaPort,
  groups: readonly string[],
): Promise<Map<string, GroupState>> {
  const described = await port.describeGroups([...groups]);
  const byId = new Map(described.map((d) => [d.groupId, d]));
  return new Map(
    groups.map((groupId) => {
      const d = byId.get(groupId);
      // A group the broker did not describe is treated as unknown, which counts as not inactive: safer.
      return [groupId, { groupId, state: d?.state ?? 'Unknown', memberCount: d?.memberCount ?? 0 }];
    }),
  );
}

export interface CommittedOffsets {
  offsets: Map<string, bigint>;
  metadata: Map<string, string | null>;
  partitions: { topic: string; partition: number }[];
}

export async function fetchCommitted(
  port: KafkaPort,
  group: string,
  topics?: readonly string[],
): Promise<CommittedOffsets> {
  const committed = await port.fetchGroupOffsets(group, topics ? [...topics] : undefined);
  const out: CommittedOffsets = { offsets: new Map(), metadata: new Map(), partitions: [] };
  for (const o of committed) {
    const key = partitionKey(o.topic, o.partition);
    out.offsets.set(key, o.offset);
    out.metadata.set(key, o.metadata ?? null);
    out.partitions.push({ topic: o.topic, partition: o.partition });
  }
  return out;
}

/** Partition numbers of each named topic; throws TOPIC_NOT_FOUND (a usage error) for a missing one. */
export async function topicPartitions(
  port: KafkaPort,
  topics: readonly string[],
): Promise<Map<string, number[]>> {
  const wanted = [...new Set(topics)];
  if (wanted.length === 0) return new Map();
  // Checked against the topic list first: a metadata request for a missing topic fails less clearly.
  const existing = new Set(await port.listTopics({ includeInternal: true }));
  const missing = wanted.filter((t) => !existing.has(t));
  if (missing.length > 0) {
    throw new KbackupError('TOPIC_NOT_FOUND', `topic(s) not found on the cluster: ${missing.join(', ')}`, {
      hint: 'Check the names passed to --topics (exact names, comma-separated).',
    });
  }
  const described = await port.describeTopics(wanted);
  return new Map(described.map((t) => [t.name, t.partitions]));
}

export interface BoundsLookup {
  bounds: Map<string, PartitionBounds>;
  /** Why bounds are missing for a partition whose topic exists (the lookup failed). */
  errors: Map<string, string>;
}

export function groupByTopic(
  partitions: readonly { topic: string; partition: number }[],
): Map<string, number[]> {
  const byTopic = new Map<string, Set<number>>();
  for (const p of partitions) {
    const set = byTopic.get(p.topic) ?? new Set<number>();
    set.add(p.partition);
    byTopic.set(p.topic, set);
  }
  return new Map([...byTopic].map(([t, set]) => [t, [...set].sort((a, b) => a - b)]));
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Log start and high watermark of each partition. Partitions of deleted topics, or beyond a topic's
 * partition count, get no bounds; a failed lookup fails only that topic's partitions (with the reason).
 */
export async function loadBounds(
  port: KafkaPort,
  partitions: readonly { topic: string; partition: number }[],
  concurrency: number,
): Promise<BoundsLookup> {
  const out: BoundsLookup = { bounds: new Map(), errors: new Map() };
  const wanted = groupByTopic(partitions);
  if (wanted.size === 0) return out;
  const existing = new Set(await port.listTopics({ includeInternal: true }));
  const present = [...wanted.keys()].filter((t) => existing.has(t));
  const layout = new Map(
    (present.length > 0 ? await port.describeTopics(present) : []).map((t) => [t.name, t.partitions]),
  );
  await mapWithConcurrency(present, concurrency, async (topic) => {
    const onCluster = new Set(layout.get(topic) ?? []);
    const asked = (wanted.get(topic) ?? []).filter((p) => onCluster.has(p));
    if (asked.length === 0) return;
    try {
      const offsets = await port.partitionOffsets(topic, asked);
      for (const [partition, o] of offsets) {
        out.bounds.set(partitionKey(topic, partition), {
          logStartOffset: o.logStartOffset,
          highWatermark: o.highWatermark,
        });
      }
    } catch (error) {
      // The worker never throws: one topic's failure must not stop the lookups of the others.
      for (const p of asked)
        out.errors.set(partitionKey(topic, p), `reading log offsets failed: ${reason(error)}`);
    }
  });
  return out;
}

export interface TimestampLookup {
  offsets: Map<string, bigint>;
  errors: Map<string, string>;
}

/** For each partition: first offset with timestamp >= `timestamp`, the high watermark when none is newer. */
export async function lookupTimestamps(
  port: KafkaPort,
  partitions: readonly { topic: string; partition: number }[],
  timestamp: bigint,
  concurrency: number,
): Promise<TimestampLookup> {
  const out: TimestampLookup = { offsets: new Map(), errors: new Map() };
  const byTopic = [...groupByTopic(partitions)];
  await mapWithConcurrency(byTopic, concurrency, async ([topic, asked]) => {
    try {
      const found = await port.offsetsForTimestamp(topic, asked, timestamp);
      for (const [partition, offset] of found) out.offsets.set(partitionKey(topic, partition), offset);
    } catch (error) {
      for (const p of asked)
        out.errors.set(partitionKey(topic, p), `timestamp lookup failed: ${reason(error)}`);
    }
  });
  return out;
}
