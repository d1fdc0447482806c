import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { runCli, runCliJson, tempRepo, restoreArgs } from '../support/cli.js';
import { startCluster, type KafkaCluster } from '../support/kafka-harness.js';
import { expectSameRecords } from '../support/compare.js';
import {
  createTopic,
  highWatermarks,
  readAllRecords,
  uniqueTopic,
  withAdmin,
} from '../support/kafka-helpers.js';
import { expectVerifiesAndRestoresExactly } from '../support/restore-check.js';
import { pollUntil } from '../support/wait.js';
import { PlatformaticKafkaAdapter } from '../../src/adapters/platformatic/kafka-adapter.js';
import type { ProduceRecord } from '../../src/core/ports/kafka-port.js';
import {
  durableSegmentCount,
  expectCleanError,
  makeRecords,
  onlyBackupId,
  parseErrorDocument,
  produceSmallBatches,
  socketInodes,
  spawnCli,
  type RunningCli,
} from './support/faults.js';

/**
 * Network partitions between kbackup and the brokers, made by the harness's TCP proxies: stall() keeps every
 * socket open but moves no bytes (a black-holed link: requests time out instead of failing fast), heal()
 * lets bytes flow again. kbackup must ride out a stall that heals, and must neither hang nor report success
 * when one does not heal within --retry-deadline.
 */

const PARTITIONS = 3;
const RECORDS = 4_500;
/** Hang guard, not a speed target: a stalled run must have given up long before this. */
const HANG_GUARD_MS = 90_000;

type BackupDoc = { backupId: string; resumed: boolean; totals: { records: number } };

describe('chaos: network stalls between kbackup and the broker (proxied)', () => {
  let cluster: KafkaCluster;
  const topic = uniqueTopic('chaos-net');

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 1, proxied: true, name: 'chaos-net' });
    await createTopic(cluster.bootstrap, topic, { partitions: PARTITIONS });
    await produceSmallBatches(cluster.bootstrap, topic, makeRecords(RECORDS, PARTITIONS, { seed: 31 }));
  });

  afterEach(() => {
    // A failed test must not leave the link stalled for the next one.
    cluster.proxies?.heal();
    for (const proxy of cluster.proxies?.byNode.values() ?? []) proxy.releaseAnswers();
  });

  afterAll(async () => {
    await cluster.stop();
  });

  function proxies() {
    const p = cluster.proxies;
    if (!p) throw new Error('cluster was not started with proxied: true');
    return p;
  }

  function backupArgs(repo: string, ...extra: string[]): string[] {
    return [
      ...extra,
      'backup',
      '--bootstrap',
      cluster.bootstrap,
      '--topics',
      topic,
      '--repo',
      repo,
      '--segment-records',
      '150',
      '--fetch-max-bytes',
      '1KiB',
    ];
  }

  /** Waits for the first durable segment of a running backup, then stalls the link. */
  async function stallAfterFirstSegment(backup: RunningCli, repo: string): Promise<Set<string>> {
    await pollUntil(
      async () => (backup.running() ? (await durableSegmentCount(repo, topic, PARTITIONS)) >= 1 : 'exited'),
      { timeoutMs: 60_000, intervalMs: 5, description: 'the first durable segment' },
    );
    expect(backup.running(), 'the backup finished before the link could be stalled').toBe(true);
    const pid = backup.child.pid;
    if (pid === undefined) throw new Error('no pid');
    const sockets = socketInodes(pid);
    proxies().stall();
    return sockets;
  }

  /**
   * Holds a stall until kbackup has given up on a connection it had when the stall began (a request timed
   * out and the client dropped the socket): the stall is then one kbackup has noticed and must recover
   * from, not one that merely delays bytes.
   */
  async function awaitDroppedConnection(cli: RunningCli, before: Set<string>): Promise<void> {
    const pid = cli.child.pid as number;
    await pollUntil(
      () => {
        if (!cli.running()) return 'exited';
        const now = socketInodes(pid);
        return [...before].some((s) => !now.has(s));
      },
      { timeoutMs: 75_000, intervalMs: 20, description: 'kbackup to drop a stalled connection' },
    );
    expect(cli.running(), 'kbackup ended during the stall').toBe(true);
  }

  it('a stall that heals: the backup completes, complete and correct', async () => {
    onTestFailed(() => {
      cluster.keepLogs();
    });
    const repo = tempRepo();
    // Default --retry-deadline (60s): requests time out after 30 s and are retried within the deadline.
    const backup = spawnCli(backupArgs(repo, '--json'));
    const before = await stallAfterFirstSegment(backup, repo);
    const stalledAt = Date.now();
    await awaitDroppedConnection(backup, before);
    console.log(`kbackup dropped a stalled connection after ${Date.now() - stalledAt} ms; healing`);
    proxies().heal();

    const result = await backup.result;
    expect(result.code, `backup exit code; stderr:\n${result.stderr}`).toBe(0);
    const doc = JSON.parse(result.stdout) as BackupDoc;
    expect(doc).toMatchObject({ resumed: false, totals: { records: RECORDS } });
    const listed = await runCliJson<{ backups: { id: string; status: string }[] }>(['list', '--repo', repo]);
    expect(listed.backups).toEqual([expect.objectContaining({ id: doc.backupId, status: 'complete' })]);
    const source = await expectVerifiesAndRestoresExactly(
      cluster.bootstrap,
      repo,
      doc.backupId,
      topic,
      `${topic}-after-stall`,
    );
    expect(source.flat()).toHaveLength(RECORDS);
  });

  it('a stall that never heals with --retry-deadline 5s: exit 6 (no hang, no success), then resumable', async () => {
    onTestFailed(() => {
      cluster.keepLogs();
    });
    const repo = tempRepo();
    const args = backupArgs(repo, '--retry-deadline', '5s');
    const backup = spawnCli(['--json', ...args]);
    await stallAfterFirstSegment(backup, repo);
    const stalledAt = Date.now();
    const guard = setTimeout(() => backup.child.kill('SIGKILL'), HANG_GUARD_MS);
    const result = await backup.result.finally(() => {
      clearTimeout(guard);
    });
    const afterStallMs = Date.now() - stalledAt;
    console.log(`stalled backup exited ${result.code} ${afterStallMs} ms after the stall began`);
    expect(result.signal, `kbackup hung for ${HANG_GUARD_MS} ms and was killed`).toBeNull();
    expect(afterStallMs).toBeLessThan(HANG_GUARD_MS);
    expect(result.code, `exit code; stderr:\n${result.stderr}`).toBe(6);
    expectCleanError(result.stderr);
    const error = parseErrorDocument(result.stdout);
    expect(error).toMatchObject({ status: 'error', exitCode: 6, error: { canRetry: true } });
    expect(['CONNECTION', 'KAFKA_RETRIABLE']).toContain(error.error.code);

    // Listing needs no broker: the backup is incomplete (no manifest), and verify says so.
    const backupId = await onlyBackupId(repo);
    const listed = await runCliJson<{ backups: { id: string; status: string }[] }>(['list', '--repo', repo]);
    expect(listed.backups).toEqual([expect.objectContaining({ id: backupId, status: 'incomplete' })]);
    expect((await runCli(['verify', '--repo', repo, '--backup', backupId])).code).toBe(4);

    proxies().heal();
    const resumed = await runCliJson<BackupDoc>(args);
    expect(resumed).toMatchObject({ backupId, resumed: true, totals: { records: RECORDS } });
    expect((await runCliJson<{ ok: boolean }>(['verify', '--repo', repo, '--backup', backupId])).ok).toBe(
      true,
    );
  });

  it('a stall during restore that heals: every record lands once, none twice (produce retried with its sequence)', async () => {
    onTestFailed(() => {
      cluster.keepLogs();
    });
    const repo = tempRepo();
    const { backupId } = await runCliJson<BackupDoc>(backupArgs(repo));
    const target = `${topic}-restored-through-stall`;
    // One record per produce request, so the restore is mid-request most of the time: a stall then cuts
    // off acks of requests the broker has already appended, and the retries must not append them again.
    const restore = spawnCli([
      '--json',
      ...restoreArgs({ repo, backupId, bootstrap: cluster.bootstrap }, topic, target, '--batch-bytes', '1'),
    ]);
    await pollUntil(
      async () => {
        if (!restore.running()) return 'exited';
        const ends = await highWatermarks(cluster.bootstrap, target).catch(() => [] as bigint[]);
        return ends.reduce((sum, end) => sum + end, 0n) >= 300n;
      },
      { timeoutMs: 60_000, intervalMs: 5, description: 'the restore to write 300 records' },
    );
    expect(restore.running(), 'the restore finished before the link could be stalled').toBe(true);
    const before = socketInodes(restore.child.pid as number);
    proxies().stall();
    await awaitDroppedConnection(restore, before);
    proxies().heal();

    const result = await restore.result;
    expect(result.code, `restore exit code; stderr:\n${result.stderr}`).toBe(0);
    const [expected, actual] = await Promise.all([
      readAllRecords(cluster.bootstrap, topic),
      readAllRecords(cluster.bootstrap, target),
    ]);
    expect(actual.flat()).toHaveLength(RECORDS);
    expectSameRecords(actual, expected, { compareOffsets: true });
  });

  it('offsets snapshot under a network partition exits 6 with a clear message instead of hanging', async () => {
    onTestFailed(() => {
      cluster.keepLogs();
    });
    const group = `chaos-net-group-${Date.now().toString(36)}`;
    await withAdmin(cluster.bootstrap, (admin) =>
      admin.alterConsumerGroupOffsets({
        groupId: group,
        topics: [{ name: topic, partitionOffsets: [{ partition: 0, offset: 7n }] }],
      }),
    );
    const dir = tempRepo('kbackup-offsets-');
    const out = join(dir, 'f.json');
    const args = [
      '--json',
      'offsets',
      'snapshot',
      '--bootstrap',
      cluster.bootstrap,
      '--group',
      group,
      '--out',
      out,
      '--retry-deadline',
      '5s',
    ];

    proxies().stall();
    const snapshot = spawnCli(args);
    const guard = setTimeout(() => snapshot.child.kill('SIGKILL'), HANG_GUARD_MS);
    const result = await snapshot.result.finally(() => {
      clearTimeout(guard);
    });
    console.log(`offsets snapshot under a stall exited ${result.code} after ${result.elapsedMs} ms`);
    expect(result.signal, `kbackup hung for ${HANG_GUARD_MS} ms and was killed`).toBeNull();
    expect(result.code, `exit code; stderr:\n${result.stderr}`).toBe(6);
    expectCleanError(result.stderr);
    expect(result.stderr).toMatch(/cannot reach the Kafka cluster/);
    expect(result.stderr).toMatch(/hint: /);
    const error = parseErrorDocument(result.stdout);
    expect(error).toMatchObject({ exitCode: 6, error: { code: 'CONNECTION', canRetry: true } });
    expect(existsSync(out), 'no snapshot file may be written when nothing was read').toBe(false);

    // Control: the same command works once the link is healed.
    proxies().heal();
    const healed = await runCli(args);
    expect(healed.code, `stderr:\n${healed.stderr}`).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain(group);
  });

  it('produce requests for different partitions go out before the first answer, each landing once', async () => {
    const target = uniqueTopic('chaos-pipeline');
    await createTopic(cluster.bootstrap, target, { partitions: 3 });
    const kafka = new PlatformaticKafkaAdapter({ bootstrap: [cluster.bootstrap] });
    const [proxy] = proxies().byNode.values();
    if (!proxy) throw new Error('no proxy');
    const recordsFor = (partition: number): ProduceRecord[] =>
      Array.from({ length: 20 }, (_, i) => ({
        key: i === 0 ? null : Buffer.from(`k${partition}-${i}`),
        value: i === 1 ? Buffer.alloc(0) : Buffer.alloc(4096, 97 + partition + i),
        headers: [[Buffer.from('h'), i === 2 ? null : Buffer.from(`v${i}`)]],
        timestamp: 1_700_000_000_000n + BigInt(partition * 100 + i),
      }));
    const sent = [0, 1, 2].map(recordsFor);
    try {
      // Connection, producer id and leaders first, so that only the two requests below are held up.
      await kafka.produce(target, 0, (sent[0] ?? []).slice(0, 1));
      proxy.holdAnswers();
      const before = proxy.bytesToTarget;
      const acks = [1, 2].map((p) => kafka.produce(target, p, sent[p] ?? []));
      for (const ack of acks) ack.catch(() => undefined); // awaited below, after the poll
      // Both are on their way only if neither waits for the other's answer.
      const valueBytes = [1, 2].reduce(
        (sum, p) => sum + (sent[p] ?? []).reduce((n, r) => n + (r.value?.length ?? 0), 0),
        0,
      );
      await pollUntil(() => proxy.bytesToTarget - before >= valueBytes, {
        timeoutMs: 15_000,
        description: 'both produce requests to reach the broker while no answer has come back',
        onTimeout: () => `${proxy.bytesToTarget - before} bytes sent`,
      });
      proxy.releaseAnswers();
      expect((await Promise.all(acks)).map((ack) => ack.baseOffset)).toEqual([0n, 0n]);
    } finally {
      proxy.releaseAnswers();
      await kafka.close();
    }
    const landed = await readAllRecords(cluster.bootstrap, target);
    const expected = sent.map((records, p) =>
      (p === 0 ? records.slice(0, 1) : records).map((r, offset) => ({
        ...r,
        offset: BigInt(offset),
        timestampType: 0 as const,
      })),
    );
    expectSameRecords(landed, expected, { compareOffsets: true });
  });
});
