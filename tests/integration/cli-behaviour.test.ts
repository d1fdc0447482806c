import { beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli, runCliJson, tempRepo, restoreArgs } from '../support/cli.js';
import { expectSameRecords } from '../support/compare.js';
import { edgeCaseRecords } from '../support/data.js';
import {
  createTopic,
  getMetadata,
  produceRecords,
  readAllRecords,
  uniqueTopic,
} from '../support/kafka-helpers.js';

const bootstrap = inject('kafkaBootstrap');

/** A user error prints what happened and what to do, and never a stack trace. */
function expectCleanError(stderr: string, pattern: RegExp): void {
  expect(stderr).toMatch(pattern);
  expect(stderr).toMatch(/hint: /);
  expect(stderr).not.toMatch(/^\s+at .*\(.*:\d+:\d+\)$/m);
}

describe('CLI behaviour on a real broker', () => {
  const topic = uniqueTopic('cli');
  const repo = tempRepo();
  let backupId = '';

  beforeAll(async () => {
    await createTopic(bootstrap, topic, { partitions: 3 });
    await produceRecords(bootstrap, topic, edgeCaseRecords(3, 50, 3));
    backupId = (
      await runCliJson<{ backupId: string }>([
        'backup',
        '--bootstrap',
        bootstrap,
        '--topics',
        topic,
        '--repo',
        repo,
      ])
    ).backupId;
  });

  it('refuses an unknown topic with exit 2 and names it', async () => {
    const result = await runCli([
      'backup',
      '--bootstrap',
      bootstrap,
      '--topics',
      `${topic},no-such-topic`,
      '--repo',
      tempRepo(),
    ]);
    expect(result.code).toBe(2);
    expectCleanError(result.stderr, /not found on the source cluster: no-such-topic/);
  });

  it('reports an unreachable broker with exit 6 once the retry deadline passes', async () => {
    const result = await runCli([
      '--retry-deadline',
      '2s',
      'backup',
      '--bootstrap',
      '127.0.0.1:1',
      '--topics',
      'x',
      '--repo',
      tempRepo(),
    ]);
    expect(result.code).toBe(6);
    expectCleanError(result.stderr, /cannot reach the Kafka cluster/);
  });

  it('rejects a bad flag value with exit 2', async () => {
    const result = await runCli([
      'restore',
      '--repo',
      repo,
      '--backup',
      backupId,
      '--bootstrap',
      bootstrap,
      '--from-time',
      'yesterday',
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--from-time must be ISO-8601 with a zone or epoch milliseconds/);
  });

  it('--dry-run prints the plan and creates nothing', async () => {
    const target = `${topic}-dry`;
    const plan = await runCliJson<{
      status: string;
      plan: { totals: { records: number; partitions: number } };
    }>([...restoreArgs({ repo, backupId, bootstrap }, topic, target), '--dry-run']);
    expect(plan.status).toBe('planned');
    expect(plan.plan.totals).toMatchObject({ records: 150, partitions: 3 });
    expect((await getMetadata(bootstrap)).topics.has(target)).toBe(false);
  });

  it('restores a subset of partitions and nothing else', async () => {
    const target = `${topic}-p1`;
    await runCliJson([...restoreArgs({ repo, backupId, bootstrap }, topic, target), '--partitions', '1']);
    const [source, restored] = await Promise.all([
      readAllRecords(bootstrap, topic),
      readAllRecords(bootstrap, target),
    ]);
    expect(restored.map((p) => p.length)).toEqual([0, 50, 0]);
    expectSameRecords([restored[1] ?? []], [source[1] ?? []], { compareOffsets: true });
  });

  it('adds provenance headers only when asked', async () => {
    const target = `${topic}-prov`;
    await runCliJson([...restoreArgs({ repo, backupId, bootstrap }, topic, target), '--provenance-headers']);
    const [source, restored] = await Promise.all([
      readAllRecords(bootstrap, topic),
      readAllRecords(bootstrap, target),
    ]);
    const original = source[2]?.[7];
    const copy = restored[2]?.[7];
    expect(copy?.headers.slice(0, original?.headers.length)).toEqual(original?.headers);
    expect(
      copy?.headers.slice(original?.headers.length).map(([k, v]) => [k.toString(), v?.toString()]),
    ).toEqual([
      ['kbackup.source.topic', topic],
      ['kbackup.source.partition', '2'],
      ['kbackup.source.offset', '7'],
    ]);
  });

  it('refuses a target topic with too few partitions, and a non-empty target', async () => {
    const small = uniqueTopic('small');
    await createTopic(bootstrap, small, { partitions: 1 });
    const tooFew = await runCli([...restoreArgs({ repo, backupId, bootstrap }, topic, small)]);
    expect(tooFew.code).toBe(2);
    expectCleanError(
      tooFew.stderr,
      new RegExp(`target topic ${small} has 1 partitions; the backup of ${topic} has 3`),
    );

    const nonEmpty = await runCli([
      'restore',
      '--repo',
      repo,
      '--backup',
      backupId,
      '--bootstrap',
      bootstrap,
    ]);
    expect(nonEmpty.code).toBe(2);
    expectCleanError(nonEmpty.stderr, /already holds records/);
  });

  it('refuses to restore an incomplete backup and lists it as incomplete', async () => {
    const { mkdir } = await import('node:fs/promises');
    await mkdir(`${repo}/backups/half-written`, { recursive: true });
    const restore = await runCli([
      'restore',
      '--repo',
      repo,
      '--backup',
      'half-written',
      '--bootstrap',
      bootstrap,
    ]);
    expect(restore.code).toBe(2);
    expectCleanError(restore.stderr, /backup half-written is incomplete: it has no manifest/);
    const list = await runCliJson<{ backups: { id: string; status: string }[] }>(['list', '--repo', repo]);
    expect(list.backups.find((b) => b.id === 'half-written')?.status).toBe('incomplete');
    const verify = await runCli(['verify', '--repo', repo, '--backup', 'half-written']);
    expect(verify.code).toBe(4);
    expect(verify.stdout).toMatch(/incomplete/);
  });

  it('warns when a backed-up topic allows unclean leader election', async () => {
    const unclean = uniqueTopic('unclean');
    await createTopic(bootstrap, unclean, {
      partitions: 1,
      configs: { 'unclean.leader.election.enable': 'true' },
    });
    const result = await runCliJson<{ warnings: string[] }>([
      'backup',
      '--bootstrap',
      bootstrap,
      '--topics',
      unclean,
      '--repo',
      tempRepo(),
    ]);
    expect(result.warnings).toEqual([
      expect.stringContaining(`topic ${unclean} has unclean.leader.election.enable=true`),
    ]);
  });

  it('refuses a second backup with the same id', async () => {
    const again = await runCli([
      'backup',
      '--bootstrap',
      bootstrap,
      '--topics',
      topic,
      '--repo',
      repo,
      '--backup-id',
      backupId,
    ]);
    expect(again.code).toBe(2);
    expectCleanError(again.stderr, new RegExp(`backup ${backupId} already exists`));
  });
});
