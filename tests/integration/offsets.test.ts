import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer } from '@platformatic/kafka';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli, runCliJson, tempRepo } from '../support/cli.js';
import { consumeAsGroup } from '../support/group-consumer.js';
import {
  clientOptions,
  createTopic,
  produceRecords,
  uniqueTopic,
  withAdmin,
  type TestRecord,
} from '../support/kafka-helpers.js';
import { pollUntil } from '../support/wait.js';
import { parseCsv } from '../unit/core/offsets/csv-parse.js';

const bootstrap = inject('kafkaBootstrap');
// Recent timestamps: records far in the past would be deleted by the broker's retention mid-test.
const T0 = BigInt(Date.now()) - 600_000n;
const RECORDS = 100;

/** Record i goes to partition i % 2 with timestamp T0 + i seconds, so partition p offset k holds i = 2k + p. */
const records: TestRecord[] = Array.from({ length: RECORDS }, (_, i) => ({
  partition: i % 2,
  key: Buffer.from(`k${i}`),
  value: Buffer.from(`v${i}`),
  timestamp: T0 + BigInt(i) * 1000n,
}));

/** Committed offsets read independently of kbackup, by partition (absent: none committed). */
async function committed(group: string, topic: string): Promise<Record<number, bigint>> {
  return withAdmin(bootstrap, async (admin) => {
    const result = await admin.listConsumerGroupOffsets({ groups: [group] });
    const out: Record<number, bigint> = {};
    for (const g of result) {
      for (const t of g.topics) {
        if (t.name !== topic) continue;
        for (const p of t.partitions) if (p.committedOffset >= 0n) out[p.partitionIndex] = p.committedOffset;
      }
    }
    return out;
  });
}

/** Creates an inactive group with known commits, as a stopped application would leave it. */
async function seed(group: string, topic: string, offsets: Record<number, bigint>): Promise<void> {
  await withAdmin(bootstrap, (admin) =>
    admin.alterConsumerGroupOffsets({
      groupId: group,
      topics: [
        {
          name: topic,
          partitionOffsets: Object.entries(offsets).map(([p, offset]) => ({ partition: Number(p), offset })),
        },
      ],
    }),
  );
  expect(await committed(group, topic)).toEqual(offsets);
}

interface Row {
  group: string;
  topic: string;
  partition: number;
  current: string | null;
  target: string | null;
  status: string;
  reason: string | null;
  result?: string;
}
interface ResetDoc {
  status: string;
  snapshot?: string | null;
  partitions: Row[];
  totals: Record<string, number>;
  verify?: { ok: boolean; checks?: { ok: boolean; note: string | null }[] };
}

const byPartition = (rows: Row[]): Record<number, Row> =>
  Object.fromEntries(rows.map((r) => [r.partition, r]));

describe('kbackup offsets on a real broker', () => {
  const topic = uniqueTopic('offsets');
  const dir = tempRepo('kbackup-offsets-');
  const reset = (group: string, ...args: string[]): string[] => [
    'offsets',
    'reset',
    '--bootstrap',
    bootstrap,
    '--group',
    group,
    '--topics',
    topic,
    ...args,
  ];

  // --execute saves a snapshot, by default into the working directory: keep them in the temp dir instead.
  const execute = (name: string): string[] => ['--execute', '--snapshot-out', join(dir, name)];

  beforeAll(async () => {
    await createTopic(bootstrap, topic, { partitions: 2 });
    await produceRecords(bootstrap, topic, records);
  });

  it('plans --to-earliest as a dry run by default and commits nothing', async () => {
    await seed('g-dry', topic, { 0: 20n, 1: 25n });
    const doc = await runCliJson<ResetDoc>(reset('g-dry', '--to-earliest'));
    expect(doc.status).toBe('planned');
    const rows = byPartition(doc.partitions);
    expect(rows[0]).toMatchObject({ current: '20', target: '0', status: 'change' });
    expect(rows[1]).toMatchObject({ current: '25', target: '0', status: 'change' });
    expect(await committed('g-dry', topic)).toEqual({ 0: 20n, 1: 25n });
  });

  it('--execute commits the plan after saving a snapshot; running it again changes nothing', async () => {
    await seed('g-exec', topic, { 0: 20n, 1: 25n });
    const snapshotPath = join(dir, 'before-exec.json');
    const first = await runCliJson<ResetDoc>(
      reset('g-exec', '--to-earliest', '--execute', '--snapshot-out', snapshotPath),
    );
    expect(first.status).toBe('complete');
    expect(first.snapshot).toBe(snapshotPath);
    expect(first.totals).toMatchObject({ committed: 2, failed: 0 });
    expect(await committed('g-exec', topic)).toEqual({ 0: 0n, 1: 0n });
    // The snapshot holds the offsets from before the reset, as decimal strings.
    const saved = JSON.parse(readFileSync(snapshotPath, 'utf8')) as {
      format: string;
      reason: string;
      groups: { groupId: string; offsets: { partition: number; offset: string; highWatermark: string }[] }[];
    };
    expect(saved).toMatchObject({ format: 'kbackup-offsets-snapshot', reason: 'before-reset' });
    expect(saved.groups[0]?.offsets.map((o) => [o.partition, o.offset, o.highWatermark])).toEqual([
      [0, '20', '50'],
      [1, '25', '50'],
    ]);

    const second = await runCliJson<ResetDoc>(
      reset('g-exec', '--to-earliest', ...execute('exec-again.json')),
    );
    expect(second.totals).toMatchObject({ committed: 0, unchanged: 2, failed: 0 });
    expect(second.partitions.every((r) => r.result === 'unchanged')).toBe(true);
    expect(second.snapshot).toBeNull();
    expect(existsSync(join(dir, 'exec-again.json'))).toBe(false); // nothing changed, nothing to roll back
    expect(await committed('g-exec', topic)).toEqual({ 0: 0n, 1: 0n });
  });

  it('--to-datetime moves to the first offset whose timestamp is >= T, and to the end when none is', async () => {
    await seed('g-time', topic, { 0: 0n, 1: 0n });
    // T = record 41's time minus 500 ms: partition 0's first record at or after T is i = 42 (offset 21),
    // partition 1's is i = 41 (offset 20). Given as ISO-8601 to exercise the parser.
    const t = new Date(Number(T0 + 41_000n - 500n)).toISOString();
    const doc = await runCliJson<ResetDoc>(reset('g-time', '--to-datetime', t, ...execute('time-1.json')));
    expect(doc.partitions.map((r) => [r.partition, r.target, r.status])).toEqual([
      [0, '21', 'change'],
      [1, '20', 'change'],
    ]);
    expect(await committed('g-time', topic)).toEqual({ 0: 21n, 1: 20n });

    const after = String(T0 + BigInt(RECORDS) * 1000n); // epoch ms, later than every record
    await runCliJson(reset('g-time', '--to-datetime', after, ...execute('time-2.json')));
    expect(await committed('g-time', topic)).toEqual({ 0: 50n, 1: 50n });
  });

  it('--to-offset beyond the high watermark is clamped to it and reported', async () => {
    await seed('g-clamp', topic, { 0: 3n, 1: 4n });
    const doc = await runCliJson<ResetDoc>(reset('g-clamp', '--to-offset', '1000', ...execute('clamp.json')));
    for (const r of doc.partitions) {
      expect(r).toMatchObject({ target: '50', status: 'clamped', result: 'committed' });
      expect(r.reason).toMatch(/requested 1000 is above the high watermark 50/);
    }
    expect(doc.totals).toMatchObject({ clamped: 2, committed: 2 });
    expect(await committed('g-clamp', topic)).toEqual({ 0: 50n, 1: 50n });
  });

  it('--shift-by moves back from the committed offsets, clamping at the log start', async () => {
    await seed('g-shift', topic, { 0: 30n, 1: 5n });
    await runCliJson(reset('g-shift', '--shift-by', '-10', ...execute('shift.json')));
    expect(await committed('g-shift', topic)).toEqual({ 0: 20n, 1: 0n });
  });

  it('refuses a group with a live consumer and leaves its offsets alone', async () => {
    const group = 'g-active';
    await seed(group, topic, { 0: 5n, 1: 6n });
    const consumer = new Consumer({
      ...clientOptions(bootstrap, 'kbackup-test-active'),
      groupId: group,
      autocommit: false,
      maxWaitTime: 200,
      sessionTimeout: 10_000,
      heartbeatInterval: 500,
    });
    const stream = await consumer.consume({ topics: [topic], mode: 'committed', fallbackMode: 'earliest' });
    stream.on('data', () => undefined);
    try {
      await pollUntil(
        () =>
          withAdmin(bootstrap, async (admin) => {
            const g = (await admin.describeGroups({ groups: [group] })).get(group);
            return g?.state === 'Stable' && g.members.size === 1;
          }),
        { timeoutMs: 30_000, description: `${group} to be Stable with one member` },
      );
      const snapshotOut = join(dir, 'never-written.json');
      const result = await runCli(reset(group, '--to-latest', '--execute', '--snapshot-out', snapshotOut));
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/still active: g-active \(Stable, 1 member\(s\)\); nothing was changed/);
      expect(result.stderr).toMatch(/Stop the consumers first/);
      expect(result.stderr).toMatch(/hint: /);
      expect(existsSync(snapshotOut)).toBe(false);
      expect(await committed(group, topic)).toEqual({ 0: 5n, 1: 6n });
    } finally {
      await stream.close();
      await consumer.close(true);
    }
  });

  it('snapshot → reset → rollback --verify restores the exact offsets a real consumer committed', async () => {
    const group = 'g-roll';
    // An application that had reached 20/25, then ran again and processed 37 more records.
    await seed(group, topic, { 0: 20n, 1: 25n });
    await consumeAsGroup(bootstrap, group, topic, { max: 37 });
    const before = await committed(group, topic);
    expect((before[0] ?? 0n) + (before[1] ?? 0n)).toBe(20n + 25n + 37n);
    const snapshotPath = join(dir, 'roll.json');
    await runCliJson([
      'offsets',
      'snapshot',
      '--bootstrap',
      bootstrap,
      '--group',
      group,
      '--out',
      snapshotPath,
    ]);
    await runCliJson(reset(group, '--to-latest', '--execute', '--snapshot-out', join(dir, 'roll-pre.json')));
    expect(await committed(group, topic)).toEqual({ 0: 50n, 1: 50n });

    const rollback = await runCliJson<ResetDoc>([
      'offsets',
      'rollback',
      '--bootstrap',
      bootstrap,
      '--snapshot',
      snapshotPath,
      '--verify',
      '--snapshot-out',
      join(dir, 'roll-undo.json'),
    ]);
    expect(rollback.status).toBe('complete');
    expect(rollback.verify?.ok).toBe(true);
    expect(await committed(group, topic)).toEqual(before);
  });

  it('rollback deletes a commit made after the snapshot where it had none, so the group is exactly as saved', async () => {
    const group = 'g-newcommit';
    await seed(group, topic, { 0: 7n }); // nothing on partition 1 yet
    const manual = join(dir, 'newcommit.json');
    await runCliJson(['offsets', 'snapshot', '--bootstrap', bootstrap, '--group', group, '--out', manual]);
    const pre = join(dir, 'newcommit-pre.json');
    await runCliJson(reset(group, '--to-offset', '9', '--execute', '--snapshot-out', pre));
    expect(await committed(group, topic)).toEqual({ 0: 9n, 1: 9n });
    // The automatic snapshot records that partition 1 had no commit before the reset.
    const saved = JSON.parse(readFileSync(pre, 'utf8')) as {
      groups: { offsets: { partition: number; offset: string | null }[] }[];
    };
    expect(saved.groups[0]?.offsets.map((o) => [o.partition, o.offset])).toEqual([
      [0, '7'],
      [1, null],
    ]);
    const args = ['offsets', 'rollback', '--bootstrap', bootstrap, '--snapshot', manual];
    const dryRun = await runCliJson<ResetDoc>([...args, '--dry-run']);
    expect(byPartition(dryRun.partitions)[1]).toMatchObject({ status: 'delete', current: '9', target: null });
    expect(await committed(group, topic)).toEqual({ 0: 9n, 1: 9n });

    const undo = join(dir, 'newcommit-undo.json');
    const doc = await runCliJson<ResetDoc>([...args, '--verify', '--snapshot-out', undo]);
    expect(doc.status).toBe('complete');
    expect(doc.verify?.ok).toBe(true);
    expect(byPartition(doc.partitions)[0]).toMatchObject({ status: 'change', result: 'committed' });
    expect(byPartition(doc.partitions)[1]).toMatchObject({ status: 'delete', result: 'deleted' });
    expect(doc.totals).toMatchObject({ committed: 1, deleted: 1 });
    expect(await committed(group, topic)).toEqual({ 0: 7n });

    // The rollback's own safety snapshot holds the deleted commit: rolling the rollback back restores it.
    await runCliJson<ResetDoc>([
      'offsets',
      'rollback',
      '--bootstrap',
      bootstrap,
      '--snapshot',
      undo,
      '--verify',
      '--snapshot-out',
      join(dir, 'newcommit-undo-2.json'),
    ]);
    expect(await committed(group, topic)).toEqual({ 0: 9n, 1: 9n });
  });

  it('--from-backup commits the offsets the backup captured at its cut', async () => {
    await seed('g-bk', topic, { 0: 12n, 1: 34n });
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
      'g-bk',
    ]);
    await seed('g-bk', topic, { 0: 40n, 1: 41n }); // the application moved on after the backup
    const doc = await runCliJson<ResetDoc>([
      'offsets',
      'reset',
      '--bootstrap',
      bootstrap,
      '--group',
      'g-bk',
      '--from-backup',
      backupId,
      '--repo',
      repo,
      '--execute',
      '--verify',
      '--snapshot-out',
      join(dir, 'bk-pre.json'),
    ]);
    expect(doc.totals).toMatchObject({ committed: 2, failed: 0, verifyFailed: 0 });
    expect(await committed('g-bk', topic)).toEqual({ 0: 12n, 1: 34n });
  });

  it('applies many groups at once; a failing one does not stop the others (exit 3)', async () => {
    const clusterId = await withAdmin(bootstrap, async (admin) => (await admin.metadata({ topics: [] })).id);
    const offset = (partition: number, value: string | null, t = topic) => ({
      topic: t,
      partition,
      offset: value,
      metadata: null,
      logStartOffset: null,
      highWatermark: null,
      lag: null,
    });
    const snapshotPath = join(dir, 'multi.json');
    writeFileSync(
      snapshotPath,
      JSON.stringify({
        format: 'kbackup-offsets-snapshot',
        version: 1,
        createdAt: new Date().toISOString(),
        tool: { name: 'kbackup', version: 'test' },
        cluster: { clusterId, bootstrap },
        reason: 'snapshot',
        topics: null,
        groups: [
          {
            groupId: 'g-multi-a',
            state: 'Empty',
            memberCount: 0,
            offsets: [offset(0, '11'), offset(1, '12')],
          },
          { groupId: 'g-multi-b', state: 'Empty', memberCount: 0, offsets: [offset(0, '13')] },
          {
            groupId: 'g-multi-c',
            state: 'Empty',
            memberCount: 0,
            offsets: [offset(0, '1', 'no-such-topic-kbackup')],
          },
        ],
      }),
    );
    const doc = await runCliJson<ResetDoc>(
      [
        'offsets',
        'reset',
        '--bootstrap',
        bootstrap,
        '--group',
        'g-multi-a',
        '--group',
        'g-multi-b',
        '--group',
        'g-multi-c',
        '--from-snapshot',
        snapshotPath,
        '--concurrency',
        '2',
        '--execute',
        '--snapshot-out',
        join(dir, 'multi-pre.json'),
      ],
      3,
    );
    expect(doc.status).toBe('partial');
    expect(doc.totals).toMatchObject({ committed: 3, failed: 1 });
    const failed = doc.partitions.filter((r) => r.result === 'failed');
    expect(failed.map((r) => [r.group, r.topic, r.reason])).toEqual([
      ['g-multi-c', 'no-such-topic-kbackup', 'the partition does not exist on the cluster'],
    ]);
    expect(await committed('g-multi-a', topic)).toEqual({ 0: 11n, 1: 12n });
    expect(await committed('g-multi-b', topic)).toEqual({ 0: 13n });
  });

  it('--csv prints a plan that parses, group,topic,partition,offset first', async () => {
    await seed('g-csv', topic, { 0: 1n, 1: 2n });
    const result = await runCli(reset('g-csv', '--to-offset', '10', '--csv'));
    expect(result.code).toBe(0);
    const rows = parseCsv(result.stdout);
    expect(rows[0]?.slice(0, 4)).toEqual(['group', 'topic', 'partition', 'offset']);
    expect(rows.slice(1).map((r) => r.slice(0, 5))).toEqual([
      ['g-csv', topic, '0', '10', '1'],
      ['g-csv', topic, '1', '10', '2'],
    ]);
    expect(await committed('g-csv', topic)).toEqual({ 0: 1n, 1: 2n });
  });

  it('rejects zero or several targets, and a damaged snapshot, naming what is wrong', async () => {
    const none = await runCli(reset('g-x'));
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/choose a target: one of --to-earliest, --to-latest/);
    const two = await runCli(reset('g-x', '--to-earliest', '--to-offset', '3'));
    expect(two.code).toBe(2);
    expect(two.stderr).toMatch(/choose exactly one target, got --to-earliest and --to-offset/);

    const good = join(dir, 'good.json');
    await runCliJson(['offsets', 'snapshot', '--bootstrap', bootstrap, '--group', 'g-dry', '--out', good]);
    const document = JSON.parse(readFileSync(good, 'utf8')) as {
      groups: { offsets: { offset: string }[] }[];
    };
    const first = document.groups[0]?.offsets[0];
    if (first) first.offset = '12abc';
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify(document));
    const damaged = await runCli(['offsets', 'rollback', '--bootstrap', bootstrap, '--snapshot', bad]);
    expect(damaged.code).toBe(7);
    expect(damaged.stderr).toContain(
      `offsets snapshot ${bad} is invalid: groups.0.offsets.0.offset: must be a decimal int64 string`,
    );
  });
});
