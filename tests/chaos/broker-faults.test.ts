import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { runCli, runCliJson, tempRepo, restoreArgs } from '../support/cli.js';
import { expectSameRecords } from '../support/compare.js';
import { startCluster, type KafkaCluster } from '../support/kafka-harness.js';
import { createTopic, highWatermarks, readAllRecords, uniqueTopic } from '../support/kafka-helpers.js';
import { expectVerifiesAndRestoresExactly } from '../support/restore-check.js';
import { pollUntil } from '../support/wait.js';
import {
  durableSegmentCount,
  expectCleanError,
  type ErrorDocument,
  makeRecords,
  onlyBackupId,
  produceSmallBatches,
  readProgress,
  segmentFiles,
  spawnCli,
  whileFrozen,
} from './support/faults.js';

/**
 * Broker failures while kbackup runs: the broker of a single-node cluster killed with SIGKILL mid-backup,
 * and the partition leader of a 3-node cluster (RF=3, min.insync.replicas=2) killed mid-backup and
 * mid-restore. Whatever kbackup does meanwhile (retry, or fail with exit 6 and be resumed), the end result
 * must hold every source record exactly once, compared field by field.
 */

const PARTITIONS = 3;
const RECORDS = 4_500;

type BackupDoc = { backupId: string; resumed: boolean; totals: { records: number } };

/** Verifies a backup and restores it into `target`; returns nothing, asserts record-for-record equality. */
/** kill -9 of the current leader of partition 0 of `topic`; returns its node id. */
async function killLeader(cluster: KafkaCluster, topic: string): Promise<number> {
  const leader = await cluster.leaderOf(topic, 0);
  expect(leader).toBeGreaterThan(0);
  await cluster.killNode(leader, 'SIGKILL');
  return leader;
}

async function verifyAndRestore(cluster: KafkaCluster, repo: string, backupId: string, topic: string) {
  const source = await expectVerifiesAndRestoresExactly(
    cluster.bootstrap,
    repo,
    backupId,
    topic,
    `${topic}-copy`,
  );
  expect(source.flat()).toHaveLength(RECORDS);
}

describe('chaos: single broker killed with SIGKILL mid-backup', () => {
  let cluster: KafkaCluster;
  const topic = uniqueTopic('chaos-broker-kill');

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 1, name: 'chaos-broker-kill' });
    await createTopic(cluster.bootstrap, topic, { partitions: PARTITIONS });
    await produceSmallBatches(cluster.bootstrap, topic, makeRecords(RECORDS, PARTITIONS, { seed: 21 }));
  });

  afterAll(async () => {
    await cluster.stop();
  });

  it('retries or fails with exit 6, and a resume completes a backup that restores exactly', async () => {
    onTestFailed(() => {
      cluster.keepLogs();
    });
    const repo = tempRepo();
    const args = [
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
    const backup = spawnCli(['--json', ...args]);
    await pollUntil(
      async () => (backup.running() ? (await durableSegmentCount(repo, topic, PARTITIONS)) >= 1 : 'exited'),
      { timeoutMs: 60_000, intervalMs: 5, description: 'the first durable segment' },
    );
    // Inject: kill -9 the only broker, then bring it back with the same data.
    const [node] = cluster.nodes;
    if (!node) throw new Error('no node');
    await whileFrozen(backup, 'backup', () => cluster.killNode(node.nodeId, 'SIGKILL'));
    await cluster.restartNode(node.nodeId);

    const first = await backup.result;
    console.log(`backup with the broker killed exited ${first.code} after ${first.elapsedMs} ms`);
    expect([0, 6], `exit code; stderr:\n${first.stderr}`).toContain(first.code);
    const backupId = await onlyBackupId(repo);
    if (first.code === 0) {
      const doc = JSON.parse(first.stdout) as BackupDoc;
      expect(doc.totals.records).toBe(RECORDS);
    } else {
      expectCleanError(first.stderr);
      const listed = await runCliJson<{ backups: { id: string; status: string }[] }>([
        'list',
        '--repo',
        repo,
      ]);
      expect(listed.backups).toEqual([expect.objectContaining({ id: backupId, status: 'incomplete' })]);
      const resumed = await runCliJson<BackupDoc>([...args, '--resume', backupId]);
      expect(resumed).toMatchObject({ backupId, resumed: true, totals: { records: RECORDS } });
    }
    await verifyAndRestore(cluster, repo, backupId, topic);
  });

  it('refuses a record batch damaged in the broker log: exit 1 naming partition and offset, nothing completed', async () => {
    onTestFailed(() => {
      cluster.keepLogs();
    });
    const damaged = uniqueTopic('chaos-damaged-log');
    await createTopic(cluster.bootstrap, damaged, { partitions: 1 });
    const records = Array.from({ length: 60 }, (_, i) => ({
      partition: 0,
      key: Buffer.from(`k${i}`),
      value: Buffer.from(`value-${String(i).padStart(3, '0')}-intact`),
    }));
    await produceSmallBatches(cluster.bootstrap, damaged, records, 10);
    // Inject: flip one byte of record 42's value in the broker's log file. The broker reads its log
    // through the page cache and never checks CRCs when serving a fetch, so the fetch returns the damage.
    const [node] = cluster.nodes;
    if (!node) throw new Error('no node');
    const logFile = join(node.dir, 'data', `${damaged}-0`, '00000000000000000000.log');
    const log = await readFile(logFile);
    const at = log.indexOf('value-042-intact');
    expect(at, `record 42's value in ${logFile}`).toBeGreaterThan(0);
    const handle = await open(logFile, 'r+');
    try {
      await handle.write(Buffer.from('V'), 0, 1, at);
    } finally {
      await handle.close();
    }

    const repo = tempRepo();
    const result = await runCli([
      '--json',
      'backup',
      '--bootstrap',
      cluster.bootstrap,
      '--topics',
      damaged,
      '--repo',
      repo,
    ]);
    expect(result.code, result.stderr).toBe(1);
    const doc = JSON.parse(result.stdout) as ErrorDocument;
    expect(doc.error.code).toBe('KAFKA');
    expect(doc.error.canRetry).toBe(false);
    // Records 40-49 were produced as one batch: the message names it by its first offset.
    expect(doc.error.message).toMatch(
      new RegExp(`record batch of ${damaged}-0 at offset 40 is corrupt \\(CRC-32C mismatch\\)`),
    );
    expect(doc.error.hint).toMatch(/kafka-dump-log/);
    expect(result.stderr, 'no stack trace for a damaged source').not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    const listed = await runCliJson<{ backups: { status: string }[] }>(['list', '--repo', repo]);
    expect(listed.backups.map((b) => b.status)).toEqual(['incomplete']);
  });
});

describe('chaos: 3-node cluster (RF=3, min.insync.replicas=2), partition leader killed', () => {
  let cluster: KafkaCluster;
  const topic = uniqueTopic('chaos-leader-kill');
  const repo = tempRepo();
  let backupId = '';

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3, name: 'chaos-leader-kill' });
    await createTopic(cluster.bootstrap, topic, { partitions: PARTITIONS, replicationFactor: 3 });
    for (let p = 0; p < PARTITIONS; p++) await cluster.waitForIsr(topic, p, 3);
    await produceSmallBatches(cluster.bootstrap, topic, makeRecords(RECORDS, PARTITIONS, { seed: 22 }));
  });

  afterAll(async () => {
    await cluster.stop();
  });

  /** Restarts every stopped node and waits for full ISRs, so the next test starts from a healthy cluster. */
  async function heal(topics: string[]): Promise<void> {
    for (const node of cluster.nodes) if (!node.running) await cluster.restartNode(node.nodeId);
    for (const t of topics) for (let p = 0; p < PARTITIONS; p++) await cluster.waitForIsr(t, p, 3, 90_000);
  }

  it('a backup survives kill -9 of the leader it is fetching from, and restores exactly', async () => {
    onTestFailed(() => {
      cluster.keepLogs();
    });
    const args = [
      '--json',
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
      '--concurrency',
      String(PARTITIONS),
    ];
    const backup = spawnCli(args);
    // Kill the leader of partition 0 once partition 0 has a durable segment and is still being read.
    const id = await pollUntil(
      async () => {
        if (!backup.running()) return 'exited';
        const backupId = await onlyBackupId(repo).catch(() => undefined);
        if (backupId === undefined) return undefined;
        return (await segmentFiles(repo, backupId, topic, 0)).length >= 1 ? backupId : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 5, description: 'a durable segment of partition 0' },
    );
    const leader = await whileFrozen(backup, 'backup', async () => {
      const before = await readProgress(repo, id, topic, 0);
      expect(before?.done, 'partition 0 was already fully read when its leader was killed').not.toBe(true);
      return killLeader(cluster, topic);
    });

    const result = await backup.result;
    console.log(`backup across the loss of leader ${leader} took ${result.elapsedMs} ms`);
    expect(result.code, `backup exit code; stderr:\n${result.stderr}`).toBe(0);
    const doc = JSON.parse(result.stdout) as BackupDoc;
    expect(doc).toMatchObject({ backupId: id, resumed: false, totals: { records: RECORDS } });
    backupId = doc.backupId;
    expect(await cluster.waitForLeader(topic, 0, { not: leader })).not.toBe(leader);

    // The restore creates its topic with RF=3, which needs all three brokers again.
    await heal([topic]);
    await verifyAndRestore(cluster, repo, backupId, topic);
  });

  it('a restore survives kill -9 of a target leader (or is resumed) and writes every record exactly once', async () => {
    onTestFailed(() => {
      cluster.keepLogs();
    });
    expect(backupId, 'needs the backup of the previous test').not.toBe('');
    await heal([topic, `${topic}-copy`]);
    const target = `${topic}-restore-kill`;
    const args = [
      '--json',
      ...restoreArgs({ repo, backupId, bootstrap: cluster.bootstrap }, topic, target),
      '--batch-bytes',
      '2KiB',
      '--concurrency',
      String(PARTITIONS),
    ];
    const restore = spawnCli(args);
    await pollUntil(
      async () => {
        if (!restore.running()) return 'exited';
        const ends = await highWatermarks(cluster.bootstrap, target).catch(() => [0n]);
        return ends[0] !== undefined && ends[0] >= 200n;
      },
      { timeoutMs: 60_000, intervalMs: 5, description: `200 records restored into ${target}-0` },
    );
    const leader = await whileFrozen(restore, 'restore', () => killLeader(cluster, target));

    const first = await restore.result;
    console.log(`restore with leader ${leader} killed exited ${first.code} after ${first.elapsedMs} ms`);
    expect([0, 6], `restore exit code; stderr:\n${first.stderr}`).toContain(first.code);
    if (first.code === 6) {
      expectCleanError(first.stderr);
      // The same command resumes, with the killed broker still down (two replicas satisfy min.insync).
      const resumed = await runCli(args);
      expect(resumed.code, `resumed restore exit code; stderr:\n${resumed.stderr}`).toBe(0);
      expect((JSON.parse(resumed.stdout) as { mode: string }).mode).toBe('resumed');
    }
    const [source, copy] = await Promise.all([
      readAllRecords(cluster.bootstrap, topic),
      readAllRecords(cluster.bootstrap, target),
    ]);
    expect(copy.flat()).toHaveLength(RECORDS);
    expectSameRecords(copy, source, { compareOffsets: true });
    expect((await highWatermarks(cluster.bootstrap, target)).reduce((a, b) => a + b, 0n)).toBe(
      BigInt(RECORDS),
    );
  });
});
