import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { startCluster, type KafkaCluster } from '../support/kafka-harness.js';
import {
  createTopic,
  highWatermarks,
  produceRecords,
  readAllRecords,
  uniqueTopic,
  type OracleRecord,
  type TestRecord,
} from '../support/kafka-helpers.js';

const show = (x: Buffer | null): string => (x === null ? 'null' : `hex:${x.toString('hex')}`);

/** Everything a backup must preserve, rendered so that toEqual diffs are readable. */
function render(records: OracleRecord[]): string[] {
  return records.map(
    (r) =>
      `${r.offset}|${r.timestamp}|${r.timestampType}|${show(r.key)}|${show(r.value)}|` +
      r.headers.map(([k, v]) => `${show(k)}=${show(v)}`).join(','),
  );
}

function batchOf(partition: number, from: number, count: number): TestRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    partition,
    key: i % 10 === 0 ? null : Buffer.from(`key-${from + i}`),
    value: i % 7 === 0 ? null : Buffer.from(`value-${from + i}-${'x'.repeat(i % 50)}`),
    headers: [[Buffer.from('seq'), Buffer.from(String(from + i))]],
    timestamp: 1_700_000_000_000n + BigInt(from + i),
  }));
}

describe('leader election on a 3-node cluster', () => {
  let cluster: KafkaCluster | undefined;

  beforeAll(async () => {
    const started = Date.now();
    cluster = await startCluster({ nodes: 3, name: 'leader-election' });
    console.log(
      `3-node Kafka ${cluster.version} cluster ready in ${Date.now() - started} ms at ${cluster.bootstrap}`,
    );
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('keeps every acks=all record readable after kill -9 of the partition leader', async () => {
    if (!cluster) throw new Error('cluster did not start');
    const c = cluster;
    onTestFailed(() => {
      c.keepLogs();
    });
    const topic = uniqueTopic('leader-election');
    await createTopic(c.bootstrap, topic, { partitions: 2, replicationFactor: 3 });
    await c.waitForIsr(topic, 0, 3);

    const produced = [...batchOf(0, 0, 300), ...batchOf(1, 0, 50)];
    await produceRecords(c.bootstrap, topic, produced);
    const before = await readAllRecords(c.bootstrap, topic);
    expect(before.map((p) => p.length)).toEqual([300, 50]);
    expect(before[0]?.map((r) => r.value?.toString() ?? null)).toEqual(
      produced.filter((r) => r.partition === 0).map((r) => r.value?.toString() ?? null),
    );

    const oldLeader = await c.leaderOf(topic, 0);
    expect(oldLeader).toBeGreaterThan(0);
    const killedAt = Date.now();
    await c.killNode(oldLeader, 'SIGKILL');
    const newLeader = await c.waitForLeader(topic, 0, { not: oldLeader }, 90_000);
    console.log(`leader of ${topic}/0 moved ${oldLeader} -> ${newLeader} in ${Date.now() - killedAt} ms`);
    expect(newLeader).not.toBe(oldLeader);

    // Nothing acknowledged with acks=all may be lost: the new leader was in the ISR.
    const afterKill = await readAllRecords(c.bootstrap, topic);
    expect(render(afterKill[0] ?? [])).toEqual(render(before[0] ?? []));
    expect(render(afterKill[1] ?? [])).toEqual(render(before[1] ?? []));

    // Two replicas still satisfy min.insync.replicas=2, so acks=all writes go on.
    const more = batchOf(0, 300, 20);
    await produceRecords(c.bootstrap, topic, more);
    expect((await highWatermarks(c.bootstrap, topic))[0]).toBe(320n);

    await c.restartNode(oldLeader);
    await c.waitForIsr(topic, 0, 3, 90_000);
    const final = await readAllRecords(c.bootstrap, topic);
    expect(render(final[0]?.slice(0, 300) ?? [])).toEqual(render(before[0] ?? []));
    expect(final[0]?.slice(300).map((r) => r.key?.toString() ?? null)).toEqual(
      more.map((r) => r.key?.toString() ?? null),
    );
    expect(final[0]?.map((r) => r.offset)).toEqual(Array.from({ length: 320 }, (_, i) => BigInt(i)));
  });
});
