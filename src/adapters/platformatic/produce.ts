import {
  kGetApi,
  kGetConnection,
  ProduceAcks,
  produceV9,
  produceV10,
  produceV11,
  Writer,
  type API,
  type Broker,
  type Connection,
  type Producer,
  type ProducerInfo,
  type produceV11 as ProduceV11,
} from '@platformatic/kafka';
import { BufferPool } from '../../core/buffer-pool.js';
import { KbackupError } from '../../core/errors.js';
import { produceBatchCount, type ProduceBatch } from '../../core/ports/kafka-port.js';
import { replacementApis } from './api-swap.js';
import { encodeRecordBatch, encodeSegmentRecordsBatch } from './batch-writer.js';
import { hasApiError } from './errors.js';

/** Produce versions 9 to 11 share the request layout (flexible, v2 record batches); later ones differ. */
const PARSERS = new Map([
  [9, produceV9.parseResponse],
  [10, produceV10.parseResponse],
  [11, produceV11.parseResponse],
]);

/** A Produce request (v9-v11 layout) carrying one encoded record batch for one partition. */
function createProduceRequest(
  acks: number,
  timeout: number,
  topic: string,
  partition: number,
  batch: Buffer,
): Writer {
  return Writer.create()
    .appendString(null) // transactional id
    .appendInt16(acks)
    .appendInt32(timeout)
    .appendArray([topic], (w, name) => {
      w.appendString(name).appendArray([partition], (w, index) => {
        w.appendInt32(index)
          .appendUnsignedVarInt(batch.length + 1)
          .append(batch);
      });
    })
    .appendTaggedFields();
}

type ProduceApi = API<[number, number, string, number, Buffer], ProduceV11.ProduceResponse>;

const produceApiFor = replacementApis(
  0,
  () => createProduceRequest,
  (version) => PARSERS.get(version),
) as (version: number) => ProduceApi | undefined;

/**
 * Produce requests a connection carries at once. Each partition has at most one (see IdempotentProducer),
 * so this bounds how many partitions led by one broker are written at the same time before the next waits
 * in the client's queue; above `--concurrency`'s usual values so that the flag, not this, decides.
 */
export const PRODUCE_REQUESTS_IN_FLIGHT = 16;

/** Kafka's sequence numbers wrap from Int32 max to 0. */
const SEQUENCE_LIMIT = 2 ** 31;

/**
 * Batches are encoded into reused buffers of this size (see BufferPool; larger batches get their own). A
 * buffer goes back only once the broker has answered, by which time the client has copied the request
 * into its own buffer.
 */
const BATCH_BUFFER_BYTES = 1024 * 1024;
const MAX_SPARE_BATCH_BUFFERS = 4;

/**
 * An idempotent producer (acks=all) that sends kbackup's record batches (batch-writer.ts) itself. It uses
 * the client's Producer only for what is not per record: the producer id (InitProducerId), API version
 * negotiation and its connections (TLS, SASL). The client's `send()` builds a message object, two Maps and
 * a sequence-map key per record; this sends a prepared batch per call.
 *
 * Sequence numbers: a partition takes one call at a time (a second concurrent call is a bug and refused),
 * and its sequence advances only when the broker acknowledged the batch. After a failure the next call must
 * be the retry of the same batch: it reuses the sequence, so if the first attempt was appended after all,
 * the broker recognizes the duplicate (it compares producer id, epoch and sequences, not the records) and
 * answers with the original offset instead of appending it twice. A different batch in its place would be
 * mistaken for that duplicate and dropped, so a call whose record count differs is refused. If the broker
 * lost this producer's state (UNKNOWN_PRODUCER_ID, OUT_OF_ORDER_SEQUENCE_NUMBER), the call fails rather
 * than starting a new producer id, which could write a batch twice; a restore or migrate run again resumes
 * from what the target holds.
 */
export class IdempotentProducer {
  #info: Promise<ProducerInfo> | undefined;
  readonly #sequences = new Map<string, number>();
  readonly #inFlight = new Set<string>();
  /** Record count of a partition's failed batch, which the next call must retry. */
  readonly #unacknowledged = new Map<string, number>();
  readonly #batchBuffers = new BufferPool(BATCH_BUFFER_BYTES, MAX_SPARE_BATCH_BUFFERS);

  constructor(
    private readonly client: Producer,
    private readonly timeoutMs: number,
  ) {}

  /** Appends `records` to the partition led by `leader`; resolves to the offset of the first one. */
  async produce(leader: Broker, topic: string, partition: number, records: ProduceBatch): Promise<bigint> {
    const key = `${topic}:${partition}`;
    const count = produceBatchCount(records);
    const refusal = this.#refusal(key, count);
    if (refusal !== undefined) {
      throw new KbackupError('INTERNAL', `producing to ${topic}-${partition}: ${refusal}`);
    }
    this.#inFlight.add(key);
    try {
      const offset = await this.#send(key, leader, topic, partition, records, count);
      this.#unacknowledged.delete(key);
      return offset;
    } catch (error) {
      this.#unacknowledged.set(key, count);
      throw error;
    } finally {
      this.#inFlight.delete(key);
    }
  }

  /** Why a call for `key` with `count` records must not be sent (a caller's bug), or undefined. */
  #refusal(key: string, count: number): string | undefined {
    if (count === 0) return 'a batch needs at least one record';
    if (this.#inFlight.has(key)) return 'another batch for this partition is still in flight';
    const failed = this.#unacknowledged.get(key);
    if (failed !== undefined && failed !== count) {
      return `a failed batch of ${failed} records must be retried before a batch of ${count}`;
    }
    return undefined;
  }

  async #send(
    key: string,
    leader: Broker,
    topic: string,
    partition: number,
    records: ProduceBatch,
    count: number,
  ): Promise<bigint> {
    const info = await this.#producerInfo();
    const sequence = this.#sequences.get(key) ?? 0;
    const header = {
      producerId: info.producerId,
      producerEpoch: info.producerEpoch,
      firstSequence: sequence,
      transactional: false,
    };
    const allocate = (bytes: number): Buffer => this.#batchBuffers.take(bytes);
    const batch = Array.isArray(records)
      ? encodeRecordBatch(records, header, BigInt(Date.now()), allocate)
      : encodeSegmentRecordsBatch(records, header, allocate);
    const [api, connection] = await Promise.all([this.#api(), this.#connection(leader)]);
    let response: ProduceV11.ProduceResponse;
    try {
      response = await api.async(connection, ProduceAcks.ALL, this.timeoutMs, topic, partition, batch);
    } catch (error) {
      if (hasApiError(error, 'UNKNOWN_PRODUCER_ID') || hasApiError(error, 'OUT_OF_ORDER_SEQUENCE_NUMBER')) {
        throw new KbackupError(
          'KAFKA',
          `producing to ${topic}-${partition}: the broker no longer knows this run's producer state, so a retry could write records twice`,
          {
            cause: error,
            hint: 'Run the same command again: it resumes from what the target already holds.',
          },
        );
      }
      throw error;
    }
    const baseOffset = response.responses[0]?.partitionResponses[0]?.baseOffset;
    if (baseOffset === undefined) {
      throw new KbackupError(
        'KAFKA',
        `producing to ${topic}-${partition}: the broker's answer has no offset`,
      );
    }
    this.#sequences.set(key, (sequence + count) % SEQUENCE_LIMIT);
    // Only after an answer: a failed request might still be queued in the client, holding the buffer.
    this.#batchBuffers.release(batch);
    return baseOffset;
  }

  #producerInfo(): Promise<ProducerInfo> {
    if (!this.#info) {
      const init = this.client.initIdempotentProducer({});
      this.#info = init;
      // A failed InitProducerId is asked again on the next call.
      init.catch(() => {
        if (this.#info === init) this.#info = undefined;
      });
    }
    return this.#info;
  }

  #api(): Promise<ProduceApi> {
    return new Promise((resolve, reject) => {
      this.client[kGetApi]('Produce', (error, negotiated) => {
        const api = negotiated ? produceApiFor(negotiated.version) : undefined;
        if (api) resolve(api);
        else {
          reject(
            error ??
              new KbackupError(
                'KAFKA',
                `the broker's newest usable Produce version is ${negotiated?.version}; kbackup needs v9 to v11 (Kafka 2.4 or later)`,
              ),
          );
        }
      });
    });
  }

  #connection(broker: Broker): Promise<Connection> {
    return new Promise((resolve, reject) => {
      this.client[kGetConnection](broker, (error, connection) => {
        if (connection) resolve(connection);
        else
          reject(error ?? new KbackupError('CONNECTION', `no connection to ${broker.host}:${broker.port}`));
      });
    });
  }
}
