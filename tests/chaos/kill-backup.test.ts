import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliArgv, runCli, runCliJson, tempRepo } from '../support/cli.js';
import { seededRandom } from '../support/data.js';
import { startCluster, type KafkaCluster } from '../support/kafka-harness.js';
import { createTopic, produceRecords, uniqueTopic, type TestRecord } from '../support/kafka-helpers.js';
import { expectVerifiesAndRestoresExactly } from '../support/restore-check.js';
import { pollUntil } from '../support/wait.js';

/**
 * kill -9 of kbackup in the middle of a backup, at seeded random moments after the first segment is
 * durable. Re-running the same command must resume (not restart), complete, verify, and restore to exactly
 * the source records: zero lost, zero duplicated.
 */
describe('chaos: kbackup killed with SIGKILL mid-backup', () => {
  let cluster: KafkaCluster;
  const topic = uniqueTopic('chaos-backup');
  const PARTITIONS = 3;
  const RECORDS = 60_000;

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 1, name: 'chaos-kill-backup' });
    await createTopic(cluster.bootstrap, topic, { partitions: PARTITIONS });
    const random = seededRandom(11);
    const base = BigInt(Date.now()) - 600_000n;
    const records: TestRecord[] = Array.from({ length: RECORDS }, (_, i) => ({
      partition: i % PARTITIONS,
      key: Buffer.from(`key-${i}`),
      value: Buffer.from(`value-${i}-${'x'.repeat(Math.floor(random() * 200))}`),
      headers: i % 5 === 0 ? [[Buffer.from('h'), i % 10 === 0 ? null : Buffer.from(String(i))]] : [],
      timestamp: base + BigInt(i),
    }));
    await produceRecords(cluster.bootstrap, topic, records);
  });

  afterAll(async () => {
    await cluster.stop();
  });

  async function segmentsOnDisk(repo: string): Promise<number> {
    const backups = await readdir(join(repo, 'backups')).catch(() => [] as string[]);
    let count = 0;
    for (const id of backups) {
      for (let p = 0; p < PARTITIONS; p++) {
        const files = await readdir(join(repo, 'backups', id, 'data', topic, String(p))).catch(
          () => [] as string[],
        );
        count += files.filter((f) => f.endsWith('.kseg')).length;
      }
    }
    return count;
  }

  for (const seed of [1, 2, 3]) {
    it(`resumes after SIGKILL (seed ${seed}) and loses or duplicates nothing`, async () => {
      const repo = tempRepo();
      // Small segments and fetches: many durable points to crash between.
      const args = [
        'backup',
        '--bootstrap',
        cluster.bootstrap,
        '--topics',
        topic,
        '--repo',
        repo,
        '--segment-records',
        '2000',
        '--fetch-max-bytes',
        '64KiB',
        '--concurrency',
        '2',
      ];
      const child = spawn(process.execPath, [...cliArgv(args), ...args], { stdio: 'ignore' });
      const exited = new Promise<void>((resolve) =>
        child.once('exit', () => {
          resolve();
        }),
      );
      const random = seededRandom(seed);
      const target = 1 + Math.floor(random() * 12);
      await pollUntil(
        async () => (child.exitCode === null ? (await segmentsOnDisk(repo)) >= target : 'exited'),
        {
          timeoutMs: 120_000,
          intervalMs: 5,
          description: `${target} durable segments`,
        },
      );
      expect(
        child.exitCode,
        'the backup finished before it could be killed; make the data set larger',
      ).toBeNull();
      child.kill('SIGKILL');
      await exited;

      const listed = await runCliJson<{ backups: { status: string }[] }>(['list', '--repo', repo]);
      expect(listed.backups.map((b) => b.status)).toEqual(['incomplete']);
      expect((await runCli(['verify', '--repo', repo, '--backup', 'all'])).code).toBe(4);

      const resumed = await runCliJson<{ backupId: string; resumed: boolean; totals: { records: number } }>(
        args,
      );
      expect(resumed.resumed).toBe(true);
      expect(resumed.totals.records).toBe(RECORDS);
      await expectVerifiesAndRestoresExactly(
        cluster.bootstrap,
        repo,
        resumed.backupId,
        topic,
        `${topic}-restored-${seed}`,
      );
    });
  }
});
