import type { ConsumerGroupSnapshot } from '../core/manifest/schema.js';
import type { KafkaPort } from '../core/ports/kafka-port.js';

/**
 * Records, at the end of the cut, the committed offsets of consumer groups on the backed-up topics, with
 * each group's state and member count. `all` means every group that has offsets on those topics.
 */
export async function captureConsumerGroups(
  kafka: KafkaPort,
  topics: string[],
  which: 'all' | string[],
): Promise<ConsumerGroupSnapshot[]> {
  if (which !== 'all' && which.length === 0) return [];
  const groupIds =
    which === 'all'
      ? (await kafka.listGroups())
          .filter((g) => g.protocolType === 'consumer' || g.protocolType === '')
          .map((g) => g.groupId)
      : which;
  if (groupIds.length === 0) return [];
  const descriptions = new Map((await kafka.describeGroups(groupIds)).map((d) => [d.groupId, d]));
  const out: ConsumerGroupSnapshot[] = [];
  for (const groupId of [...groupIds].sort()) {
    const offsets = await kafka.fetchGroupOffsets(groupId, topics);
    if (offsets.length === 0 && which === 'all') continue;
    const d = descriptions.get(groupId);
    out.push({
      groupId,
      state: d?.state ?? 'UNKNOWN',
      memberCount: d?.memberCount ?? 0,
      offsets: offsets
        .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
        .map((o) => ({
          topic: o.topic,
          partition: o.partition,
          offset: o.offset,
          metadata: o.metadata ?? null,
        })),
    });
  }
  return out;
}
