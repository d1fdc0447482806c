import { KbackupError } from '../core/errors.js';
import {
  translateGroups,
  type GroupOffsetTranslation,
  type RestoredPartition,
} from '../core/group-translation.js';
import type { ConsumerGroupSnapshot, Manifest } from '../core/manifest/schema.js';
import type { KafkaPort, PartitionOffsets } from '../core/ports/kafka-port.js';

export interface GroupSelection {
  /** 'all' groups the backup captured, or a list of their ids. */
  groups: 'all' | string[];
  renames: Map<string, string>;
}

/** The captured groups a restore should move, with unknown names refused up front. */
export function selectGroups(manifest: Manifest, selection: GroupSelection): ConsumerGroupSnapshot[] {
  if (selection.groups === 'all') return manifest.consumerGroups;
  const captured = new Map(manifest.consumerGroups.map((g) => [g.groupId, g]));
  const unknown = selection.groups.filter((g) => !captured.has(g));
  if (unknown.length > 0) {
    throw new KbackupError(
      'USAGE',
      `backup ${manifest.backupId} holds no offsets for group(s) ${unknown.join(', ')}`,
      {
        hint: `Captured groups: ${[...captured.keys()].join(', ') || '(none)'}. \`kbackup describe\` lists them.`,
      },
    );
  }
  return selection.groups.map((g) => captured.get(g) as ConsumerGroupSnapshot);
}

/**
 * Refuses target groups that have active members: committing under a live consumer would be overwritten by
 * its next commit, or would move it under its feet. Kafka itself rejects such commits.
 */
export async function refuseActiveGroups(kafka: KafkaPort, targetGroups: string[]): Promise<void> {
  if (targetGroups.length === 0) return;
  const described = await kafka.describeGroups(targetGroups);
  const active = described.filter((g) => g.memberCount > 0);
  if (active.length > 0) {
    throw new KbackupError(
      'USAGE',
      `consumer group(s) ${active.map((g) => `${g.groupId} (${g.memberCount} active members, ${g.state})`).join(', ')} are active on the target cluster`,
      {
        hint: 'Stop their consumers first, then run the same restore again: data already restored is not written twice.',
      },
    );
  }
}

/**
 * After the data is restored: translates the captured offsets, checks each against the target partition's
 * log start and high watermark, commits them through the group coordinator without joining the group, and
 * reads them back, so that "offsets restored" is only ever reported when the broker holds them.
 */
export async function commitTranslatedGroups(
  kafka: KafkaPort,
  groups: ConsumerGroupSnapshot[],
  restored: RestoredPartition[],
  renames: Map<string, string>,
): Promise<GroupOffsetTranslation[]> {
  const rename = (g: string): string => renames.get(g) ?? g;
  await refuseActiveGroups(kafka, [...new Set(groups.map((g) => rename(g.groupId)))]);
  const bounds = new Map<string, PartitionOffsets>();
  for (const topic of new Set(restored.map((p) => p.targetTopic))) {
    const partitions = restored.filter((p) => p.targetTopic === topic).map((p) => p.partition);
    for (const [p, o] of await kafka.partitionOffsets(topic, partitions)) bounds.set(`${topic}\u0000${p}`, o);
  }
  const translations = translateGroups(
    groups,
    restored,
    (topic, partition) => {
      const b = bounds.get(`${topic}\u0000${partition}`);
      if (!b) throw new KbackupError('INTERNAL', `no offsets read for ${topic}-${partition}`);
      return b;
    },
    rename,
  );
  for (const t of translations) {
    const b = bounds.get(`${t.targetTopic}\u0000${t.partition}`);
    if (!b || t.targetOffset < b.logStartOffset || t.targetOffset > b.highWatermark) {
      throw new KbackupError(
        'INTERNAL',
        `translated offset ${t.targetOffset} of group ${t.targetGroup} on ${t.targetTopic}-${t.partition} is outside [${b?.logStartOffset}, ${b?.highWatermark}]`,
      );
    }
  }
  for (const group of new Set(translations.map((t) => t.targetGroup))) {
    const mine = translations.filter((t) => t.targetGroup === group);
    await kafka.commitGroupOffsets(
      group,
      mine.map((t) => ({ topic: t.targetTopic, partition: t.partition, offset: t.targetOffset })),
    );
    const committed = await kafka.fetchGroupOffsets(group, [...new Set(mine.map((t) => t.targetTopic))]);
    for (const t of mine) {
      const found = committed.find((c) => c.topic === t.targetTopic && c.partition === t.partition);
      if (found?.offset !== t.targetOffset) {
        throw new KbackupError(
          'KAFKA',
          `group ${group}: committed ${t.targetTopic}-${t.partition}@${t.targetOffset} but the broker reports ${found?.offset ?? 'nothing'}`,
          { hint: 'Another client may be committing for this group; stop it and run the restore again.' },
        );
      }
    }
  }
  return translations;
}
