import {
  createRecordsBatch,
  kGetApi,
  ProduceAcks,
  Producer,
  produceV9,
  produceV10,
  produceV11,
  Writer,
  type API,
  type Callback,
  type CreateRecordsBatchOptions,
  type MessageRecord,
  type MessageToProduce,
} from '@platformatic/kafka';
import type { ProduceRecord } from '../../core/ports/kafka-port.js';
import { answerWithReplacement, replacementApis } from './api-swap.js';
import { encodeRecordBatch } from './batch-writer.js';

/**
 * The client's messages for one produce call, built with as little per-record garbage as possible: a
 * record without headers gets no Map (the client builds its own anyway). Header keys are Buffers, so a
 * Map keyed by them keeps repeated header keys and their order.
 */
export function toMessages(topic: string, partition: number, records: ProduceRecord[]): MessageToProduce[] {
  const messages = new Array<MessageToProduce>(records.length);
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as ProduceRecord;
    messages[i] = {
      topic,
      partition,
      key: r.key ?? undefined,
      // The client writes a null value as Kafka's -1 length; `null` keeps tombstones tombstones.
      value: r.value as Buffer,
      headers: r.headers.length === 0 ? undefined : new Map(r.headers.map(([k, v]) => [k, v as Buffer])),
      timestamp: r.timestamp,
    };
  }
  return messages;
}

/** Produce versions 9 to 11 share the request layout (flexible, v2 record batches); later ones differ. */
const PARSERS = new Map([
  [9, produceV9.parseResponse],
  [10, produceV10.parseResponse],
  [11, produceV11.parseResponse],
]);

type ProduceOptions = Partial<CreateRecordsBatchOptions>;

/**
 * A Produce request whose record batches come from encodeRecordBatch. The client still owns everything
 * else (idempotent producer id, sequences, retries, leader routing, producer-state recovery); only the
 * encoding of the records is replaced. The request layout mirrors the client's produce-v9..11.
 */
function createProduceRequest(
  acks: number,
  timeout: number,
  messages: MessageRecord[],
  options: ProduceOptions = {},
): Writer {
  const now = BigInt(Date.now());
  const byTopic = new Map<string, Map<number, MessageRecord[]>>();
  for (const message of messages) {
    let partitions = byTopic.get(message.topic);
    if (!partitions) byTopic.set(message.topic, (partitions = new Map<number, MessageRecord[]>()));
    const partition = message.partition ?? 0;
    const list = partitions.get(partition);
    if (list) list.push(message);
    else partitions.set(partition, [message]);
  }
  const compressed = options.compression !== undefined && options.compression !== 'none';
  const writer = Writer.create()
    .appendString(options.transactionalId ?? null)
    .appendInt16(acks)
    .appendInt32(timeout)
    .appendArray([...byTopic], (w, [topic, partitions]) => {
      w.appendString(topic).appendArray([...partitions], (w, [partition, records]) => {
        const batch = compressed
          ? createRecordsBatch(records, options).buffer
          : encodeRecordBatch(records, batchHeader(topic, partition, options), now);
        w.appendInt32(partition)
          .appendUnsignedVarInt(batch.length + 1)
          .append(batch);
      });
    })
    .appendTaggedFields();
  if (acks === ProduceAcks.NO_RESPONSE) writer.context.noResponse = true;
  return writer;
}

function batchHeader(topic: string, partition: number, options: ProduceOptions) {
  return {
    producerId: options.producerId ?? -1n,
    producerEpoch: options.producerEpoch ?? -1,
    firstSequence: options.sequences?.getWithDefault(`${topic}:${partition}`, 0) ?? -1,
    transactional: options.transactionalId != null,
  };
}

/** Produce with createProduceRequest, for the versions PARSERS covers. */
const produceApi = replacementApis(
  0,
  () => createProduceRequest,
  (version) => PARSERS.get(version),
);

/** A Producer whose Produce requests carry batches encoded by encodeRecordBatch (see createProduceRequest). */
export class BatchEncodingProducer extends Producer {
  override [kGetApi]<R extends unknown[], T>(name: string, callback: Callback<API<R, T>>): void {
    answerWithReplacement(
      name,
      'Produce',
      (negotiated: Callback<API<R, T>>) => {
        super[kGetApi](name, negotiated);
      },
      callback,
      produceApi,
      (version) =>
        `The broker's newest usable Produce version is ${version}; kbackup needs Produce v9 to v11 (Kafka 2.4 or later).`,
    );
  }
}
