import { spawn, type ChildProcess } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Consumer } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliArgv, runCliJson, tempRepo, restoreArgs } from '../support/cli.js';
import { expectSameRecords } from '../support/compare.js';
import { startCluster, type KafkaCluster } from '../support/kafka-harness.js';
import {
  clientOptions,
  createTopic,
  highWatermarks,
  produceRecords,
  readAllRecords,
  uniqueTopic,
  withAdmin,
  type TestRecord,
} from '../support/kafka-helpers.js';
import { expectVerifiesAndRestoresExactly } from '../support/restore-check.js';
import { continueProcess, stopProcess } from '../support/process-control.js';
import { pollUntil } from '../support/wait.js';

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      resolve({ code, signal });
    }),
  );
}

describe('chaos: signals and the consumer-group step', () => {
  let cluster: KafkaCluster;
  const topic = uniqueTopic('signals');
  const PARTITIONS = 3;
  const RECORDS = 60_000;

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 1, name: 'chaos-signals' });
    await createTopic(cluster.bootstrap, topic, { partitions: PARTITIONS });
    const base = BigInt(Date.now()) - 600_000n;
    const records: TestRecord[] = Array.from({ length: RECORDS }, (_, i) => ({
      partition: i % PARTITIONS,
      key: Buffer.from(`key-${i}`),
      value: Buffer.from(`value-${i}`),
      timestamp: base + BigInt(i),
    }));
    await produceRecords(cluster.bootstrap, topic, records);
  });

  afterAll(async () => {
    await cluster.stop();
  });

  async function durableSegments(repo: string): Promise<number> {
    let count = 0;
    for (const id of await readdir(join(repo, 'backups')).catch(() => [] as string[])) {
      for (let p = 0; p < PARTITIONS; p++) {
        const files = await readdir(join(repo, 'backups', id, 'data', topic, String(p))).catch(
          () => [] as string[],
        );
        count += files.filter((f) => f.endsWith('.kseg')).length;
      }
    }
    return count;
  }

  /**
   * Starts a slow backup (small fetches and segments, one partition at a time) and returns once two segments
   * are durable, so that a signal lands mid-run; then checks what is left and resumes it.
   */
  async function backupInFlight(): Promise<{
    child: ChildProcess;
    exited: ReturnType<typeof exitOf>;
    stderr: () => string;
    expectResumable: () => Promise<void>;
  }> {
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
      '2000',
      '--fetch-max-bytes',
      '32KiB',
      '--concurrency',
      '1',
    ];
    const child = spawn(process.execPath, [...cliArgv(args), ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = exitOf(child);
    await pollUntil(async () => (child.exitCode === null ? (await durableSegments(repo)) >= 2 : 'exited'), {
      timeoutMs: 120_000,
      intervalMs: 5,
      description: 'two durable segments',
    });
    expect(child.exitCode, 'finished before the signal; make the data set larger').toBeNull();
    const expectResumable = async (): Promise<void> => {
      const listed = await runCliJson<{ backups: { status: string }[] }>(['list', '--repo', repo]);
      expect(listed.backups.map((b) => b.status)).toEqual(['incomplete']);
      // What was durable before the signal remains (a graceful stop also finishes the segment in flight).
      expect(await durableSegments(repo)).toBeGreaterThanOrEqual(2);
      const resumed = await runCliJson<{ backupId: string; resumed: boolean; totals: { records: number } }>(
        args,
      );
      expect(resumed).toMatchObject({ resumed: true, totals: { records: RECORDS } });
      await expectVerifiesAndRestoresExactly(
        cluster.bootstrap,
        repo,
        resumed.backupId,
        topic,
        `${topic}-${resumed.backupId.toLowerCase()}`,
      );
    };
    return { child, exited, stderr: () => stderr, expectResumable };
  }

  for (const [signal, code] of [
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const) {
    it(`${signal} stops a backup gracefully with exit ${code}, keeping progress for a resume`, async () => {
      const run = await backupInFlight();
      run.child.kill(signal);
      const result = await run.exited;
      expect(result.code).toBe(code);
      expect(run.stderr()).toContain(`${signal}: finishing in-flight work and saving progress`);
      await run.expectResumable();
    });
  }

  it('a second signal aborts at once; what was durable stays, and the resume completes', async () => {
    const run = await backupInFlight();
    // Frozen, both signals are pending together, so the second always arrives before the graceful stop
    // could finish: the abort path runs every time. (Two SIGINTs would merge into one.)
    await stopProcess(run.child.pid as number);
    run.child.kill('SIGINT');
    run.child.kill('SIGTERM');
    continueProcess(run.child.pid as number);
    const result = await run.exited;
    // The kernel and libuv pick the order; whichever came second aborts and sets the exit code.
    const stderr = run.stderr();
    const first = /(SIGINT|SIGTERM): finishing in-flight work/.exec(stderr)?.[1];
    const second = /(SIGINT|SIGTERM) again: aborting now/.exec(stderr)?.[1];
    expect(first, stderr).toBeDefined();
    expect(second, stderr).toBe(first === 'SIGINT' ? 'SIGTERM' : 'SIGINT');
    expect(result.code).toBe(second === 'SIGINT' ? 130 : 143);
    await run.expectResumable();
  });

  it('a failed group-offset step is finished by a re-run without producing the data again', async () => {
    const group = uniqueTopic('group');
    // The group consumes part of the topic and leaves; the backup captures its offsets.
    await withAdmin(cluster.bootstrap, (admin) =>
      admin.alterConsumerGroupOffsets({
        groupId: group,
        topics: [{ name: topic, partitionOffsets: [0, 1, 2].map((p) => ({ partition: p, offset: 1234n })) }],
      }),
    );
    const repo = tempRepo();
    const { backupId } = await runCliJson<{ backupId: string }>([
      'backup',
      '--bootstrap',
      cluster.bootstrap,
      '--topics',
      topic,
      '--repo',
      repo,
      '--consumer-groups',
      group,
    ]);
    const target = `${topic}-restored`;
    const args = [
      '--json',
      ...restoreArgs({ repo, backupId, bootstrap: cluster.bootstrap }, topic, target),
      '--consumer-groups',
      group,
      '--batch-bytes',
      '8KiB',
    ];

    const child = spawn(process.execPath, [...cliArgv(args), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = exitOf(child);
    // Once data flows, freeze the restore and let a real consumer join the group on the target topic.
    await pollUntil(
      async () =>
        (await highWatermarks(cluster.bootstrap, target).catch(() => [0n])).reduce((a, b) => a + b, 0n) > 0n
          ? true
          : undefined,
      {
        timeoutMs: 60_000,
        intervalMs: 5,
        description: 'restore to start writing',
      },
    );
    await stopProcess(child.pid as number);
    const member = new Consumer({
      ...clientOptions(cluster.bootstrap, 'kbackup-test-member'),
      groupId: group,
      autocommit: false,
      sessionTimeout: 10_000,
      heartbeatInterval: 500,
    });
    try {
      await member.consume({ topics: [target], mode: 'latest' });
      await pollUntil(
        async () =>
          ((await withAdmin(cluster.bootstrap, (a) => a.describeGroups({ groups: [group] }))).get(group)
            ?.members.size ?? 0) > 0,
        {
          timeoutMs: 30_000,
          description: 'the consumer to join the group',
        },
      );
      continueProcess(child.pid as number);
      const first = await exited;
      expect(first.code).toBe(2);
      const error = JSON.parse(stdout) as { error: { message: string } };
      expect(error.error.message).toMatch(new RegExp(`group\\(s\\) ${group} \\(1 active members`));
    } finally {
      await member.close(true);
    }
    const ends = await highWatermarks(cluster.bootstrap, target);
    expect(ends.reduce((a, b) => a + b, 0n)).toBe(BigInt(RECORDS));

    await pollUntil(
      async () =>
        ((await withAdmin(cluster.bootstrap, (a) => a.describeGroups({ groups: [group] }))).get(group)
          ?.members.size ?? 1) === 0,
      {
        timeoutMs: 30_000,
        description: 'the group to be empty',
      },
    );
    const again = await runCliJson<{
      mode: string;
      totals: { records: number };
      groupOffsets: { partition: number; targetOffset: string }[];
    }>(args.slice(1));
    expect(again.mode).toBe('resumed');
    expect(again.totals.records).toBe(0);
    expect(await highWatermarks(cluster.bootstrap, target)).toEqual(ends);
    // Dense target, written in order from offset 0: source offset 1234 maps to target offset 1234.
    expect(again.groupOffsets.map((g) => [g.partition, g.targetOffset]).sort()).toEqual([
      [0, '1234'],
      [1, '1234'],
      [2, '1234'],
    ]);
    expectSameRecords(
      await readAllRecords(cluster.bootstrap, target),
      await readAllRecords(cluster.bootstrap, topic),
      { compareOffsets: true },
    );
  });
});
