import { randomBytes } from 'node:crypto';
import {
  Admin,
  FetchIsolationLevels,
  ProduceAcks,
  Producer,
  type BaseOptions,
  type ClusterMetadata,
} from '@platformatic/kafka';
import { pollUntil } from './wait.js';

export { readAllRecords, type OracleRecord, type ReadOptions } from './kafka-reader.js';

/** A header as Kafka stores it: raw key bytes (a string on the wire) and a nullable value. */
export type TestHeader = [key: Buffer, value: Buffer | null];

/** A record to produce. Null and empty keys/values are different things and are both kept. */
export interface TestRecord {
  partition: number;
  key: Buffer | null;
  value: Buffer | null;
  headers?: TestHeader[];
  /** CreateTime in ms; defaults to now. */
  timestamp?: bigint;
}

export type Isolation = 'read_committed' | 'read_uncommitted';

/**
 * Producer generics that admit null keys/values/header values: platformatic's default serializers pass
 * values through untouched and its writer encodes null as length -1, which is exactly Kafka's null.
 */
type RawProducer = Producer<Buffer | null, Buffer | null, Buffer, Buffer | null>;

/** Options shared by every test client; short timeouts so that a dead broker fails a poll quickly. */
export function clientOptions(bootstrap: string, clientId = 'kbackup-test'): BaseOptions {
  return {
    clientId,
    bootstrapBrokers: bootstrap.split(',').map((s) => s.trim()),
    connectTimeout: 5_000,
    timeout: 10_000,
    requestTimeout: 30_000,
    retries: 3,
    retryDelay: 250,
  };
}

export function isolationLevel(isolation: Isolation): 0 | 1 {
  return isolation === 'read_committed'
    ? FetchIsolationLevels.READ_COMMITTED
    : FetchIsolationLevels.READ_UNCOMMITTED;
}

/** Runs `fn` with a fresh Admin and always closes it. */
export async function withAdmin<T>(bootstrap: string, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Admin(clientOptions(bootstrap, 'kbackup-test-admin'));
  try {
    return await fn(admin);
  } finally {
    await admin.close();
  }
}

/** Runs `fn` with a fresh idempotent acks=all producer and always closes it. */
export async function withProducer<T>(
  bootstrap: string,
  fn: (producer: RawProducer) => Promise<T>,
): Promise<T> {
  const producer: RawProducer = new Producer({
    ...clientOptions(bootstrap, 'kbackup-test-producer'),
    idempotent: true,
    acks: ProduceAcks.ALL,
  });
  try {
    return await fn(producer);
  } finally {
    await producer.close();
  }
}

/** Fresh cluster metadata (never the client's cache). */
export async function getMetadata(bootstrap: string, topics: string[] = []): Promise<ClusterMetadata> {
  return withAdmin(bootstrap, (admin) => admin.metadata({ topics, forceUpdate: true }));
}

export interface CreateTopicOptions {
  partitions: number;
  /** Defaults to the broker's default.replication.factor. */
  replicationFactor?: number;
  configs?: Record<string, string>;
  timeoutMs?: number;
}

/** Creates a topic and waits until every partition has a leader (produce fails before that). */
export async function createTopic(
  bootstrap: string,
  name: string,
  options: CreateTopicOptions,
): Promise<void> {
  await withAdmin(bootstrap, async (admin) => {
    await admin.createTopics({
      topics: [name],
      partitions: options.partitions,
      replicas: options.replicationFactor ?? -1,
      configs: Object.entries(options.configs ?? {}).map(([k, v]) => ({ name: k, value: v })),
    });
  });
  await waitForPartitions(bootstrap, name, options.partitions, options.timeoutMs);
}

/** Waits until metadata lists `count` partitions of the topic, each with a leader. */
export async function waitForPartitions(
  bootstrap: string,
  name: string,
  count: number,
  timeoutMs = 30_000,
): Promise<void> {
  await withAdmin(bootstrap, async (admin) => {
    await pollUntil(
      async () => {
        const metadata = await admin.metadata({ topics: [name], forceUpdate: true });
        const topic = metadata.topics.get(name);
        return topic?.partitionsCount === count && topic.partitions.every((p) => p.leader >= 0);
      },
      { timeoutMs, description: `leaders for all ${count} partitions of ${name}` },
    );
  });
}

/** Deletes a topic and waits until the cluster no longer lists it. */
export async function deleteTopic(bootstrap: string, name: string, timeoutMs = 30_000): Promise<void> {
  await withAdmin(bootstrap, async (admin) => {
    await admin.deleteTopics({ topics: [name] });
    await pollUntil(async () => !(await admin.listTopics()).includes(name), {
      timeoutMs,
      description: `deletion of topic ${name}`,
    });
  });
}

function toMessage(topic: string, r: TestRecord) {
  // A Map keyed by distinct Buffer objects keeps repeated header names, in insertion order.
  const headers = new Map<Buffer, Buffer | null>();
  for (const [k, v] of r.headers ?? []) headers.set(Buffer.from(k), v);
  return { topic, partition: r.partition, key: r.key, value: r.value, headers, timestamp: r.timestamp };
}

/** Records per produce request; sends are awaited one by one so per-partition order is the given order. */
const CHUNK = 500;

/** Produces `records` with an idempotent acks=all producer, preserving order within each partition. */
export async function produceRecords(bootstrap: string, topic: string, records: TestRecord[]): Promise<void> {
  await withProducer(bootstrap, async (producer) => {
    for (let i = 0; i < records.length; i += CHUNK) {
      await producer.send({ messages: records.slice(i, i + CHUNK).map((r) => toMessage(topic, r)) });
    }
  });
}

/** A transaction in progress; the test decides when (and whether) it ends. */
export interface OpenTransaction {
  send(topic: string, records: TestRecord[]): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/** A transactional producer running one transaction at a time. */
export interface TransactionalProducer {
  readonly transactionalId: string;
  begin(): Promise<OpenTransaction>;
  /** Closes the producer; an unfinished transaction stays open on the broker until it times out. */
  close(): Promise<void>;
}

export function transactionalProducer(bootstrap: string, transactionalId?: string): TransactionalProducer {
  const id = transactionalId ?? `kbackup-test-tx-${randomBytes(4).toString('hex')}`;
  const producer: RawProducer = new Producer({
    ...clientOptions(bootstrap, 'kbackup-test-tx'),
    transactionalId: id,
    idempotent: true,
    acks: ProduceAcks.ALL,
  });
  return {
    transactionalId: id,
    async begin() {
      const tx = await producer.beginTransaction();
      return {
        async send(topic, records) {
          for (let i = 0; i < records.length; i += CHUNK) {
            await tx.send({ messages: records.slice(i, i + CHUNK).map((r) => toMessage(topic, r)) });
          }
        },
        commit: () => tx.commit(),
        abort: () => tx.abort(),
      };
    },
    close: () => producer.close(),
  };
}

export interface TransactionSpec {
  outcome: 'commit' | 'abort';
  records: TestRecord[];
}

/**
 * Writes transactions in order with one transactional producer, e.g.
 * `[{ outcome: 'commit', records: a }, { outcome: 'abort', records: b }]`. Each ends with its control marker.
 */
export async function produceTransactional(
  bootstrap: string,
  topic: string,
  transactions: TransactionSpec[],
): Promise<void> {
  const producer = transactionalProducer(bootstrap);
  try {
    for (const spec of transactions) {
      const tx = await producer.begin();
      await tx.send(topic, spec.records);
      if (spec.outcome === 'commit') await tx.commit();
      else await tx.abort();
    }
  } finally {
    await producer.close();
  }
  await waitForTransactionMarkers(bootstrap, topic);
}

/**
 * Waits until every partition's last stable offset equals its high watermark. The broker acknowledges a
 * commit or abort once the transaction coordinator has logged it, and writes the markers into the data
 * partitions afterwards: until then read_committed readers stop short of the transaction, and a record
 * produced next could land before the marker.
 */
export async function waitForTransactionMarkers(bootstrap: string, topic: string): Promise<void> {
  await pollUntil(
    async () => {
      const [stable, ends] = await Promise.all([
        lastStableOffsets(bootstrap, topic),
        highWatermarks(bootstrap, topic),
      ]);
      return stable.every((offset, partition) => offset === ends[partition]);
    },
    { timeoutMs: 30_000, intervalMs: 50, description: `the transaction markers of ${topic}` },
  );
}

async function listOffsetsAt(
  bootstrap: string,
  topic: string,
  timestamp: bigint,
  isolation: Isolation = 'read_uncommitted',
): Promise<bigint[]> {
  return withAdmin(bootstrap, async (admin) => {
    const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
    const count = metadata.topics.get(topic)?.partitionsCount ?? 0;
    const partitions = Array.from({ length: count }, (_, i) => ({ partitionIndex: i, timestamp }));
    const result = await admin.listOffsets({
      topics: [{ name: topic, partitions }],
      isolationLevel: isolationLevel(isolation),
    });
    const offsets = new Array<bigint>(count).fill(-1n);
    for (const p of result.find((t) => t.name === topic)?.partitions ?? [])
      offsets[p.partitionIndex] = p.offset;
    return offsets;
  });
}

/** High watermark of each partition, indexed by partition. */
export function highWatermarks(bootstrap: string, topic: string): Promise<bigint[]> {
  return listOffsetsAt(bootstrap, topic, -1n);
}

/** Last stable offset of each partition (the read_committed end). */
export function lastStableOffsets(bootstrap: string, topic: string): Promise<bigint[]> {
  return listOffsetsAt(bootstrap, topic, -1n, 'read_committed');
}

/** Log start offset of each partition (moves after retention or DeleteRecords). */
export function logStartOffsets(bootstrap: string, topic: string): Promise<bigint[]> {
  return listOffsetsAt(bootstrap, topic, -2n);
}

/** A topic name unique within a test run; Kafka topic names allow [a-zA-Z0-9._-]. */
export function uniqueTopic(prefix = 'test'): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}
