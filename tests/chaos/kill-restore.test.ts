import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliArgv, runCliJson, tempRepo, restoreArgs } from '../support/cli.js';
import { expectSameRecords } from '../support/compare.js';
import { seededRandom } from '../support/data.js';
import { startCluster, type KafkaCluster } from '../support/kafka-harness.js';
import {
  createTopic,
  highWatermarks,
  produceRecords,
  readAllRecords,
  uniqueTopic,
  type TestRecord,
} from '../support/kafka-helpers.js';
import { pollUntil } from '../support/wait.js';

/**
 * kill -9 of kbackup in the middle of a restore, at seeded random amounts of data written. Re-running the
 * same restore must resume and leave every source record in the target exactly once, in order.
 */
describe('chaos: kbackup killed with SIGKILL mid-restore', () => {
  let cluster: KafkaCluster;
  const topic = uniqueTopic('chaos-restore');
  const PARTITIONS = 3;
  const RECORDS = 60_000;
  const repo = tempRepo();
  let backupId = '';

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 1, name: 'chaos-kill-restore' });
    await createTopic(cluster.bootstrap, topic, { partitions: PARTITIONS });
    const base = BigInt(Date.now()) - 600_000n;
    const records: TestRecord[] = Array.from({ length: RECORDS }, (_, i) => ({
      partition: i % PARTITIONS,
      key: i % 7 === 0 ? null : Buffer.from(`key-${i}`),
      value: i % 11 === 0 ? null : Buffer.from(`value-${i}`),
      headers: i % 5 === 0 ? [[Buffer.from('h'), Buffer.from(String(i))]] : [],
      timestamp: base + BigInt(i),
    }));
    await produceRecords(cluster.bootstrap, topic, records);
    backupId = (
      await runCliJson<{ backupId: string }>([
        'backup',
        '--bootstrap',
        cluster.bootstrap,
        '--topics',
        topic,
        '--repo',
        repo,
      ])
    ).backupId;
  });

  afterAll(async () => {
    await cluster.stop();
  });

  for (const seed of [1, 2, 3]) {
    it(`resumes after SIGKILL (seed ${seed}) with zero records lost and zero duplicated`, async () => {
      const target = `${topic}-r${seed}`;
      // Small produce requests: many points to crash between.
      const args = [
        ...restoreArgs({ repo, backupId, bootstrap: cluster.bootstrap }, topic, target),
        '--batch-bytes',
        '8KiB',
        '--concurrency',
        '2',
      ];
      const child = spawn(process.execPath, [...cliArgv(args), ...args], { stdio: 'ignore' });
      const exited = new Promise<void>((resolve) =>
        child.once('exit', () => {
          resolve();
        }),
      );
      const threshold = BigInt(1_000 + Math.floor(seededRandom(seed)() * 30_000));
      await pollUntil(
        async () => {
          if (child.exitCode !== null) return 'exited';
          const ends = await highWatermarks(cluster.bootstrap, target).catch(() => [0n]);
          return ends.reduce((a, b) => a + b, 0n) >= threshold;
        },
        { timeoutMs: 120_000, intervalMs: 5, description: `${threshold} records restored` },
      );
      expect(
        child.exitCode,
        'the restore finished before it could be killed; make the data set larger',
      ).toBeNull();
      child.kill('SIGKILL');
      await exited;

      const resumed = await runCliJson<{ mode: string }>(args);
      expect(resumed.mode).toBe('resumed');
      const [source, copy] = await Promise.all([
        readAllRecords(cluster.bootstrap, topic),
        readAllRecords(cluster.bootstrap, target),
      ]);
      expectSameRecords(copy, source, { compareOffsets: true });

      // Running it once more finds nothing to do and writes nothing.
      const again = await runCliJson<{ mode: string; totals: { records: number } }>(args);
      expect(again).toMatchObject({ mode: 'already-complete', totals: { records: 0 } });
      expect((await highWatermarks(cluster.bootstrap, target)).reduce((a, b) => a + b, 0n)).toBe(
        BigInt(RECORDS),
      );
    });
  }
});
