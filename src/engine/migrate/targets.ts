import { KbackupError } from '../../core/errors.js';
import type { KafkaPort } from '../../core/ports/kafka-port.js';
import type { RunObserver } from '../observer.js';
import { createTarget } from '../restore/targets.js';

export interface TargetTopicSpec {
  sourceTopic: string;
  targetTopic: string;
  partitionCount: number;
  replicationFactor: number;
  configs: Record<string, string>;
  /** Partitions this migration starts writing into now. */
  partitions: number[];
}

export interface TargetCreation {
  /** undefined keeps the source's replication factor; -1 uses the broker default. */
  replicationFactor?: number;
  skipConfigs: boolean;
  configOverrides: Record<string, string>;
}

/**
 * Makes target partitions ready before a migration writes into them for the first time: missing topics are
 * created like restore creates them (source partition count and configs), existing ones must have enough
 * partitions and hold no records in those partitions, because the migration must be their only writer for
 * a resume to count what it wrote.
 */
export async function prepareTargets(
  target: KafkaPort,
  topics: TargetTopicSpec[],
  creation: TargetCreation,
  observer: RunObserver,
): Promise<string[]> {
  const created: string[] = [];
  const existing = new Set(await target.listTopics({ includeInternal: true }));
  for (const topic of topics) {
    if (!existing.has(topic.targetTopic)) {
      await createTarget(target, topic, creation, observer);
      created.push(topic.targetTopic);
      continue;
    }
    const [description] = await target.describeTopics([topic.targetTopic]);
    const count = description?.partitions.length ?? 0;
    if (count < topic.partitionCount) {
      throw new KbackupError(
        'TARGET_TOPIC_MISMATCH',
        `target topic ${topic.targetTopic} has ${count} partitions; source topic ${topic.sourceTopic} has ${topic.partitionCount}`,
        { hint: 'Migrate into a new topic (--rename) or add partitions to the target first.' },
      );
    }
    const offsets = await target.partitionOffsets(topic.targetTopic, topic.partitions);
    const busy = [...offsets].filter(([, o]) => o.highWatermark > o.logStartOffset).map(([p]) => p);
    if (busy.length > 0) {
      throw new KbackupError(
        'USAGE',
        `target topic ${topic.targetTopic} already holds records in partition(s) ${busy.join(', ')}`,
        {
          hint: 'A migration must be the only writer into its target partitions. Migrate into a new topic with --rename, or empty this one. (Lost the state file of an earlier run? It is under --state-dir.)',
        },
      );
    }
  }
  return created;
}
