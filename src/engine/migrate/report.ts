import { coveredRecords, resumePoint, type MigrateState } from '../../core/migrate/state.js';
import type { TopicMapping } from '../../core/migrate/plan.js';
import type { IsolationLevel, KafkaPort, TopicDescription } from '../../core/ports/kafka-port.js';
import type { LivePartition } from './partition.js';
import type { MigratePartitionResult, MigrateResult } from './run.js';

const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

export function resultOf(l: LivePartition): MigratePartitionResult {
  return {
    sourceTopic: l.entry.sourceTopic,
    targetTopic: l.entry.targetTopic,
    partition: l.entry.partition,
    records: l.records,
    payloadBytes: l.payloadBytes,
    totalRecords: l.targetEnd - l.entry.targetStartOffset,
    sourcePosition: l.position,
    sourceEnd: l.sourceEnd,
    lag: l.lag,
    targetEndOffset: l.targetEnd,
    lostToRetention: l.lostToRetention,
  };
}

/** What a run would do, touching nothing: source ranges still to copy and target topics to create. */
export async function dryRun(
  source: KafkaPort,
  target: KafkaPort,
  base: Omit<MigrateResult, 'status' | 'createdTopics' | 'partitions' | 'groupOffsets' | 'totals'>,
  state: MigrateState,
  described: TopicDescription[],
  mapping: TopicMapping[],
  isolation: IsolationLevel,
): Promise<MigrateResult> {
  const existing = new Set(await target.listTopics({ includeInternal: true }));
  const byKey = new Map(state.partitions.map((p) => [key(p.sourceTopic, p.partition), p]));
  const partitions: MigratePartitionResult[] = [];
  for (const d of described) {
    const m = mapping.find((x) => x.sourceTopic === d.name);
    if (!m) continue;
    for (const [partition, o] of await source.partitionOffsets(d.name, d.partitions)) {
      const entry = byKey.get(key(d.name, partition));
      const covered = entry ? coveredRecords(entry.runs) : 0n;
      // Without reading the target, the saved state is the best estimate of where a run would resume.
      const position = entry
        ? resumePoint(entry, entry.targetStartOffset + covered).position
        : o.logStartOffset;
      const end = isolation === 'read_committed' ? o.lastStableOffset : o.highWatermark;
      partitions.push({
        ...m,
        partition,
        records: 0,
        payloadBytes: 0,
        totalRecords: covered,
        sourcePosition: position,
        sourceEnd: end,
        lag: end > position ? end - position : 0n,
        targetEndOffset: entry ? entry.targetStartOffset + covered : 0n,
        lostToRetention: 0n,
      });
    }
  }
  return {
    ...base,
    status: 'planned',
    createdTopics: mapping.map((m) => m.targetTopic).filter((t) => !existing.has(t)),
    partitions,
    groupOffsets: [],
    totals: {
      records: 0,
      payloadBytes: 0,
      lag: partitions.reduce((s, p) => s + p.lag, 0n),
      lostToRetention: 0n,
    },
  };
}
