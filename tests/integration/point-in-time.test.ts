import { describe, expect, inject, it } from 'vitest';
import { runCliJson, tempRepo, restoreArgs } from '../support/cli.js';
import { expectSameRecords } from '../support/compare.js';
import { consumeAsGroup, type ConsumedRecord } from '../support/group-consumer.js';
import { startCluster } from '../support/kafka-harness.js';
import { pollUntil } from '../support/wait.js';
import {
  createTopic,
  produceRecords,
  produceTransactional,
  readAllRecords,
  uniqueTopic,
  type TestRecord,
} from '../support/kafka-helpers.js';

const bootstrap = inject('kafkaBootstrap');
const T0 = BigInt(Date.now()) - 600_000n;

const keyOf = (r: { key: Buffer | null }): string => r.key?.toString() ?? '<null>';

describe('point-in-time restore', () => {
  it('restores exactly the records inside an inclusive time window, across partitions and segments', async () => {
    const topic = uniqueTopic('window');
    await createTopic(bootstrap, topic, { partitions: 2 });
    // 60 records per partition, one per second; partition 1 is shifted by 500 ms.
    const records: TestRecord[] = [];
    for (let i = 0; i < 60; i++) {
      for (const p of [0, 1]) {
        records.push({
          partition: p,
          key: Buffer.from(`k${p}-${i}`),
          value: Buffer.from(`v${i}`),
          timestamp: T0 + BigInt(i * 1000 + p * 500),
        });
      }
    }
    await produceRecords(bootstrap, topic, records);
    const repo = tempRepo();
    const { backupId } = await runCliJson<{ backupId: string }>([
      'backup',
      '--bootstrap',
      bootstrap,
      '--topics',
      topic,
      '--repo',
      repo,
      '--segment-records',
      '7',
    ]);
    const source = await readAllRecords(bootstrap, topic);

    const from = T0 + 10_000n; // exactly partition 0's record 10
    const to = T0 + 20_500n; // exactly partition 1's record 20
    const target = `${topic}-window`;
    const dryRun = await runCliJson<{ plan: { totals: { segments: number } } }>([
      ...restoreArgs({ repo, backupId, bootstrap }, topic, target),
      '--from-time',
      new Date(Number(from)).toISOString(),
      '--to-time',
      to.toString(),
      '--dry-run',
    ]);
    // Segments of 7 records: those wholly outside [from, to] are skipped by their min/max timestamps.
    expect(dryRun.plan.totals.segments).toBeLessThan(18);
    await runCliJson([
      ...restoreArgs({ repo, backupId, bootstrap }, topic, target),
      '--from-time',
      new Date(Number(from)).toISOString(),
      '--to-time',
      to.toString(),
    ]);
    const expected = source.map((partition) =>
      partition.filter((r) => r.timestamp >= from && r.timestamp <= to),
    );
    expect(expected.map((p) => p.length)).toEqual([11, 11]);
    expectSameRecords(await readAllRecords(bootstrap, target), expected);

    const empty = `${topic}-empty-window`;
    const none = await runCliJson<{ totals: { records: number } }>([
      ...restoreArgs({ repo, backupId, bootstrap }, topic, empty),
      '--from-time',
      (T0 + 100_000n).toString(),
    ]);
    expect(none.totals.records).toBe(0);
    expect((await readAllRecords(bootstrap, empty)).map((p) => p.length)).toEqual([0, 0]);

    const byOffset = `${topic}-offsets`;
    await runCliJson([
      ...restoreArgs({ repo, backupId, bootstrap }, topic, byOffset),
      '--from-offset',
      '5',
      '--to-offset',
      '9',
    ]);
    expectSameRecords(
      await readAllRecords(bootstrap, byOffset),
      source.map((p) => p.filter((r) => r.offset >= 5n && r.offset <= 9n)),
    );
  });
});

describe('consumer-group offsets follow a restore exactly', () => {
  /** Restores `topic` (with `group`'s offsets) into `targetBootstrap`, then resumes the group there. */
  async function proveResume(
    topic: string,
    group: string,
    consumeFirst: number,
    targetBootstrap = bootstrap,
  ): Promise<void> {
    const source = await readAllRecords(bootstrap, topic, { isolation: 'read_committed' });
    const consumed = await consumeAsGroup(bootstrap, group, topic, { max: consumeFirst });
    expect(consumed).toHaveLength(consumeFirst);

    const repo = tempRepo();
    const { backupId } = await runCliJson<{ backupId: string }>([
      'backup',
      '--bootstrap',
      bootstrap,
      '--topics',
      topic,
      '--repo',
      repo,
      '--consumer-groups',
      group,
    ]);
    const target = `${topic}-restored`;
    const restoredGroup = `${group}-restored`;
    const result = await runCliJson<{
      groupOffsets: { targetGroup: string; partition: number; targetOffset: string }[];
    }>([
      ...restoreArgs({ repo, backupId, bootstrap: targetBootstrap }, topic, target),
      '--consumer-groups',
      group,
      '--rename-group',
      `${group}=${restoredGroup}`,
    ]);
    expect(new Set(result.groupOffsets.map((g) => g.targetGroup))).toEqual(new Set([restoredGroup]));

    // The application resumes on the restored topic: it must read exactly what it had not consumed.
    const resumed = await consumeAsGroup(targetBootstrap, restoredGroup, target);
    const consumedKeys = new Set(consumed.map((r) => `${r.partition}/${keyOf(r)}`));
    const expected = source.flatMap((records, partition) =>
      records
        .filter((r) => !consumedKeys.has(`${partition}/${keyOf(r)}`))
        .map((r) => `${partition}/${keyOf(r)}/${r.value?.toString() ?? ''}`),
    );
    const actual = resumed.map(
      (r: ConsumedRecord) => `${r.partition}/${keyOf(r)}/${r.value?.toString() ?? ''}`,
    );
    expect(actual.sort()).toEqual(expected.sort());
    expect(new Set(actual).size).toBe(actual.length);
  }

  it('a consumer resumes after the restore with nothing skipped and nothing repeated', async () => {
    const topic = uniqueTopic('resume');
    await createTopic(bootstrap, topic, { partitions: 3 });
    await produceRecords(
      bootstrap,
      topic,
      Array.from({ length: 90 }, (_, i) => ({
        partition: i % 3,
        key: Buffer.from(`k${i}`),
        value: Buffer.from(`v${i}`),
      })),
    );
    await proveResume(topic, uniqueTopic('group'), 40);
  });

  it('holds across transaction markers and aborted records in the source', async () => {
    const topic = uniqueTopic('resume-tx');
    await createTopic(bootstrap, topic, { partitions: 2 });
    const batch = (tag: string, n: number): TestRecord[] =>
      Array.from({ length: n }, (_, i) => ({
        partition: i % 2,
        key: Buffer.from(`${tag}${i}`),
        value: Buffer.from(`${tag}-value-${i}`),
      }));
    await produceTransactional(bootstrap, topic, [
      { outcome: 'commit', records: batch('a', 10) },
      { outcome: 'abort', records: batch('x', 6) },
      { outcome: 'commit', records: batch('b', 10) },
      { outcome: 'abort', records: batch('y', 4) },
      { outcome: 'commit', records: batch('c', 10) },
    ]);
    await proveResume(topic, uniqueTopic('group-tx'), 13);
  });

  it('holds on a second cluster, across compaction gaps in the source', async () => {
    const topic = uniqueTopic('resume-compacted');
    await createTopic(bootstrap, topic, {
      partitions: 1,
      configs: {
        'cleanup.policy': 'compact',
        'segment.ms': '100',
        'min.cleanable.dirty.ratio': '0.001',
        'min.compaction.lag.ms': '0',
      },
    });
    const round = (tag: string): TestRecord[] =>
      Array.from({ length: 40 }, (_, i) => ({
        partition: 0,
        key: Buffer.from(`k${i}`),
        value: Buffer.from(`${tag}-${i}`),
      }));
    await produceRecords(bootstrap, topic, round('v1'));
    const rolledAt = Date.now() + 150;
    await pollUntil(() => Promise.resolve(Date.now() > rolledAt), {
      timeoutMs: 5_000,
      intervalMs: 20,
      description: 'segment.ms to pass',
    });
    await produceRecords(
      bootstrap,
      topic,
      round('v2').filter((_, i) => i % 3 === 0),
    );
    const secondRoll = Date.now() + 150;
    await pollUntil(() => Promise.resolve(Date.now() > secondRoll), {
      timeoutMs: 5_000,
      intervalMs: 20,
      description: 'segment.ms to pass',
    });
    await produceRecords(bootstrap, topic, [
      { partition: 0, key: Buffer.from('roll'), value: Buffer.from('x') },
    ]);
    await pollUntil(async () => ((await readAllRecords(bootstrap, topic))[0]?.length ?? 0) < 55, {
      timeoutMs: 90_000,
      intervalMs: 500,
      description: 'log compaction to remove overwritten keys',
    });
    const second = await startCluster({ nodes: 1, name: 'second-cluster' });
    try {
      await proveResume(topic, uniqueTopic('group-compacted'), 17, second.bootstrap);
    } finally {
      await second.stop();
    }
  });
});
