import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliArgv, runCliJson, tempRepo } from '../support/cli.js';
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
 * kill -9 of kbackup in the middle of a migration, at seeded random amounts of data copied. Running the
 * same migration again must resume (matching what the killed run wrote after its last save) and leave
 * every source record in the target exactly once, at the same offset.
 */
describe('chaos: kbackup killed with SIGKILL mid-migration', () => {
  let cluster: KafkaCluster;
  const topic = uniqueTopic('chaos-migrate');
  const PARTITIONS = 3;
  const RECORDS = 45_000;

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 1, name: 'chaos-kill-migrate' });
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
  });

  afterAll(async () => {
    await cluster.stop();
  });

  for (const seed of [1, 2]) {
    it(`resumes after SIGKILL (seed ${seed}) with zero records lost and zero duplicated`, async () => {
      const target = `${topic}-m${seed}`;
      // Small requests: many points to crash between.
      const args = [
        'migrate',
        '--source-bootstrap',
        cluster.bootstrap,
        '--target-bootstrap',
        cluster.bootstrap,
        '--topics',
        topic,
        '--rename',
        `${topic}=${target}`,
        '--state-dir',
        tempRepo('kbackup-migrate-state-'),
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
      const threshold = BigInt(1_000 + Math.floor(seededRandom(seed)() * 25_000));
      await pollUntil(
        async () => {
          if (child.exitCode !== null) return 'exited';
          const ends = await highWatermarks(cluster.bootstrap, target).catch(() => [0n]);
          return ends.reduce((a, b) => a + b, 0n) >= threshold;
        },
        { timeoutMs: 120_000, intervalMs: 5, description: `${threshold} records migrated` },
      );
      expect(child.exitCode, 'the migration finished before it could be killed; use more data').toBeNull();
      child.kill('SIGKILL');
      await exited;

      const resumed = await runCliJson<{ start: string; status: string }>(args);
      expect(resumed).toMatchObject({ start: 'resumed', status: 'complete' });
      const [source, copy] = await Promise.all([
        readAllRecords(cluster.bootstrap, topic),
        readAllRecords(cluster.bootstrap, target),
      ]);
      expectSameRecords(copy, source, { compareOffsets: true });

      // Once more: nothing left to copy, nothing written.
      const again = await runCliJson<{ totals: { records: number } }>(args);
      expect(again.totals.records).toBe(0);
      expect((await highWatermarks(cluster.bootstrap, target)).reduce((a, b) => a + b, 0n)).toBe(
        BigInt(RECORDS),
      );
    });
  }
});
