import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { runCli, runCliJson, tempRepo } from '../support/cli.js';
import { expectSameRecords } from '../support/compare.js';
import {
  createTopic,
  produceRecords,
  readAllRecords,
  uniqueTopic,
  waitForPartitions,
  withAdmin,
  type TestRecord,
} from '../support/kafka-helpers.js';

const bootstrap = inject('kafkaBootstrap');

const batch = (tag: string, n: number, partitions: number): TestRecord[] =>
  Array.from({ length: n }, (_, i) => ({
    partition: i % partitions,
    key: Buffer.from(`${tag}-${i}`),
    value: Buffer.from(`${tag}-value-${i}`),
    headers: [[Buffer.from('batch'), Buffer.from(tag)]],
  }));

interface BackupJson {
  backupId: string;
  parent: string | null;
  totals: { records: number };
}

describe('incremental backups and retention', () => {
  it('an incremental chain restores to the same records as a full backup, across new partitions, new topics and retention', async () => {
    const prefix = uniqueTopic('inc');
    const a = `${prefix}-a`;
    const b = `${prefix}-b`;
    await createTopic(bootstrap, a, { partitions: 2 });
    await produceRecords(bootstrap, a, batch('one', 40, 2));
    const repo = tempRepo();
    const backup = (extra: string[]) =>
      runCliJson<BackupJson>([
        'backup',
        '--bootstrap',
        bootstrap,
        '--topics',
        `${prefix}-*`,
        '--repo',
        repo,
        ...extra,
      ]);
    const full = await backup([]);
    expect(full).toMatchObject({ parent: null, totals: { records: 40 } });

    // Between the backups: more records, a partition added, a new topic, and records deleted under retention.
    await produceRecords(bootstrap, a, batch('two', 20, 2));
    await withAdmin(bootstrap, (admin) => admin.createPartitions({ topics: [{ name: a, count: 3 }] }));
    // A producer maps a partition beyond the count it knows onto another one: wait until all 3 are served.
    await waitForPartitions(bootstrap, a, 3);
    await produceRecords(bootstrap, a, batch('three', 30, 3));
    await createTopic(bootstrap, b, { partitions: 1 });
    await produceRecords(bootstrap, b, batch('bee', 10, 1));
    // Partition 0 loses offsets the full backup holds (0..4); partition 1 loses 20..24, after the full backup's cut.
    await withAdmin(bootstrap, (admin) =>
      admin.deleteRecords({
        topics: [
          {
            name: a,
            partitions: [
              { partition: 0, offset: 5n },
              { partition: 1, offset: 25n },
            ],
          },
        ],
      }),
    );

    const inc = await backup(['--incremental']);
    expect(inc.parent).toBe(full.backupId);
    // Partition 0 starts at the parent's cut (20): 10 + 10 new records; partition 1 at the new log start 25:
    // 15; partition 2 ten; topic b ten.
    expect(inc.totals.records).toBe(20 + 15 + 10 + 10);
    const described = await runCliJson<{
      manifest: {
        topics: { name: string; partitions: { partition: number; startOffset: string; gaps: unknown[] }[] }[];
      };
    }>(['describe', '--repo', repo, '--backup', inc.backupId]);
    const partitions = described.manifest.topics.find((t) => t.name === a)?.partitions ?? [];
    expect(partitions.map((p) => p.startOffset)).toEqual(['20', '25', '0']);
    expect(partitions[1]?.gaps).toEqual([{ from: '20', to: '24', reason: 'retention' }]);

    // Restoring the incremental backup restores its whole chain.
    const expected = await readAllRecords(bootstrap, a);
    const target = `${a}-restored`;
    await runCliJson([
      'restore',
      '--repo',
      repo,
      '--backup',
      inc.backupId,
      '--bootstrap',
      bootstrap,
      '--topics',
      a,
      '--rename',
      `${a}=${target}`,
    ]);
    const restored = await readAllRecords(bootstrap, target);
    // The chain still has what the full backup took before the deletions: offsets 0..4 of partition 0 and
    // 0..19 of partition 1; 20..24 of partition 1 are lost (recorded as a gap).
    expect(restored[0]?.length).toBe((expected[0]?.length ?? 0) + 5);
    expect(restored[1]?.length).toBe((expected[1]?.length ?? 0) + 20);
    expectSameRecords(
      [restored[0]?.slice(5) ?? [], restored[1]?.slice(20) ?? [], restored[2] ?? []],
      expected,
    );

    // A full backup taken now (after the deletion) restores to exactly what the topic holds today.
    const today = await backup(['--backup-id', 'full-today']);
    expect(today.parent).toBeNull();
    const viaFull = `${a}-full`;
    await runCliJson([
      'restore',
      '--repo',
      repo,
      '--backup',
      today.backupId,
      '--bootstrap',
      bootstrap,
      '--topics',
      a,
      '--rename',
      `${a}=${viaFull}`,
    ]);
    expectSameRecords(await readAllRecords(bootstrap, viaFull), expected);

    // forget keeps the chain a kept incremental backup needs.
    const keepInc = await runCliJson<{ decisions: { id: string; keep: boolean; reasons: string[] }[] }>([
      'forget',
      '--repo',
      repo,
      '--keep-within',
      '1h',
      '--dry-run',
    ]);
    expect(keepInc.decisions.every((d) => d.keep)).toBe(true);
    const plan = await runCliJson<{ removed: string[]; decisions: { id: string; keep: boolean }[] }>([
      'forget',
      '--repo',
      repo,
      '--keep-last',
      '1',
    ]);
    expect(plan.removed.sort()).toEqual([full.backupId, inc.backupId].sort());
    const list = await runCliJson<{ backups: { id: string }[] }>(['list', '--repo', repo]);
    expect(list.backups.map((x) => x.id)).toEqual(['full-today']);
  });

  it('prune removes stale incomplete backups, and forget refuses to run while a backup holds its lock', async () => {
    const repo = tempRepo();
    const topic = uniqueTopic('prune');
    await createTopic(bootstrap, topic, { partitions: 1 });
    await produceRecords(bootstrap, topic, batch('p', 5, 1));
    await runCliJson([
      'backup',
      '--bootstrap',
      bootstrap,
      '--topics',
      topic,
      '--repo',
      repo,
      '--backup-id',
      'kept',
    ]);
    const stale = join(repo, 'backups', 'stale-incomplete');
    await mkdir(stale, { recursive: true });
    const old = new Date(Date.now() - 3 * 86_400_000);
    await utimes(stale, old, old);

    const dry = await runCliJson<{ items: { path: string }[] }>(['prune', '--repo', repo, '--dry-run']);
    expect(dry.items.map((i) => i.path)).toEqual([stale]);
    await runCliJson(['prune', '--repo', repo]);
    const list = await runCliJson<{ backups: { id: string; status: string }[] }>(['list', '--repo', repo]);
    expect(list.backups).toEqual([expect.objectContaining({ id: 'kept', status: 'complete' })]);

    // A live backup lock (held here by this test process) blocks forget.
    await writeFile(
      join(repo, 'locks', 'backup-running.lock'),
      JSON.stringify({
        pid: process.pid,
        host: (await import('node:os')).hostname(),
        command: 'backup',
        acquiredAt: new Date().toISOString(),
      }),
    );
    const refused = await runCli(['forget', '--repo', repo, '--keep-last', '1']);
    expect(refused.code).toBe(9);
    expect(refused.stderr).toMatch(/backup-running is running: pid \d+/);
  });
});
