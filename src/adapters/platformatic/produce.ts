import type { MessageToProduce } from '@platformatic/kafka';
import type { ProduceRecord } from '../../core/ports/kafka-port.js';

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
