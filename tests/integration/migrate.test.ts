import { spawn } from 'node:child_process';
import { describe, expect, inject, it } from 'vitest';
import { CLI_ARGV, runCliJson, tempRepo } from '../support/cli.js';
import { expectSameRecords } from '../support/compare.js';
import { edgeCaseRecords } from '../support/data.js';
import { consumeAsGroup } from '../support/group-consumer.js';
import { startCluster } from '../support/kafka-harness.js';
import {
  createTopic,
  highWatermarks,
  produceRecords,
  produceTransactional,
  readAllRecords,
  uniqueTopic,
  type TestRecord,
} from '../support/kafka-helpers.js';
import { pollUntil } from '../support/wait.js';

const bootstrap = inject('kafkaBootstrap');

interface MigrateJson {
  status: string;
  start: string;
  sameCluster: boolean;
  createdTopics: string[];
  totals: { records: number };
  groupOffsets: { targetGroup: string; partition: number; sourceOffset: string; targetOffset: string }[];
}

const migrateArgs = (source: string, target: string, topic: string, copy: string, stateDir: string) => [
  'migrate',
  '--source-bootstrap',
  source,
  '--target-bootstrap',
  target,
  '--topics',
  topic,
  '--rename',
  `${topic}=${copy}`,
  '--state-dir',
  stateDir,
];

const withOffsets = { compareOffsets: true };
const sum = (xs: bigint[]): bigint => xs.reduce((a, b) => a + b, 0n);

describe('kbackup migrate', () => {
  it('copies topics within one cluster exactly, offsets included, and a re-run sends nothing again', async () => {
    const topic = uniqueTopic('mig-same');
    const copy = `${topic}-copy`;
    await createTopic(bootstrap, topic, { partitions: 3 });
    await produceRecords(bootstrap, topic, edgeCaseRecords(3, 150));
    const args = migrateArgs(bootstrap, bootstrap, topic, copy, tempRepo('kbackup-migrate-'));

    const planned = await runCliJson<MigrateJson>([...args, '--dry-run']);
    expect(planned).toMatchObject({ status: 'planned', createdTopics: [copy], sameCluster: true });
    const first = await runCliJson<MigrateJson>(args);
    expect(first).toMatchObject({ status: 'complete', start: 'fresh', createdTopics: [copy] });
    expect(first.totals.records).toBe(450);
    expectSameRecords(
      await readAllRecords(bootstrap, copy),
      await readAllRecords(bootstrap, topic),
      withOffsets,
    );

    // More records arrive; running the same migration again copies only those.
    await produceRecords(bootstrap, topic, edgeCaseRecords(3, 20, 7));
    const second = await runCliJson<MigrateJson>(args);
    expect(second).toMatchObject({ status: 'complete', start: 'resumed', totals: { records: 60 } });
    expectSameRecords(
      await readAllRecords(bootstrap, copy),
      await readAllRecords(bootstrap, topic),
      withOffsets,
    );
  });

  it('--follow copies new records until SIGTERM and exits 0; --until-drained finishes the rest', async () => {
    const topic = uniqueTopic('mig-follow');
    const copy = `${topic}-copy`;
    await createTopic(bootstrap, topic, { partitions: 2 });
    await produceRecords(bootstrap, topic, edgeCaseRecords(2, 50));
    const args = migrateArgs(bootstrap, bootstrap, topic, copy, tempRepo('kbackup-migrate-'));
    const child = spawn(process.execPath, [...CLI_ARGV, '--json', ...args, '--follow'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const caughtUp = (n: bigint) =>
      pollUntil(async () => child.exitCode !== null || sum(await highWatermarks(bootstrap, copy)) === n, {
        timeoutMs: 60_000,
        description: `${n} records in ${copy}`,
      });
    await caughtUp(100n);
    for (let round = 1; round <= 3; round++) {
      await produceRecords(bootstrap, topic, edgeCaseRecords(2, 30, round));
    }
    await caughtUp(280n);
    expect(child.exitCode, stderr).toBeNull();
    child.kill('SIGTERM');
    expect(await exited, stderr).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ status: 'stopped', totals: { records: 280 } });
    expectSameRecords(
      await readAllRecords(bootstrap, copy),
      await readAllRecords(bootstrap, topic),
      withOffsets,
    );

    await produceRecords(bootstrap, topic, edgeCaseRecords(2, 10, 9));
    const drained = await runCliJson<MigrateJson>([...args, '--until-drained', '--quiet-for', '1s']);
    expect(drained).toMatchObject({ status: 'complete', start: 'resumed', totals: { records: 20 } });
    expectSameRecords(
      await readAllRecords(bootstrap, copy),
      await readAllRecords(bootstrap, topic),
      withOffsets,
    );
  });

  it('copies to a second cluster; a half-consumed group resumes there exactly, across transactions', async () => {
    const topic = uniqueTopic('mig-groups');
    const group = uniqueTopic('mig-group');
    await createTopic(bootstrap, topic, { partitions: 2 });
    const batch = (tag: string, n: number): TestRecord[] =>
      Array.from({ length: n }, (_, i) => ({
        partition: i % 2,
        key: Buffer.from(`${tag}${i}`),
        value: Buffer.from(`${tag}-value-${i}`),
      }));
    await produceTransactional(bootstrap, topic, [
      { outcome: 'commit', records: batch('a', 20) },
      { outcome: 'abort', records: batch('x', 6) },
      { outcome: 'commit', records: batch('b', 20) },
    ]);
    await produceRecords(bootstrap, topic, batch('c', 20));
    const consumed = await consumeAsGroup(bootstrap, group, topic, { max: 23 });
    expect(consumed).toHaveLength(23);

    const plain = uniqueTopic('mig-plain');
    await createTopic(bootstrap, plain, { partitions: 2 });
    await produceRecords(bootstrap, plain, edgeCaseRecords(2, 40, 3));

    const second = await startCluster({ nodes: 1, name: 'migrate-target' });
    try {
      const result = await runCliJson<MigrateJson>([
        'migrate',
        '--source-bootstrap',
        bootstrap,
        '--target-bootstrap',
        second.bootstrap,
        '--topics',
        `${topic},${plain}`,
        '--state-dir',
        tempRepo('kbackup-migrate-'),
        '--consumer-groups',
        group,
        '--rename-group',
        `${group}=${group}-moved`,
      ]);
      expect(result).toMatchObject({ status: 'complete', sameCluster: false, totals: { records: 140 } });
      // No gaps in this topic: the copy has the same offsets too.
      expectSameRecords(
        await readAllRecords(second.bootstrap, plain),
        await readAllRecords(bootstrap, plain),
        withOffsets,
      );
      expect(new Set(result.groupOffsets.map((g) => g.targetGroup))).toEqual(new Set([`${group}-moved`]));
      const committed = { isolation: 'read_committed' as const };
      const source = await readAllRecords(bootstrap, topic, committed);
      expectSameRecords(await readAllRecords(second.bootstrap, topic, committed), source);

      // The application resumes on the target: exactly the records it had not consumed, each once.
      const resumed = await consumeAsGroup(second.bootstrap, `${group}-moved`, topic);
      const id = (r: { partition: number; key: Buffer | null }) => `${r.partition}/${r.key?.toString()}`;
      const seen = new Set(consumed.map(id));
      const expected = source.flatMap((records, partition) =>
        records.map((r) => id({ partition, key: r.key })).filter((k) => !seen.has(k)),
      );
      const actual = resumed.map(id);
      expect(actual.sort()).toEqual(expected.sort());
      expect(new Set(actual).size).toBe(actual.length);
    } finally {
      await second.stop();
    }
  });
});
