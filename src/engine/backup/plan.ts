import { KbackupError } from '../../core/errors.js';
import type { BackupPlan } from '../../core/manifest/plan.js';
import type { Codec, Gap, Manifest } from '../../core/manifest/schema.js';
import type { PartitionOffsets } from '../../core/ports/kafka-port.js';
import type { IsolationLevel, KafkaPort } from '../../core/ports/kafka-port.js';
import { selectTopics, type TopicSelection } from '../../core/topic-select.js';
import { captureConsumerGroups } from '../groups-capture.js';
import type { RunObserver } from '../observer.js';

export interface PlanRequest {
  backupId: string;
  bootstrap: string;
  selection: TopicSelection;
  isolation: IsolationLevel;
  codec: Codec;
  level: number | undefined;
  segmentMaxBytes: number;
  segmentMaxRecords: number;
  consumerGroups: 'all' | string[];
  /** Incremental: returns the complete backup to continue from, given the selected topics. */
  findParent?: (clusterId: string, topics: string[]) => Promise<Manifest | undefined>;
}

/** Identifies "the same backup command": a re-run with the same key resumes an interrupted backup. */
export function commandKey(clusterId: string, request: PlanRequest): string {
  return JSON.stringify({
    clusterId,
    include: request.selection.include,
    exclude: request.selection.exclude,
    includeInternal: request.selection.includeInternal,
    isolation: request.isolation,
    codec: request.codec,
    level: request.level ?? null,
  });
}

/**
 * Reads everything a backup needs to know before reading data: the topics, their configs, and the cut.
 * Offsets are read once, here: last stable offsets under read_committed, high watermarks otherwise. The
 * consumer-group offsets are read right after, so that they describe the same moment.
 */
export async function createPlan(
  kafka: KafkaPort,
  request: PlanRequest,
  observer: RunObserver,
): Promise<BackupPlan> {
  const startedAt = new Date().toISOString();
  const clusterId = await kafka.clusterId();
  const available = await kafka.listTopics({ includeInternal: true });
  const topicNames = selectTopics(available, request.selection);
  if (topicNames.length === 0) {
    throw new KbackupError('TOPIC_NOT_FOUND', 'the topic patterns matched no topic on the source cluster', {
      hint: 'Check --topics and --exclude.',
    });
  }
  const topics = await kafka.describeTopics(topicNames);
  const parent = await request.findParent?.(clusterId, topicNames);
  const warnings: string[] = [];
  const partitions: BackupPlan['partitions'] = [];
  for (const topic of topics) {
    if (topic.configs['unclean.leader.election.enable'] === 'true') {
      const message = `topic ${topic.name} has unclean.leader.election.enable=true: replicas may have diverged, so this backup may not match what consumers read`;
      warnings.push(message);
      observer.warn(message);
    }
    const offsets = await kafka.partitionOffsets(topic.name, topic.partitions);
    const compacted = (topic.configs['cleanup.policy'] ?? '').includes('compact');
    for (const partition of topic.partitions) {
      const o = offsets.get(partition);
      if (!o) throw new KbackupError('KAFKA', `no offsets returned for ${topic.name}-${partition}`);
      const cutOffset = request.isolation === 'read_committed' ? o.lastStableOffset : o.highWatermark;
      const start = incrementalStart(parent, topic.name, partition, o, observer);
      partitions.push({ topic: topic.name, partition, ...o, ...start, cutOffset, compacted });
    }
  }
  const consumerGroups = await captureConsumerGroups(kafka, topicNames, request.consumerGroups);
  return {
    format: 'kbackup-plan',
    version: 1,
    backupId: request.backupId,
    startedAt,
    clusterId,
    bootstrap: request.bootstrap,
    commandKey: commandKey(clusterId, request),
    parent: parent?.backupId ?? null,
    options: {
      codec: request.codec,
      compressionLevel: request.level ?? null,
      isolation: request.isolation,
      segmentMaxBytes: request.segmentMaxBytes,
      segmentMaxRecords: request.segmentMaxRecords,
    },
    topics: topics.map((t) => ({
      name: t.name,
      partitionCount: t.partitions.length,
      replicationFactor: t.replicationFactor,
      configs: t.configs,
    })),
    partitions,
    consumerGroups,
    warnings,
  };
}

/**
 * Where an incremental backup starts reading a partition: the parent's cut. Records retention deleted
 * since then are recorded as a gap. A partition the parent lacks (new topic or partition) is read from its
 * log start; one whose log now ends before the parent's cut was recreated or truncated, so it is read in
 * full and a warning says so.
 */
export function incrementalStart(
  parent: Manifest | undefined,
  topic: string,
  partition: number,
  offsets: PartitionOffsets,
  observer: RunObserver,
): { startOffset: bigint; initialGaps: Gap[] } {
  const previous = parent?.topics
    .find((t) => t.name === topic)
    ?.partitions.find((p) => p.partition === partition);
  if (!previous) return { startOffset: offsets.logStartOffset, initialGaps: [] };
  const parentCut = previous.cutOffset;
  if (parentCut > offsets.highWatermark) {
    observer.warn(
      `${topic}-${partition} ends at ${offsets.highWatermark}, before the parent backup's cut ${parentCut}: the topic was recreated or truncated, so it is backed up in full`,
    );
    return { startOffset: offsets.logStartOffset, initialGaps: [] };
  }
  if (parentCut < offsets.logStartOffset) {
    observer.warn(
      `${topic}-${partition}: offsets ${parentCut}..${offsets.logStartOffset - 1n} were deleted by retention since the parent backup`,
    );
    return {
      startOffset: offsets.logStartOffset,
      initialGaps: [{ from: parentCut, to: offsets.logStartOffset - 1n, reason: 'retention' }],
    };
  }
  return { startOffset: parentCut, initialGaps: [] };
}
