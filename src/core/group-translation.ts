import type { ConsumerGroupSnapshot } from './manifest/schema.js';
import { translateOffset, type OffsetRun } from './offset-map.js';

/** What restore knows about one restored partition: where it went and how offsets moved. */
export interface RestoredPartition {
  sourceTopic: string;
  targetTopic: string;
  partition: number;
  runs: readonly OffsetRun[];
}

export interface TargetBounds {
  logStartOffset: bigint;
  highWatermark: bigint;
}

export interface GroupOffsetTranslation {
  sourceGroup: string;
  targetGroup: string;
  sourceTopic: string;
  targetTopic: string;
  partition: number;
  sourceOffset: bigint;
  targetOffset: bigint;
}

/**
 * Pure planner: translates the committed offsets a backup captured into offsets on the restored topics.
 * Offsets of topics or partitions that were not restored are left out. Translation is exact and
 * conservative (see translateOffset): a consumer resuming at the result reads every restored record it had
 * not consumed, and none it had.
 */
export function translateGroups(
  groups: readonly ConsumerGroupSnapshot[],
  restored: readonly RestoredPartition[],
  bounds: (targetTopic: string, partition: number) => TargetBounds,
  renameGroup: (group: string) => string,
): GroupOffsetTranslation[] {
  const byKey = new Map(restored.map((p) => [`${p.sourceTopic}\u0000${p.partition}`, p]));
  const out: GroupOffsetTranslation[] = [];
  for (const group of groups) {
    for (const committed of group.offsets) {
      const partition = byKey.get(`${committed.topic}\u0000${committed.partition}`);
      if (!partition) continue;
      const { logStartOffset, highWatermark } = bounds(partition.targetTopic, partition.partition);
      let target = translateOffset(partition.runs, committed.offset, highWatermark);
      // The target topic may hold records restore did not write (--allow-non-empty): never point below
      // its log start.
      if (target < logStartOffset) target = logStartOffset;
      out.push({
        sourceGroup: group.groupId,
        targetGroup: renameGroup(group.groupId),
        sourceTopic: partition.sourceTopic,
        targetTopic: partition.targetTopic,
        partition: partition.partition,
        sourceOffset: committed.offset,
        targetOffset: target,
      });
    }
  }
  return out;
}
