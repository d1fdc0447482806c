import { describe, expect, inject, it } from 'vitest';
import { runCliJson, tempRepo } from '../support/cli.js';
import {
  createTopic,
  highWatermarks,
  produceRecords,
  uniqueTopic,
  type TestRecord,
} from '../support/kafka-helpers.js';

const bootstrap = inject('kafkaBootstrap');
const RECORDS = 1_000_000;
const PARTITIONS = 4;

async function seedTopic(records: number): Promise<string> {
  const topic = uniqueTopic('scale');
  await createTopic(bootstrap, topic, { partitions: PARTITIONS });
  const value = Buffer.from('{"order":123456,"status":"shipped","amount":42.5,"currency":"EUR","items":3}');
  const batch = 50_000;
  const base = BigInt(Date.now()) - 3_600_000n;
  for (let start = 0; start < records; start += batch) {
    const chunk: TestRecord[] = [];
    for (let i = start; i < Math.min(records, start + batch); i++) {
      chunk.push({
        partition: i % PARTITIONS,
        key: Buffer.from(`order-${i}`),
        value,
        timestamp: base + BigInt(i),
      });
    }
    await produceRecords(bootstrap, topic, chunk);
  }
  expect((await highWatermarks(bootstrap, topic)).reduce((a, b) => a + b, 0n)).toBe(BigInt(records));
  return topic;
}

interface BackupJson {
  backupId: string;
  totals: { records: number; segments: number };
  peakRssBytes: number;
}

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

describe('scale', () => {
  it('backs up 1,000,000 records in memory that does not grow with the topic, and verifies them all', async () => {
    const small = await seedTopic(RECORDS / 4);
    const large = await seedTopic(RECORDS);
    const repo = tempRepo();
    const backup = (topic: string) =>
      runCliJson<BackupJson>([
        'backup',
        '--bootstrap',
        bootstrap,
        '--topics',
        topic,
        '--repo',
        repo,
        '--segment-size',
        '8MiB',
      ]);
    // Peak RSS of identical runs moves by tens of MiB here (glibc keeps freed heap memory resident in
    // varying amounts), one run in a few lands 50-80 MiB high. Each size is backed up twice and the run with
    // the lower peak compared: growth with the topic shows in both runs of the larger one.
    const lower = (a: BackupJson, b: BackupJson): BackupJson => (a.peakRssBytes <= b.peakRssBytes ? a : b);
    const quarter = lower(await backup(small), await backup(small));
    const full = lower(await backup(large), await backup(large));
    expect(quarter.totals.records).toBe(RECORDS / 4);
    expect(full.totals.records).toBe(RECORDS);
    // Many segments are rolled; memory must not grow with them or with the record count.
    expect(full.totals.segments).toBeGreaterThanOrEqual(PARTITIONS * 2);
    console.log(
      `scale: peak RSS ${mib(quarter.peakRssBytes)} for ${RECORDS / 4} records, ${mib(full.peakRssBytes)} for ${RECORDS}`,
    );
    expect(full.peakRssBytes).toBeLessThan(quarter.peakRssBytes * 1.5);

    const verify = await runCliJson<{
      ok: boolean;
      reports: { recordsChecked: number }[];
      peakRssBytes: number;
    }>(['verify', '--repo', repo, '--backup', full.backupId]);
    expect(verify.ok).toBe(true);
    expect(verify.reports[0]?.recordsChecked).toBe(RECORDS);
    console.log(`scale: verify of ${RECORDS} records, peak RSS ${mib(verify.peakRssBytes)}`);
  });
});
