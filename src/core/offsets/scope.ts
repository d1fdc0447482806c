import type { ScopedPartition } from './planner.js';
import { parsePartitionKey, type SourceOffsets } from './target.js';

export interface ScopeInput {
  /** --topics: each named topic with the partitions it has on the cluster. */
  topics?: ReadonlyMap<string, readonly number[]>;
  /** --all-topics: every partition the group has a committed offset on. */
  allTopics: boolean;
  /** The group's committed partitions. */
  committed: Iterable<{ topic: string; partition: number }>;
  /** For snapshot and backup targets: what the source recorded for this group. */
  source?: SourceOffsets;
}

/**
 * Which partitions of one group a reset touches, modelled on kafka-consumer-groups.sh: --topics means every
 * partition of those topics, --all-topics every partition the group has committed. A snapshot or backup
 * adds its own partitions, and without --topics/--all-topics it decides alone, plus the group's other
 * commits on the same topics so that those are reported as left alone rather than silently ignored.
 */
export function resolveScope(input: ScopeInput): ScopedPartition[] {
  const out: ScopedPartition[] = [];
  const sourcePartitions = [...(input.source?.keys() ?? [])].map(parsePartitionKey);
  const committed = [...input.committed];
  if (input.topics) {
    for (const [topic, partitions] of input.topics) {
      for (const partition of partitions) out.push({ topic, partition, origin: 'topics' });
    }
    for (const p of sourcePartitions) if (input.topics.has(p.topic)) out.push({ ...p, origin: 'source' });
    return out;
  }
  for (const p of sourcePartitions) out.push({ ...p, origin: 'source' });
  if (input.allTopics) {
    for (const p of committed) out.push({ topic: p.topic, partition: p.partition, origin: 'committed' });
    return out;
  }
  const sourceTopics = new Set(sourcePartitions.map((p) => p.topic));
  for (const p of committed) {
    if (sourceTopics.has(p.topic)) out.push({ topic: p.topic, partition: p.partition, origin: 'committed' });
  }
  return out;
}
