import { KbackupError } from '../core/errors.js';
import { mapWithConcurrency } from '../core/concurrency.js';
import { OffsetMapBuilder, type OffsetRun } from '../core/offset-map.js';
import type { KafkaPort, ProduceRecord } from '../core/ports/kafka-port.js';
import { recordPayloadBytes, type BackupRecord } from '../core/record.js';
import {
  planRestore,
  recordInWindow,
  type PartitionRestorePlan,
  type RestorePlan,
  type RestoreSelection,
  type TopicRestorePlan,
} from '../core/restore-plan.js';
import { readSegmentBlocks } from '../core/segment/segment-reader.js';
import { stringifyWithBigInt } from '../core/manifest/json.js';
import { writeFileAtomic } from '../storage/atomic.js';
import type { Repository } from '../storage/repository.js';
import type { RunObserver } from './observer.js';
import {
  commitTranslatedGroups,
  refuseActiveGroups,
  selectGroups,
  type GroupSelection,
} from './restore-groups.js';
import type { GroupOffsetTranslation } from '../core/group-translation.js';

export interface RestoreOptions extends RestoreSelection {
  backupId: string;
  concurrency: number;
  /** Replication factor for created topics; undefined keeps the backed-up one, -1 uses the broker default. */
  replicationFactor?: number;
  /** Do not copy the backed-up topic configs onto created topics. */
  skipConfigs: boolean;
  configOverrides: Record<string, string>;
  provenanceHeaders: boolean;
  /** Raw bytes per produce request and partition. */
  batchMaxBytes: number;
  dryRun: boolean;
  /** Allow writing into target partitions that already hold records. */
  allowNonEmpty: boolean;
  /** Consumer groups whose captured offsets are translated and committed after the data. */
  consumerGroups: GroupSelection;
  signal?: AbortSignal;
}

export interface PartitionRestoreResult {
  sourceTopic: string;
  targetTopic: string;
  partition: number;
  records: number;
  payloadBytes: number;
  runs: OffsetRun[];
  targetEndOffset: bigint;
}

export interface RestoreResult {
  restoreId: string;
  plan: RestorePlan;
  dryRun: boolean;
  createdTopics: string[];
  partitions: PartitionRestoreResult[];
  groupOffsets: GroupOffsetTranslation[];
  totals: { records: number; payloadBytes: number };
}

/**
 * Restores a complete backup: creates missing target topics with the backed-up partition count and configs,
 * then writes every selected record to the same partition number, in offset order, with its key, value,
 * headers and original timestamp, through an idempotent acks=all producer. Each block of a segment is
 * checksum-verified before any of its records is produced. Writes a source→target offset map (runs).
 */
export async function runRestore(
  kafka: KafkaPort,
  repo: Repository,
  options: RestoreOptions,
  observer: RunObserver,
): Promise<RestoreResult> {
  const manifest = await repo.readManifest(options.backupId);
  const plan = planRestore(manifest, options);
  const restoreId = `${options.backupId}-to-${(await kafka.clusterId()).replace(/[^A-Za-z0-9_-]/g, '')}-${Date.now()}`;
  if (options.dryRun) {
    return {
      restoreId,
      plan,
      dryRun: true,
      createdTopics: [],
      partitions: [],
      groupOffsets: [],
      totals: { records: 0, payloadBytes: 0 },
    };
  }
  const groups = selectGroups(manifest, options.consumerGroups);
  // Fail before writing any data if a group we would move is in use.
  await refuseActiveGroups(kafka, [
    ...new Set(groups.map((g) => options.consumerGroups.renames.get(g.groupId) ?? g.groupId)),
  ]);
  const lock = await repo.lock(`restore-${options.backupId}-${process.pid}`, 'restore');
  try {
    const createdTopics = await prepareTargets(kafka, plan, options, observer);
    const work = plan.topics.flatMap((t) => t.partitions);
    const partitions = await mapWithConcurrency(work, options.concurrency, (p) =>
      restorePartition(kafka, repo, p, options, observer),
    );
    const groupOffsets = await commitTranslatedGroups(
      kafka,
      groups,
      partitions,
      options.consumerGroups.renames,
    );
    const result: RestoreResult = {
      restoreId,
      plan,
      dryRun: false,
      groupOffsets,
      createdTopics,
      partitions,
      totals: {
        records: partitions.reduce((s, p) => s + p.records, 0),
        payloadBytes: partitions.reduce((s, p) => s + p.payloadBytes, 0),
      },
    };
    await writeFileAtomic(
      repo.restoreStatePath(restoreId),
      stringifyWithBigInt({
        restoreId,
        backupId: options.backupId,
        completedAt: new Date().toISOString(),
        partitions: partitions.map((p) => ({
          sourceTopic: p.sourceTopic,
          targetTopic: p.targetTopic,
          partition: p.partition,
          records: p.records,
          targetEndOffset: p.targetEndOffset,
          runs: p.runs,
        })),
        groupOffsets,
      }),
    );
    return result;
  } finally {
    await lock.release();
  }
}

async function prepareTargets(
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

async function createTarget(
  kafka: KafkaPort,
  topic: TopicRestorePlan,
  options: RestoreOptions,
  observer: RunObserver,
): Promise<void> {
  const configs = { ...(options.skipConfigs ? {} : topic.configs), ...options.configOverrides };
  if (configs['message.timestamp.type'] === 'LogAppendTime') {
    observer.warn(
      `${topic.targetTopic} is created with message.timestamp.type=LogAppendTime: the broker will stamp restored records with new times; pass --config message.timestamp.type=CreateTime to keep the originals`,
    );
  }
  await kafka.createTopic({
    name: topic.targetTopic,
    partitions: topic.partitionCount,
    replicationFactor: options.replicationFactor ?? topic.replicationFactor,
    configs,
  });
}

async function restorePartition(
  kafka: KafkaPort,
  repo: Repository,
  plan: PartitionRestorePlan,
  options: RestoreOptions,
  observer: RunObserver,
): Promise<PartitionRestoreResult> {
  const label = `${plan.sourceTopic}-${plan.partition}→${plan.targetTopic}`;
  const map = new OffsetMapBuilder();
  let records = 0;
  let payloadBytes = 0;
  let batch: ProduceRecord[] = [];
  let batchSources: bigint[] = [];
  let batchBytes = 0;
  let targetEndOffset = 0n;

  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const ack = await kafka.produce(plan.targetTopic, plan.partition, batch);
    if (ack.baseOffset === undefined) {
      throw new KbackupError('KAFKA', `${label}: the broker did not report the offset of a produced batch`);
    }
    map.addBatch(batchSources, ack.baseOffset);
    targetEndOffset = ack.baseOffset + BigInt(batch.length);
    records += batch.length;
    observer.progress?.(label, batch.length, BigInt(records), BigInt(plan.records));
    batch = [];
    batchSources = [];
    batchBytes = 0;
  };

  const toProduce = (r: BackupRecord): ProduceRecord => ({
    key: r.key,
    value: r.value,
    headers: options.provenanceHeaders
      ? [
          ...r.headers,
          [Buffer.from('kbackup.source.topic'), Buffer.from(plan.sourceTopic)],
          [Buffer.from('kbackup.source.partition'), Buffer.from(String(plan.partition))],
          [Buffer.from('kbackup.source.offset'), Buffer.from(r.offset.toString())],
        ]
      : r.headers,
    timestamp: r.timestamp,
  });

  for (const segment of plan.segments) {
    const path = repo.segmentPath(options.backupId, plan.sourceTopic, plan.partition, segment.file);
    for await (const block of readSegmentBlocks(path)) {
      if (options.signal?.aborted) throw new KbackupError('INTERRUPTED', 'restore interrupted');
      for (const record of block) {
        if (!recordInWindow(record.offset, record.timestamp, options.window)) continue;
        const size = recordPayloadBytes(record) + 64;
        if (batch.length > 0 && batchBytes + size > options.batchMaxBytes) await flush();
        batch.push(toProduce(record));
        batchSources.push(record.offset);
        batchBytes += size;
        payloadBytes += size - 64;
      }
    }
  }
  await flush();
  return {
    sourceTopic: plan.sourceTopic,
    targetTopic: plan.targetTopic,
    partition: plan.partition,
    records,
    payloadBytes,
    runs: map.runs,
    targetEndOffset,
  };
}
