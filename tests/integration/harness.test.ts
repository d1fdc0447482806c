import { Admin } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startCluster, type KafkaCluster } from '../support/kafka-harness.js';
import {
  clientOptions,
  createTopic,
  deleteTopic,
  highWatermarks,
  lastStableOffsets,
  logStartOffsets,
  produceRecords,
  produceTransactional,
  waitForTransactionMarkers,
  readAllRecords,
  transactionalProducer,
  uniqueTopic,
  type OracleRecord,
  type TestRecord,
} from '../support/kafka-helpers.js';
import { pollUntil } from '../support/wait.js';

const bootstrap = inject('kafkaBootstrap');

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

/**
 * Renders bytes so that null, empty and differing contents all compare differently: equal renderings mean
 * Buffer.equals, and a failure shows a readable diff.
 */
const show = (x: Buffer | null | undefined): string =>
  x === null ? 'null' : x === undefined ? 'missing' : `hex:${x.toString('hex')}`;

/** Compares a read record with what was produced, field by field and byte for byte. */
function expectSameRecord(
  actual: OracleRecord | undefined,
  expected: TestRecord,
  offset: bigint,
  where: string,
): void {
  expect(actual, where).toBeDefined();
  if (!actual) return;
  expect(actual.offset, `${where} offset`).toBe(offset);
  if (expected.timestamp !== undefined)
    expect(actual.timestamp, `${where} timestamp`).toBe(expected.timestamp);
  expect(actual.timestampType, `${where} timestampType`).toBe(0);
  expect(show(actual.key), `${where} key`).toBe(show(expected.key));
  expect(show(actual.value), `${where} value`).toBe(show(expected.value));
  const headers = (h: [Buffer, Buffer | null][]): string[][] => h.map(([k, v]) => [show(k), show(v)]);
  expect(headers(actual.headers), `${where} headers`).toEqual(headers(expected.headers ?? []));
}

describe('kafka test harness', () => {
  it('round-trips keys, values, headers and timestamps byte for byte', async () => {
    const topic = uniqueTopic('harness-roundtrip');
    await createTopic(bootstrap, topic, { partitions: 3, replicationFactor: 1 });
    const t0 = 1_700_000_000_000n;
    const records: TestRecord[] = [
      { partition: 0, key: b('k1'), value: b('v1'), timestamp: t0 },
      { partition: 0, key: null, value: b('null key'), timestamp: t0 + 1n },
      { partition: 0, key: Buffer.alloc(0), value: b('empty key'), timestamp: t0 + 2n },
      { partition: 0, key: b('tombstone'), value: null, timestamp: t0 + 3n },
      { partition: 0, key: b('empty value'), value: Buffer.alloc(0), timestamp: t0 + 4n },
      { partition: 0, key: null, value: null, timestamp: t0 + 5n },
      {
        partition: 1,
        key: b('headers'),
        value: b('h'),
        headers: [
          [b('dup'), b('first')],
          [b('dup'), b('second')],
          [b('nullvalue'), null],
          [b('empty'), Buffer.alloc(0)],
          [b('binary'), Buffer.from([0, 255, 1, 254])],
        ],
        timestamp: t0 - 10_000n,
      },
      // Earlier than its predecessor in the same batch (a negative delta on the wire): CreateTime is whatever the
      // producer says and must come back unchanged.
      { partition: 1, key: b('after headers'), value: b('x'), timestamp: t0 - 20_000n },
      { partition: 2, key: Buffer.from([0, 0, 0]), value: Buffer.alloc(70_000, 7), timestamp: 0n },
      { partition: 2, key: b('no explicit timestamp'), value: b('now') },
    ];
    const before = Date.now();
    await produceRecords(bootstrap, topic, records);

    const read = await readAllRecords(bootstrap, topic);
    expect(read).toHaveLength(3);
    for (let p = 0; p < 3; p++) {
      const expected = records.filter((r) => r.partition === p);
      const actual = read[p] ?? [];
      expect(actual, `partition ${p}`).toHaveLength(expected.length);
      expected.forEach((r, i) => {
        expectSameRecord(actual[i], r, BigInt(i), `p${p}[${i}]`);
      });
    }
    const defaulted = read[2]?.[1];
    expect(Number(defaulted?.timestamp)).toBeGreaterThanOrEqual(before - 1_000);
    expect(await highWatermarks(bootstrap, topic)).toEqual([6n, 2n, 2n]);
    expect(await logStartOffsets(bootstrap, topic)).toEqual([0n, 0n, 0n]);
    await deleteTopic(bootstrap, topic);
  });

  it('keeps per-partition order over many produce requests', async () => {
    const topic = uniqueTopic('harness-order');
    await createTopic(bootstrap, topic, { partitions: 2, replicationFactor: 1 });
    const records: TestRecord[] = Array.from({ length: 1_200 }, (_, i) => ({
      partition: i % 2,
      key: b(`k${i}`),
      value: b(`v${i}`),
    }));
    await produceRecords(bootstrap, topic, records);
    const read = await readAllRecords(bootstrap, topic);
    for (let p = 0; p < 2; p++) {
      const values = (read[p] ?? []).map((r) => r.value?.toString());
      expect(values).toEqual(records.filter((r) => r.partition === p).map((r) => r.value?.toString()));
      expect((read[p] ?? []).map((r) => r.offset)).toEqual(values.map((_, i) => BigInt(i)));
    }
    await deleteTopic(bootstrap, topic);
  });

  it('separates committed from aborted transactions and never returns control records', async () => {
    const topic = uniqueTopic('harness-tx');
    await createTopic(bootstrap, topic, { partitions: 2, replicationFactor: 1 });
    const rec = (partition: number, tag: string): TestRecord => ({
      partition,
      key: b(tag),
      value: b(`value-${tag}`),
    });
    await produceRecords(bootstrap, topic, [rec(0, 'plain-0'), rec(1, 'plain-1')]);
    await produceTransactional(bootstrap, topic, [
      { outcome: 'commit', records: [rec(0, 'c1-0'), rec(0, 'c1-1'), rec(1, 'c1-2')] },
      { outcome: 'abort', records: [rec(0, 'a1-0'), rec(1, 'a1-1')] },
      { outcome: 'commit', records: [rec(0, 'c2-0')] },
    ]);
    await produceRecords(bootstrap, topic, [rec(0, 'plain-2')]);

    const keys = (records: OracleRecord[][]): string[][] => records.map((p) => p.map((r) => String(r.key)));
    const committed = await readAllRecords(bootstrap, topic, { isolation: 'read_committed' });
    expect(keys(committed)).toEqual([
      ['plain-0', 'c1-0', 'c1-1', 'c2-0', 'plain-2'],
      ['plain-1', 'c1-2'],
    ]);
    const uncommitted = await readAllRecords(bootstrap, topic, { isolation: 'read_uncommitted' });
    expect(keys(uncommitted)).toEqual([
      ['plain-0', 'c1-0', 'c1-1', 'a1-0', 'c2-0', 'plain-2'],
      ['plain-1', 'c1-2', 'a1-1'],
    ]);
    // Offsets keep the gaps left by control markers: p0 holds 6 data records and 3 markers, p1 3 and 2.
    expect(uncommitted[0]?.map((r) => r.offset)).toEqual([0n, 1n, 2n, 4n, 6n, 8n]);
    expect(uncommitted[1]?.map((r) => r.offset)).toEqual([0n, 1n, 3n]);
    expect(await highWatermarks(bootstrap, topic)).toEqual([9n, 5n]);
    for (const p of uncommitted.flat()) expect(p.value?.toString()).toBe(`value-${String(p.key)}`);
    await deleteTopic(bootstrap, topic);
  });

  it('stops read_committed at the last stable offset of an open transaction', async () => {
    const topic = uniqueTopic('harness-open-tx');
    await createTopic(bootstrap, topic, { partitions: 1, replicationFactor: 1 });
    await produceRecords(bootstrap, topic, [{ partition: 0, key: b('before'), value: b('1') }]);
    const producer = transactionalProducer(bootstrap);
    try {
      const tx = await producer.begin();
      await tx.send(topic, [{ partition: 0, key: b('open'), value: b('2') }]);
      expect(await lastStableOffsets(bootstrap, topic)).toEqual([1n]);
      expect(await highWatermarks(bootstrap, topic)).toEqual([2n]);
      const committed = await readAllRecords(bootstrap, topic, { isolation: 'read_committed' });
      expect(committed[0]?.map((r) => String(r.key))).toEqual(['before']);
      const uncommitted = await readAllRecords(bootstrap, topic);
      expect(uncommitted[0]?.map((r) => String(r.key))).toEqual(['before', 'open']);
      await tx.commit();
    } finally {
      await producer.close();
    }
    await waitForTransactionMarkers(bootstrap, topic);
    const after = await readAllRecords(bootstrap, topic, { isolation: 'read_committed' });
    expect(after[0]?.map((r) => String(r.key))).toEqual(['before', 'open']);
    await deleteTopic(bootstrap, topic);
  });
});

describe('kafka test harness: proxy mode and node control', () => {
  let cluster: KafkaCluster | undefined;

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 1, proxied: true, name: 'harness-proxy' });
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('stalls, heals and drops client connections, pauses and restarts the broker', async () => {
    if (!cluster?.proxies) throw new Error('proxied cluster did not start');
    const { bootstrap: proxied, proxies } = cluster;
    const node = cluster.nodes[0];
    expect(node?.port).not.toBe(node?.brokerPort);
    expect(proxied).toBe(`127.0.0.1:${proxies.node(1).listenPort}`);
    const topic = uniqueTopic('harness-proxy');
    await createTopic(proxied, topic, { partitions: 1 });
    await produceRecords(proxied, topic, [{ partition: 0, key: b('k'), value: b('v') }]);

    // A client that gives up fast, so a black-holed link shows as an error rather than a long wait.
    const admin = new Admin({ ...clientOptions(proxied), requestTimeout: 1_500, timeout: 1_500, retries: 0 });
    const metadata = () => admin.metadata({ topics: [topic], forceUpdate: true });
    try {
      const advertised = (await metadata()).brokers.get(1);
      expect(advertised?.port).toBe(proxies.node(1).listenPort);
      expect(proxies.node(1).connectionCount).toBeGreaterThan(0);

      proxies.stall();
      await expect(metadata()).rejects.toThrow();
      proxies.heal();
      await pollUntil(metadata, { timeoutMs: 30_000, description: 'metadata after heal' });

      proxies.dropAll();
      expect(proxies.node(1).connectionCount).toBe(0);
      await pollUntil(metadata, { timeoutMs: 30_000, description: 'metadata after dropAll' });

      await cluster.pauseNode(1);
      await expect(metadata()).rejects.toThrow();
      cluster.resumeNode(1);
      await pollUntil(metadata, { timeoutMs: 30_000, description: 'metadata after resume' });
    } finally {
      await admin.close();
    }

    const pidBefore = node?.pid;
    await cluster.restartNode(1);
    expect(node?.pid).not.toBe(pidBefore);
    expect(node?.running).toBe(true);
    const read = await readAllRecords(proxied, topic);
    expect(read[0]?.map((r) => String(r.value))).toEqual(['v']);

    await cluster.killNode(1, 'SIGKILL');
    expect(node?.running).toBe(false);
  });
});
