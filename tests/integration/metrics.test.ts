import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { runCli, tempRepo } from '../support/cli.js';
import { createTopic, produceRecords, uniqueTopic } from '../support/kafka-helpers.js';

const bootstrap = inject('kafkaBootstrap');

const value = (text: string, series: string): number => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (line === undefined) throw new Error(`no series ${series} in:\n${text}`);
  return Number(line.slice(series.length + 1));
};

describe('--metrics-file for cron', () => {
  it('records a successful backup, then a failed one without losing the last success time', async () => {
    const topic = uniqueTopic('metrics');
    await createTopic(bootstrap, topic, { partitions: 2 });
    await produceRecords(
      bootstrap,
      topic,
      Array.from({ length: 100 }, (_, i) => ({
        partition: i % 2,
        key: Buffer.from(`k${i}`),
        value: Buffer.from('{"v":1,"payload":"aaaaaaaaaaaaaaaaaaaaaaaa"}'),
      })),
    );
    const repo = tempRepo();
    const metrics = join(repo, 'kbackup.prom');

    const ok = await runCli([
      '--metrics-file',
      metrics,
      'backup',
      '--bootstrap',
      bootstrap,
      '--topics',
      topic,
      '--repo',
      repo,
    ]);
    expect(ok.code).toBe(0);
    const first = await readFile(metrics, 'utf8');
    const success = value(first, 'kbackup_last_success_timestamp_seconds{command="backup"}');
    expect(Math.abs(success - Date.now() / 1000)).toBeLessThan(120);
    expect(value(first, 'kbackup_last_run_records{command="backup"}')).toBe(100);
    expect(value(first, 'kbackup_last_run_success{command="backup"}')).toBe(1);
    expect(value(first, 'kbackup_last_run_compression_ratio{command="backup"}')).toBeGreaterThan(0);
    expect(value(first, `kbackup_last_run_errors{command="backup",topic="${topic}"}`)).toBe(0);

    const failed = await runCli([
      '--metrics-file',
      metrics,
      '--retry-deadline',
      '2s',
      'backup',
      '--bootstrap',
      '127.0.0.1:1',
      '--topics',
      topic,
      '--repo',
      repo,
    ]);
    expect(failed.code).toBe(6);
    const second = await readFile(metrics, 'utf8');
    expect(value(second, 'kbackup_last_success_timestamp_seconds{command="backup"}')).toBe(success);
    expect(value(second, 'kbackup_last_run_success{command="backup"}')).toBe(0);
    expect(value(second, 'kbackup_last_run_exit_code{command="backup"}')).toBe(6);
    expect(value(second, 'kbackup_last_run_errors{command="backup",topic=""}')).toBe(1);
  });
});
