import { KbackupError } from '../../core/errors.js';
import type { KafkaPort } from '../../core/ports/kafka-port.js';
import type { RestorePlan, TopicRestorePlan } from '../../core/restore-plan.js';
import type { RunObserver } from '../observer.js';
import type { RestoreOptions } from './run.js';

/**
 * Makes the target topics ready for a new restore: creates missing ones with the backed-up partition count
 * and configs, and refuses existing ones with too few partitions or (unless allowed) records already in
 * them, because restored records would mix with others and a resume could no longer count its own.
 */
export async function prepareTargets(
  kafka: KafkaPort,
  plan: RestorePlan,
  options: RestoreOptions,
  observer: RunObserver,
): Promise<string[]> {
  const created: string[] = [];
  const existing = new Set(await kafka.listTopics({ includeInternal: true }));
  for (const topic of plan.topics) {
    if (!existing.has(topic.targetTopic)) {
      await createTarget(kafka, topic, options, observer);
      created.push(topic.targetTopic);
      continue;
    }
    const [description] = await kafka.describeTopics([topic.targetTopic]);
    if (!description || description.partitions.length < topic.partitionCount) {
      throw new KbackupError(
        'TARGET_TOPIC_MISMATCH',
        `target topic ${topic.targetTopic} has ${description?.partitions.length ?? 0} partitions; the backup of ${topic.sourceTopic} has ${topic.partitionCount}`,
        { hint: 'Restore into a new topic (--rename) or add partitions to the target first.' },
      );
    }
    if (!options.allowNonEmpty) {
      const offsets = await kafka.partitionOffsets(
        topic.targetTopic,
        topic.partitions.map((p) => p.partition),
      );
      const busy = [...offsets].filter(([, o]) => o.highWatermark > o.logStartOffset).map(([p]) => p);
      if (busy.length > 0) {
        throw new KbackupError(
          'USAGE',
          `target topic ${topic.targetTopic} already holds records in partition(s) ${busy.join(', ')}`,
          {
            hint: 'Restoring on top would mix old and restored records. Restore into a new topic with --rename, or pass --allow-non-empty.',
          },
        );
      }
    }
  }
  return created;
}

/** What creating a target topic needs: its shape, and how to derive its configs and replication. */
export type TargetTopicShape = Pick<
  TopicRestorePlan,
  'targetTopic' | 'partitionCount' | 'replicationFactor' | 'configs'
>;
export type TargetCreationOptions = Pick<
  RestoreOptions,
  'replicationFactor' | 'skipConfigs' | 'configOverrides'
>;

export async function createTarget(
  kafka: KafkaPort,
  topic: TargetTopicShape,
  options: TargetCreationOptions,
  observer: RunObserver,
): Promise<void> {
  const configs = { ...(options.skipConfigs ? {} : topic.configs), ...options.configOverrides };
  if (configs['message.timestamp.type'] === 'LogAppendTime') {
    observer.warn(
      `${topic.targetTopic} is created with message.timestamp.type=LogAppendTime: the broker will stamp restored records with new times; pass --topic-config message.timestamp.type=CreateTime to keep the originals`,
    );
  }
  await kafka.createTopic({
    name: topic.targetTopic,
    partitions: topic.partitionCount,
    replicationFactor: options.replicationFactor ?? topic.replicationFactor,
    configs,
  });
}
