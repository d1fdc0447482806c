import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli, runCliJson, tempRepo, restoreArgs } from '../support/cli.js';
import { expectSameRecords } from '../support/compare.js';
import { edgeCaseRecords, seededRandom, randomBytesSeeded } from '../support/data.js';
import { createTopic, produceRecords, readAllRecords, uniqueTopic } from '../support/kafka-helpers.js';

const bootstrap = inject('kafkaBootstrap');
// Relative to now: older records would be deleted by the broker's default 7-day retention mid-test.
const BASE_TIME = BigInt(Date.now()) - 60_000n;

interface BackupJson {
  backupId: string;
  totals: { records: number; segments: number };
}

interface ManifestJson {
  manifest: {
    topics: {
      name: string;
      partitionCount: number;
      configs: Record<string, string>;
      partitions: {
        partition: number;
        recordCount: number;
        cutOffset: string;
        gaps: { from: string; to: string; reason: string }[];
      }[];
    }[];
  };
}

describe('backup → verify → restore round trip against a real broker', () => {
  const source = uniqueTopic('orders');
  const repo = tempRepo();
  const big = uniqueTopic('big');

  beforeAll(async () => {
    await createTopic(bootstrap, source, {
      partitions: 3,
      configs: { 'retention.ms': '604800000', 'max.message.bytes': '4194304' },
    });
    await produceRecords(bootstrap, source, edgeCaseRecords(3, 400));
    // Records over 1 MiB need a topic (and a restore target) that allows them.
    await createTopic(bootstrap, big, { partitions: 1, configs: { 'max.message.bytes': '12582912' } });
    const random = seededRandom(7);
    await produceRecords(bootstrap, big, [
      {
        partition: 0,
        key: Buffer.from('a'),
        value: randomBytesSeeded(random, 1_500_000),
        timestamp: BASE_TIME,
      },
      {
        partition: 0,
        key: Buffer.from('b'),
        value: randomBytesSeeded(random, 10 * 1024 * 1024),
        timestamp: BASE_TIME + 1n,
      },
      {
        partition: 0,
        key: null,
        value: Buffer.from('small'),
        headers: [[Buffer.from('h'), randomBytesSeeded(random, 100 * 1024)]],
      },
    ]);
  });

  for (const codec of ['zstd', 'none', 'gzip', 'snappy', 'lz4']) {
    it(`keeps every record byte for byte with codec ${codec}`, async () => {
      const backup = await runCliJson<BackupJson>([
        'backup',
        '--bootstrap',
        bootstrap,
        '--topics',
        source,
        '--repo',
        repo,
        '--codec',
        codec,
        '--segment-records',
        '300',
      ]);
      expect(backup.totals.records).toBe(1200);
      expect(backup.totals.segments).toBeGreaterThanOrEqual(6);

      const verify = await runCliJson<{ ok: boolean }>([
        'verify',
        '--repo',
        repo,
        '--backup',
        backup.backupId,
      ]);
      expect(verify.ok).toBe(true);

      const target = `${source}-restored-${codec}`;
      await runCliJson([...restoreArgs({ repo, backupId: backup.backupId, bootstrap }, source, target)]);
      const [expected, actual] = await Promise.all([
        readAllRecords(bootstrap, source),
        readAllRecords(bootstrap, target),
      ]);
      expectSameRecords(actual, expected, { compareOffsets: true });

      const described = await runCliJson<ManifestJson>([
        'describe',
        '--repo',
        repo,
        '--backup',
        backup.backupId,
      ]);
      const topic = described.manifest.topics[0];
      expect(topic?.partitionCount).toBe(3);
      expect(topic?.configs['max.message.bytes']).toBe('4194304');
      expect(topic?.partitions.map((p) => p.recordCount)).toEqual([400, 400, 400]);
    });
  }

  /** Backs `topic` up into the suite's repository and restores that backup into `<topic>-restored`. */
  async function backupAndRestore(topic: string): Promise<{ backup: BackupJson; target: string }> {
    const backup = await runCliJson<BackupJson>([
      'backup',
      '--bootstrap',
      bootstrap,
      '--topics',
      topic,
      '--repo',
      repo,
    ]);
    const target = `${topic}-restored`;
    const restore = ['restore', '--repo', repo, '--backup', backup.backupId, '--bootstrap', bootstrap];
    await runCliJson([...restore, '--rename', `${topic}=${target}`]);
    return { backup, target };
  }

  it('restores records over 1 MiB and a 100 KiB header exactly', async () => {
    const { backup, target } = await backupAndRestore(big);
    expect(backup.totals.records).toBe(3);
    expectSameRecords(await readAllRecords(bootstrap, target), await readAllRecords(bootstrap, big), {
      compareOffsets: true,
    });
  });

  it('restores timestamps months apart in one partition exactly (64-bit timestamp deltas in a batch)', async () => {
    // A restore packs these into one record batch, where each timestamp is a varint delta from the first:
    // 120 days is over 2^33 ms, beyond the 32 bits the client library's encoder handled correctly.
    const spread = uniqueTopic('spread');
    await createTopic(bootstrap, spread, { partitions: 1, configs: { 'retention.ms': '-1' } });
    const now = BigInt(Date.now());
    const day = 86_400_000n;
    const timestamps = [now - 120n * day, now - 60n * day, now - 30n * day - 7n, now - 1_000n];
    // One send per record, so that the source itself never holds such a batch.
    for (const [i, timestamp] of timestamps.entries()) {
      await produceRecords(bootstrap, spread, [
        { partition: 0, key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`), timestamp },
      ]);
    }
    const { backup, target } = await backupAndRestore(spread);
    expect(backup.totals.records).toBe(4);
    const restored = await readAllRecords(bootstrap, target);
    expect(restored[0]?.map((r) => r.timestamp)).toEqual(timestamps);
    expectSameRecords(restored, await readAllRecords(bootstrap, spread), { compareOffsets: true });
  });

  it('fails fast with a clear message when a record is too large for the target', async () => {
    const backup = await runCliJson<BackupJson>([
      'backup',
      '--bootstrap',
      bootstrap,
      '--topics',
      big,
      '--repo',
      repo,
    ]);
    const small = `${big}-small`;
    await createTopic(bootstrap, small, { partitions: 1, configs: { 'max.message.bytes': '1048576' } });
    const started = Date.now();
    const result = await runCli([...restoreArgs({ repo, backupId: backup.backupId, bootstrap }, big, small)]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/a record is larger than the target allows/);
    expect(result.stderr).toMatch(/hint: Raise max.message.bytes/);
    // Not retried until the 60 s deadline: a generous bound, only to prove it is not treated as retriable.
    expect(Date.now() - started).toBeLessThan(45_000);
  });

  it('backs up an empty topic as empty and restores it with its partitions', async () => {
    const empty = uniqueTopic('empty');
    await createTopic(bootstrap, empty, { partitions: 2 });
    const backup = await runCliJson<BackupJson>([
      'backup',
      '--bootstrap',
      bootstrap,
      '--topics',
      empty,
      '--repo',
      repo,
    ]);
    expect(backup.totals.records).toBe(0);
    const described = await runCliJson<ManifestJson>([
      'describe',
      '--repo',
      repo,
      '--backup',
      backup.backupId,
    ]);
    expect(described.manifest.topics[0]?.partitions.map((p) => [p.recordCount, p.cutOffset])).toEqual([
      [0, '0'],
      [0, '0'],
    ]);
    const target = `${empty}-restored`;
    await runCliJson([...restoreArgs({ repo, backupId: backup.backupId, bootstrap }, empty, target)]);
    const restored = await readAllRecords(bootstrap, target);
    expect(restored.map((p) => p.length)).toEqual([0, 0]);
  });

  it('lists complete and incomplete backups, and verify catches a flipped byte and a truncated file', async () => {
    const backup = await runCliJson<BackupJson>([
      'backup',
      '--bootstrap',
      bootstrap,
      '--topics',
      source,
      '--repo',
      repo,
      '--codec',
      'lz4',
    ]);
    const list = await runCliJson<{ backups: { id: string; status: string }[] }>(['list', '--repo', repo]);
    expect(list.backups.find((b) => b.id === backup.backupId)?.status).toBe('complete');

    const segmentDir = join(repo, 'backups', backup.backupId, 'data', source, '1');
    const manifest = JSON.parse(
      await readFile(join(repo, 'backups', backup.backupId, 'manifest.json'), 'utf8'),
    ) as {
      topics: { partitions: { segments: { file: string }[] }[] }[];
    };
    const file = manifest.topics[0]?.partitions[1]?.segments[0]?.file ?? '';
    const path = join(segmentDir, file);
    const original = await readFile(path);

    const flipped = Buffer.from(original);
    const middle = Math.floor(flipped.length / 2);
    flipped.writeUInt8(flipped.readUInt8(middle) ^ 0x01, middle);
    await writeFile(path, flipped);
    const bad = await runCli(['--json', 'verify', '--repo', repo, '--backup', backup.backupId]);
    expect(bad.code).toBe(4);
    const report = JSON.parse(bad.stdout) as {
      ok: boolean;
      reports: { problems: { kind: string; path: string }[] }[];
    };
    expect(report.ok).toBe(false);
    expect(report.reports[0]?.problems).toEqual([expect.objectContaining({ kind: 'corrupt', path })]);

    await writeFile(path, original.subarray(0, original.length - 100));
    const truncated = await runCli(['verify', '--repo', repo, '--backup', backup.backupId]);
    expect(truncated.code).toBe(4);
    expect(truncated.stdout).toContain(path);
    expect(truncated.stdout).toMatch(/size|truncated/);
    await writeFile(path, original);
    expect((await runCli(['verify', '--repo', repo, '--backup', backup.backupId])).code).toBe(0);
  });
});
