import {
  Admin,
  ConfigResourceTypes,
  ConfigSources,
  Consumer,
  FetchIsolationLevels,
  ListOffsetTimestamps,
  ProduceAcks,
  Producer,
  type ClusterMetadata,
} from '@platformatic/kafka';
import { KbackupError } from '../../core/errors.js';
import type {
  ApiVersion,
  ClusterDescription,
  CreateTopicSpec,
  FetchRequest,
  FetchResult,
  FetchedBatches,
  GroupDescription,
  GroupListing,
  GroupOffset,
  KafkaPort,
  PartitionOffsets,
  ProduceAck,
  ProduceBatch,
  TopicDescription,
} from '../../core/ports/kafka-port.js';
import { produceBatchCount } from '../../core/ports/kafka-port.js';
import { EncodedRecords } from '../../core/segment/encoded-records.js';
import { withRetry } from '../../core/retry.js';
import { hasApiError, isRetriableKafkaError, toKbackupError } from './errors.js';
import { withinDeadline } from './deadline.js';
import { decodeFetchedBatches, streamFetchedBatches } from './fetch-decoder.js';
import { fetchBuffers, RawFetchConsumer, type RawFetchPartition } from './raw-fetch.js';
import { LeaderCache } from './leaders.js';
import { IdempotentProducer, PRODUCE_REQUESTS_IN_FLIGHT } from './produce.js';

export interface ConnectionOptions {
  bootstrap: string[];
  clientId?: string;
  /** Per-request timeout in ms. */
  requestTimeoutMs?: number;
  /** How long an operation keeps retrying retriable errors before it fails. */
  retryDeadlineMs?: number;
  /** Extra options passed to every client (TLS, SASL), see src/config. */
  security?: Record<string, unknown>;
}

/**
 * The KafkaPort on @platformatic/kafka; only this directory knows the client. Each method maps one port
 * call onto the client and turns client errors into typed KbackupErrors. Record batches are decoded
 * (raw-fetch.ts, batch-reader.ts) and produced (produce.ts, batch-writer.ts) by kbackup itself. Fetches use
 * a small pool of Consumer instances, because the client keeps one incremental fetch session per broker and
 * consumer: concurrent fetches of different partitions through one consumer would make each request
 * "forget" the others' partitions.
 */
export class PlatformaticKafkaAdapter implements KafkaPort {
  readonly #options: Required<Omit<ConnectionOptions, 'security'>> & { security: Record<string, unknown> };
  #admin: Admin | undefined;
  #producer: Producer | undefined;
  #batchProducer: IdempotentProducer | undefined;
  readonly #idleConsumers: Consumer[] = [];
  readonly #allConsumers: Consumer[] = [];
  readonly #leaders = new LeaderCache(async (topic) => this.#topicMetadata([topic], true));

  constructor(options: ConnectionOptions) {
    this.#options = {
      clientId: 'kbackup',
      requestTimeoutMs: 30_000,
      retryDeadlineMs: 120_000,
      security: {},
      ...options,
    };
  }

  #baseOptions() {
    return {
      clientId: this.#options.clientId,
      bootstrapBrokers: this.#options.bootstrap,
      // `timeout` is the broker-side wait (produce acks, topic creation); `requestTimeout` is how long the
      // client waits for any response before it gives up on the connection (the client's default is 30 s,
      // which would let one stalled request outlive a short --retry-deadline).
      timeout: this.#options.requestTimeoutMs,
      requestTimeout: this.#options.requestTimeoutMs,
      connectTimeout: Math.min(this.#options.requestTimeoutMs, 10_000),
      retries: 2,
      retryDelay: 200,
      ...this.#options.security,
    };
  }

  #adminClient(): Admin {
    this.#admin ??= new Admin(this.#baseOptions());
    return this.#admin;
  }

  async #retrying<T>(what: string, operation: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.#options.retryDeadlineMs;
    try {
      return await withRetry(() => withinDeadline(operation(), deadline), {
        deadlineMs: this.#options.retryDeadlineMs,
        isRetriable: isRetriableKafkaError,
        onRetry: () => {
          this.#leaders.clear();
        },
      });
    } catch (error) {
      throw toKbackupError(error, what);
    }
  }

  async clusterId(): Promise<string> {
    const metadata = await this.#retrying('reading cluster metadata', () =>
      this.#adminClient().metadata({ topics: [] }),
    );
    return metadata.id;
  }

  async listTopics(options: { includeInternal?: boolean } = {}): Promise<string[]> {
    const topics = await this.#retrying('listing topics', () =>
      this.#adminClient().listTopics({ includeInternals: options.includeInternal ?? false }),
    );
    return topics
      .filter((t) => options.includeInternal === true || !t.startsWith('__'))
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  async #topicMetadata(topics: string[], forceUpdate: boolean): Promise<ClusterMetadata> {
    return this.#retrying(`reading metadata of ${topics.join(', ')}`, () =>
      this.#adminClient().metadata({ topics, forceUpdate }),
    );
  }

  async describeTopics(topics: string[]): Promise<TopicDescription[]> {
    if (topics.length === 0) return [];
    const metadata = await this.#topicMetadata(topics, true);
    const configs = await this.#retrying('describing topic configs', () =>
      this.#adminClient().describeConfigs({
        resources: topics.map((name) => ({
          resourceType: ConfigResourceTypes.TOPIC,
          resourceName: name,
          configurationKeys: [],
        })),
      }),
    );
    return topics.map((name) => {
      const topic = metadata.topics.get(name);
      if (!topic) {
        throw new KbackupError('TOPIC_NOT_FOUND', `topic "${name}" does not exist on the cluster`, {
          hint: 'Check the name; `kbackup list-topics --bootstrap ...` shows the topics that exist.',
        });
      }
      const described = configs.find((c) => c.resourceName === name);
      const nonDefault: Record<string, string> = {};
      for (const entry of described?.configs ?? []) {
        if (entry.configSource === ConfigSources.DYNAMIC_TOPIC_CONFIG && typeof entry.value === 'string') {
          nonDefault[entry.name] = entry.value;
        }
      }
      return {
        name,
        topicId: topic.id,
        partitions: topic.partitions.map((_, index) => index),
        replicationFactor: topic.partitions[0]?.replicas.length ?? 0,
        configs: nonDefault,
      };
    });
  }

  async #listOffsets(topic: string, partitions: number[], timestamp: bigint, committed: boolean) {
    const result = await this.#retrying(`listing offsets of ${topic}`, () =>
      this.#adminClient().listOffsets({
        topics: [
          { name: topic, partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp })) },
        ],
        isolationLevel: committed
          ? FetchIsolationLevels.READ_COMMITTED
          : FetchIsolationLevels.READ_UNCOMMITTED,
      }),
    );
    const offsets = new Map<number, bigint>();
    for (const t of result) for (const p of t.partitions) offsets.set(p.partitionIndex, p.offset);
    return offsets;
  }

  async partitionOffsets(topic: string, partitions: number[]): Promise<Map<number, PartitionOffsets>> {
    const [start, high, stable] = await Promise.all([
      this.#listOffsets(topic, partitions, ListOffsetTimestamps.EARLIEST, false),
      this.#listOffsets(topic, partitions, ListOffsetTimestamps.LATEST, false),
      this.#listOffsets(topic, partitions, ListOffsetTimestamps.LATEST, true),
    ]);
    const out = new Map<number, PartitionOffsets>();
    for (const p of partitions) {
      const highWatermark = high.get(p) ?? 0n;
      out.set(p, {
        logStartOffset: start.get(p) ?? 0n,
        highWatermark,
        lastStableOffset: stable.get(p) ?? highWatermark,
      });
    }
    return out;
  }

  async offsetsForTimestamp(
    topic: string,
    partitions: number[],
    timestamp: bigint,
  ): Promise<Map<number, bigint>> {
    const found = await this.#listOffsets(topic, partitions, timestamp, false);
    const high = await this.#listOffsets(topic, partitions, ListOffsetTimestamps.LATEST, false);
    const out = new Map<number, bigint>();
    for (const p of partitions) {
      const offset = found.get(p);
      out.set(p, offset === undefined || offset < 0n ? (high.get(p) ?? 0n) : offset);
    }
    return out;
  }

  #acquireConsumer(): Consumer {
    const idle = this.#idleConsumers.pop();
    if (idle) return idle;
    // Returns record batches undecoded: fetch-decoder.ts decodes them straight into BackupRecords.
    const consumer = new RawFetchConsumer({
      ...this.#baseOptions(),
      // Required by the client's options but never used: fetch() does not join or create a group.
      groupId: 'kbackup-unused-fetch-only',
      maxWaitTime: 500,
    });
    this.#allConsumers.push(consumer);
    return consumer;
  }

  async fetch(request: FetchRequest): Promise<FetchResult> {
    const fetched = await this.#fetchPartition(request);
    return 'recordsBytes' in fetched ? decodeFetchedBatches(request, fetched, fetched.recordsBytes) : fetched;
  }

  async fetchBatches(request: FetchRequest): Promise<FetchedBatches> {
    const fetched = await this.#fetchPartition(request);
    if ('recordsBytes' in fetched) {
      const bytes = fetched.recordsBytes;
      return streamFetchedBatches(request, fetched, bytes, () => {
        if (bytes) fetchBuffers.release(bytes);
      });
    }
    const { records, ...rest } = fetched;
    const batches = records.length > 0 ? [EncodedRecords.fromRecords(records)] : [];
    return { ...rest, batches, endOffset: rest.nextOffset };
  }

  /**
   * One partition's fetch response with its record bytes still raw (it has `recordsBytes`), or a result
   * without records when the broker had none for it or the offset is out of range.
   */
  async #fetchPartition(request: FetchRequest): Promise<RawFetchPartition | FetchResult> {
    const what = `fetching ${request.topic}-${request.partition} at offset ${request.offset}`;
    return this.#retrying(what, async () => {
      const { id, leader } = await this.#leaders.lookup(request.topic, request.partition);
      const consumer = this.#acquireConsumer();
      try {
        const response = await consumer.fetch({
          node: leader,
          maxBytes: request.maxBytes,
          minBytes: 1,
          maxWaitTime: request.maxWaitMs ?? 500,
          isolationLevel:
            request.isolation === 'read_committed'
              ? FetchIsolationLevels.READ_COMMITTED
              : FetchIsolationLevels.READ_UNCOMMITTED,
          topics: [
            {
              topicId: id,
              partitions: [
                {
                  partition: request.partition,
                  fetchOffset: request.offset,
                  partitionMaxBytes: request.maxBytes,
                  currentLeaderEpoch: -1,
                  lastFetchedEpoch: -1,
                },
              ],
            },
          ],
        });
        const partition = response.responses[0]?.partitions.find(
          (p) => p.partitionIndex === request.partition,
        ) as RawFetchPartition | undefined;
        // An incremental fetch session (KIP-227) leaves out partitions with nothing new: no records yet.
        return partition ?? (await this.#noRecords(request, false));
      } catch (error) {
        if (hasApiError(error, 'OFFSET_OUT_OF_RANGE')) return await this.#noRecords(request, true);
        if (isRetriableKafkaError(error)) this.#leaders.forget(request.topic);
        throw error;
      } finally {
        this.#idleConsumers.push(consumer);
      }
    });
  }

  /** A fetch that returned no records, with the partition's current offsets so the caller can decide. */
  async #noRecords(request: FetchRequest, offsetOutOfRange: boolean): Promise<FetchResult> {
    const current = (await this.partitionOffsets(request.topic, [request.partition])).get(request.partition);
    return {
      records: [],
      skipped: [],
      nextOffset: request.offset,
      highWatermark: current?.highWatermark ?? request.offset,
      lastStableOffset: current?.lastStableOffset ?? request.offset,
      logStartOffset: current?.logStartOffset ?? 0n,
      offsetOutOfRange,
    };
  }

  async createTopic(spec: CreateTopicSpec): Promise<void> {
    await this.#retrying(`creating topic ${spec.name}`, async () => {
      try {
        await this.#adminClient().createTopics({
          topics: [spec.name],
          partitions: spec.partitions,
          replicas: spec.replicationFactor,
          configs: Object.entries(spec.configs).map(([name, value]) => ({ name, value })),
        });
      } catch (error) {
        if (hasApiError(error, 'TOPIC_ALREADY_EXISTS')) return;
        if (hasApiError(error, 'INVALID_REPLICATION_FACTOR')) {
          throw new KbackupError(
            'USAGE',
            `cannot create topic ${spec.name} with replication factor ${spec.replicationFactor}: the target cluster has fewer brokers`,
            { hint: 'Pass --replication-factor N (or -1 for the broker default).' },
          );
        }
        throw error;
      }
    });
    // Creation is asynchronous on the controller: wait until every partition has a leader.
    await withRetry(
      async () => {
        const metadata = await this.#adminClient().metadata({ topics: [spec.name], forceUpdate: true });
        const topic = metadata.topics.get(spec.name);
        if (topic?.partitions.length !== spec.partitions || topic.partitions.some((p) => p.leader < 0)) {
          throw new KbackupError('KAFKA_RETRIABLE', `topic ${spec.name} has no leaders yet`);
        }
      },
      { deadlineMs: 60_000, initialDelayMs: 50, maxDelayMs: 1_000, isRetriable: () => true },
    );
  }

  #idempotentProducer(): IdempotentProducer {
    if (!this.#producer) {
      // The client's Producer gives the producer id, API versions and connections; IdempotentProducer
      // sends the batches (see produce.ts). Not `idempotent: true`: that makes the client allow one request
      // in flight per connection, so that every partition on a broker waited for the previous partition's
      // answer, a round trip each. IdempotentProducer keeps the guarantee itself (one batch in flight per
      // partition, sequences advanced only on an answer), so requests of different partitions can share
      // the connection at once, as the Java producer's max.in.flight.requests.per.connection allows.
      this.#producer = new Producer({
        ...this.#baseOptions(),
        acks: ProduceAcks.ALL,
        maxInflights: PRODUCE_REQUESTS_IN_FLIGHT,
      });
      this.#batchProducer = new IdempotentProducer(this.#producer, this.#options.requestTimeoutMs);
    }
    return this.#batchProducer as IdempotentProducer;
  }

  async produce(topic: string, partition: number, records: ProduceBatch): Promise<ProduceAck> {
    if (produceBatchCount(records) === 0) return { baseOffset: undefined };
    const baseOffset = await this.#retrying(`producing to ${topic}-${partition}`, async () => {
      const { broker } = await this.#leaders.lookup(topic, partition);
      return this.#idempotentProducer().produce(broker, topic, partition, records);
    });
    return { baseOffset };
  }

  async listGroups(): Promise<GroupListing[]> {
    const groups = await this.#retrying('listing consumer groups', () => this.#adminClient().listGroups());
    return [...groups.values()].map((g) => ({ groupId: g.id, state: g.state, protocolType: g.protocolType }));
  }

  async describeGroups(groups: string[]): Promise<GroupDescription[]> {
    if (groups.length === 0) return [];
    const described = await this.#retrying('describing consumer groups', () =>
      this.#adminClient().describeGroups({ groups }),
    );
    return [...described.values()].map((g) => ({
      groupId: g.id,
      state: g.state,
      memberCount: g.members.size,
      protocolType: g.protocolType,
    }));
  }

  async fetchGroupOffsets(group: string, topics?: string[]): Promise<GroupOffset[]> {
    const result = await this.#retrying(`reading committed offsets of group ${group}`, () =>
      this.#adminClient().listConsumerGroupOffsets({ groups: [group] }),
    );
    const out: GroupOffset[] = [];
    for (const g of result) {
      for (const t of g.topics) {
        if (topics && !topics.includes(t.name)) continue;
        for (const p of t.partitions) {
          if (p.committedOffset < 0n) continue;
          out.push({
            topic: t.name,
            partition: p.partitionIndex,
            offset: p.committedOffset,
            metadata: p.metadata,
          });
        }
      }
    }
    return out;
  }

  async commitGroupOffsets(group: string, offsets: GroupOffset[]): Promise<void> {
    const byTopic = new Map<string, { partition: number; offset: bigint }[]>();
    for (const o of offsets) {
      const list = byTopic.get(o.topic) ?? [];
      list.push({ partition: o.partition, offset: o.offset });
      byTopic.set(o.topic, list);
    }
    await this.#retrying(`committing offsets of group ${group}`, () =>
      this.#adminClient().alterConsumerGroupOffsets({
        groupId: group,
        topics: [...byTopic].map(([name, partitionOffsets]) => ({ name, partitionOffsets })),
      }),
    );
  }

  async deleteGroupOffsets(group: string, partitions: { topic: string; partition: number }[]): Promise<void> {
    const byTopic = new Map<string, number[]>();
    for (const p of partitions) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition]);
    await this.#retrying(`deleting offsets of group ${group}`, () =>
      this.#adminClient().deleteConsumerGroupOffsets({
        groupId: group,
        topics: [...byTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes })),
      }),
    );
  }

  async describeCluster(): Promise<ClusterDescription> {
    const metadata = await this.#retrying('reading cluster metadata', () =>
      this.#adminClient().metadata({ topics: [], forceUpdate: true }),
    );
    return {
      clusterId: metadata.id,
      controllerId: metadata.controllerId,
      brokers: [...metadata.brokers]
        .map(([nodeId, b]) => ({ nodeId, host: b.host, port: b.port, rack: b.rack ?? null }))
        .sort((a, b) => a.nodeId - b.nodeId),
    };
  }

  async apiVersions(): Promise<ApiVersion[]> {
    const apis = await this.#retrying('reading API versions', () => this.#adminClient().listApis());
    return apis.map((a) => ({
      apiKey: a.apiKey,
      name: a.name,
      minVersion: a.minVersion,
      maxVersion: a.maxVersion,
    }));
  }

  async partitionSizes(topic: string, partitions: number[]): Promise<Map<number, bigint>> {
    const result = await this.#retrying(`describing log dirs of ${topic}`, () =>
      this.#adminClient().describeLogDirs({ topics: [{ name: topic, partitions }] }),
    );
    const sizes = new Map<number, bigint>();
    for (const broker of result) {
      for (const dir of broker.results) {
        for (const t of dir.topics) {
          if (t.name !== topic) continue;
          for (const p of t.partitions) {
            if (p.partitionSize > (sizes.get(p.partitionIndex) ?? -1n))
              sizes.set(p.partitionIndex, p.partitionSize);
          }
        }
      }
    }
    return sizes;
  }

  async close(): Promise<void> {
    const closing: Promise<void>[] = this.#allConsumers.map((c) => c.close(true));
    if (this.#producer) closing.push(this.#producer.close());
    if (this.#admin) closing.push(this.#admin.close());
    await Promise.allSettled(closing);
  }
}
