import { KbackupError } from '../core/errors.js';
import type { KafkaPort, PartitionOffsets } from '../core/ports/kafka-port.js';
import { defaultSleep } from '../core/retry.js';

/**
 * End offsets of target partitions once they have settled (two reads 250 ms apart agree). After a crash,
 * records a dead run had in flight can still become committed for a moment; reading the ends only once
 * they stop moving keeps a resume (restore or migrate, the only writer) from sending them again.
 */
export async function settledEnds(
  kafka: KafkaPort,
  topic: string,
  partitions: number[],
  writer: 'restore' | 'migration',
): Promise<Map<number, PartitionOffsets>> {
  let previous: Map<number, PartitionOffsets> | undefined;
  for (let attempt = 0; attempt < 40; attempt++) {
    const current = await kafka.partitionOffsets(topic, partitions);
    if (
      previous &&
      partitions.every((p) => previous?.get(p)?.highWatermark === current.get(p)?.highWatermark)
    ) {
      return current;
    }
    previous = current;
    await defaultSleep(250);
  }
  throw new KbackupError(
    'KAFKA_RETRIABLE',
    `the end of ${topic} keeps moving: another producer is writing to it`,
    {
      hint: `A ${writer} must be the only writer into its target partitions. Stop the other producer.`,
    },
  );
}
