import { Connection, fetchV13, type RecordsBatch } from '@platformatic/kafka';
import {
  getMetadata,
  isolationLevel,
  highWatermarks,
  lastStableOffsets,
  logStartOffsets,
} from './kafka-helpers.js';
import type { Isolation } from './kafka-helpers.js';
import { describeError } from './wait.js';

/** A record as the broker holds it; structurally a BackupRecord (src/core/record.ts). */
export interface OracleRecord {
  offset: bigint;
  timestamp: bigint;
  /** 0 = CreateTime, 1 = LogAppendTime. */
  timestampType: 0 | 1;
  key: Buffer | null;
  value: Buffer | null;
  headers: [Buffer, Buffer | null][];
}

export interface ReadOptions {
  isolation?: Isolation;
  /** Give up when a partition makes no progress for this long (leader moves are retried meanwhile). */
  timeoutMs?: number;
}

/** One partition of a Fetch v13 response (the type is not re-exported from the package root). */
type FetchResponsePartition = fetchV13.FetchResponse['responses'][number]['partitions'][number];

const IS_TRANSACTIONAL = 1 << 4;
const IS_CONTROL = 1 << 5;
const LOG_APPEND_TIME = 1 << 3;
/** Sessionless full fetch (KIP-227): session id 0 with epoch -1, so the broker keeps no state for us. */
const SESSIONLESS_EPOCH = -1;

interface PartitionState {
  /** Aborted transactions announced by fetch responses, not yet reached. */
  pending: { producerId: bigint; firstOffset: bigint }[];
  /** Producers whose current transaction is aborted (between its first offset and its abort marker). */
  aborted: Set<bigint>;
}

/**
 * Reads every record of `topic`, per partition, from the log start offset to the high watermark
 * (read_uncommitted) or the last stable offset (read_committed). Control batches are never returned; under
 * read_committed, batches of aborted transactions are dropped using the fetch response's abortedTransactions
 * list, as the Java consumer does. This is the test oracle, so it deliberately talks the Fetch API directly
 * (no consumer group, no fetch session, no client-side filtering); it shares only platformatic's wire parser
 * with src/.
 */
export async function readAllRecords(
  bootstrap: string,
  topic: string,
  options: ReadOptions = {},
): Promise<OracleRecord[][]> {
  const isolation = options.isolation ?? 'read_uncommitted';
  const [starts, ends] = await Promise.all([
    logStartOffsets(bootstrap, topic),
    isolation === 'read_committed' ? lastStableOffsets(bootstrap, topic) : highWatermarks(bootstrap, topic),
  ]);
  const reader = new PartitionReader(bootstrap, topic, isolation, options.timeoutMs ?? 60_000);
  try {
    const result: OracleRecord[][] = [];
    for (let p = 0; p < ends.length; p++) {
      result.push(await reader.read(p, starts[p] ?? 0n, ends[p] ?? 0n));
    }
    return result;
  } finally {
    await reader.close();
  }
}

class PartitionReader {
  #connections = new Map<string, Connection>();

  constructor(
    private readonly bootstrap: string,
    private readonly topic: string,
    private readonly isolation: Isolation,
    private readonly timeoutMs: number,
  ) {}

  async read(partition: number, start: bigint, end: bigint): Promise<OracleRecord[]> {
    const records: OracleRecord[] = [];
    const state: PartitionState = { pending: [], aborted: new Set() };
    let offset = start;
    let lastProgress = Date.now();
    while (offset < end) {
      let response: FetchResponsePartition;
      try {
        response = await this.#fetch(partition, offset);
      } catch (error) {
        // Leadership moves (chaos tests) surface as errors here: refresh and retry until the deadline.
        if (Date.now() - lastProgress > this.timeoutMs) {
          throw new Error(
            `readAllRecords ${this.topic}/${partition} at offset ${offset}: ${describeError(error)}`,
          );
        }
        await this.close();
        await new Promise((resolve) => setTimeout(resolve, 250));
        continue;
      }
      const batches = response.records ?? [];
      if (batches.length === 0) {
        throw new Error(
          `readAllRecords ${this.topic}/${partition}: no batch at offset ${offset} below end ${end} ` +
            `(high watermark ${response.highWatermark}, last stable ${response.lastStableOffset})`,
        );
      }
      for (const aborted of response.abortedTransactions ?? []) state.pending.push(aborted);
      state.pending.sort((a, b) =>
        a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0,
      );
      for (const batch of batches) {
        const next = this.#consumeBatch(batch, offset, end, state, records);
        if (next > offset) offset = next;
      }
      lastProgress = Date.now();
    }
    return records;
  }

  /** Appends the wanted records of `batch` and returns the offset after it. */
  #consumeBatch(
    batch: RecordsBatch,
    from: bigint,
    end: bigint,
    state: PartitionState,
    out: OracleRecord[],
  ): bigint {
    const lastOffset = batch.firstOffset + BigInt(batch.lastOffsetDelta);
    const committedOnly = this.isolation === 'read_committed';
    // An aborted transaction becomes "current" once reading reaches its first offset.
    while (state.pending.length > 0 && (state.pending[0]?.firstOffset ?? 0n) <= lastOffset) {
      const entry = state.pending.shift();
      if (entry) state.aborted.add(entry.producerId);
    }
    if (batch.attributes & IS_CONTROL) {
      // Control record key: int16 version, int16 type (0 = ABORT, 1 = COMMIT).
      const type = batch.records[0]?.key?.readInt16BE(2);
      if (type === 0) state.aborted.delete(batch.producerId);
      return lastOffset + 1n;
    }
    if (committedOnly && batch.attributes & IS_TRANSACTIONAL && state.aborted.has(batch.producerId)) {
      return lastOffset + 1n;
    }
    const timestampType = batch.attributes & LOG_APPEND_TIME ? 1 : 0;
    for (const record of batch.records) {
      const offset = batch.firstOffset + BigInt(record.offsetDelta);
      // A fetch returns whole batches, so the first one may start before the requested offset.
      if (offset < from || offset >= end) continue;
      out.push({
        offset,
        timestamp: timestampType === 1 ? batch.maxTimestamp : batch.firstTimestamp + record.timestampDelta,
        timestampType,
        key: record.key,
        value: record.value,
        headers: record.headers.map(([k, v]) => {
          if (k === null) throw new Error(`null header key at ${this.topic} offset ${offset}`);
          return [k, v];
        }),
      });
    }
    return lastOffset + 1n;
  }

  async #fetch(partition: number, offset: bigint): Promise<FetchResponsePartition> {
    const metadata = await getMetadata(this.bootstrap, [this.topic]);
    const topicMetadata = metadata.topics.get(this.topic);
    const leader = topicMetadata?.partitions[partition]?.leader ?? -1;
    const broker = metadata.brokers.get(leader);
    if (!topicMetadata || !broker) throw new Error(`no leader for ${this.topic}/${partition}`);
    const connection = await this.#connection(broker.host, broker.port);
    // v13, the first version with topic ids, is the newest every supported broker (Kafka 3.1+) accepts: this
    // reader talks to the broker without version negotiation, and Kafka 3.7 refuses v17.
    const response = await fetchV13.api.async(
      connection,
      100, // max wait ms: data below the end offset is always there
      1,
      16 * 1024 * 1024,
      isolationLevel(this.isolation),
      0,
      SESSIONLESS_EPOCH,
      [
        {
          topicId: topicMetadata.id,
          partitions: [
            {
              partition,
              currentLeaderEpoch: -1,
              fetchOffset: offset,
              lastFetchedEpoch: -1,
              partitionMaxBytes: 8 * 1024 * 1024,
            },
          ],
        },
      ],
      [],
      '',
    );
    const result = response.responses[0]?.partitions.find((p) => p.partitionIndex === partition);
    if (!result) throw new Error(`fetch response without ${this.topic}/${partition}`);
    return result;
  }

  async #connection(host: string, port: number): Promise<Connection> {
    const key = `${host}:${port}`;
    let connection = this.#connections.get(key);
    if (!connection) {
      connection = new Connection('kbackup-test-oracle', { connectTimeout: 5_000, requestTimeout: 30_000 });
      this.#connections.set(key, connection);
      await connection.connect(host, port);
    }
    return connection;
  }

  async close(): Promise<void> {
    const connections = [...this.#connections.values()];
    this.#connections.clear();
    await Promise.all(connections.map((c) => c.close().catch(() => undefined)));
  }
}
