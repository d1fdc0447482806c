import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { translateOffset, type OffsetRun } from '../../src/core/offset-map.js';
import { runCliJson, tempRepo, restoreArgs } from '../support/cli.js';
import { expectSameRecords } from '../support/compare.js';
import {
  createTopic,
  produceRecords,
  produceTransactional,
  readAllRecords,
  uniqueTopic,
  type TestRecord,
} from '../support/kafka-helpers.js';
import { pollUntil } from '../support/wait.js';

const bootstrap = inject('kafkaBootstrap');

interface Gap {
  from: string;
  to: string;
  reason: string;
}
interface DescribeJson {
  manifest: { topics: { partitions: { partition: number; recordCount: number; gaps: Gap[] }[] }[] };
}
interface RestoreState {
  partitions: { partition: number; runs: { source: string; target: string; length: string }[] }[];
}

async function restoreState(repo: string): Promise<RestoreState> {
  const files = (await readdir(join(repo, 'restores'))).filter((f) => f.endsWith('.json'));
  expect(files).toHaveLength(1);
  return JSON.parse(await readFile(join(repo, 'restores', files[0] ?? ''), 'utf8')) as RestoreState;
}

const toRuns = (runs: RestoreState['partitions'][number]['runs']): OffsetRun[] =>
  runs.map((r) => ({ source: BigInt(r.source), target: BigInt(r.target), length: BigInt(r.length) }));

/** Waits until wall time has passed `ms`, so that the broker's segment.ms rolls the active segment. */
async function letTimePass(ms: number): Promise<void> {
  const until = Date.now() + ms;
  await pollUntil(() => Promise.resolve(Date.now() >= until), {
    timeoutMs: ms + 1_000,
    intervalMs: 20,
    description: 'time to pass',
  });
}

describe('offset gaps are preserved, recorded and never mistaken for loss', () => {
  it('backs up a compacted topic with its gaps and restores the surviving records in order', async () => {
    const topic = uniqueTopic('compacted');
    await createTopic(bootstrap, topic, {
      partitions: 1,
      configs: {
        'cleanup.policy': 'compact',
        'segment.ms': '100',
        'min.cleanable.dirty.ratio': '0.001',
        'min.compaction.lag.ms': '0',
        'delete.retention.ms': '3600000',
      },
    });
    const round = (tag: string, count: number): TestRecord[] =>
      Array.from({ length: count }, (_, i) => ({
        partition: 0,
        key: Buffer.from(`k${i}`),
        value: Buffer.from(`${tag}-${i}`),
      }));
    await produceRecords(bootstrap, topic, round('v1', 50));
    await letTimePass(150);
    // Overwrite every other key, so that compaction leaves gaps between surviving records.
    await produceRecords(
      bootstrap,
      topic,
      round('v2', 50).filter((_, i) => i % 2 === 0),
    );
    await letTimePass(150);
    await produceRecords(bootstrap, topic, [
      { partition: 0, key: Buffer.from('roll'), value: Buffer.from('x') },
    ]);
    // The cleaner compacts closed segments in the background: wait until offsets are no longer dense.
    const source = await pollUntil(
      async () => {
        const records = (await readAllRecords(bootstrap, topic))[0] ?? [];
        return records.length < 76 ? records : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500, description: 'log compaction to remove overwritten keys' },
    );

    const repo = tempRepo();
    const backup = await runCliJson<{ backupId: string; totals: { records: number } }>([
      'backup',
      '--bootstrap',
      bootstrap,
      '--topics',
      topic,
      '--repo',
      repo,
    ]);
    expect(backup.totals.records).toBe(source.length);
    const described = await runCliJson<DescribeJson>([
      'describe',
      '--repo',
      repo,
      '--backup',
      backup.backupId,
    ]);
    const gaps = described.manifest.topics[0]?.partitions[0]?.gaps ?? [];
    expect(gaps.length).toBeGreaterThan(0);
    expect(gaps.every((g) => g.reason === 'compacted')).toBe(true);
    // Every offset is either a backed-up record or inside a recorded gap.
    const present = new Set(source.map((r) => r.offset));
    const last = source.at(-1)?.offset ?? 0n;
    for (let o = 0n; o <= last; o++) {
      const inGap = gaps.some((g) => BigInt(g.from) <= o && o <= BigInt(g.to));
      expect(present.has(o) !== inGap, `offset ${o}`).toBe(true);
    }

    const target = `${topic}-restored`;
    await runCliJson([...restoreArgs({ repo, backupId: backup.backupId, bootstrap }, topic, target)]);
    const restored = await readAllRecords(bootstrap, target);
    expectSameRecords(restored, [source]);
    // The offset map translates every source offset to the restored record's offset, exactly.
    const runs = toRuns((await restoreState(repo)).partitions[0]?.runs ?? []);
    expect(runs.length).toBeGreaterThan(1);
    source.forEach((record, index) => {
      expect(translateOffset(runs, record.offset, BigInt(source.length))).toBe(BigInt(index));
    });
  });

  it('leaves out aborted transactions and control markers and records them as gaps', async () => {
    const topic = uniqueTopic('tx');
    await createTopic(bootstrap, topic, { partitions: 2 });
    const records = (tag: string, n: number): TestRecord[] =>
      Array.from({ length: n }, (_, i) => ({
        partition: i % 2,
        key: Buffer.from(`${tag}-${i}`),
        value: Buffer.from(`value-${tag}-${i}`),
        headers: [[Buffer.from('tx'), Buffer.from(tag)]],
      }));
    await produceTransactional(bootstrap, topic, [
      { outcome: 'commit', records: records('a', 10) },
      { outcome: 'abort', records: records('b', 10) },
      { outcome: 'commit', records: records('c', 10) },
    ]);
    const committed = await readAllRecords(bootstrap, topic, { isolation: 'read_committed' });
    expect(
      committed
        .flat()
        .map((r) => r.headers[0]?.[1]?.toString())
        .sort(),
    ).toEqual([...Array<string>(10).fill('a'), ...Array<string>(10).fill('c')]);

    const repo = tempRepo();
    const backup = await runCliJson<{ backupId: string; totals: { records: number } }>([
      'backup',
      '--bootstrap',
      bootstrap,
      '--topics',
      topic,
      '--repo',
      repo,
    ]);
    expect(backup.totals.records).toBe(20);
    const described = await runCliJson<DescribeJson>([
      'describe',
      '--repo',
      repo,
      '--backup',
      backup.backupId,
    ]);
    const reasons = new Set(
      described.manifest.topics[0]?.partitions.flatMap((p) => p.gaps.map((g) => g.reason)),
    );
    expect(reasons).toEqual(new Set(['aborted-transaction', 'transaction-control']));

    const target = `${topic}-restored`;
    await runCliJson([...restoreArgs({ repo, backupId: backup.backupId, bootstrap }, topic, target)]);
    expectSameRecords(await readAllRecords(bootstrap, target), committed);
  });
});
