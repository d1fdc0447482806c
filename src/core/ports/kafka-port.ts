import type { BackupRecord } from '../record.js';
import type { EncodedRecords } from '../segment/encoded-records.js';
import type { SegmentRecords } from '../segment/record-slices.js';

/**
 * The narrow port through which kbackup talks to a Kafka cluster. The core and the engines depend only on
 * this interface; the client library lives in one adapter (src/adapters/platformatic). Offsets are bigint
 * because Kafka's are int64.
 */
export interface KafkaPort {
  clusterId(): Promise<string>;
  /** Topic names; internal topics (names starting with "__") only when asked. */
  listTopics(options?: { includeInternal?: boolean }): Promise<string[]>;
  /** Partition count, replication factor and configs of topics; throws TOPIC_NOT_FOUND for a missing one. */
  describeTopics(topics: string[]): Promise<TopicDescription[]>;
  /** Per partition of one topic: log start, high watermark and last stable offset. */
  partitionOffsets(topic: string, partitions: number[]): Promise<Map<number, PartitionOffsets>>;
  /** First offset whose timestamp is >= the given one, per partition (the high watermark if none). */
  offsetsForTimestamp(topic: string, partitions: number[], timestamp: bigint): Promise<Map<number, bigint>>;
  /**
   * Reads records of one partition from `offset`, from the partition leader, without any consumer group.
   * Control batches are never returned; under read_committed aborted transactional records are dropped and
   * reported as skipped ranges so that the caller can record them as gaps.
   */
  fetch(request: FetchRequest): Promise<FetchResult>;
  /**
   * The same fetch for backup and migrate, with the records of each record batch transcoded into the
   * segment's raw block encoding as the caller iterates (core/segment/encoded-records.ts): no object per
   * record; the segment builder and migrate's produce requests copy them as they are. Each batch's records are lent: they are valid until the
   * iteration moves to the next batch or ends, after which the adapter reuses their memory.
   */
  fetchBatches(request: FetchRequest): Promise<FetchedBatches>;
  createTopic(spec: CreateTopicSpec): Promise<void>;
  /**
   * Appends records to one partition in order. The producer is idempotent with acks=all. Records may also
   * come still in the segment encoding (restore hands over verified blocks read in place); their bytes
   * must stay unchanged until the call settles.
   */
  produce(topic: string, partition: number, records: ProduceBatch): Promise<ProduceAck>;
  listGroups(): Promise<GroupListing[]>;
  describeGroups(groups: string[]): Promise<GroupDescription[]>;
  /** Committed offsets of a group (all topics, or the given ones). */
  fetchGroupOffsets(group: string, topics?: string[]): Promise<GroupOffset[]>;
  /** Commits offsets for a group through its coordinator, without joining it. */
  commitGroupOffsets(group: string, offsets: GroupOffset[]): Promise<void>;
  /** Deletes a group's commits on these partitions (OffsetDelete); the group must not be consuming them. */
  deleteGroupOffsets(group: string, partitions: { topic: string; partition: number }[]): Promise<void>;
  /** Brokers and controller, for doctor. */
  describeCluster(): Promise<ClusterDescription>;
  /** The API versions the bootstrap broker supports, for doctor. */
  apiVersions(): Promise<ApiVersion[]>;
  /** On-disk size of partitions (largest replica), to estimate the space a backup needs. */
  partitionSizes(topic: string, partitions: number[]): Promise<Map<number, bigint>>;
  close(): Promise<void>;
}

export interface ClusterDescription {
  clusterId: string;
  controllerId: number;
  brokers: { nodeId: number; host: string; port: number; rack: string | null }[];
}

export interface ApiVersion {
  apiKey: number;
  name: string;
  minVersion: number;
  maxVersion: number;
}

export type IsolationLevel = 'read_committed' | 'read_uncommitted';

export interface TopicDescription {
  name: string;
  topicId: string;
  partitions: number[];
  replicationFactor: number;
  /** Every config the broker reports for the topic that is not a default (name → value). */
  configs: Record<string, string>;
}

export interface PartitionOffsets {
  logStartOffset: bigint;
  highWatermark: bigint;
  lastStableOffset: bigint;
}

export interface FetchRequest {
  topic: string;
  partition: number;
  offset: bigint;
  isolation: IsolationLevel;
  maxBytes: number;
  maxWaitMs?: number;
}

export interface SkippedRange {
  from: bigint;
  to: bigint;
  /** 'missing': offsets absent from the log itself (compaction removed them, or never written). */
  reason: 'transaction-control' | 'aborted-transaction' | 'missing';
}

export interface FetchResult {
  records: BackupRecord[];
  /** The offset to fetch next: one past the last batch returned (records or skipped control/aborted). */
  nextOffset: bigint;
  skipped: SkippedRange[];
  highWatermark: bigint;
  lastStableOffset: bigint;
  logStartOffset: bigint;
  /** Set when the requested offset is below the log start (retention removed it). */
  offsetOutOfRange: boolean;
}

/**
 * A FetchResult whose records come batch by batch. Iterate `batches` once, in order, and use each batch
 * before taking the next (see KafkaPort.fetchBatches); a corrupt batch throws from the iteration.
 * `skipped` and `nextOffset` grow as the iteration goes: when a batch's records are yielded, every range
 * skipped up to the end of that batch is in `skipped`, and both are final at the end.
 */
export interface FetchedBatches extends Omit<FetchResult, 'records'> {
  /** Each batch's records, already in the segment encoding; one batch is valid until the next is taken. */
  batches: Iterable<EncodedRecords>;
  /**
   * Known before the iteration: one past the last whole batch in the response (the requested offset when
   * there is none). It is what `nextOffset` ends at once every batch is consumed without error, so the
   * next fetch can be sent while this one is decoded.
   */
  endOffset: bigint;
}

export interface CreateTopicSpec {
  name: string;
  partitions: number;
  replicationFactor: number;
  configs: Record<string, string>;
}

export interface ProduceRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: [Buffer, Buffer | null][];
  timestamp: bigint;
}

/** What one produce call appends: records, or records in the segment encoding (record-slices.ts). */
export type ProduceBatch = ProduceRecord[] | SegmentRecords;

/** Records in a ProduceBatch. */
export function produceBatchCount(batch: ProduceBatch): number {
  return Array.isArray(batch) ? batch.length : batch.count;
}

export interface ProduceAck {
  /** Offset of the first record of this call in the target partition, if the broker reported it. */
  baseOffset: bigint | undefined;
}

export interface GroupListing {
  groupId: string;
  state: string;
  protocolType: string;
}

export interface GroupDescription {
  groupId: string;
  state: string;
  memberCount: number;
  protocolType: string;
}

export interface GroupOffset {
  topic: string;
  partition: number;
  offset: bigint;
  metadata?: string | null;
}
