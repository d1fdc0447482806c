import type { GroupOffsetTranslation } from '../../core/group-translation.js';
import type { KafkaPort } from '../../core/ports/kafka-port.js';
import { captureConsumerGroups } from '../groups-capture.js';
import type { RunObserver } from '../observer.js';
import { commitTranslatedGroups, refuseActiveGroups, type GroupSelection } from '../restore-groups.js';
import type { LivePartition } from './partition.js';

export const noGroups = (selection: GroupSelection): boolean =>
  selection.groups !== 'all' && selection.groups.length === 0;

/** Before copying: refuses target groups with active members, so that a long run does not fail at the end. */
export async function precheckGroups(
  source: KafkaPort,
  target: KafkaPort,
  sourceTopics: string[],
  selection: GroupSelection,
): Promise<void> {
  if (noGroups(selection)) return;
  const groups = await captureConsumerGroups(source, sourceTopics, selection.groups);
  const targets = new Set(groups.map((g) => selection.renames.get(g.groupId) ?? g.groupId));
  await refuseActiveGroups(target, [...targets]);
}

/**
 * After the data: reads the groups' committed offsets on the source now, translates them exactly through
 * the offset map (as restore does), commits them on the target without joining the groups and reads them
 * back. A group that committed past what was copied is moved to the end of the copy, with a warning.
 */
export async function migrateGroups(
  source: KafkaPort,
  target: KafkaPort,
  live: readonly LivePartition[],
  selection: GroupSelection,
  observer: RunObserver,
): Promise<GroupOffsetTranslation[]> {
  if (noGroups(selection)) return [];
  const sourceTopics = [...new Set(live.map((l) => l.entry.sourceTopic))];
  const groups = await captureConsumerGroups(source, sourceTopics, selection.groups);
  for (const g of groups) {
    if (g.offsets.length === 0)
      observer.warn(`group ${g.groupId} has no committed offsets on the migrated topics`);
    if (g.memberCount > 0) {
      observer.warn(
        `group ${g.groupId} has ${g.memberCount} active member(s) on the source: its offsets were read now and keep moving there`,
      );
    }
  }
  const translations = await commitTranslatedGroups(
    target,
    groups,
    live.map((l) => ({
      sourceTopic: l.entry.sourceTopic,
      targetTopic: l.entry.targetTopic,
      partition: l.entry.partition,
      runs: l.map.runs,
    })),
    selection.renames,
  );
  const byKey = new Map(live.map((l) => [`${l.entry.sourceTopic}\u0000${l.entry.partition}`, l]));
  for (const t of translations) {
    const copied = byKey.get(`${t.sourceTopic}\u0000${t.partition}`);
    if (copied && t.sourceOffset > copied.position) {
      observer.warn(
        `group ${t.sourceGroup} consumed ${t.sourceTopic}-${t.partition} up to ${t.sourceOffset}, past the copy (${copied.position}): it starts at the end of the target`,
      );
    }
  }
  return translations;
}
