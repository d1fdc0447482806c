import type { TestRecord } from './kafka-helpers.js';

/** A small seeded PRNG (mulberry32) so that generated data is the same on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomBytesSeeded(random: () => number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(random() * 256);
  return out;
}

/**
 * Timestamps stay within the last days: brokers delete records older than retention.ms (7 days by
 * default) in the background, and Kafka 4 rejects timestamps more than an hour in the future
 * (message.timestamp.after.max.ms). So records one second apart end an hour before now.
 */
const baseTime = (perPartition: number): bigint =>
  BigInt(Date.now()) - 3_600_000n - BigInt(perPartition) * 1000n;

/**
 * Records that exercise every fidelity edge: null and empty keys and values, tombstones, headers with
 * duplicate keys and null values, all 256 byte values, explicit millisecond timestamps out of order.
 */
export function edgeCaseRecords(partitions: number, perPartition: number, seed = 1): TestRecord[] {
  const random = seededRandom(seed);
  const records: TestRecord[] = [];
  const BASE_TIME = baseTime(perPartition);
  const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  for (let i = 0; i < perPartition; i++) {
    for (let p = 0; p < partitions; p++) {
      const kind = (i + p) % 8;
      records.push({
        partition: p,
        key: kind === 0 ? null : kind === 1 ? Buffer.alloc(0) : Buffer.from(`key-${p}-${i}`),
        value:
          kind === 2
            ? null
            : kind === 3
              ? Buffer.alloc(0)
              : kind === 4
                ? allBytes
                : randomBytesSeeded(random, 20 + Math.floor(random() * 400)),
        headers:
          kind === 5
            ? [
                [Buffer.from('dup'), Buffer.from('first')],
                [Buffer.from('dup'), Buffer.from('second')],
                [Buffer.from('nullable'), null],
                [Buffer.from('empty'), Buffer.alloc(0)],
              ]
            : kind === 6
              ? [[Buffer.from('trace-id'), randomBytesSeeded(random, 16)]]
              : [],
        timestamp: BASE_TIME + BigInt(i * 1000 + p) - (kind === 7 ? 500_000n : 0n),
      });
    }
  }
  return records;
}
