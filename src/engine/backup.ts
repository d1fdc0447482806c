import { randomBytes } from 'node:crypto';
import { KbackupError } from '../core/errors.js';
import { GapTracker } from '../core/gaps.js';
import { mapWithConcurrency } from '../core/concurrency.js';
import {
  MANIFEST_FORMAT,
  MANIFEST_VERSION,
  type Manifest,
  type ManifestPartition,
} from '../core/manifest/schema.js';
import type {
  IsolationLevel,
  KafkaPort,
  PartitionOffsets,
  TopicDescription,
} from '../core/ports/kafka-port.js';
import { recordPayloadBytes } from '../core/record.js';
import { selectTopics, type TopicSelection } from '../core/topic-select.js';
import { newBackupId, type Repository } from '../storage/repository.js';
import { VERSION } from '../version.js';
import { captureConsumerGroups } from './groups-capture.js';
import { PartitionSegmentSink, type SegmentRolling } from './segment-sink.js';
import type { RunObserver } from './observer.js';

export interface BackupOptions extends SegmentRolling {
  selection: TopicSelection;
  isolation: IsolationLevel;
  /** Partitions read at the same time. */
  concurrency: number;
  fetchMaxBytes: number;
  /** `all`, none (empty), or a list of group ids whose committed offsets are captured. */
  consumerGroups: 'all' | string[];
  bootstrap: string;
  backupId?: string;
  signal?: AbortSignal;
}

interface PartitionPlan {
  topic: TopicDescription;
  partition: number;
  offsets: PartitionOffsets;
  cutOffset: bigint;
  compacted: boolean;
}

/**
 * Takes a consistent cut of the selected topics: offsets are read once at the start (last stable offsets
 * under read_committed, high watermarks otherwise) and each partition is read from its log start up to that
 * cut, then the backup ends. Partitions are read concurrently with a bound; each streams to segment files,
 * so memory does not grow with topic size. The manifest is written last.
 */
export async function runBackup(
  kafka: KafkaPort,
  repo: Repository,
  options: BackupOptions,
  observer: RunObserver,
): Promise<Manifest> {
  const startedAt = new Date();
  const clusterId = await kafka.clusterId();
  const available = await kafka.listTopics({ includeInternal: true });
  const topicNames = selectTopics(available, options.selection);
  if (topicNames.length === 0) {
    throw new KbackupError('TOPIC_NOT_FOUND', 'the topic patterns matched no topic on the source cluster', {
      hint: 'Check --topics and --exclude; `kbackup list-topics` shows what exists.',
    });
  }
  const topics = await kafka.describeTopics(topicNames);
  const plans: PartitionPlan[] = [];
  for (const topic of topics) {
    const offsets = await kafka.partitionOffsets(topic.name, topic.partitions);
    if (topic.configs['unclean.leader.election.enable'] === 'true') {
      observer.warn(
        `topic ${topic.name} has unclean.leader.election.enable=true: replicas may have diverged, so this backup may not match what consumers read`,
      );
    }
    const compacted = (topic.configs['cleanup.policy'] ?? '').includes('compact');
    for (const partition of topic.partitions) {
      const o = offsets.get(partition);
      if (!o) throw new KbackupError('KAFKA', `no offsets returned for ${topic.name}-${partition}`);
      const cutOffset = options.isolation === 'read_committed' ? o.lastStableOffset : o.highWatermark;
      plans.push({ topic, partition, offsets: o, cutOffset, compacted });
    }
  }

  // Group offsets are read right after the cut, so that they describe the same moment as the data.
  const groups = await captureConsumerGroups(kafka, topicNames, options.consumerGroups);
  const backupId = options.backupId ?? newBackupId(startedAt, randomBytes(3).toString('hex'));
  const lock = await repo.lock(`backup-${backupId}`, 'backup');
  try {
    await repo.createBackupDir(backupId);
    await repo.writePlan(backupId, {
      backupId,
      startedAt: startedAt.toISOString(),
      clusterId,
      isolation: options.isolation,
      codec: options.codec,
      partitions: plans.map((p) => ({
        topic: p.topic.name,
        partition: p.partition,
        ...p.offsets,
        cut: p.cutOffset,
      })),
    });
    observer.start?.({
      backupId,
      partitions: plans.length,
      totalOffsets: plans.reduce((s, p) => s + Number(p.cutOffset - p.offsets.logStartOffset), 0),
    });
    const warnings: string[] = [];
    const results = await mapWithConcurrency(plans, options.concurrency, (plan) =>
      backupPartition(kafka, repo, backupId, plan, options, observer, warnings),
    );
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      version: MANIFEST_VERSION,
      backupId,
      tool: { name: 'kbackup', version: VERSION },
      source: { clusterId, bootstrap: options.bootstrap },
      startedAt: startedAt.toISOString(),
      completedAt: new Date().toISOString(),
      options: {
        codec: options.codec,
        compressionLevel: options.level ?? null,
        isolation: options.isolation,
        segmentMaxBytes: options.segmentMaxBytes,
        segmentMaxRecords: options.segmentMaxRecords,
      },
      topics: topics.map((t) => ({
        name: t.name,
        partitionCount: t.partitions.length,
        replicationFactor: t.replicationFactor,
        configs: t.configs,
        partitions: results.filter((r) => r.topic === t.name).map((r) => r.manifest),
      })),
      consumerGroups: groups,
      warnings: [...observer.warnings(), ...warnings],
      totals: {
        records: results.reduce((s, r) => s + r.manifest.recordCount, 0),
        payloadBytes: results.reduce((s, r) => s + r.manifest.payloadBytes, 0),
        storedBytes: results.reduce(
          (s, r) => s + r.manifest.segments.reduce((a, g) => a + g.fileBytes, 0),
          0,
        ),
        segments: results.reduce((s, r) => s + r.manifest.segments.length, 0),
      },
    };
    await repo.writeManifest(manifest);
    return manifest;
  } finally {
    await lock.release();
  }
}

async function backupPartition(
  kafka: KafkaPort,
  repo: Repository,
  backupId: string,
  plan: PartitionPlan,
  options: BackupOptions,
  observer: RunObserver,
  warnings: string[],
): Promise<{ topic: string; manifest: ManifestPartition }> {
  const { topic, partition, cutOffset } = plan;
  const dir = repo.partitionDir(backupId, topic.name, partition);
  await repo.ensureDir(dir);
  const sink = new PartitionSegmentSink(dir, options);
  const gaps = new GapTracker();
  const label = `${topic.name}-${partition}`;
  let offset = plan.offsets.logStartOffset;
  let recordCount = 0;
  let payloadBytes = 0;
  let minTimestamp: bigint | null = null;
  let maxTimestamp: bigint | null = null;
  let firstOffset: bigint | null = null;
  let lastOffset: bigint | null = null;
  let idleFetches = 0;
  try {
    while (offset < cutOffset) {
      if (options.signal?.aborted) throw new KbackupError('INTERRUPTED', 'backup interrupted');
      const result = await kafka.fetch({
        topic: topic.name,
        partition,
        offset,
        isolation: options.isolation,
        maxBytes: options.fetchMaxBytes,
      });
      if (result.offsetOutOfRange) {
        // Retention deleted records under the backup: record what was lost and continue from the new start.
        if (result.logStartOffset > offset) {
          const to = result.logStartOffset < cutOffset ? result.logStartOffset - 1n : cutOffset - 1n;
          gaps.add(offset, to, 'retention');
          observer.warn(`${label}: offsets ${offset}..${to} were deleted by retention during the backup`);
          offset = result.logStartOffset;
          continue;
        }
        throw new KbackupError(
          'KAFKA',
          `${label}: offset ${offset} is beyond the partition end ${result.highWatermark} (log truncated?)`,
          {
            hint: 'The partition was truncated (unclean leader election or deletion). Run the backup again.',
          },
        );
      }
      for (const skipped of result.skipped) {
        if (skipped.from >= cutOffset) break;
        const to = skipped.to < cutOffset ? skipped.to : cutOffset - 1n;
        gaps.add(
          skipped.from,
          to,
          skipped.reason === 'missing' ? (plan.compacted ? 'compacted' : 'missing') : skipped.reason,
        );
      }
      let reachedCut = false;
      for (const record of result.records) {
        if (record.offset >= cutOffset) {
          reachedCut = true;
          break;
        }
        await sink.append(record);
        recordCount++;
        payloadBytes += recordPayloadBytes(record);
        firstOffset ??= record.offset;
        lastOffset = record.offset;
        if (minTimestamp === null || record.timestamp < minTimestamp) minTimestamp = record.timestamp;
        if (maxTimestamp === null || record.timestamp > maxTimestamp) maxTimestamp = record.timestamp;
      }
      observer.progress?.(label, result.records.length, offset, cutOffset);
      if (reachedCut || result.nextOffset >= cutOffset) break;
      if (result.nextOffset <= offset) {
        // No progress below the cut: the partition may have been truncated under us. Re-check, never spin.
        idleFetches++;
        if (idleFetches >= 5) {
          const now = (await kafka.partitionOffsets(topic.name, [partition])).get(partition);
          const end = options.isolation === 'read_committed' ? now?.lastStableOffset : now?.highWatermark;
          if (end !== undefined && end <= offset) {
            const message = `${label}: the partition ends at ${end}, below the cut ${cutOffset} read at start; backed up to ${offset}`;
            warnings.push(message);
            observer.warn(message);
            break;
          }
          if (idleFetches >= 50) {
            throw new KbackupError('KAFKA_RETRIABLE', `${label}: no progress fetching at offset ${offset}`);
          }
        }
        continue;
      }
      idleFetches = 0;
      offset = result.nextOffset;
    }
    await sink.close();
  } catch (error) {
    // A segment that was still being written is dropped; finished ones stay for a resume.
    await sink.abort();
    throw error;
  }
  return {
    topic: topic.name,
    manifest: {
      partition,
      logStartOffset: plan.offsets.logStartOffset,
      highWatermark: plan.offsets.highWatermark,
      lastStableOffset: plan.offsets.lastStableOffset,
      startOffset: plan.offsets.logStartOffset,
      cutOffset,
      firstOffset,
      lastOffset,
      recordCount,
      payloadBytes,
      minTimestamp,
      maxTimestamp,
      gaps: gaps.gaps,
      segments: sink.segments,
    },
  };
}
