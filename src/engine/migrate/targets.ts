import { KbackupError } from '../../core/errors.js';
import type { KafkaPort, PartitionOffsets } from '../../core/ports/kafka-port.js';
import { defaultSleep } from '../../core/retry.js';
import type { RunObserver } from '../observer.js';
import type { RestoreOptions } from '../restore/run.js';
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
      await createTarget(target, restorePlanOf(topic), restoreOptionsOf(creation), observer);
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

/** restore's createTarget takes restore's types; only the topic shape and the creation options matter. */
function restorePlanOf(topic: TargetTopicSpec): Parameters<typeof createTarget>[1] {
  return {
    sourceTopic: topic.sourceTopic,
    targetTopic: topic.targetTopic,
    partitionCount: topic.partitionCount,
    replicationFactor: topic.replicationFactor,
    configs: topic.configs,
    partitions: [],
  };
}

function restoreOptionsOf(creation: TargetCreation): RestoreOptions {
  return {
    ...creation,
    backupId: '',
    topics: [],
    partitions: [],
    renames: new Map(),
    window: {},
    concurrency: 1,
    provenanceHeaders: false,
    batchMaxBytes: 0,
    dryRun: false,
    allowNonEmpty: false,
    consumerGroups: { groups: [], renames: new Map() },
  };
}

/**
 * End offsets of target partitions once they have settled. Records a killed run had in flight can still
 * become committed for a moment after it died; reading the ends only once they stop moving keeps a resume
 * from sending them again.
 */
export async function settledEnds(
  target: KafkaPort,
  topic: string,
  partitions: number[],
): Promise<Map<number, PartitionOffsets>> {
  let previous: Map<number, PartitionOffsets> | undefined;
  for (let attempt = 0; attempt < 40; attempt++) {
    const current = await target.partitionOffsets(topic, partitions);
    if (
      previous &&
      partitions.every((p) => previous?.get(p)?.highWatermark === current.get(p)?.highWatermark)
    )
      return current;
    previous = current;
    await defaultSleep(250);
  }
  throw new KbackupError('KAFKA_RETRIABLE', `the end of target topic ${topic} keeps moving`, {
    hint: 'A migration must be the only writer into its target partitions. Stop the other producer.',
  });
}
